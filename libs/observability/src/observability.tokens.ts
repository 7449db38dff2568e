export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** The service's ServiceHealthIndicator list, answered on /health and /ready. */
export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');
