import { sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { loadValidationSources } from "../../adapters/runtime/validation-sources.ts";
import { cloudMarket } from "../market/cloud.ts";
import { runValidatorEpoch } from "./epoch.ts";
import { validatorSettings } from "./settings.ts";
import { validationTasks } from "./tasks.ts";
import { marketRouterTraining } from "./train-router.ts";

/**
 * Scheduled entry (SST CronV2, once per tempo): one validator epoch against Bittensor through the deployed queue,
 * tables and GPU workers. The epoch claims its submission before sending, so EventBridge's retries cannot submit
 * twice; a run with nothing to do returns its reason. It scores the experts the published directory names: the
 * directory follower (functions/directory/lambda.ts) rebuilds that from the miners' chain commitments on every
 * block, so in the cloud a commitment is served within 10 s (issue 15), as `npm start`'s one-second rebuild does;
 * the validator only reads it (re-read within 2 s, functions/market/cloud.ts).
 */
const market = cloudMarket("validator");
const sources = loadValidationSources();
// Started at load to overlap the cold start; a failure surfaces in the handler's await, not as an unhandled rejection.
market.catch(() => {});
sources.catch(() => {});

export async function handler(): Promise<{ epoch: number; skipped?: string; status?: string }> {
  const m = await market;
  const s = await sources;
  if (!m.validator) throw new Error("the validator needs its hotkey");
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
