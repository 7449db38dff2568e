export { startGateway } from './bootstrap.js';
export { loadGatewayConfig, type GatewayConfig } from './gateway.config.js';
