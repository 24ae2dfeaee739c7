/**
 * A direct SCALE reader and writer for `Vec<NeuronInfo>` / `Vec<NeuronInfoLite>` (layouts in metagraph-decode.ts).
 * @polkadot/types' generic codecs take ~9 s each way for a 4,096-uid subnet with 64 full weight rows (3.6 MB); these
 * take tens of milliseconds. The reader is strict: every length is bounded by the bytes left, and the input must be
 * consumed exactly. Tests check both against @polkadot/types on the same values.
 */
import { u8aToHex } from "@polkadot/util";
import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import type { Neuron, NeuronLite } from "./metagraph-decode.ts";

const AXON_BYTES = 8 + 4 + 16 + 2 + 1 + 1 + 1 + 1;
const PROMETHEUS_BYTES = 8 + 4 + 16 + 2 + 1;
const SS58_PREFIX = 42;

class Reader {
  offset = 0;
  private readonly ss58 = new Map<string, string>();
  constructor(private readonly bytes: Uint8Array) {}

  private need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new RangeError("NeuronInfo bytes end early");
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.offset++] as number;
  }

  bool(): boolean {
    const b = this.byte();
    if (b > 1) throw new RangeError(`invalid bool ${b}`);
    return b === 1;
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  account(): string {
    this.need(32);
    const raw = this.bytes.subarray(this.offset, this.offset + 32);
    this.offset += 32;
    const key = u8aToHex(raw);
    let address = this.ss58.get(key);
    if (address === undefined) {
      address = encodeAddress(raw, SS58_PREFIX);
      this.ss58.set(key, address);
    }
    return address;
  }

  compact(): bigint {
    const first = this.byte();
    switch (first & 3) {
      case 0:
        return BigInt(first >> 2);
      case 1:
        return BigInt((first >> 2) | (this.byte() << 6));
      case 2: {
        this.need(3);
        const b = this.bytes;
        const o = this.offset;
        this.offset += 3;
        return BigInt(
          ((first >>> 2) | ((b[o] as number) << 6) | ((b[o + 1] as number) << 14) | ((b[o + 2] as number) << 22)) >>> 0,
        );
      }
      default: {
        const length = (first >> 2) + 4;
        if (length > 8) throw new RangeError("compact wider than u64");
        this.need(length);
        let v = 0n;
        for (let i = length - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[this.offset + i] as number);
        this.offset += length;
        return v;
      }
    }
  }

  /** A Compact<u16>, without a BigInt (weight rows hold most of a large subnet's compacts). */
  u16(): number {
    const first = this.byte();
    let v: number;
    switch (first & 3) {
      case 0:
        v = first >> 2;
        break;
      case 1:
        v = (first >> 2) | (this.byte() << 6);
        break;
      case 2: {
        this.need(3);
        const b = this.bytes;
        const o = this.offset;
        this.offset += 3;
        v =
          ((first >>> 2) | ((b[o] as number) << 6) | ((b[o + 1] as number) << 14) | ((b[o + 2] as number) << 22)) >>> 0;
        break;
      }
      default:
        throw new RangeError("compact too wide for a u16");
    }
    if (v > 65535) throw new RangeError(`compact ${v} is not a u16`);
    return v;
  }

  /** A Vec length, bounded by the bytes left at `minItemBytes` each (so a hostile length cannot allocate). */
  length(minItemBytes: number): number {
    const n = this.compact();
    if (n * BigInt(minItemBytes) > BigInt(this.bytes.length - this.offset))
      throw new RangeError("Vec longer than its bytes");
    return Number(n);
  }

  /** `Vec<(Compact<u16>, Compact<u16>)>`, inlined: on a large subnet these are nearly all of the bytes. */
  pairs(): [number, number][] {
    const n = this.length(2);
    const out: [number, number][] = new Array(n);
    const b = this.bytes;
    const end = b.length;
    let o = this.offset;
    const next = (): number => {
      if (o >= end) throw new RangeError("NeuronInfo bytes end early");
      const first = b[o] as number;
      const mode = first & 3;
      if (mode === 0) {
        o += 1;
        return first >> 2;
      }
      if (mode === 1) {
        if (o + 2 > end) throw new RangeError("NeuronInfo bytes end early");
        const v = (first >> 2) | ((b[o + 1] as number) << 6);
        o += 2;
        return v;
      }
      if (mode === 2) {
        if (o + 4 > end) throw new RangeError("NeuronInfo bytes end early");
        const v =
          ((first >>> 2) |
            ((b[o + 1] as number) << 6) |
            ((b[o + 2] as number) << 14) |
            ((b[o + 3] as number) << 22)) >>>
          0;
        o += 4;
        if (v > 65535) throw new RangeError(`compact ${v} is not a u16`);
        return v;
      }
      throw new RangeError("compact too wide for a u16");
    };
    for (let i = 0; i < n; i++) {
      const j = next();
      out[i] = [j, next()];
    }
    this.offset = o;
    return out;
  }

  done(): boolean {
    return this.offset === this.bytes.length;
  }
}

