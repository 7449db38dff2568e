import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { PERSISTENCE_OPTIONS, type PersistenceOptions } from './persistence.tokens.js';
import { PrismaService } from './prisma.service.js';

export interface PersistenceModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  readonly useFactory: (...args: never[]) => PersistenceOptions | Promise<PersistenceOptions>;
}

/** Global module providing PrismaService (PostgreSQL through adapter-pg, or embedded PGlite). */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [{ provide: PERSISTENCE_OPTIONS, useValue: options }, PrismaService],
      exports: [PrismaService],
    };
  }

  static forRootAsync(options: PersistenceModuleAsyncOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: PERSISTENCE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        PrismaService,
      ],
      exports: [PrismaService],
    };
  }
}
