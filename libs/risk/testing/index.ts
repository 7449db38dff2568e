// Test and benchmark support of the risk engine, imported as `@parallax/risk/testing`: the whole funds flow in one
// process (the reference the pipeline is audited against) and fixtures.
export { SingleProcessExchange } from './single-process.js';
export type { SingleProcessOptions, FlowEntry } from './single-process.js';
export { accountAddress, tokenAddress, testMarket, placeRequest, QUOTE, SIGNATURE } from './fixtures.js';
export type { PlaceParams } from './fixtures.js';
