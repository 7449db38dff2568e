export { startMatchingEngine, type MatchingEngineHandle, type StartOptions } from './app/bootstrap.js';
export { loadMatchingEngineConfig, type MatchingEngineConfig } from './config/matching-engine.config.js';
export { MatchingService, transactionalIdFor, type RestoreReport } from './matching/matching.service.js';
export { startEngineWorker, type EngineWorker, type EngineWorkerData, type EngineWorkerMessage } from './worker/engine-worker.js';
export { spawnEngineProcess, type EngineProcess, type EngineLogLine, type SpawnEngineOptions } from './process/engine-process.js';
