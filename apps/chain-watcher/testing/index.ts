// Test support of the chain-watcher tests, imported as `@parallax/chain-watcher/testing` (not part of the
// watcher): the funds path on anvil (signed orders for risk, background mining, fills and balances on chain).
export { balanceOf, fillsOnChain, keepMining, signedPlaceRequest, type SignedPlace } from './funds-path.js';
