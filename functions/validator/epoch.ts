import type { Metagraph, SubnetHyperparams } from "../../core/ports/chain.ts";
import type { EpochScores, WeightSubmission } from "../../core/scores/schema.ts";
import {
  blocksUntilWeightsAllowed,
  combineTaskScores,
  convertWeightsAndUidsForEmit,
  processWeights,
} from "../../core/weights/index.ts";
import { collectAnswers } from "./collect.ts";
import { drawItemsYielding } from "./draw.ts";
import { scoreTask } from "./score-task.ts";
import { epochSeed } from "./seed.ts";
import { choosePath, submitWeights } from "./submit.ts";
import { trainRouterAfterScoring } from "./train-router.ts";
import type { ScoredExpert, ValidatorDeps } from "./types.ts";
import { checkReveals } from "./watch-reveals.ts";

/**
 * The EMA's previous state: the latest scores of an *earlier* epoch. A rerun of this epoch (after a failure
 * between storing one task's scores and the claim) must not fold this epoch's own value in twice.
 */
async function previousScores(deps: ValidatorDeps, task: string, epoch: number): Promise<EpochScores | null> {
  const latest = await deps.scores.latestScores(task);
  if (latest === null || latest.epoch < epoch) return latest;
  for (let e = epoch - 1; e >= Math.max(0, epoch - 64); e--) {
    const scores = await deps.scores.epochScores(task, e);
    if (scores) return scores;
  }
  return null;
}

export interface EpochReport {
  readonly epoch: number;
  readonly skipped?: string;
  /**
   * Skipped because the chain would refuse this validator's weights for this many more blocks (the subnet's rate
   * limit): nothing was scored or claimed, so a later run in the same epoch sends them (validator-loop.ts).
   */
  readonly waitBlocks?: number;
  readonly scores: EpochScores[];
  readonly submission: WeightSubmission | null;
}

/**
 * The skip of a validator whose weights the chain would refuse now (`SettingWeightsTooFast`, or
 * `CommittingWeightsTooFast` under commit-reveal): checked before scoring, so an epoch that starts a few blocks after
 * the last weights (the devnet's short first epoch, a restart) neither sends the epoch's validation jobs for nothing
 * nor gives up its epoch to a refused extrinsic. null: allowed.
 */
export function rateLimited(
  epoch: number,
  hp: SubnetHyperparams,
  metagraph: Metagraph,
  uid: number,
): EpochReport | null {
  const waitBlocks = blocksUntilWeightsAllowed(metagraph.block, metagraph.lastUpdate[uid] ?? 0, hp.weightsRateLimit);
  if (waitBlocks === 0) return null;
  return {
    epoch,
    skipped: `weights rate limit: ${waitBlocks} more block(s)`,
    waitBlocks,
    scores: [],
    submission: null,
  };
}

/**
 * One validator epoch (ARCHITECTURE.md "Epoch of the validator"): hidden items per task -> every expert answers
 * through the queue -> copy-resistant Shapley values -> EMA -> u16 weights -> the chain, by the path the subnet
 * allows. The submission is claimed in the score store before it is sent, so a rerun, a retry or a second instance
 * can never submit twice for one epoch; what was sent and the chain's answer are stored.
 */
