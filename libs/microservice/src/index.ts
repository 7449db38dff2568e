// What every Parallax service shares in wiring: the batch-consuming Nest transport strategy, the error filter
// its handlers need, the transport chosen from the environment, and a service as a child process.
export { BatchConsumerServer, BatchContext, BatchPatterns } from './batch-consumer.server.js';
export { RethrowFilter } from './rethrow.filter.js';
export { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings, type KafkaEnv } from './kafka-env.js';
export { createTransport } from './transport.factory.js';
export { runService, type ServiceEntry } from './run-service.js';
export { spawnServiceProcess, type ServiceLogLine, type ServiceProcess, type ServiceProcessOptions, type SpawnOptions } from './service-process.js';
export {
  runServiceWorker,
  startServiceWorker,
  type ServiceWorker,
  type ServiceWorkerData,
  type ServiceWorkerMessage,
  type WorkerServiceEntry,
} from './service-worker.js';
