/** Injection token of the PersistenceOptions given to PersistenceModule.forRoot / forRootAsync. */
export const PERSISTENCE_OPTIONS = Symbol('PERSISTENCE_OPTIONS');

export interface PersistenceOptions {
  /** PostgreSQL URL. When unset the service runs on embedded PGlite (one-machine mode). */
  readonly databaseUrl?: string | undefined;
  /** PGlite data dir in embedded mode; unset: in memory (lost on shutdown). */
  readonly embeddedDataDir?: string | undefined;
  /** pg pool size against a server (pg's default is 10). */
  readonly maxConnections?: number | undefined;
}
