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
export { createMetricsRegistry, secondsSinceGauge, type SecondsSinceGaugeOptions } from './metrics.js';
export { serveMetrics } from './metrics-server.js';
export { HEALTH_INDICATORS, METRICS_REGISTRY, SERVICE_NAME } from './observability.tokens.js';
export { MetricsController } from './metrics.controller.js';
export { HealthController } from './health/health.controller.js';
export {
  DEPENDENCY_CHECK_TIMEOUT_MS,
  brokerIndicator,
  chainIndicator,
  databaseIndicator,
  dependencyIndicator,
  stateIndicator,
  type HealthIndicatorSession,
  type HealthProbe,
  type HealthState,
  type ServiceHealthIndicator,
} from './health/health-indicators.js';
export type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
export { ObservabilityModule } from './observability.module.js';
export { exitWithService, type StoppableService } from './service-process.js';
