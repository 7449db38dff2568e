// Worker-thread entry of the single-machine mode: the embedded log lives in the main thread and is served
// to this thread over a MessagePort; the account shards here are the same app as on Kafka.
import { runServiceWorker } from '@parallax/microservice';
import { SERVICE, startRisk } from '../app/risk.app.js';
import { loadRiskConfig } from '../config/risk.config.js';

await runServiceWorker({
  service: SERVICE,
  what: 'risk shards',
  loadConfig: (env) => loadRiskConfig(env),
  start: (config, transport, logger) => startRisk(config, transport, { logger }),
});
