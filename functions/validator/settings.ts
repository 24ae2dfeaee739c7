import type { MarketConfig } from "../../core/config/schema.ts";
import type { ValidatorConfig } from "./types.ts";

/**
 * The validator's tunables from the market's settings, the same locally and in the cloud. Speech items are ~1/8
 * as many as digit items because one 5 s clip costs a VAD model ~150 frame steps where a digit costs one.
 */
export function validatorSettings(config: MarketConfig, answerTimeoutMs: number): ValidatorConfig {
  return {
    itemsPerTask: { speech: Math.max(4, Math.round(config.MARKET_VALIDATION_ITEMS / 8)) },
    defaultItems: config.MARKET_VALIDATION_ITEMS,
    answerTimeoutMs,
    emaAlpha: 0.3,
    // Hidden items must be unpredictable to miners: the seed mixes in a secret the validator alone holds.
    seedSecret: config.MARKET_VALIDATOR_MNEMONIC ?? "market-demo-validator-seed",
  };
}
