import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEphemeralMarket } from "../stacks/ephemeral/stack.ts";
import {
  formatValidatorFigures,
  runValidatorsScenario,
  type ScenarioFigures,
} from "../stacks/ephemeral/validators-scenario.ts";

/**
 * Many validators on one devnet with drand-timelocked commits (issue 20): three honest ones (stakes 1000, 900, 800,
 * each scoring its own hidden digits), a weight copier (700), a cabal voting for one expert (600) and a lazy one
 * (500) that resends its first epoch's weights. Yuma Consensus clips the cabal's favourite (the adversarial expert)
 * to what honest stake supports, nothing, and the copier, which only sees weights once they are revealed, earns less per stake than the honest.
 */
const TEMPO = 10;
const EPOCHS = 4;
/** The adversarial expert (uid 5 in the demo's registration order): its answers hurt the ensemble, honest weight 0. */
const FAVOURITE = 5;

describe("many validators: consensus against a copier, a cabal and a lazy validator", () => {
  let figures: ScenarioFigures;
  let stop: () => Promise<void> = async () => {};
  let validatorsRoute: unknown;

  beforeAll(async () => {
    const market = await startEphemeralMarket({
      env: {
        MARKET_TEMPO: String(TEMPO),
        MARKET_VALIDATION_ITEMS: "16",
        MARKET_COMMIT_REVEAL: "timelock",
        MARKET_VALIDATORS: "6",
        MARKET_ADVERSARIES: `copier,cabal:${FAVOURITE},lazy`,
      },
      routerBootstrapItems: 0,
      // Digits only: consensus is what this test studies, and every validator scores every epoch.
      validatorTasks: ["digits"],
    });
    stop = () => market.stop();
    const metagraph = await market.chain.chain.metagraph(market.chain.netuid);
    const favourite = (await market.experts()).find((m) => m.hotkey === metagraph.hotkeys[FAVOURITE]);
    if (favourite?.id !== "adversarial") throw new Error(`uid ${FAVOURITE} is ${favourite?.id}, not the favourite`);
    figures = await runValidatorsScenario(market, EPOCHS);
    validatorsRoute = await (await fetch(`${market.url}/v1/validators`)).json();
    process.stdout.write(`${formatValidatorFigures(figures)}\n`);
  }, 600_000);
  afterAll(() => stop());

  const byRole = (role: string) => {
    const v = figures.validators.find((x) => x.role === role);
    if (!v) throw new Error(`no ${role} validator`);
    return v;
  };
  const honest = () => figures.validators.filter((v) => v.role === "honest");

  it("every validator submitted a timelocked commit each epoch (the copier once something was revealed)", () => {
    for (const round of figures.reports) {
      for (const [i, report] of round.entries()) {
        if (report.skipped === "no weights to copy yet") continue;
        expect(report.submission?.path, `validator ${i}`).toBe("timelock");
        expect(report.submission?.status, `validator ${i}`).toBe("accepted");
      }
    }
    expect(figures.reports.at(-1)?.every((r) => r.submission?.status === "accepted")).toBe(true);
  });

  it("clips the cabal's favourite to what honest stake supports", () => {
    const m = figures.metagraph;
    const cabal = byRole(`cabal:${FAVOURITE}`);
    const share = (uid: number) => {
      const row = m.weights[uid] ?? [];
      const sum = row.reduce((s, [, w]) => s + w, 0);
      return (row.find(([j]) => j === FAVOURITE)?.[1] ?? 0) / sum;
    };
    expect(share(cabal.uid)).toBe(1);
    for (const v of honest()) expect(share(v.uid)).toBe(0);
    // Yuma clips the cabal's vote to the honest stake-weighted median: the favourite earns nothing, although without
    // clipping the cabal's stake alone (about 13%) would give it that share of the incentive.
    expect(m.consensus[FAVOURITE]).toBe(0);
    expect(m.incentive[FAVOURITE]).toBe(0);
    expect(figures.favourites[0]?.shapley).toBeLessThan(0);
    // The cabal's trust is the clipped part of its row, nothing; so are its dividends, while every honest one earns.
    expect(cabal.validatorTrust).toBe(0);
    expect(cabal.dividends).toBe(0);
    for (const v of honest()) expect(v.dividends).toBeGreaterThan(0);
  });

  it("pays the copier, who only sees revealed weights, less dividends per stake than every honest validator", () => {
    const copier = byRole("copier");
    expect(copier.dividends).toBeGreaterThan(0);
    for (const v of honest()) expect(copier.dividendsPerStake).toBeLessThan(v.dividendsPerStake);
  });

  it("lists every validator on GET /v1/validators as the chain stores them", () => {
    const listed = (validatorsRoute as { validators: { uid: number; stake: string; validatorTrust: number }[] })
      .validators;
    for (const v of figures.validators) {
      const row = listed.find((x) => x.uid === v.uid);
      expect(row?.stake).toMatch(/^\d+$/);
      expect(Number.isInteger(row?.validatorTrust)).toBe(true);
    }
  });
});
