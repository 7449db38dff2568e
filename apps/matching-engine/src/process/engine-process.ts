// A matching engine as a child process (dist/main.js), for launchers, fault tests and benchmarks.
import { fileURLToPath } from 'node:url';
import { spawnServiceProcess, type ServiceLogLine, type ServiceProcess, type SpawnOptions } from '@parallax/microservice';

const main = fileURLToPath(new URL('../main.js', import.meta.url));

export type EngineProcess = ServiceProcess;
export type EngineLogLine = ServiceLogLine;
export type SpawnEngineOptions = SpawnOptions;

/** Spawns an engine (ENGINE_INSTANCE_ID = name) and resolves once it logged that it started. */
export function spawnEngineProcess(name: string, env: Readonly<Record<string, string>>, options: SpawnEngineOptions = {}): Promise<EngineProcess> {
  return spawnServiceProcess({ main, name, readyMessage: 'matching engine started', env: { ...env, ENGINE_INSTANCE_ID: name }, ...options });
}
