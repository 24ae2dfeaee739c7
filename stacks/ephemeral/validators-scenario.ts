import type { Metagraph } from "../../core/ports/chain.ts";
import { roleName } from "../../functions/validator/adversary.ts";
import type { EpochReport } from "../../functions/validator/epoch.ts";
import type { EphemeralMarket } from "./stack.ts";

/** One validator's standing after the scenario's epochs, as the chain stores it (plus the ratios to compare). */
export interface ValidatorFigures {
  readonly uid: number;
  readonly role: string;
  readonly stake: bigint;
  /** u16 values as on chain, and as fractions. */
  readonly validatorTrust: number;
  readonly dividends: number;
  /** Dividends share per alpha of stake (x 1e3, to read easily). */
  readonly dividendsPerStake: number;
  readonly lastWeightsBlock: number;
}

/** One expert's standing: u16 incentive and consensus as on chain, and the primary validator's latest Shapley value. */
export interface ExpertFigures {
  readonly uid: number;
  readonly incentive: number;
  readonly consensus: number;
  readonly shapley: number | null;
}

export interface ScenarioFigures {
  readonly commitReveal: string;
  readonly epochs: number;
  readonly validators: ValidatorFigures[];
  /** The experts a cabal votes for. */
  readonly favourites: ExpertFigures[];
  readonly metagraph: Metagraph;
  readonly reports: EpochReport[][];
}

/**
 * Many validators on one devnet, by hand: each epoch every validator of the market runs once, in their order
 * (honest ones first, then the adversaries, so a copier reads what is on chain after the honest ones' turn), then
 * the chain moves one tempo on and runs Yuma Consensus. Everything goes through the market's own validator loops:
 * real scoring through the workers, real signatures and the chain adapter's submit path.
 */
export async function runValidatorsScenario(market: EphemeralMarket, epochs: number): Promise<ScenarioFigures> {
  const devnet = market.chain.devnet;
  if (!devnet) throw new Error("the scenario needs the embedded devnet");
  const tempo = Number(market.config.MARKET_TEMPO);
  const reports: EpochReport[][] = [];
  for (let e = 0; e < epochs; e++) {
    const round: EpochReport[] = [];
    for (const v of market.validators) round.push(await v.loop.runOnce());
    reports.push(round);
    devnet.advance(tempo);
  }
  // One more tempo: commits of the last round are revealed and counted (a no-op for set_weights but the same clock).
  devnet.advance(tempo);
  const metagraph = await market.chain.chain.metagraph(market.chain.netuid);
  const validators = market.validators.map((v) => {
    const uid = metagraph.hotkeys.indexOf(v.hotkey);
    const stake = metagraph.stake[uid] ?? 0n;
    const dividends = metagraph.dividends[uid] ?? 0;
    return {
      uid,
      role: roleName(v.role),
      stake,
      validatorTrust: metagraph.validatorTrust[uid] ?? 0,
      dividends,
      dividendsPerStake: stake === 0n ? 0 : (dividends / 65535 / (Number(stake) / 1e9)) * 1e3,
      lastWeightsBlock: metagraph.lastUpdate[uid] ?? 0,
    };
  });
  const primaryScores = reports.at(-1)?.[0]?.scores ?? [];
  const favourites = market.validators.flatMap((v) => (v.role.kind === "cabal" ? [v.role.favourite] : []));
  return {
    commitReveal: market.config.MARKET_COMMIT_REVEAL,
    epochs,
    validators,
    favourites: favourites.map((uid) => ({
      uid,
      incentive: metagraph.incentive[uid] ?? 0,
      consensus: metagraph.consensus[uid] ?? 0,
      shapley: primaryScores.flatMap((s) => s.rows).find((r) => r.uid === uid)?.shapley ?? null,
    })),
    metagraph,
    reports,
  };
}

/** A table of the figures, one validator a line, for the test's output and the bench. */
export function formatValidatorFigures(figures: ScenarioFigures): string {
  const lines = figures.validators.map(
    (v) =>
      `  uid ${String(v.uid).padStart(2)} ${v.role.padEnd(9)} stake ${(Number(v.stake) / 1e9).toFixed(3).padStart(10)} alpha` +
      `  vtrust ${(v.validatorTrust / 65535).toFixed(4)}  dividends ${(v.dividends / 65535).toFixed(4)}` +
      `  dividends/kalpha ${v.dividendsPerStake.toFixed(4)}`,
  );
  const experts = figures.favourites.map(
    (x) =>
      `  cabal's favourite uid ${x.uid}: incentive ${(x.incentive / 65535).toFixed(4)}  consensus ` +
      `${(x.consensus / 65535).toFixed(4)}  Shapley (primary validator) ${x.shapley?.toFixed(4) ?? "not scored"}`,
  );
  return [`commit-reveal ${figures.commitReveal}, ${figures.epochs} epochs:`, ...lines, ...experts].join("\n");
}
