export { ConfigError, loadConfig, optionalBrokerList } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { createMetricsRegistry } from './metrics.js';
export { HEALTH_CHECK, METRICS_REGISTRY, SERVICE_NAME } from './observability.tokens.js';
export { MetricsController } from './metrics.controller.js';
export { HealthController, type HealthCheck, type HealthStatus } from './health.controller.js';
export { ObservabilityModule } from './observability.module.js';
export { exitWithService, type StoppableService } from './service-process.js';
