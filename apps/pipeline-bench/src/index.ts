export { EventCollector, replayLog, replayReference, compare, percentile, type Expected } from './verify.js';
export { runKafkaScenario, type KafkaScenario } from './kafka-run.js';
export { runEmbeddedScenario, type EmbeddedScenario } from './embedded-run.js';
export { parseOptions, USAGE, UsageError, type BenchOptions } from './cli.js';
export type { ScenarioResult, CpuShare, FailoverFigures } from './result.js';
