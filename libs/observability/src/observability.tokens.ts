export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** Optional HealthCheck of the service: /health reports it instead of a constant ok. */
export const HEALTH_CHECK = Symbol('HEALTH_CHECK');
