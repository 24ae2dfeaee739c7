import type { TaskServing } from "../../core/experts/chain-directory.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { Ledger } from "../../core/ports/ledger.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import type { ExpertDirectory, MinerDeps, MinerStatus } from "../api/deps.ts";
import type { ChainDirectory } from "./chain-directory.ts";

/** Tasks that take miners' models: those with a tensor contract (a stateful runner such as speech takes none yet). */
export function taskServing(registry: TaskRegistry): (task: string) => TaskServing | undefined {
  return (id) => {
    const task = registry.get(id);
    if (task?.modelContract === undefined) return undefined;
    return { contract: task.modelContract, runner: task.runner };
  };
}

export interface MarketMinersOptions {
  readonly chain: Chain;
  readonly netuid: number;
  readonly store: ModelStore;
  readonly registry: TaskRegistry;
  readonly chainDirectory: ChainDirectory;
  readonly directory: ExpertDirectory;
  readonly ledger: Ledger;
  readonly checkModel: MinerDeps["checkModel"];
  readonly maxModelBytes: number;
}

/** The API's miner routes over the chain, the model store and the market's directory and ledger. */
export function marketMiners(o: MarketMinersOptions): MinerDeps {
  const tasks = taskServing(o.registry);
  const uidOf = async (hotkey: string) => {
    const metagraph = await o.chain.metagraph(o.netuid);
    const uid = metagraph.hotkeys.indexOf(hotkey);
    return uid < 0 ? null : uid;
  };
  return {
    store: o.store,
    maxModelBytes: o.maxModelBytes,
    contractOf: (task) => tasks(task)?.contract,
    checkModel: o.checkModel,
    uidOf,
    async status(hotkey): Promise<MinerStatus | null> {
      const metagraph = await o.chain.metagraph(o.netuid);
      const uid = metagraph.hotkeys.indexOf(hotkey);
      if (uid < 0) return null;
      const raw = await o.chain.commitment(o.netuid, hotkey);
      const known = o.chainDirectory.decision(hotkey);
      const decision = known?.uid === uid ? known.decision : null;
      const commitment =
        known?.uid === uid && typeof known.commitment.commitment === "object" && known.commitment.commitment !== null
          ? { ...known.commitment.commitment, block: known.commitment.block }
          : null;
      const expert = (await o.directory.experts()).find((e) => e.uid === uid && e.hotkey === hotkey);
      return {
        hotkey,
        uid,
        coldkey: metagraph.coldkeys[uid] ?? "",
        commitment,
        model: decision?.served ? decision.entry.model.sha256 : null,
        served: decision?.served === true || expert !== undefined,
        reason:
          decision === null
            ? raw === null
              ? "no model committed"
              : "not yet read"
            : decision.served
              ? (decision.note ?? "served")
              : decision.reason,
        shapley: expert?.shapley ?? 0,
        weight: expert?.weight ?? 0,
        incentive: (metagraph.incentive[uid] ?? 0) / 65535,
        emission: String(metagraph.emission[uid] ?? 0n),
        feeBalance: await o.ledger.payeeBalance(hotkey),
        block: metagraph.block,
      };
    },
  };
}