export async function runValidatorEpoch(deps: ValidatorDeps): Promise<EpochReport> {
  const { chain, netuid, log } = deps;
  const epoch = await chain.epochIndex(netuid);
  try {
    await checkReveals(deps, epoch);
  } catch (error) {
    // Watching old reveals must never cost this epoch its weights.
    log.warn("could not check earlier timelocked reveals", { error });
  }
  // Checked before the metagraph is read: the cloud ticks every 2 minutes and almost every tick ends here, and a
  // metagraph read of a large subnet is the costliest call a tick would otherwise make.
  if (await deps.scores.submission(netuid, epoch)) {
    return { epoch, skipped: "weights already submitted this epoch", scores: [], submission: null };
  }
  const [hp, metagraph] = await Promise.all([chain.hyperparams(netuid), chain.metagraph(netuid)]);
  const myUid = metagraph.hotkeys.indexOf(deps.signer.address);
  if (myUid < 0)
    return { epoch, skipped: "validator hotkey is not registered on the subnet", scores: [], submission: null };
  const waiting = rateLimited(epoch, hp, metagraph, myUid);
  if (waiting) return waiting;

  // Only experts whose hotkey holds their uid on chain now are scored: a recycled uid is someone else.
  const served = await deps.experts();
  const onChain = served.filter((x) => metagraph.hotkeys[x.uid] === x.hotkey);
  for (const x of served) if (!onChain.includes(x)) log.warn("expert not on chain under its uid", { uid: x.uid });

  const perTask: EpochScores[] = [];
  for (const task of deps.tasks) {
    const experts: ScoredExpert[] = onChain.filter((x) => x.task === task.id).sort((a, b) => a.uid - b.uid);
    if (experts.length === 0) continue;
    const items = await drawItemsYielding(
      task,
      epochSeed(deps.config.seedSecret, netuid, epoch, task.id),
      deps.config.itemsPerTask[task.id] ?? deps.config.defaultItems,
    );
    // Each validator's own jobs: several validators share the workers and the jobs table.
    const requestId = `val:${netuid}:${epoch}:${task.id}:${deps.signer.address}`;
    const collected = await collectAnswers(deps, requestId, task.id, experts, items);
    const scores = scoreTask({
      task,
      epoch,
      at: deps.now(),
      experts,
      // Precedence among copies: the commitment's block where the model was committed on chain (the first committer
      // of a model is the one paid), else the registration block.
      registrationBlock: (uid) =>
        experts.find((x) => x.uid === uid)?.committedAt ?? metagraph.blockAtRegistration[uid] ?? 0,
      items,
      answers: collected.answers,
      previous: await previousScores(deps, task.id, epoch),
      emaAlpha: deps.config.emaAlpha,
    });
    await deps.scores.putEpochScores(scores);
    perTask.push(scores);
    await trainRouterAfterScoring(deps, { task, epoch, experts, items, answers: collected.answers });
    log.info("task scored", {
      task: task.id,
      epoch,
      experts: experts.length,
      items: items.length,
      answered: collected.answered,
      rejected: collected.rejected,
    });
  }
  if (perTask.length === 0) return { epoch, skipped: "no expert to score", scores: [], submission: null };

  const n = metagraph.n;
  const combined = combineTaskScores(
    perTask.flatMap((s) => s.rows.map((r) => ({ task: s.task, uid: r.uid, ema: r.copyOf === null ? r.ema : 0 }))),
    n,
  );
  return sendEpochWeights(deps, { epoch, hp, n, weights: combined, scores: perTask });
}

/**
 * The end of an epoch, the same for every validator (honest or not, functions/validator/adversary.ts): weights per
 * uid -> max-weight-limited normalisation -> u16 -> the chain by the path the subnet allows. The submission is
 * claimed in the score store before it is sent, so a rerun can never submit twice for one epoch.
 */
export async function sendEpochWeights(
  deps: ValidatorDeps,
  input: {
    readonly epoch: number;
    readonly hp: SubnetHyperparams;
    readonly n: number;
    readonly weights: ArrayLike<number>;
    readonly scores: EpochScores[];
  },
): Promise<EpochReport> {
  const { netuid, log } = deps;
  const { epoch, hp, n, scores: perTask } = input;
  const allUids = Array.from({ length: n }, (_, uid) => uid);
  const processed = processWeights({
    uids: allUids,
    weights: input.weights,
    n,
    minAllowedWeights: hp.minAllowedWeights,
    maxWeightLimit: hp.maxWeightsLimit / 65535,
  });
  const { uids, values } = convertWeightsAndUidsForEmit(processed.uids, processed.weights);
  const chosen = choosePath(hp);
  const submission: WeightSubmission = {
    netuid,
    epoch,
    path: chosen.path,
    uids,
    values,
    versionKey: hp.weightsVersionKey.toString(),
    status: "claimed",
    claimedAt: deps.now(),
    ...(chosen.reason ? { note: chosen.reason } : {}),
  };
  if (!(await deps.scores.claimSubmission(submission))) {
    return { epoch, skipped: "another run claimed this epoch", scores: perTask, submission: null };
  }
  if (chosen.path === "none" || uids.length === 0) {
    const note = chosen.reason ?? "no positive weight to set";
    log.warn("no weights submitted", { epoch, reason: note });
    await deps.scores.updateSubmission(netuid, epoch, { status: "rejected", error: note });
    return { epoch, scores: perTask, submission: { ...submission, status: "rejected", error: note } };
  }
  let patch: Partial<WeightSubmission>;
  try {
    const sent = await submitWeights(deps, hp, chosen.path, uids, values);
    const outcome = sent.outcome;
    patch = {
      ...sent.patch,
      ...(outcome === null
        ? { status: "rejected" as const }
        : outcome.ok
          ? { status: "accepted" as const, block: outcome.block, txHash: outcome.txHash }
          : {
              status: "rejected" as const,
              error: outcome.error,
              ...(outcome.block === undefined ? {} : { block: outcome.block }),
            }),
    };
  } catch (error) {
    // The fate of the extrinsic is unknown: stored as such and never resubmitted blindly (the claim stays).
    patch = { status: "unknown", error: error instanceof Error ? error.message : String(error) };
  }
  await deps.scores.updateSubmission(netuid, epoch, patch);
  const stored = { ...submission, ...patch };
  log.info("weights submitted", {
    epoch,
    path: chosen.path,
    status: stored.status,
    error: stored.error,
    uids: uids.length,
  });
  return { epoch, scores: perTask, submission: stored };
}
