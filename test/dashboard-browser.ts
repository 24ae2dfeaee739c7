import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { createMarketClient } from "../client/client.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";
import { buildDashboardAssets } from "../web/build.ts";

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export const CHROMIUM = "/usr/bin/chromium";
export const chromiumPresent = () => existsSync(CHROMIUM);

const TEMPO = 10;

export interface PreparedMarket {
  readonly market: EphemeralMarket;
  readonly apiKey: string;
  /** The paid query whose receipt the client view verifies. */
  readonly queryId: string;
}

/**
 * One ephemeral market after two validator epochs (weights set, Yuma run, emission paid) and `queries` paid digit
 * queries, as the dashboard's browser test and its screenshots need it.
 */
export async function marketAfterTwoEpochs(queries = 1): Promise<PreparedMarket> {
  await buildDashboardAssets({ quiet: true });
  const market = await startEphemeralMarket({
    env: { MARKET_TEMPO: String(TEMPO), MARKET_VALIDATION_ITEMS: "16" },
    routerBootstrapItems: 0,
  });
  try {
    const devnet = market.chain.devnet;
    if (!devnet) throw new Error("the ephemeral market runs a devnet");
    for (let epoch = 0; epoch < 2; epoch++) {
      const report = await market.runValidatorEpoch();
      if (report.submission?.status !== "accepted")
        throw new Error(`epoch ${report.epoch}: ${report.skipped ?? report.submission?.error ?? "no submission"}`);
      devnet.advance(TEMPO);
    }
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({ name: "dashboard", credits: 50_000 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const mnist = await loadMnist();
    let queryId = "";
    for (let q = 0; q < queries; q++) {
      const row = mnist.labels.indexOf(q % 10);
      const pixels = Array.from(mnist.pixels.subarray(row * 784, (row + 1) * 784));
      const answer = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 20 });
      if (!answer.ok) throw new Error(JSON.stringify(answer.problem));
      queryId = (answer.data as { id: string }).id;
    }
    // Answers and fee shares reach the market view when the ledger rolls settled queries up (every 16 settles of an
    // account, by the sweeper at the latest): roll them up now rather than wait for the sweep.
    await market.dataPlane.ledger.sweepHolds(Date.now());
    return { market, apiKey: created.data.key, queryId };
  } catch (error) {
    await market.stop();
    throw error;
  }
}

/** Headless chromium with a fresh profile and nothing that calls home; close() removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), "dashboard-chromium-"));
  // launchPersistentContext passes the fresh profile as --user-data-dir (Playwright refuses it among args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}
