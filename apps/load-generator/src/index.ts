export { MarketOrderFlow, stpModeOf } from './workload/order-flow.js';
export type { WorkloadOptions } from './workload/order-flow.js';
export { CommandStream, generateCommands, LoadGeneratorError, MAX_MARKETS } from './workload/workload.js';
export type { GenerateOptions } from './workload/workload.js';
export { runLoadGenerator } from './producer/load-generator.js';
export type { LoadGeneratorOptions, LoadProgress, LoadReport } from './producer/load-generator.js';
export { parseCli, UsageError, USAGE } from './producer/cli.js';
export type { CliConfig } from './producer/cli.js';
export { openKafkaTransport } from './producer/kafka.js';
