/**
 * Block headers, bodies and per-block System.Events for the blocks the server has seen. Every block is final at
 * once (one author, no forks). Roots are digests, not tries: nothing the market does checks a proof.
 */
import type { TypeRegistry } from "@polkadot/types";
import type { Header } from "@polkadot/types/interfaces";
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsHex, blake2AsU8a } from "@polkadot/util-crypto";

export interface BlockRecord {
  readonly number: number;
  readonly hash: string;
  readonly header: Header;
  readonly extrinsics: readonly string[];
  /** `Vec<EventRecord>` of the block, 0x-hex. */
  readonly events: string;
}

/** As many blocks as mainnet's BlockHashCount: older ones answer null, as on a pruned node. */
const KEEP = 4096;
const ZERO = `0x${"00".repeat(32)}`;
const EMPTY_EVENTS = "0x00";

export class BlockLog {
  private readonly byNumber = new Map<number, BlockRecord>();
  private readonly byHash = new Map<string, BlockRecord>();
  private headNumber: number;

  /** `seed` makes the genesis hash stable for one devnet (its genesis time and beacon key). */
  constructor(
    private readonly registry: TypeRegistry,
    seed: string,
    head: number,
  ) {
    const genesis = this.make(0, ZERO, [], EMPTY_EVENTS, blake2AsHex(`genesis:${seed}`, 256));
    this.store(genesis);
    this.headNumber = 0;
    // Blocks before this server started get empty bodies; only the last KEEP of them are kept, the first of
    // those with a parent hash of its own (as on a pruned node).
    const first = Math.max(1, head - KEEP + 1);
    let parent = first === 1 ? genesis.hash : blake2AsHex(`parent:${seed}:${first}`, 256);
    for (let n = first; n <= head; n++) {
      const record = this.make(n, parent, [], EMPTY_EVENTS);
      this.store(record);
      parent = record.hash;
    }
    this.headNumber = head;
  }

  get head(): BlockRecord {
    const record = this.byNumber.get(this.headNumber);
    if (!record) throw new Error("no head block");
    return record;
  }

  add(number: number, extrinsics: readonly string[], events: string): BlockRecord {
    const parent = this.byNumber.get(number - 1)?.hash ?? blake2AsHex(`parent:${number}`, 256);
    const record = this.make(number, parent, extrinsics, events);
    this.store(record);
    this.headNumber = number;
    const old = this.byNumber.get(number - KEEP);
    if (old && old.number > 0) {
      this.byNumber.delete(old.number);
      this.byHash.delete(old.hash);
    }
    return record;
  }

  at(number: number): BlockRecord | undefined {
    return this.byNumber.get(number);
  }

  find(hash: string): BlockRecord | undefined {
    return this.byHash.get(hash.toLowerCase());
  }

  private make(
    number: number,
    parentHash: string,
    extrinsics: readonly string[],
    events: string,
    stateRoot?: string,
  ): BlockRecord {
    const extrinsicsRoot = u8aToHex(blake2AsU8a(u8aConcat(...extrinsics.map((x) => blake2AsU8a(x, 256))), 256));
    const header = this.registry.createType("Header", {
      parentHash,
      number,
      stateRoot: stateRoot ?? blake2AsHex(`${parentHash}:${number}:${events}`, 256),
      extrinsicsRoot,
      digest: { logs: [] },
    }) as Header;
    return { number, hash: header.hash.toHex(), header, extrinsics, events };
  }

  private store(record: BlockRecord): void {
    this.byNumber.set(record.number, record);
    this.byHash.set(record.hash, record);
  }
}

/** A header as a node's JSON-RPC writes it (number as hex). */
export function headerJson(record: BlockRecord): Record<string, unknown> {
  const h = record.header;
  return {
    parentHash: h.parentHash.toHex(),
    number: `0x${record.number.toString(16)}`,
    stateRoot: h.stateRoot.toHex(),
    extrinsicsRoot: h.extrinsicsRoot.toHex(),
    digest: { logs: [] },
  };
}
