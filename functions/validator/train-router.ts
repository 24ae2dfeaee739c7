import type { ValidationSources } from "../../adapters/runtime/validation-sources.ts";
import { storedRouter, trainGateSteps } from "../../core/routing/index.ts";
import { deriveSeed } from "../../core/tasks/prng.ts";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import { collectAnswers } from "./collect.ts";
import {
  assembleTrainingData,
  columnKey,
  decodeColumns,
  digitBootstrapItems,
  encodeColumn,
  featureMatrix,
  fingerprint,
  type ItemSet,
  itemLosses,
  parseTrainingState,
  type RouterTrainingState,
  type TrainingRows,
} from "./router-data.ts";
import { epochSeed } from "./seed.ts";
import type {
  RouterTrainingDeps,
  RouterTrainingTask,
  ScoredExpert,
  ValidationItem,
  ValidationTask,
  ValidatorDeps,
} from "./types.ts";

/**
 * Router-training digits sent once to each expert the gate has no answers of: the whole router split, the same rows
 * the build gate was trained on (so a market seeded from the build needs no bootstrap round for its own experts).
 * With 384 the gate told 0-4 from 5-9 visibly worse (routed top-2 0.87 vs 0.91 with the old roster).
 */
export const DIGIT_BOOTSTRAP_ITEMS = 2000;

const DEFAULT_WINDOW_EPOCHS = 4;

export interface RouterTrainingReport {
  readonly task: string;
  readonly version: number;
  /** Items the gate was trained on (bootstrap + window) and the experts it has a logit for. */
  readonly items: number;
  readonly experts: number;
  /** Experts sent the bootstrap items this epoch. */
  readonly bootstrapped: number;
  readonly firstLoss: number;
  readonly lastLoss: number;
}

export interface EpochAnswers {
  readonly task: ValidationTask;
  readonly epoch: number;
  /** The scored experts, in the order of `answers`. */
  readonly experts: readonly ScoredExpert[];
  readonly items: readonly ValidationItem[];
  readonly answers: readonly (readonly (unknown | null)[])[];
}

/** What the market passes the validator: train the digit gate, bootstrapped from the router-training split. */
export function marketRouterTraining(
  registry: TaskRegistry,
  sources: Pick<ValidationSources, "digitData" | "digitSplit">,
  bootstrapItems: number = DIGIT_BOOTSTRAP_ITEMS,
): RouterTrainingDeps {
  const digits = registry.get("digits");
  if (digits === undefined) return { tasks: {} };
  return {
    tasks: {
      digits: {
        features: (input) => digits.routerFeatures(input),
        bootstrap: () => digitBootstrapItems(sources.digitData, sources.digitSplit, bootstrapItems),
      },
    },
  };
}

/**
 * After a task is scored: trains its routing gate (if the validator trains one for this task) and stores it with
 * the next version. Never throws: a failed training leaves the previous gate in place and the epoch goes on.
 */
export async function trainRouterAfterScoring(
  deps: ValidatorDeps,
  epochAnswers: EpochAnswers,
): Promise<RouterTrainingReport | null> {
  const setup = deps.routerTraining;
  const spec = setup?.tasks[epochAnswers.task.id];
  if (setup === undefined || spec === undefined || epochAnswers.experts.length === 0) return null;
  try {
    const report = await trainRouter(deps, setup, spec, epochAnswers);
    if (report) deps.log.info("router trained", { ...report });
    return report;
  } catch (error) {
    const fields = { task: epochAnswers.task.id, error: error instanceof Error ? error.message : String(error) };
    // A stop aborts the epoch's calls (`deps.signal`): nothing went wrong, and the next start trains again.
    if (deps.signal?.aborted) deps.log.info("router training stopped: the validator is stopping", fields);
    else deps.log.warn("router training failed", fields);
    return null;
  }
}

