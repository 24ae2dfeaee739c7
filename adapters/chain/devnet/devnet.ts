/**
 * The embedded chain: state, block production (timer or manual), and the extrinsics as plain method calls
 * taking the signer's address. Signature checks and the Chain port live in chain.ts (DevnetChain).
 */
import { u8aToHex } from "@polkadot/util";
import type { ChainEvent, Metagraph, SubnetHyperparams } from "../../../core/ports/chain.ts";
import {
  type AdminOrigin,
  addStake,
  type CreateSubnetOptions,
  createSubnet,
  type HyperparamsPatch,
  setHyperparams,
  setImmuneOwnerUidsLimit,
  setMinNonImmuneUids,
  triggerEpoch,
} from "./admin.ts";
import {
  currentEpochWithLookahead,
  type DevnetContext,
  type Dispatch,
  fail,
  nextEpochStartBlock,
  subnetOf,
} from "./context.ts";
import { type EpochFn, runCoinbase, sortedSubnets } from "./epoch-runner.ts";
import { parseState, serializeState } from "./persistence.ts";
import { commitWeights, type RevealArgs, revealWeights } from "./rules/commit-reveal.ts";
import { commitmentOf, setCommitment } from "./rules/commitments.ts";
import { burnedRegister, type RegisterResult } from "./rules/registration.ts";
import {
  commitTimelockedWeights,
  type PulseSource,
  revealTimelockedCommits,
  roundAt,
  type TimelockedCommitArgs,
  type TimelockOps,
} from "./rules/timelock.ts";
import { areU16, setWeights, type WeightsArgs } from "./rules/weights.ts";
import type { DevnetState } from "./state.ts";

export interface DevnetOptions {
  /** Yuma Consensus for one epoch (core/consensus `runEpoch`). */
  readonly epoch: EpochFn;
  readonly timelock: TimelockOps;
  /** Chain time per block; also the timer period once `start()` is called. Default 12 000 (mainnet). */
  readonly blockTimeMs?: number;
  /** Alpha minted per block per subnet, before the owner cut. Default 1e9 rao. */
  readonly emissionPerBlock?: bigint;
  /** Unix ms of block 0; default now. */
  readonly genesisTimeMs?: number;
  /** Seed for the beacon key (>= 16 bytes); default random. */
  readonly beaconSeed?: Uint8Array;
  /** Beacon period in seconds (quicknet: 3). */
  readonly beaconPeriod?: number;
  /** Resume from a snapshot instead of starting at block 0. */
  readonly state?: DevnetState;
}

export interface BeaconInfo {
  readonly publicKeyG2: Uint8Array;
  readonly genesisTime: number;
  readonly period: number;
  readonly lastStoredRound: bigint;
}

const PULSE_CACHE = 256;

