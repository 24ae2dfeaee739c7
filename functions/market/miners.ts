import type { TaskServing } from "../../core/experts/chain-directory.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { Ledger } from "../../core/ports/ledger.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";
import type { ModelUploads } from "../../core/ports/model-uploads.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import type { ExpertDirectory, MinerDeps, MinerEpoch, MinerStatus } from "../api/deps.ts";
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
  /** The directory builder's decisions (locally); the cloud API reads none (the directory follower builds it). */
  readonly chainDirectory: Pick<ChainDirectory, "decision">;
  readonly directory: ExpertDirectory;
  readonly ledger: Ledger;
  readonly scores: ScoreStore;
  readonly checkModel: MinerDeps["checkModel"];
  readonly maxModelBytes: number;
  readonly uploads?: ModelUploads;
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
    ...(o.uploads !== undefined ? { uploads: o.uploads } : {}),
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
      const task = expert?.task ?? commitment?.task;
      const [shadow, shares, history] = await Promise.all([
        o.scores.shadowAnswerCount(hotkey, PAID_COUNT_LIMIT),
        o.ledger.shareEntries(hotkey, PAID_COUNT_LIMIT),
        task === undefined ? [] : epochHistory(o.scores, o.netuid, task, uid, hotkey),
      ]);
      return {
        hotkey,
        uid,
        coldkey: metagraph.coldkeys[uid] ?? "",
        commitment,
        model: decision?.served ? decision.entry.model.sha256 : null,
        served: decision?.served === true || expert !== undefined,
        answered: { shadow, paid: shares.length },
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
        history,
        feeShares: shares.slice(0, RECENT).map((e) => ({ requestId: e.requestId, amount: e.amount, at: e.at })),
        block: metagraph.block,
      };
    },
  };
}

/** Paid answers are counted from the latest fee shares, up to this many (a status read stays one bounded query). */
const PAID_COUNT_LIMIT = 1000;
/** Epochs of history and fee shares a status shows. */
const RECENT = 10;

/**
 * The uid's last epochs, newest first: its row of each epoch's scores (Shapley, EMA, copy) joined with the weight
 * the validator submitted that epoch (normalised over the row). An epoch where it was not scored is left out.
 */
async function epochHistory(
  scores: ScoreStore,
  netuid: number,
  task: string,
  uid: number,
  hotkey: string,
): Promise<MinerEpoch[]> {
  const latest = await scores.latestScores(task);
  if (latest === null) return [];
  const epochs = Array.from({ length: Math.min(RECENT, latest.epoch + 1) }, (_, i) => latest.epoch - i);
  const [rows, submissions] = await Promise.all([
    Promise.all(epochs.map((e) => (e === latest.epoch ? latest : scores.epochScores(task, e)))),
    scores.recentSubmissions(netuid, RECENT * 2),
  ]);
  const weightOf = new Map(
    submissions.map((s) => {
      const sum = s.values.reduce((a, v) => a + v, 0);
      const i = s.uids.indexOf(uid);
      return [s.epoch, i < 0 || sum === 0 ? 0 : (s.values[i] ?? 0) / sum];
    }),
  );
  return rows.flatMap((epoch) => {
    const row = epoch?.rows.find((r) => r.uid === uid && r.hotkey === hotkey);
    if (!epoch || !row) return [];
    return [
      {
        epoch: epoch.epoch,
        task,
        shapley: row.shapley,
        ema: row.ema,
        copyOf: row.copyOf,
        weight: weightOf.get(epoch.epoch) ?? 0,
      },
    ];
  });
}
