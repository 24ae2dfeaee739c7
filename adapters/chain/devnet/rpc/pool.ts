/**
 * The transaction pool: an extrinsic is decoded with the served metadata, its sr25519 signature checked against the
 * signing payload (call, era, nonce, tip, metadata-hash mode; spec and transaction version, genesis and era-birth
 * hashes), its nonce checked, and the SubtensorTransactionExtension guards run; a refusal is a JSON-RPC error shaped
 * as a node's (`1010 Invalid Transaction: Custom error: 6`). Accepted calls are applied in the next block.
 */

import type { GenericExtrinsic } from "@polkadot/types";
import { hexToU8a } from "@polkadot/util";
import { blake2AsHex } from "@polkadot/util-crypto";
import { z } from "zod";
import { sr25519Verifier } from "../../../identity/sr25519.ts";
import { rawFieldBytes } from "../../subtensor/raw-data.ts";
import { type Dispatch, subnetOf } from "../context.ts";
import type { Devnet } from "../devnet.ts";
import { revealPoolCheck } from "../rules/commit-reveal.ts";
import { hasMinStake, passesRateLimit } from "../rules/weights.ts";
import { uidOf } from "../state.ts";
import type { ServedMetadata } from "./metadata.ts";
import { RUNTIME } from "./metadata.ts";

/** A refusal as the node's author RPC reports it. */
export class PoolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: string,
  ) {
    super(message);
  }
}

const invalid = (data: string) => new PoolError(1010, "Invalid Transaction", data);
/** subtensor's CustomTransactionError codes for the weight guards. */
export const CUSTOM = {
  StakeAmountTooLow: 1,
  RateLimitExceeded: 6,
  InvalidRevealRound: 15,
  CommitNotFound: 16,
  CommitBlockNotInRevealRange: 17,
} as const;
const custom = (code: number) => invalid(`Custom error: ${code}`);

export interface PooledTx {
  readonly hash: string;
  readonly hex: string;
  readonly signer: string;
  readonly nonce: number;
  readonly apply: () => Dispatch;
}

const u16 = z.number().int().min(0).max(65535);
const u16s = z.array(u16);
const u64 = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/);
const CALLS = {
  "subtensorModule.setWeights": z.object({ netuid: u16, dests: u16s, weights: u16s, version_key: u64 }),
  "subtensorModule.commitWeights": z.object({ netuid: u16, commit_hash: hex }),
  "subtensorModule.revealWeights": z.object({
    netuid: u16,
    uids: u16s,
    values: u16s,
    salt: u16s,
    version_key: u64,
  }),
  "subtensorModule.commitTimelockedWeights": z.object({
    netuid: u16,
    commit: hex,
    reveal_round: u64,
    commit_reveal_version: u16,
  }),
  "subtensorModule.burnedRegister": z.object({ netuid: u16, hotkey: z.string() }),
  // CommitmentInfo { fields: Vec<Data> }: the devnet keeps one Data::Raw field.
  "commitments.setCommitment": z.object({
    netuid: u16,
    info: z.object({ fields: z.array(z.record(z.string(), z.unknown())).length(1) }),
  }),
} as const;

/** Largest extrinsic accepted (a timelocked commit is at most 5000 bytes of ciphertext). */
export const MAX_EXTRINSIC_BYTES = 64 * 1024;

export class TxPool {
  private readonly queue: PooledTx[] = [];

  constructor(
    private readonly served: ServedMetadata,
    private readonly devnet: Devnet,
    private readonly hashOf: (block: number) => string | undefined,
  ) {}

  get pending(): readonly PooledTx[] {
    return this.queue;
  }

  /** Next nonce including what waits in the pool (system_accountNextIndex). */
  nextIndex(address: string): number {
    const onChain = this.devnet.state.nonces[address] ?? 0;
    return onChain + this.queue.filter((t) => t.signer === address).length;
  }

  /** The pool's validation; throws PoolError on refusal. */
  submit(extrinsicHex: string): PooledTx {
    const parsed = hex.safeParse(extrinsicHex);
    if (!parsed.success || extrinsicHex.length > 2 + 2 * MAX_EXTRINSIC_BYTES)
      throw new PoolError(-32602, "Invalid params", "extrinsic must be 0x-hex of at most 64 KiB");
    const ext = this.decode(parsed.data);
    const hash = blake2AsHex(hexToU8a(parsed.data), 256);
    if (this.queue.some((t) => t.hash === hash)) throw new PoolError(1013, "Transaction Already Imported");
    if (!ext.isSigned) throw invalid("Transaction call is not expected");
    const signer = ext.signer.toString();
    this.checkSignature(ext, signer);
    const nonce = ext.nonce.toNumber();
    const onChain = this.devnet.state.nonces[signer] ?? 0;
    if (nonce < onChain) throw invalid("Transaction is outdated");
    if (nonce !== this.nextIndex(signer)) {
      if (nonce > this.nextIndex(signer)) throw invalid("Transaction will be valid in the future");
      throw new PoolError(1014, "Priority is too low", `(0 vs 0)`);
    }
    let apply: () => Dispatch;
    try {
      apply = this.prepare(ext, signer);
    } catch (error) {
      if (error instanceof PoolError) throw error;
      throw invalid("Transaction call is not expected");
    }
    const tx: PooledTx = { hash, hex: parsed.data, signer, nonce, apply };
    this.queue.push(tx);
    return tx;
  }

  /** Takes every pooled transaction, in submission order, for the block being built. */
  drain(): PooledTx[] {
    return this.queue.splice(0, this.queue.length);
  }