export class Devnet implements DevnetContext {
  readonly state: DevnetState;
  private readonly epochFn: EpochFn;
  private readonly timelock: TimelockOps;
  private readonly pulses = new Map<bigint, Uint8Array>();
  private readonly listeners = new Set<(block: number) => void>();
  private readonly builders = new Set<(block: number) => void>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: DevnetOptions) {
    this.epochFn = options.epoch;
    this.timelock = options.timelock;
    this.state = options.state ?? this.genesis(options);
  }

  private genesis(options: DevnetOptions): DevnetState {
    const genesisTimeMs = options.genesisTimeMs ?? Date.now();
    const key = this.timelock.generateBeaconKey(options.beaconSeed);
    return {
      block: 0,
      genesisTimeMs,
      blockTimeMs: options.blockTimeMs ?? 12_000,
      emissionPerBlock: options.emissionPerBlock ?? 1_000_000_000n,
      stakeThreshold: 0n,
      commitRevealWeightsVersion: 4,
      subnets: {},
      hotkeyOwner: {},
      earned: {},
      nonces: {},
      beacon: {
        secretKeyHex: u8aToHex(key.secretKey),
        publicKeyHex: u8aToHex(key.publicKeyG2),
        genesisTime: Math.floor(genesisTimeMs / 1000),
        period: options.beaconPeriod ?? 3,
      },
      events: [],
    };
  }

  static restore(json: string, options: Omit<DevnetOptions, "state">): Devnet {
    return new Devnet({ ...options, state: parseState(json) });
  }

  snapshot(): string {
    return serializeState(this.state);
  }

  get block(): number {
    return this.state.block;
  }

  /** Chain time (unix ms) of the current block. */
  chainTimeMs(block = this.state.block): number {
    return this.state.genesisTimeMs + block * this.state.blockTimeMs;
  }

  // ---- blocks

  /** One block: `block_step` order is timelocked reveals, then the coinbase (mint + due epochs). */
  produceBlock(): number {
    this.state.block += 1;
    const beacon = this.beacon();
    for (const subnet of sortedSubnets(this)) revealTimelockedCommits(this, this.timelock, beacon, subnet);
    runCoinbase(this, this.epochFn);
    // Extrinsics go after on_initialize (reveals, coinbase), as in a Substrate block; listeners see the result.
    for (const build of this.builders) build(this.state.block);
    for (const listener of this.listeners) listener(this.state.block);
    return this.state.block;
  }

  advance(blocks: number): number {
    for (let i = 0; i < blocks; i++) this.produceBlock();
    return this.state.block;
  }

  /**
   * Produce a block every `blockTimeMs` of wall time until `stop()`. A block that throws is reported and the timer
   * goes on: a bug in one subnet's epoch must not take the whole market process down with it.
   */
  start(
    onError: (error: unknown) => void = (error) => process.stderr.write(`devnet block failed: ${String(error)}\n`),
  ): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.produceBlock();
      } catch (error) {
        onError(error);
      }
    }, this.state.blockTimeMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Called inside each new block after its on_initialize work: where a transaction pool applies its extrinsics. */
  onBuild(builder: (block: number) => void): () => void {
    this.builders.add(builder);
    return () => this.builders.delete(builder);
  }

  onBlock(listener: (block: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- beacon

  beacon(): PulseSource {
    return {
      lastStoredRound: () => this.lastStoredRound(),
      pulse: (round) => this.pulse(round),
    };
  }

  lastStoredRound(): bigint {
    const { genesisTime, period } = this.state.beacon;
    return roundAt(this.chainTimeMs(), genesisTime, period);
  }

  /** The stored pulse (round signature) once the round is out; signatures are deterministic, so they are cached. */
  pulse(round: bigint): Uint8Array | null {
    if (round < 1n || round > this.lastStoredRound()) return null;
    const cached = this.pulses.get(round);
    if (cached) return cached;
    const signature = this.timelock.signRound(hexToBytes(this.state.beacon.secretKeyHex), round);
    if (this.pulses.size >= PULSE_CACHE) {
      const oldest = this.pulses.keys().next();
      if (!oldest.done) this.pulses.delete(oldest.value);
    }
    this.pulses.set(round, signature);
    return signature;
  }

  beaconInfo(): BeaconInfo {
    const { publicKeyHex, genesisTime, period } = this.state.beacon;
    return { publicKeyG2: hexToBytes(publicKeyHex), genesisTime, period, lastStoredRound: this.lastStoredRound() };
  }

  /** The round a client should target to open at `block` (first round out at that block's chain time). */
  roundAtBlock(block: number): bigint {
    const { genesisTime, period } = this.state.beacon;
    return roundAt(this.chainTimeMs(block), genesisTime, period);
  }

  // ---- admin

  createSubnet(options: CreateSubnetOptions): number {
    return createSubnet(this, options);
  }

  setHyperparams(netuid: number, patch: HyperparamsPatch, origin: AdminOrigin = { root: true }): Dispatch {
    return setHyperparams(this, origin, netuid, patch);
  }

  /** MinNonImmuneUids: pruning keeps more than this many non-immune uids, else it prunes an immune one. */
  setMinNonImmuneUids(netuid: number, min: number, origin: AdminOrigin = { root: true }): Dispatch {
    return setMinNonImmuneUids(this, origin, netuid, min);
  }

  /** ImmuneOwnerUidsLimit: how many of the owner coldkey's hotkeys are never pruned (1..=10). */
  setImmuneOwnerUidsLimit(netuid: number, limit: number, origin: AdminOrigin = { root: true }): Dispatch {
    return setImmuneOwnerUidsLimit(this, origin, netuid, limit);
  }

  addStake(hotkey: string, rao: bigint, netuid = 1): Dispatch {
    return addStake(this, hotkey, rao, netuid);
  }

  triggerEpoch(netuid: number): Dispatch {
    return triggerEpoch(this, netuid);
  }

  // ---- extrinsics (already authenticated: `who` is the signer's address)

  register(coldkey: string, hotkey: string, netuid: number): RegisterResult {
    return burnedRegister(this, coldkey, hotkey, netuid);
  }

  setWeights(args: WeightsArgs): Dispatch {
    if (!areU16(args.uids) || !areU16(args.values) || !areU16([args.netuid])) return fail("BadEncoding");
    return setWeights(this, args);
  }

  commitWeights(who: string, netuid: number, hash: Uint8Array): Dispatch {
    return commitWeights(this, who, netuid, hash);
  }

  revealWeights(args: RevealArgs): Dispatch {
    if (!areU16(args.uids) || !areU16(args.values) || !areU16(args.salt)) return fail("BadEncoding");
    return revealWeights(this, args);
  }

  commitTimelockedWeights(args: TimelockedCommitArgs): Dispatch {
    return commitTimelockedWeights(this, this.beacon(), args);
  }

  setCommitment(who: string, netuid: number, data: Uint8Array): Dispatch {
    return setCommitment(this, who, netuid, data);
  }

  commitment(netuid: number, hotkey: string): { block: number; data: Uint8Array } | null {
    return commitmentOf(this, netuid, hotkey);
  }

  // ---- reads

  hyperparams(netuid: number): SubnetHyperparams | null {
    const subnet = subnetOf(this, netuid);
    if (!subnet) return null;
    return {
      ...subnet.hyperparams,
      stakeThreshold: this.state.stakeThreshold,
      commitRevealVersion: this.state.commitRevealWeightsVersion,
    };
  }

  metagraph(netuid: number): Metagraph | null {
    const subnet = subnetOf(this, netuid);
    if (!subnet) return null;
    const ns = subnet.neurons;
    return {
      netuid,
      block: this.state.block,
      n: ns.length,
      hotkeys: ns.map((n) => n.hotkey),
      coldkeys: ns.map((n) => n.coldkey),
      stake: ns.map((n) => subnet.stake[n.hotkey] ?? 0n),
      active: ns.map((n) => n.active),
      validatorPermit: ns.map((n) => n.validatorPermit),
      lastUpdate: ns.map((n) => n.lastUpdate),
      blockAtRegistration: ns.map((n) => n.blockAtRegistration),
      incentive: ns.map((n) => n.incentive),
      consensus: ns.map((n) => n.consensus),
      dividends: ns.map((n) => n.dividends),
      validatorTrust: ns.map((n) => n.validatorTrust),
      emission: ns.map((n) => n.emission),
      weights: ns.map((n) => n.weights.map(([j, w]) => [j, w] as const)),
    };
  }

  /** Bonds rows as stored (not part of the port's Metagraph). */
  bonds(netuid: number): [number, number][][] {
    return subnetOf(this, netuid)?.neurons.map((n) => n.bonds.map(([j, b]): [number, number] => [j, b])) ?? [];
  }

  epochIndex(netuid: number): number | null {
    return subnetOf(this, netuid)?.epochIndex ?? null;
  }

  /** SubnetEpochIndex as a transaction in the current block would see it. */
  currentEpoch(netuid: number): number | null {
    const subnet = subnetOf(this, netuid);
    return subnet ? currentEpochWithLookahead(subnet, this.state.block) : null;
  }

  nextEpochStartBlock(netuid: number): number | null {
    const subnet = subnetOf(this, netuid);
    return subnet ? nextEpochStartBlock(subnet) : null;
  }

  events(fromBlock: number): ChainEvent[] {
    return this.state.events.filter((e) => e.block >= fromBlock);
  }

  /** Total emission ever paid to a hotkey (rao, all subnets). */
  earned(hotkey: string): bigint {
    return this.state.earned[hotkey] ?? 0n;
  }

  stakeOf(hotkey: string, netuid = 1): bigint {
    return subnetOf(this, netuid)?.stake[hotkey] ?? 0n;
  }

  /** Next nonce of an account; DevnetChain bumps it per accepted or rejected submission. */
  nextNonce(address: string): number {
    const nonce = this.state.nonces[address] ?? 0;
    this.state.nonces[address] = nonce + 1;
    return nonce;
  }
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}
