/**
 * The Chain port over a Bittensor node (@polkadot/api). Calls are built from the node's own metadata
 * (api.tx.subtensorModule.*), signed by the given key, and followed until in a block. A submission whose fate is
 * unknown (timeout, dropped connection) is reconciled with the account nonce and recent blocks, never resent here.
 */

import { ApiPromise, WsProvider } from "@polkadot/api";
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import type { DispatchError, EventRecord } from "@polkadot/types/interfaces";
import type { ISubmittableResult } from "@polkadot/types/types";
import { hexToU8a, u8aToHex } from "@polkadot/util";
import { z } from "zod";
import type {
  Chain,
  ChainEvent,
  Metagraph,
  SubnetHyperparams,
  TimelockBeacon,
  TxOutcome,
} from "../../../core/ports/chain.ts";
import type { Signer } from "../../../core/ports/signer.ts";
import { QUICKNET } from "../../../core/timelock/index.ts";
import { identityReady } from "../../identity/sr25519.ts";
import { MAX_COMMITMENT_BYTES, u16Le } from "./encode.ts";
import { metagraphFromNeurons } from "./metagraph-decode.ts";
import { readNeuronInfoVec } from "./neuron-codec.ts";
import { type CallKind, poolRefusal } from "./pool-errors.ts";
import { rawFieldBytes } from "./raw-data.ts";
import { polkadotSigner } from "./signer-bridge.ts";
import { subtensorStorageKeys } from "./storage-keys.ts";

/** The outcome without the internal retry flag. */
function strip(outcome: TxOutcome & { retryable?: boolean }): TxOutcome {
  if (outcome.ok) return outcome;
  const { retryable: _, ...rest } = outcome;
  return rest;
}

export interface SubtensorChainOptions {
  /** ws:// or wss:// endpoint, e.g. wss://entrypoint-finney.opentensor.ai:443. */
  readonly url: string;
  /** How long to follow a submission before reconciling it (default 60 s). */
  readonly inclusionTimeoutMs?: number;
  /** Blocks searched for a transaction whose fate is unknown (default 20). */
  readonly searchBlocks?: number;
  /** Most blocks `events()` reads in one call (default 800: two mainnet epochs and a margin). */
  readonly maxEventBlocks?: number;
}

