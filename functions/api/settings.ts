import type { MarketConfig } from "../../core/config/schema.ts";
import { type ApiConfig, DEFAULT_CONFIG } from "./deps.ts";

/** The API's tunables from the market's settings: one mapping for `npm start` and the Lambda function. */
export function apiSettings(config: MarketConfig, adminToken: string): ApiConfig {
  return {
    ...DEFAULT_CONFIG,
    adminToken,
    // Keys minted against the embedded devnet say so (`mk_test_`), so they are never mistaken for live ones.
    keyEnvironment: config.MARKET_CHAIN_URL === undefined ? "test" : "live",
    // Only against the embedded devnet (one machine) may webhooks call http: and loopback receivers.
    webhookAllowLocal: config.MARKET_CHAIN_URL === undefined,
    defaultWaitSeconds: config.MARKET_WAIT_SECONDS,
    maxWaitSeconds: config.MARKET_MAX_WAIT_SECONDS,
    jobDeadlineSeconds: config.MARKET_JOB_DEADLINE_SECONDS,
    bodyLimitBytes: config.MARKET_BODY_LIMIT_BYTES,
    platformCutBps: config.MARKET_PLATFORM_CUT_BPS,
    corsOrigins:
      config.MARKET_CORS_ORIGINS === "*"
        ? "*"
        : config.MARKET_CORS_ORIGINS.split(",")
            .map((o) => o.trim())
            .filter((o) => o !== ""),
  };
}
