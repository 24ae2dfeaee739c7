/** Shared set-up for devnet tests: a deterministic devnet, sr25519 keys from dev URIs, a subnet with a validator. */
import type { Signer } from "../../../core/ports/signer.ts";
import { identityReady, signerFromUri } from "../../identity/sr25519.ts";
import type { HyperparamsPatch } from "./admin.ts";
import { DevnetChain } from "./chain.ts";
import { createDevnet } from "./create.ts";
import type { Devnet } from "./devnet.ts";

export interface TestSubnet {
  readonly devnet: Devnet;
  readonly chain: DevnetChain;
  readonly netuid: number;
  readonly owner: Signer;
  readonly validator: Signer;
  readonly miners: readonly Signer[];
  readonly outsider: Signer;
}

/** Genesis at a fixed time so beacon rounds are reproducible. */
export const TEST_GENESIS_MS = 1_750_000_000_000;

/**
 * netuid 1 with tempo 10, no rate limit, CR off (unless patched), a staked validator (uid 0) that holds a permit
 * after the first epoch, and `miners` more hotkeys (uids 1..).
 */
export async function testSubnet(patch: HyperparamsPatch = {}, miners = 3): Promise<TestSubnet> {
  await identityReady();
  const devnet = createDevnet({
    blockTimeMs: 1000,
    genesisTimeMs: TEST_GENESIS_MS,
    beaconSeed: new TextEncoder().encode("devnet-test-beacon-seed"),
  });
  const owner = signerFromUri("//Owner");
  const validator = signerFromUri("//Validator");
  const minerKeys = Array.from({ length: miners }, (_, i) => signerFromUri(`//Miner${i}`));
  const netuid = devnet.createSubnet({ netuid: 1, ownerColdkey: owner.address });
  const set = devnet.setHyperparams(netuid, {
    tempo: 10,
    weightsRateLimit: 0,
    commitRevealWeightsEnabled: false,
    immunityPeriod: 1000,
    activityCutoffFactorMilli: 50_000,
    ...patch,
  });
  if (!set.ok) throw new Error(set.error);
  // The validator under the owner's coldkey; miners under their own (the owner coldkey's incentive is burned).
  for (const [key, coldkey] of [
    [validator, owner.address],
    ...minerKeys.map((m, i) => [m, signerFromUri(`//Miner${i}//coldkey`).address] as const),
  ] as const) {
    const result = devnet.register(coldkey, key.address, netuid);
    if (!result.ok) throw new Error(result.error);
  }
  devnet.addStake(validator.address, 1_000_000_000_000n, netuid);
  devnet.triggerEpoch(netuid);
  devnet.produceBlock();
  return {
    devnet,
    chain: new DevnetChain(devnet),
    netuid,
    owner,
    validator,
    miners: minerKeys,
    outsider: signerFromUri("//Outsider"),
  };
}
