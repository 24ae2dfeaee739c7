/**
 * Many validators (issue 20): three honest validators (stakes 1000, 900, 800 alpha, each scoring its own hidden
 * items), a weight copier (700), a cabal voting for one expert (600) and a lazy validator (500) on one devnet,
 * through the market's own validator loops and chain adapter (stacks/ephemeral/validators-scenario.ts). The same
 * fixed-seed run twice: commit-reveal off (the baseline: the copier reads this epoch's weights) and drand-timelocked
 * commits on (it only sees revealed ones). Prints per validator stake, validator trust and dividends, and the cabal's
 * favourite's incentive and consensus against its Shapley value. Ratio: the copier's dividends per stake over the
 * honest validators' mean, timelock vs off. Last line: JSON.
 *
 *   node --import tsx bench/validators.ts     (BENCH_EPOCHS=5, BENCH_ITEMS=16, BENCH_FAVOURITE=weak-generalist,
 *                                              BENCH_CHAIN=embedded, or rpc: the devnet over JSON-RPC)
 */
import { DIGIT_EXPERT_RECIPES } from "../core/experts/digit-experts.ts";
import { startEphemeralMarket } from "../stacks/ephemeral/stack.ts";
import {
  formatValidatorFigures,
  runValidatorsScenario,
  type ScenarioFigures,
} from "../stacks/ephemeral/validators-scenario.ts";

const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 5);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 16);
const CHAIN = process.env.BENCH_CHAIN === "rpc" ? "rpc" : "embedded";
const VALIDATORS = 6;
const FAVOURITE_ID = process.env.BENCH_FAVOURITE ?? "weak-generalist";
// The demo registers its experts in recipe order after the primary validator; over JSON-RPC the further validators
// (set up on the devnet directly) come before the experts, who register through the adapter.
const FAVOURITE = (CHAIN === "rpc" ? VALIDATORS : 1) + DIGIT_EXPERT_RECIPES.findIndex((r) => r.id === FAVOURITE_ID);

async function scenario(commitReveal: "off" | "timelock"): Promise<ScenarioFigures> {
  const market = await startEphemeralMarket({
    env: {
      MARKET_TEMPO: "10",
      MARKET_VALIDATION_ITEMS: String(ITEMS),
      MARKET_COMMIT_REVEAL: commitReveal,
      MARKET_VALIDATORS: String(VALIDATORS),
      MARKET_ADVERSARIES: `copier,cabal:${FAVOURITE},lazy`,
      MARKET_CHAIN: CHAIN,
      MARKET_DEVNET_RPC_PORT: "0",
    },
    routerBootstrapItems: 0,
    validatorTasks: ["digits"],
  });
  try {
    const metagraph = await market.chain.chain.metagraph(market.chain.netuid);
    const favourite = (await market.experts()).find((m) => m.hotkey === metagraph.hotkeys[FAVOURITE]);
    if (favourite?.id !== FAVOURITE_ID) throw new Error(`uid ${FAVOURITE} is ${favourite?.id}, not ${FAVOURITE_ID}`);
    return await runValidatorsScenario(market, EPOCHS);
  } finally {
    await market.stop();
  }
}

const round = (x: number) => Math.round(x * 10000) / 10000;

function summary(f: ScenarioFigures) {
  const honest = f.validators.filter((v) => v.role === "honest");
  const honestPerStake = honest.reduce((s, v) => s + v.dividendsPerStake, 0) / honest.length;
  const of = (role: string) => f.validators.find((v) => v.role.startsWith(role));
  const favourite = f.favourites[0];
  return {
    honest_vtrust_mean: round(honest.reduce((s, v) => s + v.validatorTrust, 0) / honest.length / 65535),
    copier_vtrust: round((of("copier")?.validatorTrust ?? 0) / 65535),
    cabal_vtrust: round((of("cabal")?.validatorTrust ?? 0) / 65535),
    lazy_vtrust: round((of("lazy")?.validatorTrust ?? 0) / 65535),
    copier_dividends_per_stake_vs_honest: round((of("copier")?.dividendsPerStake ?? 0) / honestPerStake),
    cabal_dividends_per_stake_vs_honest: round((of("cabal")?.dividendsPerStake ?? 0) / honestPerStake),
    lazy_dividends_per_stake_vs_honest: round((of("lazy")?.dividendsPerStake ?? 0) / honestPerStake),
    favourite_incentive: round((favourite?.incentive ?? 0) / 65535),
    favourite_consensus: round((favourite?.consensus ?? 0) / 65535),
    favourite_shapley: favourite?.shapley === null || favourite === undefined ? null : round(favourite.shapley),
  };
}

async function main(): Promise<void> {
  const off = await scenario("off");
  process.stdout.write(`${formatValidatorFigures(off)}\n`);
  const timelock = await scenario("timelock");
  process.stdout.write(`${formatValidatorFigures(timelock)}\n`);
  const a = summary(off);
  const b = summary(timelock);
  const ratio = round(b.copier_dividends_per_stake_vs_honest / a.copier_dividends_per_stake_vs_honest);
  process.stdout.write(
    `copier's dividends per stake / honest mean: ${a.copier_dividends_per_stake_vs_honest} with commit-reveal off, ` +
      `${b.copier_dividends_per_stake_vs_honest} with timelocked commits (ratio ${ratio})\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ chain: CHAIN, epochs: EPOCHS, items: ITEMS, favourite: FAVOURITE_ID, off: a, timelock: b, ratio })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
