import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, marketAfterTwoEpochs } from "../test/dashboard-browser.ts";

/**
 * Regenerates docs/dashboard/*.png (linked from the README): an ephemeral market after two epochs and a few paid
 * queries, each view of the dashboard in Debian's chromium, the client view signed in with a receipt verified.
 * Run: `node --import tsx scripts/dashboard-screenshots.ts` (needs /usr/bin/chromium).
 */
const OUT = resolve(fileURLToPath(new URL("../docs/dashboard", import.meta.url)));
const VIEWS = ["metagraph", "experts", "weights", "validators", "market", "client"] as const;

const setup = await marketAfterTwoEpochs(6);
const browser = await launchChromium();
try {
  await mkdir(OUT, { recursive: true });
  const page = await browser.context.newPage();
  await page.goto(setup.market.url);
  await page.locator('[data-chart="shapley"] canvas').waitFor();
  await page.locator("#client-key").fill(setup.apiKey);
  await page.locator("#client-key").press("Enter");
  await page.locator(`button[data-job="${setup.queryId}"]`).click();
  await page.locator("#client-queries output.verdict.ok").first().waitFor();
  for (const view of VIEWS) {
    const file = join(OUT, `${view}.png`);
    await page.locator(`#${view}`).screenshot({ path: file });
    console.log(file);
  }
} finally {
  await browser.close();
  await setup.market.stop();
}
