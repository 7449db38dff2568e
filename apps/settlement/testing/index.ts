// Test and benchmark support of the settlement service (not part of the service): signed order flows that
// produce settleable trades, the expected per-trader deltas, the end-to-end settlement verifier and a scripted
// settler. Imported as `@parallax/settlement/testing`.
export { signedOrderFlow, produceSignedFlow, flowOrderKey, type SignedFlow, type SignedFlowMessage, type SignedFlowOptions } from './signed-flow.js';
export { expectedDeltas, balanceKey, type ExpectedSettlement } from './reconcile.js';
export { verifySettlement, readTrades, readTopic, waitFor, type VerifyInput, type VerifyReport } from './verify-settlement.js';
export { ScriptedSettler, type ExclusionRule } from './scripted-settler.js';
