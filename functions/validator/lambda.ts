import { sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { loadValidationSources } from "../../adapters/runtime/validation-sources.ts";
import { chainDirectory } from "../market/chain-directory.ts";
import { cloudMarket } from "../market/cloud.ts";
import { taskServing } from "../market/miners.ts";
import { runValidatorEpoch } from "./epoch.ts";
import { validatorSettings } from "./settings.ts";
import { validationTasks } from "./tasks.ts";
import { marketRouterTraining } from "./train-router.ts";

/**
 * Scheduled entry (SST CronV2, once per tempo): one validator epoch against Bittensor through the deployed queue,
 * tables and GPU workers. The epoch claims its submission before sending, so EventBridge's retries cannot submit
 * twice; a run with nothing to do returns its reason.
 */
const market = cloudMarket("validator");
const sources = loadValidationSources();
/**
 * The market serves what the chain says (issue 15): each tick rebuilds the published directory from the miners'
 * commitments, keeping the operator's published experts whose hotkeys committed nothing (functions/market
 * chain-directory.ts). API, settler and workers re-read the directory within 15 s, so in the cloud a commitment is
 * served within a tick (2 min) plus that, where `npm start` rebuilds every second.
 */
const directoryBuilder = market.then((m) =>
  chainDirectory({
    chain: m.chain,
    netuid: m.netuid,
    store: m.store,
    tasks: taskServing(m.registry),
    base: m.manifests,
    log: m.log.child("directory"),
  }),
);
// Started at load to overlap the cold start; a failure surfaces in the handler's await, not as an unhandled rejection.
market.catch(() => {});
directoryBuilder.catch(() => {});
sources.catch(() => {});

export async function handler(): Promise<{ epoch: number; skipped?: string; status?: string }> {
  const m = await market;
  const s = await sources;
  if (!m.validator) throw new Error("the validator needs its hotkey");
  // Before the epoch, so it scores what is served now; a failed rebuild keeps the last directory and the epoch runs.
  try {
    await (await directoryBuilder).refresh();
  } catch (error) {
    m.log.warn("directory rebuild from chain commitments failed; the published one stays", { error });
  }
  const report = await runValidatorEpoch({
    chain: m.chain,
    netuid: m.netuid,
    signer: m.validator,
    verifier: sr25519Verifier,
    workerKeys: m.config.MARKET_WORKER_KEYS,
    queue: m.stores.validationQueue,
    jobs: m.stores.jobs,
    scores: m.stores.scores,
    tasks: validationTasks(m.registry, { digits: s.digits as never, speech: s.speech as never }),
    experts: () => m.directory.scoredExperts(),
    log: m.log.child("validator"),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    config: validatorSettings(m.config, 5 * 60_000),
    routerTraining: marketRouterTraining(m.registry, s),
  });
  return {
    epoch: report.epoch,
    ...(report.skipped ? { skipped: report.skipped } : {}),
    ...(report.submission ? { status: report.submission.status } : {}),
  };
}
