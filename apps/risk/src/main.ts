// Process entry: `node apps/risk/dist/main.js`, configured by environment variables (risk.config.ts). With
// KAFKA_BROKERS it joins the shards' consumer group; without, it runs on a private embedded log.
import { runService } from '@parallax/microservice';
import { loadRiskConfig } from './config/risk.config.js';
import { RiskShards } from './service/risk-shards.js';

await runService({
  service: 'parallax-risk',
  what: 'risk shards',
  loadConfig: () => loadRiskConfig(),
  start: async (config, transport, log) => {
    const shards = new RiskShards(config.shards, transport);
    await shards.start();
    log.info({ instance: config.instanceId, shards: config.shards.shards, transport: transport.kind, url: '' }, 'risk shards started');
    return { close: () => shards.close(), stopped: shards.stopped };
  },
});