  private decode(extrinsicHex: string): GenericExtrinsic {
    let ext: GenericExtrinsic;
    try {
      ext = this.served.registry.createType("Extrinsic", extrinsicHex) as unknown as GenericExtrinsic;
    } catch {
      throw new PoolError(1002, "Verification Error: Runtime error: Could not decode extrinsic");
    }
    // The decoder reads what it needs and ignores the rest: anything else is not one extrinsic.
    if (ext.toHex() !== extrinsicHex.toLowerCase())
      throw new PoolError(1002, "Verification Error: Runtime error: Could not decode extrinsic");
    return ext;
  }

  private checkSignature(ext: GenericExtrinsic, signer: string): void {
    const signature = ext.signature;
    const multi = ext.inner.signature as unknown as { multiSignature?: { isSr25519: boolean } };
    if (multi.multiSignature && !multi.multiSignature.isSr25519) throw invalid("Transaction has a bad signature");
    const era = ext.era;
    let birthHash: string | undefined = this.hashOf(0);
    if (era.isMortalEra) {
      const current = this.devnet.block;
      const mortal = era.asMortalEra;
      const birth = mortal.birth(current);
      if (current >= mortal.death(current)) throw invalid("Transaction has an ancient birth block");
      birthHash = this.hashOf(birth);
      if (birthHash === undefined) throw invalid("Transaction has an ancient birth block");
    }
    const genesisHash = this.hashOf(0);
    const payload = this.served.registry.createType(
      "ExtrinsicPayload",
      {
        method: ext.method.toHex(),
        era,
        nonce: ext.nonce,
        tip: ext.tip,
        mode: (ext.inner.signature as unknown as { mode?: unknown }).mode,
        specVersion: RUNTIME.specVersion,
        transactionVersion: RUNTIME.transactionVersion,
        genesisHash,
        blockHash: birthHash,
      },
      { version: ext.version & 0x7f },
    );
    const bytes = payload.toU8a({ method: true });
    const message = bytes.length > 256 ? hexToU8a(blake2AsHex(bytes, 256)) : bytes;
    if (!sr25519Verifier.verify(message, signature.toU8a(), signer)) throw invalid("Transaction has a bad signature");
  }

  /** SubtensorTransactionExtension's validate, then the dispatch to run in the block. */
  private prepare(ext: GenericExtrinsic, who: string): () => Dispatch {
    const name = `${ext.method.section}.${ext.method.method}`;
    const args = (ext.method.toPrimitive() as { args?: unknown }).args;
    const devnet = this.devnet;
    const guardStake = (netuid: number) => {
      if (!hasMinStake(devnet, who, netuid)) throw custom(CUSTOM.StakeAmountTooLow);
    };
    switch (name) {
      case "subtensorModule.setWeights": {
        const a = CALLS[name].parse(args);
        guardStake(a.netuid);
        const subnet = subnetOf(devnet, a.netuid);
        const uid = subnet ? uidOf(subnet, who) : null;
        if (subnet && uid !== null && !subnet.hyperparams.commitRevealWeightsEnabled)
          if (!passesRateLimit(subnet, uid, devnet.block)) throw custom(CUSTOM.RateLimitExceeded);
        const call = { who, netuid: a.netuid, uids: a.dests, values: a.weights, versionKey: a.version_key };
        return () => devnet.setWeights(call);
      }
      case "subtensorModule.commitWeights": {
        const a = CALLS[name].parse(args);
        guardStake(a.netuid);
        return () => devnet.commitWeights(who, a.netuid, hexToU8a(a.commit_hash));
      }
      case "subtensorModule.revealWeights": {
        const a = CALLS[name].parse(args);
        const call = { who, netuid: a.netuid, uids: a.uids, values: a.values, salt: a.salt, versionKey: a.version_key };
        const check = revealPoolCheck(devnet, call);
        if (!check.ok) {
          if (check.error === "NotEnoughStakeToSetWeights") throw custom(CUSTOM.StakeAmountTooLow);
          if (check.error === "RevealTooEarly") throw custom(CUSTOM.CommitBlockNotInRevealRange);
          throw custom(CUSTOM.CommitNotFound);
        }
        return () => devnet.revealWeights(call);
      }
      case "subtensorModule.commitTimelockedWeights": {
        const a = CALLS[name].parse(args);
        guardStake(a.netuid);
        if (a.reveal_round < devnet.lastStoredRound()) throw custom(CUSTOM.InvalidRevealRound);
        const call = {
          who,
          netuid: a.netuid,
          commit: hexToU8a(a.commit),
          revealRound: a.reveal_round,
          commitRevealVersion: a.commit_reveal_version,
        };
        return () => devnet.commitTimelockedWeights(call);
      }
      case "subtensorModule.burnedRegister": {
        const a = CALLS[name].parse(args);
        return () => {
          const result = devnet.register(who, a.hotkey, a.netuid);
          return result.ok ? { ok: true } : { ok: false, error: result.error };
        };
      }
      case "commitments.setCommitment": {
        const a = CALLS[name].parse(args);
        const [kind, value] = Object.entries(a.info.fields[0] ?? {})[0] ?? [];
        const data = kind === undefined ? null : rawFieldBytes(kind, value);
        if (data === null) throw invalid("Transaction call is not expected");
        return () => devnet.setCommitment(who, a.netuid, data);
      }
      default:
        // The devnet applies only the calls the market sends; anything else could not change its state.
        throw invalid("Transaction call is not expected");
    }
  }
}
