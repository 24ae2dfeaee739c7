/**
 * state_call: the runtime APIs @polkadot/api and the subtensor adapter use, answered from devnet state with the
 * layouts subtensor's runtime returns (NeuronInfo per `rpc_info/neuron_info.rs`, see subtensor/metagraph-decode.ts).
 */
import { compactAddLength, hexToU8a, u8aToHex } from "@polkadot/util";
import { subtensorRegistry } from "../../subtensor/metagraph-decode.ts";
import type { Devnet } from "../devnet.ts";
import { RUNTIME, type ServedMetadata } from "./metadata.ts";
import type { TxPool } from "./pool.ts";

/** A node's answer to a method its runtime does not export. */
export class RuntimeApiMissing extends Error {}

const ZERO_AXON = { block: 0, version: 0, ip: 0, port: 0, ip_type: 0, protocol: 0, placeholder1: 0, placeholder2: 0 };
const ZERO_PROMETHEUS = { block: 0, version: 0, ip: 0, port: 0, ip_type: 0 };

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
    const m = this.devnet.metagraph(netuid);
    const subnet = this.devnet.state.subnets[String(netuid)];
    const list = (m?.hotkeys ?? []).map((hotkey, uid) => ({
      hotkey,
      coldkey: m?.coldkeys[uid],
      uid,
      netuid,
      active: m?.active[uid],
      axon_info: ZERO_AXON,
      prometheus_info: ZERO_PROMETHEUS,
      stake: [[m?.coldkeys[uid], m?.stake[uid] ?? 0n]],
      rank: 0,
      emission: m?.emission[uid] ?? 0n,
      incentive: m?.incentive[uid],
      consensus: m?.consensus[uid],
      trust: 0,
      validator_trust: m?.validatorTrust[uid],
      dividends: m?.dividends[uid],
      last_update: m?.lastUpdate[uid],
      validator_permit: m?.validatorPermit[uid],
      weights: m?.weights[uid] ?? [],
      bonds: subnet?.neurons[uid]?.bonds ?? [],
      pruning_score: 65535,
    }));
    return u8aToHex(subtensorRegistry().createType(`Vec<${type}>`, list).toU8a());
  }
}
