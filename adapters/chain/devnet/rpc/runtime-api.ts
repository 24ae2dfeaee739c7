/**
 * state_call: the runtime APIs @polkadot/api and the subtensor adapter use, answered from devnet state with the
 * layouts subtensor's runtime returns (NeuronInfo per `rpc_info/neuron_info.rs`, see subtensor/metagraph-decode.ts).
 */
import { compactAddLength, hexToU8a, u8aToHex } from "@polkadot/util";
import { type NeuronInput, writeNeuronInfoVec } from "../../subtensor/neuron-codec.ts";
import type { Devnet } from "../devnet.ts";
import { RUNTIME, type ServedMetadata } from "./metadata.ts";
import type { TxPool } from "./pool.ts";

/** A node's answer to a method its runtime does not export. */
export class RuntimeApiMissing extends Error {}

export function runtimeVersionJson(served: ServedMetadata): Record<string, unknown> {
  return { ...RUNTIME, apis: served.apis, stateVersion: 1 };
}

export class RuntimeApi {
  constructor(
    private readonly served: ServedMetadata,
    private readonly devnet: Devnet,
    private readonly pool: TxPool,
    private readonly mainnetOnly: boolean,
  ) {}

  call(method: string, dataHex: string): string {
    const data = hexToU8a(dataHex);
    const { registry } = this.served;
    const u16At = (offset: number) => registry.createType("u16", data.subarray(offset, offset + 2)).toNumber();
    switch (method) {
      case "Core_version":
        return u8aToHex(registry.createType("RuntimeVersion", runtimeVersionJson(this.served)).toU8a());
      case "Metadata_metadata":
        return u8aToHex(compactAddLength(hexToU8a(this.served.v14Hex)));
      case "Metadata_metadata_versions":
        return u8aToHex(registry.createType("Vec<u32>", [14, 15]).toU8a());
      case "Metadata_metadata_at_version": {
        const version = registry.createType("u32", data).toNumber();
        if (version === 15) return this.served.v15OptionHex;
        if (version === 14) return u8aToHex(new Uint8Array([1, ...compactAddLength(hexToU8a(this.served.v14Hex))]));
        return "0x00";
      }
      case "AccountNonceApi_account_nonce": {
        const who = registry.createType("AccountId32", data).toString();
        return u8aToHex(registry.createType("u32", this.pool.nextIndex(who)).toU8a());
      }
      case "TransactionPaymentApi_query_info":
        return u8aToHex(
          registry
            .createType("RuntimeDispatchInfo", { weight: { refTime: 0, proofSize: 0 }, class: "Normal", partialFee: 0 })
            .toU8a(),
        );
      case "NeuronInfoRuntimeApi_get_neurons":
        return this.neurons(u16At(0), "NeuronInfo");
      case "NeuronInfoRuntimeApi_get_neurons_lite":
        return this.neurons(u16At(0), "NeuronInfoLite");
      case "SubnetInfoRuntimeApi_get_next_epoch_start_block": {
        if (this.mainnetOnly) break;
        const next = this.devnet.nextEpochStartBlock(u16At(0));
        return u8aToHex(registry.createType("Option<u64>", next).toU8a());
      }
    }
    throw new RuntimeApiMissing(
      `Execution failed: Other error happened while constructing the runtime: Exported method ${method} is not found`,
    );
  }

  private neurons(netuid: number, type: "NeuronInfo" | "NeuronInfoLite"): string {
    const subnet = this.devnet.state.subnets[String(netuid)];
    const list: NeuronInput[] = (subnet?.neurons ?? []).map((n, uid) => ({
      hotkey: n.hotkey,
      coldkey: n.coldkey,
      uid,
      netuid,
      active: n.active,
      stake: [[n.coldkey, subnet?.stake[n.hotkey] ?? 0n]],
      emission: n.emission,
      incentive: n.incentive,
      consensus: n.consensus,
      validatorTrust: n.validatorTrust,
      dividends: n.dividends,
      lastUpdate: n.lastUpdate,
      validatorPermit: n.validatorPermit,
      weights: n.weights,
      bonds: n.bonds,
    }));
    const bytes = writeNeuronInfoVec(list, type === "NeuronInfo");
    // Buffer's hex is ~50x faster than u8aToHex on the megabytes of a large subnet.
    return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")}`;
  }
}
