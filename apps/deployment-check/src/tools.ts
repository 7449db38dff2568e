// Shared by the deployment checks: the repository root, running the real tools (Debian's docker-compose and
// prometheus packages, kubectl's kustomize), and reading what they print.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

const INSTALL: Readonly<Record<string, string>> = {
  'docker-compose': 'apt-get install docker-compose (Debian; parses compose files with no Docker engine)',
  promtool: "apt-get install prometheus (Debian's promtool)",
  kubectl: "apt-get install kubernetes-client (Debian's kubectl, with kustomize built in)",
};

/**
 * Runs a tool with only PATH and HOME from the environment (plus `env`): the checks must not depend on a
 * developer's variables (a stray SETTLEMENT_ADDRESS would hide a compose file that needs it). A missing tool
 * fails the test with how to install it: a deployment check that did not run must not pass.
 */
export function run(cmd: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    assert.fail(code === 'ENOENT' ? `${cmd} is not installed: ${INSTALL[cmd] ?? 'install it'} (.ci/run does)` : `${cmd}: ${r.error.message}`);
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function mustRun(cmd: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): string {
  const r = run(cmd, args, env);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } & Record<string, unknown> };

export function yamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => {
    assert.equal(d.errors.length, 0, d.errors.map((e) => e.message).join('\n'));
    return d.toJS() as unknown;
  });
}
