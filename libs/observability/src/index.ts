export {
  ConfigError,
  EXIT_INVALID_CONFIG,
  bootConfig,
  exitForConfig,
  loadConfig,
  logEnvShape,
  logSettingsFrom,
  optionalBrokerList,
  type LogSettings,
} from './config.js';
export { LOG_FORMATS, LOG_LEVELS, createLogger, isPrettyFormat, type LogFormat, type LogLevel, type Logger } from './logger.js';
export { NestPinoLogger } from './nest-logger.js';
export { createMetricsRegistry } from './metrics.js';
export { serveMetrics } from './metrics-server.js';
export { HEALTH_CHECK, METRICS_REGISTRY, SERVICE_NAME } from './observability.tokens.js';
export { MetricsController } from './metrics.controller.js';
export { HealthController, type HealthCheck, type HealthStatus } from './health.controller.js';
export { ObservabilityModule } from './observability.module.js';
export { exitWithService, type StoppableService } from './service-process.js';