function readNeuron(r: Reader, full: boolean): Neuron | NeuronLite {
  const hotkey = r.account();
  const coldkey = r.account();
  const uid = r.u16();
  const netuid = r.u16();
  const active = r.bool();
  r.skip(AXON_BYTES + PROMETHEUS_BYTES);
  const stakeCount = r.length(33);
  const stake: [string, bigint][] = [];
  for (let i = 0; i < stakeCount; i++) stake.push([r.account(), r.compact()]);
  const rank = r.u16();
  void rank;
  const emission = r.compact();
  const incentive = r.u16();
  const consensus = r.u16();
  const trust = r.u16();
  const validator_trust = r.u16();
  const dividends = r.u16();
  const last_update = r.compact();
  const validator_permit = r.bool();
  const lite = {
    hotkey,
    coldkey,
    uid,
    netuid,
    active,
    stake,
    emission,
    incentive,
    consensus,
    trust,
    validator_trust,
    dividends,
    last_update,
    validator_permit,
  };
  if (!full) return { ...lite, pruning_score: r.u16() };
  const weights = r.pairs();
  const bonds = r.pairs();
  return { ...lite, weights, bonds, pruning_score: r.u16() };
}

function readVec<T>(bytes: Uint8Array, full: boolean): T[] {
  const r = new Reader(bytes);
  const n = r.length(64 + 3 + AXON_BYTES + PROMETHEUS_BYTES);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(readNeuron(r, full) as T);
  if (!r.done()) throw new Error("bytes are not exactly one Vec of neurons");
  return out;
}

/** `Vec<NeuronInfo>` as `get_neurons` returns it. */
export function readNeuronInfoVec(bytes: Uint8Array): Neuron[] {
  return readVec<Neuron>(bytes, true);
}

/** `Vec<NeuronInfoLite>` as `get_neurons_lite` returns it. */
export function readNeuronInfoLiteVec(bytes: Uint8Array): NeuronLite[] {
  return readVec<NeuronLite>(bytes, false);
}

// ---- writer (the devnet's side)

class Writer {
  private buf = new Uint8Array(1 << 16);
  private at = 0;
  private readonly keys = new Map<string, Uint8Array>();

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  byte(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  zeros(n: number): void {
    this.room(n);
    this.buf.fill(0, this.at, this.at + n);
    this.at += n;
  }

  account(address: string): void {
    let raw = this.keys.get(address);
    if (!raw) {
      raw = decodeAddress(address);
      this.keys.set(address, raw);
    }
    this.bytes(raw);
  }

  compact(value: number | bigint): void {
    // Numbers below 2^30 (every u16, most blocks and amounts) without a BigInt.
    if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 0x40000000) {
      if (value < 0x40) {
        this.byte(value << 2);
        return;
      }
      if (value < 0x4000) {
        this.byte(((value << 2) | 1) & 0xff);
        this.byte(value >> 6);
        return;
      }
      const x = ((value << 2) | 2) >>> 0;
      this.room(4);
      for (let i = 0; i < 4; i++) this.buf[this.at++] = (x >>> (8 * i)) & 0xff;
      return;
    }
    const v = BigInt(value);
    if (v < 0n) throw new RangeError("a compact is unsigned");
    if (v < 1n << 6n) {
      this.byte(Number(v) << 2);
      return;
    }
    if (v < 1n << 14n) {
      const x = (Number(v) << 2) | 1;
      this.byte(x & 0xff);
      this.byte(x >> 8);
      return;
    }
    if (v < 1n << 30n) {
      const x = ((Number(v) << 2) | 2) >>> 0;
      for (let i = 0; i < 4; i++) this.byte((x >>> (8 * i)) & 0xff);
      return;
    }
    const le: number[] = [];
    for (let x = v; x > 0n; x >>= 8n) le.push(Number(x & 0xffn));
    this.byte(((le.length - 4) << 2) | 3);
    for (const b of le) this.byte(b);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

export interface NeuronInput {
  readonly hotkey: string;
  readonly coldkey: string;
  readonly uid: number;
  readonly netuid: number;
  readonly active: boolean;
  readonly stake: readonly (readonly [string, bigint])[];
  readonly emission: bigint;
  readonly incentive: number;
  readonly consensus: number;
  readonly validatorTrust: number;
  readonly dividends: number;
  readonly lastUpdate: number;
  readonly validatorPermit: boolean;
  readonly weights: readonly (readonly [number, number])[];
  readonly bonds: readonly (readonly [number, number])[];
}

/** SCALE of `Vec<NeuronInfo>` (full) or `Vec<NeuronInfoLite>`; axon and prometheus infos are zero, rank and trust 0. */
export function writeNeuronInfoVec(neurons: readonly NeuronInput[], full: boolean): Uint8Array {
  const w = new Writer();
  w.compact(neurons.length);
  for (const n of neurons) {
    w.account(n.hotkey);
    w.account(n.coldkey);
    w.compact(n.uid);
    w.compact(n.netuid);
    w.byte(n.active ? 1 : 0);
    w.zeros(AXON_BYTES + PROMETHEUS_BYTES);
    w.compact(n.stake.length);
    for (const [cold, amount] of n.stake) {
      w.account(cold);
      w.compact(amount);
    }
    w.compact(0); // rank: no longer computed
    w.compact(n.emission);
    w.compact(n.incentive);
    w.compact(n.consensus);
    w.compact(0); // trust: no longer computed
    w.compact(n.validatorTrust);
    w.compact(n.dividends);
    w.compact(n.lastUpdate);
    w.byte(n.validatorPermit ? 1 : 0);
    if (full)
      for (const rows of [n.weights, n.bonds]) {
        w.compact(rows.length);
        for (const [j, v] of rows) {
          w.compact(j);
          w.compact(v);
        }
      }
    w.compact(65535); // pruning_score: no longer computed
  }
  return w.done();
}
