export { startMatchingEngine, type MatchingEngineHandle, type StartOptions } from './app/bootstrap.js';
export { loadMatchingEngineConfig, type MatchingEngineConfig } from './config/matching-engine.config.js';
export { BatchConsumerServer, BatchPatterns, BatchContext } from './consumer/batch-consumer.server.js';
export { RethrowFilter } from './consumer/orders.consumer.js';
export { MatchingService, transactionalIdFor, type RestoreReport } from './matching/matching.service.js';
export { startEngineWorker, type EngineWorker, type EngineWorkerData, type EngineWorkerMessage } from './worker/engine-worker.js';
export { createTransport } from './app/transport.factory.js';
export {
  spawnEngineProcess,
  spawnServiceProcess,
  type EngineProcess,
  type EngineLogLine,
  type SpawnEngineOptions,
  type ServiceProcessOptions,
} from './process/engine-process.js';
