/**
 * Blocks until the chain takes this validator's weights again (subtensor's `check_rate_limit`: `block − LastUpdate ≥
 * WeightsSetRateLimit`, and a LastUpdate of 0, never set, always passes). It guards set_weights and timelocked
 * commits alike, and LastUpdate starts at the registration block. 0: allowed now. A validator that sent weights
 * before this is 0 only pays for an extrinsic the chain refuses (`SettingWeightsTooFast`) and gives up its epoch.
 */
export function blocksUntilWeightsAllowed(block: number, lastUpdate: number, rateLimit: number): number {
  if (lastUpdate === 0) return 0;
  return Math.max(0, lastUpdate + rateLimit - block);
}
