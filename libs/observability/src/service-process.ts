import type { Logger } from 'pino';

/** What a service entry point runs: stopped by close(), or failing on its own through `stopped`. */
export interface StoppableService {
  close(): Promise<void>;
  /** Resolves when the service stopped on request, rejects when it failed. */
  readonly stopped: Promise<void>;
}

/**
 * Process wiring shared by the service entry points: SIGTERM / SIGINT close the service, then `cleanup`
 * (transport, clients), and exit 0 (1 if the stop was unclean). Crash-only: when the service fails on its own
 * (a fenced producer, a lost broker) the process exits 1 and its supervisor restarts it, which recovers from
 * committed state.
 */
export function exitWithService(log: Logger, service: StoppableService, cleanup: () => Promise<void>, what: string): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    service
      .close()
      .then(cleanup)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'unclean stop');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  service.stopped.catch((err: unknown) => {
    log.fatal({ err }, `${what} stopped`);
    process.exit(1);
  });
}
