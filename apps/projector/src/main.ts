// Process entry: `node apps/projector/dist/main.js`, configured by environment variables (projector.config.ts).
import { runService } from '@parallax/microservice';
import { SERVICE, startProjector } from './app/projector.app.js';
import { loadProjectorConfig } from './config/projector.config.js';

await runService({
  service: SERVICE,
  what: 'projector',
  loadConfig: () => loadProjectorConfig(),
  start: (config, transport, logger) => startProjector(config, transport, { logger }),
});
