import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

/** What an indicator answers through: `up`, `degraded`, `down` with details, or `attempt` a call (terminus). */
export type HealthIndicatorSession = ReturnType<HealthIndicatorService['check']>;

/**
 * Which probe an indicator belongs to. `liveness` (GET /health): down means the process is broken and a
 * restart is the cure. `readiness` (GET /ready): down means do not route work here yet (restoring, a
 * dependency unreachable). Every liveness indicator is part of readiness too: a broken process is not ready.
 */
export type HealthProbe = 'liveness' | 'readiness';

/** One check of a service, answered through terminus. The key names it in the probe's JSON body. */
export interface ServiceHealthIndicator {
  readonly key: string;
  readonly probe: HealthProbe;
  check(session: HealthIndicatorSession): PromiseLike<HealthIndicatorResult> | HealthIndicatorResult;
}

/** What a synchronous state check reports: `degraded` still answers 200 (it works, someone should look). */
export interface HealthState {
  readonly status: 'up' | 'degraded' | 'down';
  readonly details?: Record<string, unknown>;
}

/** A dependency is asked for longer than this: it counts as down (a probe must answer before its own timeout). */
export const DEPENDENCY_CHECK_TIMEOUT_MS = 3_000;

/** An indicator over state the service already holds (no I/O): the engine's partitions, the settlement loop. */
export function stateIndicator(key: string, probe: HealthProbe, state: () => HealthState): ServiceHealthIndicator {
  return {
    key,
    probe,
    check: (session) => {
      const s = state();
      const details = s.details ?? {};
      return s.status === 'up' ? session.up(details) : s.status === 'degraded' ? session.degraded(details) : session.down(details);
    },
  };
}

/**
 * An indicator that asks a dependency: up when `ask` resolves within DEPENDENCY_CHECK_TIMEOUT_MS (its result
 * is shown), down with the error's message when it throws or takes longer.
 */
export function dependencyIndicator(
  key: string,
  ask: () => Promise<Record<string, unknown>>,
  options: { readonly probe?: HealthProbe; readonly timeoutMs?: number } = {},
): ServiceHealthIndicator {
  const timeoutMs = options.timeoutMs ?? DEPENDENCY_CHECK_TIMEOUT_MS;
  return { key, probe: options.probe ?? 'readiness', check: (session) => session.attempt(() => ask()).withTimeout(timeoutMs) };
}

/** The message broker (or embedded log) answers a metadata request for a topic the service uses. */
export function brokerIndicator(transport: { readonly kind: string; partitionCount(topic: string): Promise<number> }, topic: string): ServiceHealthIndicator {
  return dependencyIndicator('broker', async () => ({ transport: transport.kind, topic, partitions: await transport.partitionCount(topic) }));
}

/** The database answers a query (`ping` runs e.g. `SELECT 1`). */
export function databaseIndicator(describe: string, ping: () => Promise<unknown>): ServiceHealthIndicator {
  return dependencyIndicator('database', async () => {
    await ping();
    return { database: describe };
  });
}

/** The chain's RPC endpoint answers and is the chain the service was configured for. */
export function chainIndicator(client: { getChainId(): Promise<number> }, expectedChainId: number): ServiceHealthIndicator {
  return dependencyIndicator('chain', async () => {
    const chainId = await client.getChainId();
    if (chainId !== expectedChainId) throw new Error(`CHAIN_MISMATCH: the RPC endpoint serves chain ${chainId}, expected ${expectedChainId}`);
    return { chainId };
  });
}