const num = z.union([z.number(), z.string().regex(/^\d+$/)]).transform((v) => Number(v));
const big = z.union([z.number(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));
const bool = z.boolean();
const alphaValues = z.tuple([num, num]);
const optionU64 = z.union([z.null(), num]);
/** Keys per state_getKeysPaged call (the most a node serves in one page). */
const KEYS_PAGE = 1000;
// A flat character class: a repeated group would backtrack through megabytes of hex.
const hexString = z
  .string()
  .regex(/^0x[0-9a-fA-F]*$/)
  .refine((s) => s.length % 2 === 0, "odd-length hex");
const changeSets = z.array(
  z.object({ changes: z.array(z.tuple([hexString, z.union([hexString, z.null()])])).max(KEYS_PAGE) }),
);
function u64FromLe(bytes: Uint8Array): bigint {
  if (bytes.length !== 8) throw new RangeError("a u64 has 8 bytes");
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}
const registration = z.union([
  z.null(),
  z.object({ block: num, info: z.object({ fields: z.array(z.record(z.string(), z.unknown())).max(16) }) }),
]);
const beaconConfig = z.object({ publicKey: z.string(), period: num, genesisTime: num });
/** Blocks over which the block time is measured (about two minutes on mainnet). */
const CLOCK_SPAN_BLOCKS = 10;

interface Primitive {
  toPrimitive(): unknown;
}
type StorageEntries = [{ args: Primitive[] }, Primitive][];
type Query = ((...args: unknown[]) => Promise<Primitive>) & {
  entries?: (...args: unknown[]) => Promise<StorageEntries>;
};

export async function connectSubtensor(options: SubtensorChainOptions): Promise<SubtensorChain> {
  await identityReady();
  const api = await ApiPromise.create({
    provider: new WsProvider(options.url),
    throwOnConnect: true,
    noInitWarn: true,
  });
  return new SubtensorChain(api, options);
}

export class SubtensorChain implements Chain {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly api: ApiPromise,
    private readonly options: SubtensorChainOptions,
  ) {}

  private query(item: string): Query {
    const module = this.api.query.subtensorModule as unknown as Record<string, Query | undefined> | undefined;
    const fn = module?.[item];
    if (!fn) throw new Error(`the node has no SubtensorModule.${item} storage`);
    return fn;
  }

  private async read<T>(item: string, schema: z.ZodType<T>, ...args: unknown[]): Promise<T> {
    return schema.parse((await this.query(item)(...args)).toPrimitive());
  }

  async currentBlock(): Promise<number> {
    return (await this.api.rpc.chain.getHeader()).number.toNumber();
  }

  async hyperparams(netuid: number): Promise<SubnetHyperparams> {
    const r = <T>(item: string, schema: z.ZodType<T>) => this.read(item, schema, netuid);
    const [tempo, kappa, immunityPeriod, minAllowedWeights, maxWeightsLimit, weightsVersionKey, weightsRateLimit] =
      await Promise.all([
        r("tempo", num),
        r("kappa", num),
        r("immunityPeriod", num),
        r("minAllowedWeights", num),
        r("maxWeightsLimit", num),
        r("weightsVersionKey", big),
        r("weightsSetRateLimit", num),
      ]);
    const [activityCutoffFactorMilli, maxAllowedValidators, maxAllowedUids, bondsMovingAverage, bondsPenalty] =
      await Promise.all([
        this.activityCutoffFactorMilli(netuid, tempo),
        r("maxAllowedValidators", num),
        r("maxAllowedUids", num),
        r("bondsMovingAverage", num),
        r("bondsPenalty", num),
      ]);
    const [commitRevealWeightsEnabled, revealPeriodEpochs, yuma3Enabled, liquidAlphaEnabled, alpha, steepness] =
      await Promise.all([
        r("commitRevealWeightsEnabled", bool),
        r("revealPeriodEpochs", num),
        r("yuma3On", bool),
        r("liquidAlphaOn", bool),
        r("alphaValues", alphaValues),
        r("alphaSigmoidSteepness", num),
      ]);
    const [commitRevealVersion, stakeThreshold] = await Promise.all([
      this.read("commitRevealWeightsVersion", num),
      this.read("stakeThreshold", big),
    ]);
    return {
      netuid,
      tempo,
      kappa,
      immunityPeriod,
      minAllowedWeights,
      maxWeightsLimit,
      weightsVersionKey,
      weightsRateLimit,
      activityCutoffFactorMilli,
      maxAllowedValidators,
      maxAllowedUids,
      bondsMovingAverage,
      bondsPenalty,
      commitRevealWeightsEnabled,
      revealPeriodEpochs,
      commitRevealVersion,
      yuma3Enabled,
      liquidAlphaEnabled,
      alphaLow: alpha[0],
      alphaHigh: alpha[1],
      alphaSigmoidSteepness: steepness,
      stakeThreshold,
    };
  }

  private hasStorage(item: string): boolean {
    const module = this.api.query.subtensorModule as unknown as Record<string, unknown> | undefined;
    return module?.[item] !== undefined;
  }

  /**
   * ActivityCutoffFactorMilli exists from spec 423 (dynamic tempo). An older runtime stores the absolute
   * ActivityCutoff in blocks: express it as the factor that gives the same cutoff at this tempo.
   */
  private async activityCutoffFactorMilli(netuid: number, tempo: number): Promise<number> {
    if (this.hasStorage("activityCutoffFactorMilli")) return this.read("activityCutoffFactorMilli", num, netuid);
    const blocks = await this.read("activityCutoff", num, netuid);
    return Math.ceil((blocks * 1000) / Math.max(1, tempo));
  }

  /**
   * Whether the runtime exports a runtime-API method. With V15 metadata the answer is in the metadata; with an
   * older node only the call's own error can say, so `undefined` (unknown) is returned.
   */
  private runtimeHas(api: string, method: string): boolean | undefined {
    const metadata = this.api.runtimeMetadata;
    if (metadata.version < 15) return undefined;
    const found = metadata.asV15.apis.find((a) => a.name.toString() === api);
    return found?.methods.some((m) => m.name.toString() === method) ?? false;
  }

  private async stateCall(method: string, args: Uint8Array): Promise<Uint8Array> {
    const result = await this.api.rpc.state.call(method, u8aToHex(args));
    return result.toU8a(true);
  }

  /**
   * NeuronInfo from the runtime API, BlockAtRegistration from storage. Both are read as raw JSON-RPC results and
   * decoded directly: @polkadot/types' generic codecs take seconds on a 4,096-uid subnet's megabytes.
   */
  async metagraph(netuid: number): Promise<Metagraph> {
    const [block, neurons, blockAtRegistration] = await Promise.all([
      this.currentBlock(),
      this.rawStateCall("NeuronInfoRuntimeApi_get_neurons", u16Le(netuid)),
      this.blockAtRegistration(netuid),
    ]);
    return metagraphFromNeurons(netuid, block, readNeuronInfoVec(neurons), blockAtRegistration);
  }

  private async rawStateCall(method: string, args: Uint8Array): Promise<Uint8Array> {
    const call = this.api.rpc.state.call as unknown as { raw(method: string, data: string): Promise<unknown> };
    const hex = hexString.parse(await call.raw(method, u8aToHex(args)));
    // Buffer's hex decoder: a large subnet's NeuronInfo is megabytes.
    return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
  }

  /** Every BlockAtRegistration(netuid, uid) entry: keys page by page, values in one query per page. */
  private async blockAtRegistration(netuid: number): Promise<number[]> {
    const state = this.api.rpc.state as unknown as {
      getKeysPaged: { raw(prefix: string, count: number, start?: string): Promise<unknown> };
      queryStorageAt: { raw(keys: string[]): Promise<unknown> };
    };
    const prefix = subtensorStorageKeys.blockAtRegistrationPrefix(netuid);
    const out: number[] = [];
    let start: string | undefined;
    for (;;) {
      const keys = z.array(hexString).parse(await state.getKeysPaged.raw(prefix, KEYS_PAGE, start));
      if (keys.length === 0) break;
      const [set] = changeSets.parse(await state.queryStorageAt.raw(keys));
      for (const [key, value] of set?.changes ?? []) {
        // Identity(u16 netuid) ++ Identity(u16 uid): the uid is the key's last two bytes; the value a u64 LE.
        const raw = hexToU8a(key);
        const uid = (raw[raw.length - 2] ?? 0) | ((raw[raw.length - 1] ?? 0) << 8);
        out[uid] = value === null ? 0 : Number(u64FromLe(hexToU8a(value)));
      }
      if (keys.length < KEYS_PAGE) break;
      start = keys[keys.length - 1];
    }
    return out;
  }

  async nextEpochStartBlock(netuid: number): Promise<number> {
    // Runtimes before the stateful epoch counter have no such API: only they use the legacy schedule below. Any
    // other failure (a dropped connection, a timeout) must fail the call: a timelocked commit aimed with the legacy
    // formula would target the wrong drand round.
    const has = this.runtimeHas("SubnetInfoRuntimeApi", "get_next_epoch_start_block");
    if (has !== false) {
      try {
        const bytes = await this.stateCall("SubnetInfoRuntimeApi_get_next_epoch_start_block", u16Le(netuid));
        const next = optionU64.parse(this.api.registry.createType("Option<u64>", bytes).toPrimitive());
        if (next !== null) return next;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (has === true || !/not found|does not exist|unknown/i.test(message)) throw error;
      }
    }
    const [block, tempo] = await Promise.all([this.currentBlock(), this.read("tempo", num, netuid)]);
    // Legacy: an epoch runs in block b when (b + netuid + 1) % (tempo + 1) == 0.
    const period = tempo + 1;
    const offset = (block + netuid + 1) % period;
    return block + (offset === 0 ? period : period - offset);
  }

  /**
   * The beacon the chain verifies pulses with (pallet_drand's BeaconConfig: quicknet on Bittensor, the devnet's own
   * key on the devnet), the chain's clock (Timestamp.Now) and its block time measured over recent blocks. Quicknet,
   * the wall clock and the SDK's 12 s are the fallbacks for a node that lacks an item.
   */
  async timelockBeacon(): Promise<TimelockBeacon> {
    const drand = this.api.query.drand as unknown as Record<string, Query | undefined> | undefined;
    const [last, config, clock] = await Promise.all([
      drand?.lastStoredRound?.(),
      drand?.beaconConfig?.(),
      this.chainClock(),
    ]);
    const lastStoredRound = last ? BigInt(num.parse(last.toPrimitive())) : 0n;
    const beacon = beaconConfig.safeParse(config?.toPrimitive());
    const fromChain = beacon.success && beacon.data.publicKey.length > 2 && beacon.data.period > 0;
    return {
      publicKeyG2: hexToU8a(fromChain ? beacon.data.publicKey : QUICKNET.publicKeyHex),
      genesisTime: fromChain ? beacon.data.genesisTime : QUICKNET.genesisTime,
      period: fromChain ? beacon.data.period : QUICKNET.period,
      lastStoredRound,
      ...clock,
    };
  }

  /** Timestamp.Now at the head and some blocks back: the chain's time and its mean block time. */
  private async chainClock(): Promise<{ nowSeconds: number; blockTimeSeconds: number }> {
    const fallback = { nowSeconds: Date.now() / 1000, blockTimeSeconds: 12 };
    const timestamp = this.api.query.timestamp as unknown as Record<string, Query | undefined> | undefined;
    if (!timestamp?.now) return fallback;
    // A failed read fails the call: a round aimed with the wrong clock would never open.
    const head = await this.currentBlock();
    const span = Math.min(head, CLOCK_SPAN_BLOCKS);
    const nowMs = num.parse((await timestamp.now()).toPrimitive());
    if (nowMs === 0) return fallback;
    if (span === 0) return { ...fallback, nowSeconds: nowMs / 1000 };
    const past = await this.api.at(await this.api.rpc.chain.getBlockHash(head - span));
    const pastNow = (past.query.timestamp as unknown as Record<string, Query | undefined> | undefined)?.now;
    if (!pastNow) return { ...fallback, nowSeconds: nowMs / 1000 };
    const pastMs = num.parse((await pastNow()).toPrimitive());
    const blockTimeSeconds = (nowMs - pastMs) / span / 1000;
    return { nowSeconds: nowMs / 1000, blockTimeSeconds: blockTimeSeconds > 0 ? blockTimeSeconds : 12 };
  }

  async epochIndex(netuid: number): Promise<number> {
    // Only a runtime without the stateful counter falls back to the legacy formula. A failed read on a runtime
    // that has it must fail the call: the two numberings differ, and the validator keys its one-submission-per-
    // epoch claim on this number.
    const module = this.api.query.subtensorModule as unknown as Record<string, unknown> | undefined;
    if (module?.subnetEpochIndex !== undefined) return this.read("subnetEpochIndex", num, netuid);
    const [block, tempo] = await Promise.all([this.currentBlock(), this.read("tempo", num, netuid)]);
    return Math.floor((block + netuid + 1) / (tempo + 1));
  }

  private tx(name: string, ...args: unknown[]): SubmittableExtrinsic<"promise"> {
    const module = this.api.tx.subtensorModule as unknown as
      | Record<string, ((...a: unknown[]) => SubmittableExtrinsic<"promise">) | undefined>
      | undefined;
    const build = module?.[name];
    if (!build) throw new Error(`the node has no SubtensorModule.${name} call`);
    return build(...args);
  }

  async setWeights(
    signer: Signer,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    versionKey: bigint,
  ): Promise<TxOutcome> {
    // The pool would refuse it (Custom error: 6); checking first saves a signature and says so by name.
    if (await this.tooSoonToSetWeights(signer.address, netuid)) return { ok: false, error: "SettingWeightsTooFast" };
    return this.submit(signer, () => this.tx("setWeights", netuid, uids, values, versionKey), "setWeights");
  }

  /** `check_rate_limit` as subtensor runs it: LastUpdate 0 always passes; an unregistered key is the chain's to name. */
  private async tooSoonToSetWeights(hotkey: string, netuid: number): Promise<boolean> {
    const [uid, block, limit, commitReveal] = await Promise.all([
      this.read("uids", z.union([z.null(), num]), netuid, hotkey),
      this.currentBlock(),
      this.read("weightsSetRateLimit", num, netuid),
      this.read("commitRevealWeightsEnabled", bool, netuid),
    ]);
    if (uid === null || commitReveal) return false;
    const lastUpdate = await this.read("lastUpdate", z.array(num), netuid);
    const last = lastUpdate[uid] ?? 0;
    return last !== 0 && block - last < limit;
  }

  commitWeights(signer: Signer, netuid: number, commitHash: Uint8Array) {
    return this.submit(signer, () => this.tx("commitWeights", netuid, commitHash), "commit");
  }

  revealWeights(
    signer: Signer,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    salt: readonly number[],
    versionKey: bigint,
  ) {
    return this.submit(signer, () => this.tx("revealWeights", netuid, uids, values, salt, versionKey), "reveal");
  }

  commitTimelockedWeights(
    signer: Signer,
    netuid: number,
    commit: Uint8Array,
    revealRound: bigint,
    commitRevealVersion: number,
  ) {
    return this.submit(
      signer,
      () => this.tx("commitTimelockedWeights", netuid, u8aToHex(commit), revealRound, commitRevealVersion),
      "commit",
    );
  }

  async register(coldkey: Signer, hotkey: Signer, netuid: number): Promise<TxOutcome> {
    const outcome = await this.submit(coldkey, () => this.tx("burnedRegister", netuid, hotkey.address));
    if (!outcome.ok) return outcome;
    const uid = await this.read("uids", z.union([z.null(), num]), netuid, hotkey.address);
    return { ...outcome, events: [`NeuronRegistered:${uid ?? -1}`, ...outcome.events] };
  }

  /** Commitments.set_commitment with one `Data::Raw(n)` field, signed by the hotkey. */
  setCommitment(signer: Signer, netuid: number, data: Uint8Array): Promise<TxOutcome> {
    if (data.length > MAX_COMMITMENT_BYTES)
      return Promise.resolve({ ok: false, error: "BadEncoding: a Data::Raw field holds at most 128 bytes" });
    return this.submit(signer, () => {
      const tx = (this.api.tx.commitments as unknown as Record<string, (...a: unknown[]) => unknown> | undefined)
        ?.setCommitment;
      if (!tx) throw new Error("the node has no Commitments.set_commitment call");
      return tx(netuid, { fields: [{ [`Raw${data.length}`]: u8aToHex(data) }] }) as SubmittableExtrinsic<"promise">;
    });
  }

  async registrationCost(netuid: number): Promise<bigint> {
    const module = this.api.query.subtensorModule as unknown as Record<string, Query | undefined> | undefined;
    const read = module?.burn;
    if (!read) throw new Error("the node has no SubtensorModule.Burn storage");
    return BigInt(String((await read(netuid)).toPrimitive()));
  }

  async commitment(netuid: number, hotkey: string): Promise<{ block: number; data: Uint8Array } | null> {
    const module = this.api.query.commitments as unknown as Record<string, Query | undefined> | undefined;
    const read = module?.commitmentOf;
    if (!read) throw new Error("the node has no Commitments.CommitmentOf storage");
    const value = registration.parse((await read(netuid, hotkey)).toPrimitive());
    if (value === null) return null;
    // The first raw field (the market commits one: a model digest); other Data kinds are not the market's.
    for (const field of value.info.fields) {
      const [kind, raw] = Object.entries(field)[0] ?? [];
      const data = kind === undefined ? null : rawFieldBytes(kind, raw);
      if (data !== null) return { block: value.block, data };
    }
    return { block: value.block, data: new Uint8Array() };
  }

  async events(fromBlock: number): Promise<ChainEvent[]> {
    const head = await this.currentBlock();
    // Two mainnet epochs (2 x 361 blocks) plus margin: a validator looks for its reveal an epoch after its commit.
    const start = Math.max(fromBlock, head - (this.options.maxEventBlocks ?? 800) + 1, 0);
    const out: ChainEvent[] = [];
    for (let block = start; block <= head; block++) {
      const records = await this.eventsAt(await this.api.rpc.chain.getBlockHash(block));
      for (const record of records) {
        if (record.event.section !== "subtensorModule") continue;
        const args = record.event.data.toPrimitive();
        // TimelockedWeightsRevealed(netuid_index, who) and the other weight events name the hotkey as an
        // AccountId argument: expose it as `who` (ss58) so callers match events without knowing each layout.
        const who = record.event.data.find((d) => d.toRawType() === "AccountId32" || d.toRawType() === "AccountId");
        out.push({
          block,
          name: record.event.method,
          data: { args, ...(who ? { who: who.toString() } : {}) },
        });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.api.disconnect();
  }

  private async eventsAt(blockHash: Uint8Array | string): Promise<EventRecord[]> {
    const at = await this.api.at(blockHash);
    const system = at.query.system as unknown as Record<string, (() => Promise<unknown>) | undefined> | undefined;
    const read = system?.events;
    if (!read) throw new Error("the node has no System.Events storage");
    return (await read()) as EventRecord[];
  }

  // ---- submission

  /** One submission at a time per account, so nonces are never raced. */
  private serialise<T>(address: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(address) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.locks.set(
      address,
      next.catch(() => undefined),
    );
    return next;
  }

  /**
   * Signs and follows one call. A pool refusal comes back under subtensor's name; one refused only for its nonce
   * (another writer moved it) never ran, so it is signed again once with a fresh nonce. Nothing else is resent.
   */
  private async submit(
    signer: Signer,
    build: () => SubmittableExtrinsic<"promise">,
    kind: CallKind = "other",
  ): Promise<TxOutcome> {
    const first = await this.submitOnce(signer, build, kind);
    if (first.ok || !("retryable" in first) || !first.retryable) return strip(first);
    return strip(await this.submitOnce(signer, build, kind));
  }

  private submitOnce(
    signer: Signer,
    build: () => SubmittableExtrinsic<"promise">,
    kind: CallKind,
  ): Promise<TxOutcome & { retryable?: boolean }> {
    return this.serialise(signer.address, async () => {
      let tx: SubmittableExtrinsic<"promise">;
      try {
        tx = build();
      } catch (error) {
        return { ok: false, error: `BadEncoding: ${error instanceof Error ? error.message : String(error)}` };
      }
      const nonce = (await this.api.rpc.system.accountNextIndex(signer.address)).toNumber();
      const startBlock = await this.currentBlock();
      const timeoutMs = this.options.inclusionTimeoutMs ?? 60_000;
      let txHash: string | undefined;
      try {
        const result = await new Promise<ISubmittableResult>((resolve, reject) => {
          let unsubscribe: (() => void) | undefined;
          let done = false;
          const timer = setTimeout(() => {
            done = true;
            unsubscribe?.();
            reject(new Error("inclusion timeout"));
          }, timeoutMs);
          const settle = (res: ISubmittableResult) => {
            done = true;
            clearTimeout(timer);
            unsubscribe?.();
            resolve(res);
          };
          tx.signAndSend(signer.address, { signer: polkadotSigner(this.api.registry, signer), nonce }, (res) => {
            txHash = res.txHash.toHex();
            if (res.status.isInBlock || res.status.isFinalized || res.isError) settle(res);
          })
            .then((u) => {
              unsubscribe = u;
              // An instant-seal node can report InBlock before this resolves: drop the watch now, not at disconnect.
              if (done) u();
            })
            .catch((error: unknown) => {
              clearTimeout(timer);
              reject(error);
            });
        });
        return await this.outcomeOf(result);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // 1010-1014: the pool refused the transaction outright (bad proof, stale nonce, a guard's custom error).
        const refusal = poolRefusal(message, kind);
        if (refusal)
          return { ok: false, error: refusal.name, retryable: refusal.retryable, ...(txHash ? { txHash } : {}) };
        return this.reconcile(signer.address, nonce, startBlock, txHash);
      }
    });
  }

  private dispatchErrorName(error: DispatchError): string {
    if (error.isModule) {
      try {
        return this.api.registry.findMetaError(error.asModule).name;
      } catch {
        return "UnknownModuleError";
      }
    }
    return error.type;
  }

  private async outcomeOf(res: ISubmittableResult): Promise<TxOutcome> {
    const txHash = res.txHash.toHex();
    if (!res.status.isInBlock && !res.status.isFinalized) return { ok: false, error: res.status.type, txHash };
    const blockHash = res.status.isInBlock ? res.status.asInBlock : res.status.asFinalized;
    const block = (await this.api.rpc.chain.getHeader(blockHash)).number.toNumber();
    if (res.dispatchError) return { ok: false, error: this.dispatchErrorName(res.dispatchError), block, txHash };
    const events = res.events.filter((r) => r.event.section === "subtensorModule").map((r) => r.event.method);
    return { ok: true, block, txHash, events };
  }

  /**
   * After a timeout or a lost connection: if the nonce did not move the transaction is not in a block (it may
   * still be in the pool); if it moved, find the transaction in recent blocks and report what happened to it.
   */
  private async reconcile(address: string, nonce: number, startBlock: number, txHash?: string): Promise<TxOutcome> {
    const now = (await this.api.rpc.system.accountNextIndex(address)).toNumber();
    if (now <= nonce || txHash === undefined)
      return { ok: false, error: "NotIncludedYet", ...(txHash ? { txHash } : {}) };
    const head = await this.currentBlock();
    const from = Math.max(startBlock, head - (this.options.searchBlocks ?? 20));
    for (let block = from; block <= head; block++) {
      const blockHash = await this.api.rpc.chain.getBlockHash(block);
      const signed = await this.api.rpc.chain.getBlock(blockHash);
      const index = signed.block.extrinsics.findIndex((x) => x.hash.toHex() === txHash);
      if (index < 0) continue;
      const records = await this.eventsAt(blockHash);
      const mine = records.filter((r) => r.phase.isApplyExtrinsic && r.phase.asApplyExtrinsic.toNumber() === index);
      const failed = mine.find((r) => r.event.section === "system" && r.event.method === "ExtrinsicFailed");
      const dispatchError = failed?.event.data[0] as DispatchError | undefined;
      if (failed) {
        const error = dispatchError ? this.dispatchErrorName(dispatchError) : "ExtrinsicFailed";
        return { ok: false, error, block, txHash };
      }
      const events = mine.filter((r) => r.event.section === "subtensorModule").map((r) => r.event.method);
      return { ok: true, block, txHash, events };
    }
    return { ok: false, error: "NonceUsedElsewhere", txHash };
  }
}
