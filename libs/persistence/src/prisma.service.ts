import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { newLockedPglite, prismaAdapterForPglite } from './embedded.js';
import { PrismaClient } from './generated/client.js';
import { applyMigrations } from './migrations.js';
import { pgliteSqlExecutor } from './embedded.js';
import { PERSISTENCE_OPTIONS, type PersistenceOptions } from './persistence.tokens.js';
import { defaultMigrationsDir } from './repository-paths.js';

type Backend = { kind: 'postgres'; adapter: PrismaPg } | { kind: 'embedded'; adapter: ReturnType<typeof prismaAdapterForPglite>; pglite: PGlite };

function backendFor(options: PersistenceOptions): Backend {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    const pool = options.maxConnections === undefined ? {} : { max: options.maxConnections };
    return { kind: 'postgres', adapter: new PrismaPg({ connectionString: options.databaseUrl, ...pool }) };
  }
  const pglite = newLockedPglite(options.embeddedDataDir);
  return { kind: 'embedded', adapter: prismaAdapterForPglite(pglite), pglite };
}

/**
 * The Prisma client as a Nest provider: connects on module init, disconnects on destroy. Against a
 * server the schema is expected to be migrated already (`npm run db:migrate` in deployment); the
 * embedded database is migrated here, on init, before anything can query it.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  private readonly backend: Backend;
  private readonly logger = new Logger(PrismaService.name);

  constructor(@Inject(PERSISTENCE_OPTIONS) options: PersistenceOptions) {
    const backend = backendFor(options);
    super({ adapter: backend.adapter });
    this.backend = backend;
  }

  /** 'postgres' against a server, 'embedded' on PGlite. */
  get mode(): Backend['kind'] {
    return this.backend.kind;
  }

  async onModuleInit(): Promise<void> {
    if (this.backend.kind === 'embedded') {
      await this.backend.pglite.waitReady;
      const { appliedMigrationNames } = await applyMigrations(pgliteSqlExecutor(this.backend.pglite), defaultMigrationsDir());
      if (appliedMigrationNames.length > 0) this.logger.log(`embedded database migrated: ${appliedMigrationNames.join(', ')}`);
    }
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
