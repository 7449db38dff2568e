export { startMatchingEngine, type MatchingEngineHandle, type StartOptions } from './bootstrap.js';
export { loadMatchingEngineConfig, type MatchingEngineConfig } from './matching-engine.config.js';
export { BatchConsumerServer, BatchPatterns, BatchContext } from './batch-consumer.server.js';
export { MatchingService, transactionalIdFor, type RestoreReport } from './matching.service.js';
export { startEngineWorker, type EngineWorker, type EngineWorkerData, type EngineWorkerMessage } from './engine-worker.js';
export { createTransport } from './transport.factory.js';
