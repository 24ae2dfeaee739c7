/**
 * Which drand round a commit should be locked to. Mirrors bittensor-drand (TIMELOCK.md §3): aim at the first block of
 * the reveal epoch plus SECURITY_BLOCK_OFFSET, convert the blocks still to come into seconds with a nominal block
 * time, and take floor((now + seconds − genesis) / period), at least 1.
 */
import { QUICKNET, SECURITY_BLOCK_OFFSET } from "./constants.ts";
import { TimelockError } from "./errors.ts";

type BlockNumber = number | bigint;

function nonNegative(name: string, value: BlockNumber): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new TimelockError("InvalidInput", `${name} must be an integer`);
  }
  const big = BigInt(value);
  if (big < 0n) throw new TimelockError("InvalidInput", `${name} must be >= 0`);
  return big;
}

function finite(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new TimelockError("InvalidInput", `${name} must be a finite number >= 0`);
  return value;
}

/** The round the SDK picks when the target is `blocksAhead` blocks after now. */
function roundAfterBlocks(blocksAhead: bigint, blockTimeSeconds: number, nowSeconds: number): bigint {
  const targetSeconds =
    finite("nowSeconds", nowSeconds) + Number(blocksAhead) * finite("blockTimeSeconds", blockTimeSeconds);
  const round = BigInt(Math.floor((targetSeconds - QUICKNET.genesisTime) / QUICKNET.period));
  return round < 1n ? 1n : round;
}

export interface LegacyRevealArgs {
  block: BlockNumber;
  netuid: BlockNumber;
  tempo: BlockNumber;
  revealPeriodEpochs: BlockNumber;
  blockTimeSeconds?: number;
  nowSeconds: number;
}

/**
 * bittensor-drand `generate_commit` with the legacy modulo epoch, epoch = ⌊(block + netuid + 1)/(tempo + 1)⌋.
 * For mechanism > 0 pass the mechanism storage index (mecid·4096 + netuid) as netuid, as the SDK does.
 */
export function revealRoundLegacy(args: LegacyRevealArgs): bigint {
  const block = nonNegative("block", args.block);
  const netuidPlusOne = nonNegative("netuid", args.netuid) + 1n;
  const tempoPlusOne = nonNegative("tempo", args.tempo) + 1n;
  const currentEpoch = (block + netuidPlusOne) / tempoPlusOne;
  const revealEpoch = currentEpoch + nonNegative("revealPeriodEpochs", args.revealPeriodEpochs);
  const firstRevealBlock = revealEpoch * tempoPlusOne - netuidPlusOne;
  const target = firstRevealBlock + BigInt(SECURITY_BLOCK_OFFSET);
  const ahead = target > block ? target - block : 0n;
  return roundAfterBlocks(ahead, args.blockTimeSeconds ?? 12, args.nowSeconds);
}

export interface RevealForBlockArgs {
  /** First block of the reveal epoch as the chain reports it (`SubnetInfoRuntimeApi.get_next_epoch_start_block`). */
  targetBlock: BlockNumber;
  currentBlock: BlockNumber;
  blockTimeSeconds?: number;
  nowSeconds: number;
  /** Blocks added to targetBlock before converting to time; the SDK's SECURITY_BLOCK_OFFSET (3) by default. */
  securityOffsetBlocks?: number;
}

/** bittensor-drand `generate_commit_v2`: same conversion, but from a reveal block read from chain state. */
export function revealRoundForBlock(args: RevealForBlockArgs): bigint {
  const offset = nonNegative("securityOffsetBlocks", args.securityOffsetBlocks ?? SECURITY_BLOCK_OFFSET);
  const target = nonNegative("targetBlock", args.targetBlock) + offset;
  const current = nonNegative("currentBlock", args.currentBlock);
  const ahead = target > current ? target - current : 0n;
  return roundAfterBlocks(ahead, args.blockTimeSeconds ?? 12, args.nowSeconds);
}
