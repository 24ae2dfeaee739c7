import { MemoryScoreStore } from "../../adapters/tables/memory-scores.ts";
import type { MarketConfig } from "../../core/config/schema.ts";
import { parseAdversary, roleName, type ValidatorRole } from "../../functions/validator/adversary.ts";
import type { ValidatorDeps } from "../../functions/validator/types.ts";
import type { ChainPart } from "./chain.ts";

/**
 * The validators this market runs, sharing its workers, queue and jobs table: the primary (honest, with the market's
 * score store and the router's training) and, on the devnet, MARKET_VALIDATORS - 1 more. Each further one has its
 * own hotkey, its own hidden items (its seed secret mixes in its hotkey, so every validator draws a different split)
 * and its own score store (in memory: its EMA starts again after a restart, as a new validator's would); the last
 * ones play the adversaries of MARKET_ADVERSARIES.
 */
export function marketValidators(
  chain: ChainPart,
  config: MarketConfig,
  primary: ValidatorDeps,
): { readonly role: ValidatorRole; readonly deps: ValidatorDeps }[] {
  const adversaries = config.MARKET_ADVERSARIES.map(parseAdversary);
  const firstAdversary = chain.validators.length - adversaries.length;
  return chain.validators.map((signer, i) => {
    const role: ValidatorRole =
      i === 0 || i < firstAdversary ? { kind: "honest" } : (adversaries[i - firstAdversary] ?? { kind: "honest" });
    if (i === 0) return { role, deps: primary };
    const { routerTraining: _primaryOnly, ...shared } = primary;
    return {
      role,
      deps: {
        ...shared,
        signer,
        scores: new MemoryScoreStore(),
        log: primary.log.child(`validator-${i + 1}`, { role: roleName(role) }),
        config: { ...primary.config, seedSecret: `${primary.config.seedSecret}//${signer.address}` },
      },
    };
  });
}