/**
 * The gate learns, per input, which experts answer best: soft targets softmax(-Brier / T) over the experts
 * (core/routing), on the bootstrap items plus the hidden items of the last few epochs. It is retrained from scratch
 * every epoch over the experts serving now, so one that left loses its logit and one that joined gets one.
 */
async function trainRouter(
  deps: ValidatorDeps,
  setup: RouterTrainingDeps,
  spec: RouterTrainingTask,
  { task, epoch, experts, items, answers }: EpochAnswers,
): Promise<RouterTrainingReport | null> {
  const previous = await deps.scores.latestRouter(task.id);
  const state = parseTrainingState(previous?.params);
  const current = featureMatrix(items, spec.features);
  if (current === null || current.inputSize === 0) return null;
  const { inputSize } = current;

  const currentSet: ItemSet = {
    epoch,
    items: items.length,
    fingerprint: fingerprint(current.inputs),
    columns: experts.map((expert, e) => encodeColumn(expert, itemLosses(task, items, answers[e] ?? []))),
  };
  const windowEpochs = Math.max(1, setup.windowEpochs ?? DEFAULT_WINDOW_EPOCHS);
  const window = [...state.window.filter((w) => w.epoch !== epoch), currentSet]
    .sort((a, b) => a.epoch - b.epoch)
    .slice(-windowEpochs);

  const sets: TrainingRows[] = [];
  const kept: ItemSet[] = [];
  for (const set of window) {
    const inputs =
      set === currentSet ? current.inputs : redrawInputs(deps, task, spec, set.epoch, set.items, inputSize);
    if (inputs === null || fingerprint(inputs) !== set.fingerprint) continue;
    sets.push({ inputs, items: set.items, columns: decodeColumns(set) });
    kept.push(set);
  }

  const bootstrap = await bootstrapSet(deps, setup, spec, task, epoch, experts, state.bootstrap, inputSize);
  if (bootstrap !== null) sets.unshift(bootstrap.rows);

  const gateExperts = await admittedExperts(deps, task.id, epoch, experts);
  const data = assembleTrainingData(sets, gateExperts, inputSize);
  const steps = trainGateSteps(data, {
    seed: deriveSeed(epoch, `gate-${task.id}`),
    ...(setup.hidden === undefined ? {} : { hidden: setup.hidden }),
    epochs: setup.trainingEpochs ?? 30,
    ...(setup.temperature === undefined ? {} : { temperature: setup.temperature }),
  });
  const trained = await yieldingBetween(steps);
  const nextState: RouterTrainingState = { v: 2, window: kept, bootstrap: bootstrap?.set ?? null };
  const version = (previous?.version ?? 0) + 1;
  await deps.scores.putRouter({
    task: task.id,
    version,
    epoch,
    at: deps.now(),
    params: storedRouter(trained.params, nextState),
  });
  return {
    task: task.id,
    version,
    items: data.items,
    experts: gateExperts.length,
    bootstrapped: bootstrap?.asked ?? 0,
    firstLoss: trained.lossByEpoch[0] ?? Number.NaN,
    lastLoss: trained.lossByEpoch.at(-1) ?? Number.NaN,
  };
}

/**
 * The experts the gate gets a logit for: this epoch's scores say they are not a copy and their EMA is positive (the
 * API pays no one else: functions/market/router.ts), as the build gate admits only such experts. Measured: with a
 * copy in the mixture, it and its original split every item they win, the original's logit drops by log 2 and the
 * weak generalist takes its place in the top 2 (routed top-2 0.9525 -> 0.9425 on 400 hidden digits after one epoch).
 * Every expert's losses are still kept in the training state, so one that turns positive later joins at once.
 */
