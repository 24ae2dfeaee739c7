/**
 * The Chain port over the embedded devnet. Each write is an "extrinsic": the SCALE call mainnet would get
 * (subtensor/encode.ts), signed by the given key over call ++ nonce and verified (sr25519) before dispatch.
 * Rule violations come back as `{ ok: false, error: '<subtensor error name>' }`; nothing here throws on a write.
 */
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a } from "@polkadot/util-crypto";
import type {
  Chain,
  ChainEvent,
  Metagraph,
  SubnetHyperparams,
  TimelockBeacon,
  TxOutcome,
} from "../../../core/ports/chain.ts";
import type { Signer } from "../../../core/ports/signer.ts";
import { identityReady, sr25519Verifier } from "../../identity/sr25519.ts";
import {
  encodeBurnedRegisterCall,
  encodeCommitTimelockedWeightsCall,
  encodeCommitWeightsCall,
  encodeRevealWeightsCall,
  encodeSetCommitmentCall,
  encodeSetWeightsCall,
} from "../subtensor/encode.ts";
import type { Dispatch } from "./context.ts";
import type { Devnet } from "./devnet.ts";

export interface DevnetChainOptions {
  /** Stop the devnet's block timer on close() (only for the owner of the devnet). */
  readonly stopOnClose?: boolean;
}

function u32Le(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return out;
}

export class DevnetChain implements Chain {
  constructor(
    readonly devnet: Devnet,
    private readonly options: DevnetChainOptions = {},
  ) {}

  async currentBlock(): Promise<number> {
    return this.devnet.block;
  }

  async hyperparams(netuid: number): Promise<SubnetHyperparams> {
    const h = this.devnet.hyperparams(netuid);
    if (!h) throw new Error(`SubnetNotExists: netuid ${netuid}`);
    return h;
  }

  async metagraph(netuid: number): Promise<Metagraph> {
    const m = this.devnet.metagraph(netuid);
    if (!m) throw new Error(`SubnetNotExists: netuid ${netuid}`);
    return m;
  }

  async nextEpochStartBlock(netuid: number): Promise<number> {
    const next = this.devnet.nextEpochStartBlock(netuid);
    if (next === null) throw new Error(`SubnetNotExists: netuid ${netuid}`);
    return next;
  }

  async timelockBeacon(): Promise<TimelockBeacon> {
    const info = this.devnet.beaconInfo();
    return {
      ...info,
      blockTimeSeconds: (this.devnet.chainTimeMs(1) - this.devnet.chainTimeMs(0)) / 1000,
      nowSeconds: this.devnet.chainTimeMs() / 1000,
    };
  }

  async epochIndex(netuid: number): Promise<number> {
    const index = this.devnet.epochIndex(netuid);
    if (index === null) throw new Error(`SubnetNotExists: netuid ${netuid}`);
    return index;
  }

  setWeights(
    signer: Signer,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    versionKey: bigint,
  ): Promise<TxOutcome> {
    return this.submit(
      signer,
      () => encodeSetWeightsCall({ netuid, uids, weights: values, versionKey }),
      () => this.devnet.setWeights({ who: signer.address, netuid, uids, values, versionKey }),
    );
  }

  commitWeights(signer: Signer, netuid: number, commitHash: Uint8Array): Promise<TxOutcome> {
    return this.submit(
      signer,
      () => encodeCommitWeightsCall({ netuid, commitHash }),
      () => this.devnet.commitWeights(signer.address, netuid, commitHash),
    );
  }

  revealWeights(
    signer: Signer,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    salt: readonly number[],
    versionKey: bigint,
  ): Promise<TxOutcome> {
    return this.submit(
      signer,
      () => encodeRevealWeightsCall({ netuid, uids, values, salt, versionKey }),
      () => this.devnet.revealWeights({ who: signer.address, netuid, uids, values, salt, versionKey }),
    );
  }

  commitTimelockedWeights(
    signer: Signer,
    netuid: number,
    commit: Uint8Array,
    revealRound: bigint,
    commitRevealVersion: number,
  ): Promise<TxOutcome> {
    return this.submit(
      signer,
      () => encodeCommitTimelockedWeightsCall({ netuid, commit, revealRound, commitRevealVersion }),
      () =>
        this.devnet.commitTimelockedWeights({ who: signer.address, netuid, commit, revealRound, commitRevealVersion }),
    );
  }

  async register(coldkey: Signer, hotkey: Signer, netuid: number): Promise<TxOutcome> {
    let uid = -1;
    const outcome = await this.submit(
      coldkey,
      () => encodeBurnedRegisterCall({ netuid, hotkey: hotkey.publicKey }),
      () => {
        const result = this.devnet.register(coldkey.address, hotkey.address, netuid);
        if (result.ok) uid = result.uid;
        return result.ok ? { ok: true } : { ok: false, error: result.error };
      },
    );
    if (!outcome.ok) return outcome;
    return {
      ...outcome,
      events: [`NeuronRegistered:${uid}`, ...outcome.events.filter((e) => e !== "NeuronRegistered")],
    };
  }

  setCommitment(signer: Signer, netuid: number, data: Uint8Array): Promise<TxOutcome> {
    return this.submit(
      signer,
      () => encodeSetCommitmentCall({ netuid, data }),
      () => this.devnet.setCommitment(signer.address, netuid, data),
    );
  }

  async registrationCost(_netuid: number): Promise<bigint> {
    // The devnet keeps no balances: a registration burns nothing.
    return 0n;
  }

  async commitment(netuid: number, hotkey: string): Promise<{ block: number; data: Uint8Array } | null> {
    return this.devnet.commitment(netuid, hotkey);
  }

  async events(fromBlock: number): Promise<ChainEvent[]> {
    return this.devnet.events(fromBlock);
  }

  async close(): Promise<void> {
    if (this.options.stopOnClose) this.devnet.stop();
  }

  /** Encode, sign, verify, dispatch; the events the dispatch emitted are returned by name. */
  private async submit(signer: Signer, encode: () => Uint8Array, dispatch: () => Dispatch): Promise<TxOutcome> {
    await identityReady();
    let call: Uint8Array;
    try {
      call = encode();
    } catch {
      // The node could not decode such a call (a value out of its SCALE type's range).
      return { ok: false, error: "BadEncoding", block: this.devnet.block };
    }
    const payload = u8aConcat(call, u32Le(this.devnet.nextNonce(signer.address)));
    const signature = signer.sign(payload);
    const txHash = u8aToHex(blake2AsU8a(u8aConcat(payload, signature), 256));
    const block = this.devnet.block;
    if (!sr25519Verifier.verify(payload, signature, signer.address))
      return { ok: false, error: "BadProof", block, txHash };
    const log = this.devnet.state.events;
    // A marker rather than an index: the log is trimmed from the front when it grows past its cap.
    const last = log.at(-1);
    const result = dispatch();
    if (!result.ok) return { ok: false, error: result.error, block, txHash };
    const events = log.slice(last === undefined ? 0 : log.lastIndexOf(last) + 1).map((e) => e.name);
    return { ok: true, block, txHash, events };
  }
}
