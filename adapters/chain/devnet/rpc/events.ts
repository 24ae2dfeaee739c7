/**
 * System.Events as a node stores it: `Vec<EventRecord>` with each event's fields encoded by the metadata's types,
 * and dispatch errors as `DispatchError::Module { index, error }` with the error's index in the pallet's enum.
 */

import { compactToU8a, u8aConcat, u8aToHex } from "@polkadot/util";
import type { ChainEvent } from "../../../../core/ports/chain.ts";
import type { ServedMetadata } from "./metadata.ts";

export type Phase = { readonly apply: number } | "initialization" | "finalization";

export interface RawEvent {
  readonly phase: Phase;
  readonly pallet: string;
  readonly name: string;
  readonly args: readonly unknown[];
}

interface Variant {
  readonly index: number;
  readonly fieldTypes: string[];
}
interface PalletInfo {
  readonly index: number;
  readonly events: Map<string, Variant>;
  readonly errors: Map<string, number>;
}

export class EventCodec {
  private readonly pallets = new Map<string, PalletInfo>();

  constructor(private readonly served: ServedMetadata) {
    const { registry, metadata } = served;
    for (const pallet of metadata.asLatest.pallets) {
      const events = new Map<string, Variant>();
      const errors = new Map<string, number>();
      if (pallet.events.isSome)
        for (const v of registry.lookup.getSiType(pallet.events.unwrap().type).def.asVariant.variants)
          events.set(v.name.toString(), {
            index: v.index.toNumber(),
            fieldTypes: v.fields.map((f) => registry.createLookupType(f.type)),
          });
      if (pallet.errors.isSome)
        for (const v of registry.lookup.getSiType(pallet.errors.unwrap().type).def.asVariant.variants)
          errors.set(v.name.toString(), v.index.toNumber());
      this.pallets.set(pallet.name.toString(), { index: pallet.index.toNumber(), events, errors });
    }
  }

  /**
   * The DispatchError value for a subtensor error name. A name mainnet's SubtensorModule does not have (a devnet-only
   * rule outcome) becomes `Other`, which is what a node reports for an error outside any pallet's enum.
   */
  dispatchError(name: string): unknown {
    // SubtensorModule's names first; the Commitments pallet's own errors otherwise.
    const subtensor = this.pallets.get("SubtensorModule");
    const pallet = subtensor?.errors.has(name) ? subtensor : this.pallets.get("Commitments");
    const index = pallet?.errors.get(name);
    if (pallet === undefined || index === undefined) return { Other: null };
    return { Module: { index: pallet.index, error: u8aToHex(Uint8Array.of(index, 0, 0, 0)) } };
  }

  /** The devnet's own event log entries that mainnet has, as metadata events (others are not served). */
  fromDevnet(event: ChainEvent, phase: Phase): RawEvent | null {
    const d = event.data;
    if (event.name === "Commitment")
      return { phase, pallet: "Commitments", name: "Commitment", args: [d.netuid, d.who] };
    const args = DEVNET_EVENT_ARGS[event.name]?.(d);
    return args ? { phase, pallet: "SubtensorModule", name: event.name, args } : null;
  }

  /**
   * `Vec<EventRecord>`. A record whose fields do not fit its metadata type is left out rather than failing the
   * block: the block (and the extrinsics already applied in it) must still be announced.
   */
  encode(records: readonly RawEvent[], onSkip: (record: RawEvent, error: unknown) => void = () => {}): string {
    const parts: Uint8Array[] = [];
    for (const record of records) {
      try {
        parts.push(this.encodeOne(record));
      } catch (error) {
        onSkip(record, error);
      }
    }
    return u8aToHex(u8aConcat(compactToU8a(parts.length), ...parts));
  }

  private encodeOne(r: RawEvent): Uint8Array {
    const { registry } = this.served;
    const pallet = this.pallets.get(r.pallet);
    const variant = pallet?.events.get(r.name);
    if (!pallet || !variant) throw new Error(`metadata has no event ${r.pallet}.${r.name}`);
    const phase =
      r.phase === "initialization"
        ? Uint8Array.of(2)
        : r.phase === "finalization"
          ? Uint8Array.of(1)
          : u8aConcat(Uint8Array.of(0), registry.createType("u32", r.phase.apply).toU8a());
    const fields = variant.fieldTypes.map((type, i) => registry.createType(type, r.args[i]).toU8a());
    // topics: an empty Vec<H256>
    return u8aConcat(phase, Uint8Array.of(pallet.index, variant.index), ...fields, Uint8Array.of(0));
  }
}

/** DispatchInfo of a Pays::No extrinsic (all the weights calls are; the weight itself is not modelled). */
export const DISPATCH_INFO = { weight: { refTime: 0, proofSize: 0 }, class: "Normal", paysFee: "No" };

const DEVNET_EVENT_ARGS: Record<string, (d: Readonly<Record<string, unknown>>) => unknown[]> = {
  WeightsSet: (d) => [d.netuid, d.uid],
  NeuronRegistered: (d) => [d.netuid, d.uid, d.hotkey],
  WeightsCommitted: (d) => [d.who, d.netuid, d.hash],
  WeightsRevealed: (d) => [d.who, d.netuid, d.hash],
  TimelockedWeightsCommitted: (d) => [d.who, d.netuid, d.commitHash, d.revealRound],
  TimelockedWeightsRevealed: (d) => [d.netuid, d.who],
};