async function admittedExperts(
  deps: ValidatorDeps,
  task: string,
  epoch: number,
  experts: readonly ScoredExpert[],
): Promise<readonly ScoredExpert[]> {
  const scores = await deps.scores.latestScores(task);
  if (scores === null || scores.epoch !== epoch) return experts;
  const rows = new Map(scores.rows.map((r) => [`${r.uid}:${r.hotkey}`, r]));
  const admitted = experts.filter((x) => {
    const row = rows.get(`${x.uid}:${x.hotkey}`);
    return row === undefined || (row.copyOf === null && row.ema > 0);
  });
  return admitted.length > 0 ? admitted : experts;
}

/** An earlier epoch's hidden items, drawn again from that epoch's seed exactly as the epoch drew them. */
function redrawInputs(
  deps: ValidatorDeps,
  task: ValidationTask,
  spec: RouterTrainingTask,
  epoch: number,
  count: number,
  inputSize: number,
): Float32Array | null {
  const items = task.drawItems(epochSeed(deps.config.seedSecret, deps.netuid, epoch, task.id), count);
  if (items.length !== count) return null;
  const matrix = featureMatrix(items, spec.features);
  return matrix !== null && matrix.inputSize === inputSize ? matrix.inputs : null;
}

/**
 * The bootstrap items with every current expert's losses: experts the stored set has no column of (all of them on
 * the first epoch, later each newcomer) are sent the items through the queue now, like validation jobs. An expert
 * that answers too few of them is asked again next epoch rather than stored as failing them.
 */
async function bootstrapSet(
  deps: ValidatorDeps,
  setup: RouterTrainingDeps,
  spec: RouterTrainingTask,
  task: ValidationTask,
  epoch: number,
  experts: readonly ScoredExpert[],
  stored: ItemSet | null,
  inputSize: number,
): Promise<{ rows: TrainingRows; set: ItemSet; asked: number } | null> {
  const items = spec.bootstrap?.() ?? [];
  if (items.length === 0) return null;
  const matrix = featureMatrix(items, spec.features);
  if (matrix === null || matrix.inputSize !== inputSize) return null;
  const print = fingerprint(matrix.inputs);
  const usable = stored !== null && stored.fingerprint === print && stored.items === items.length ? stored : null;
  const columns = usable ? decodeColumns(usable) : new Map<string, Float32Array>();
  const missing = experts.filter((x) => !columns.has(columnKey(x.uid, x.hotkey)));
  if (missing.length > 0) {
    const timeout = setup.bootstrapTimeoutMs ?? Math.max(deps.config.answerTimeoutMs, 60_000);
    const collected = await collectAnswers(
      { ...deps, config: { ...deps.config, answerTimeoutMs: timeout } },
      `router:${deps.netuid}:${epoch}:${task.id}`,
      task.id,
      missing,
      items,
    );
    missing.forEach((expert, e) => {
      const answers = collected.answers[e] ?? [];
      const answered = answers.filter((a) => a !== null).length;
      if (answered >= 0.9 * items.length)
        columns.set(columnKey(expert.uid, expert.hotkey), itemLosses(task, items, answers));
    });
  }
  // Only the current experts' columns are kept, so the stored state stays bounded as experts come and go.
  const current = experts.flatMap((x) => {
    const losses = columns.get(columnKey(x.uid, x.hotkey));
    return losses ? [{ expert: x, losses }] : [];
  });
  const set: ItemSet = {
    epoch: usable?.epoch ?? epoch,
    items: items.length,
    fingerprint: print,
    columns: current.map(({ expert, losses }) => encodeColumn(expert, losses)),
  };
  return {
    rows: {
      inputs: matrix.inputs,
      items: items.length,
      columns: new Map(current.map(({ expert, losses }) => [columnKey(expert.uid, expert.hotkey), losses])),
    },
    set,
    asked: missing.length,
  };
}

/**
 * Runs a generator to its end, letting the event loop run between its steps: the validator shares its thread with
 * the API and the settler in the local market, and a training run that never yields holds every request in flight.
 */
async function yieldingBetween<T>(steps: Generator<unknown, T>): Promise<T> {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
