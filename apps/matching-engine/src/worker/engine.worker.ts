// Worker-thread entry of the single-machine mode: the embedded log lives in the main thread and is served
// to this thread over a MessagePort; the engine here is the same app as on Kafka.
import { runServiceWorker } from '@parallax/microservice';
import { SERVICE } from '../app/app.module.js';
import { startMatchingEngine } from '../app/bootstrap.js';
import { loadMatchingEngineConfig } from '../config/matching-engine.config.js';

await runServiceWorker({
  service: SERVICE,
  what: 'matching engine',
  loadConfig: (env) => loadMatchingEngineConfig(env),
  start: (config, transport, logger) => startMatchingEngine(config, transport, { logger }),
});
