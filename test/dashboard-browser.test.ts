import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ratio, score, tao } from "../functions/api/dashboard/format.ts";
import type { DashboardSnapshot } from "../functions/api/dashboard/snapshot.ts";
import { chromiumPresent, launchChromium, marketAfterTwoEpochs, type PreparedMarket } from "./dashboard-browser.ts";

/**
 * The dashboard in a real browser against a running market after two epochs: what the page shows is what the API's
 * JSON says, the Vite-built charts load from the API itself (no other origin is contacted), and a client signs in
 * with the keyboard and verifies a receipt with a click.
 */
describe.skipIf(!chromiumPresent())("the market dashboard in chromium", () => {
  let setup: PreparedMarket;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    [setup, browser] = await Promise.all([marketAfterTwoEpochs(1), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await setup?.market.stop();
  });

  it("shows the API's numbers, draws its charts and verifies a receipt", async () => {
    const { market, apiKey, queryId } = setup;
    const api = async <T>(path: string): Promise<T> => (await (await fetch(`${market.url}${path}`)).json()) as T;
    const page = await browser.context.newPage();
    const foreign: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(market.url)) foreign.push(r.url());
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(market.url);

    // Metagraph: every uid, cell by cell, as GET /v1/dashboard gives it (blocks move only by hand here).
    const snapshot = await api<DashboardSnapshot>("/v1/dashboard");
    expect(snapshot.neurons.length).toBeGreaterThan(3);
    const cells = await page.$$eval("#metagraph-table tbody tr", (rows) =>
      rows.map((tr) =>
        Object.fromEntries(
          Array.from(tr.querySelectorAll("td")).map((td) => [td.dataset.field ?? "", td.textContent?.trim() ?? ""]),
        ),
      ),
    );
    expect(cells).toEqual(
      snapshot.neurons.map((n) => ({
        uid: String(n.uid),
        name: n.name || (n.validatorPermit ? "validator" : ""),
        hotkey: n.hotkey,
        stake: tao(n.stake),
        validatorPermit: n.validatorPermit ? "yes" : "no",
        incentive: ratio(n.incentive),
        dividends: ratio(n.dividends),
        emission: tao(n.emission),
        trust: ratio(n.trust),
        lastUpdate: String(n.lastUpdate),
      })),
    );
    // Without JavaScript: the server's HTML itself names every hotkey.
    const html = await (await fetch(market.url)).text();
    for (const n of snapshot.neurons) expect(html).toContain(`<code>${n.hotkey}</code>`);
    // After two epochs emission was paid and some expert has incentive: the numbers are not all zero.
    expect(snapshot.neurons.some((n) => n.incentive > 0)).toBe(true);

    // Experts: the last epoch's Shapley value of each, as GET /v1/dashboard/history gives it.
    const history = await api<{ epochs: number[]; experts: { uid: number; shapley: (number | null)[] }[] }>(
      "/v1/dashboard/history",
    );
    expect(history.epochs.length).toBe(2);
    for (const e of history.experts)
      expect(await page.textContent(`#experts-table tr[data-uid="${e.uid}"] [data-field="shapley"]`)).toBe(
        score(e.shapley.at(-1) ?? null),
      );
    // Weights matrix: one row per validator, one cell per expert, consensus below.
    expect(await page.locator("#weights-table tbody tr").count()).toBe(snapshot.weights.rows.length);
    expect(await page.locator("#weights-table tbody td").count()).toBe(
      snapshot.weights.rows.length * snapshot.weights.columns.length,
    );
    // Validator status: both epochs' weights accepted by the chain.
    expect(await page.locator("#epochs-table [data-field=status]").allTextContents()).toEqual(["accepted", "accepted"]);
    // Market: the paid query's two answers.
    const answers = await page.locator("#market-table [data-field=answers]").allTextContents();
    expect(answers.reduce((s, a) => s + Number(a), 0)).toBe(2);
    // The charts come from the Vite build the API serves.
    await page.locator('[data-chart="shapley"] canvas').waitFor();
    await page.locator('[data-chart="qpm"] canvas').waitFor();

    // Client view: type the key and press Enter; the balance is /v1/usage's; Verify checks the receipt.
    const usage = (await (
      await fetch(`${market.url}/v1/usage`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as { balance: number };
    await page.locator("#client-key").fill(apiKey);
    await page.locator("#client-key").press("Enter");
    await expect
      .poll(() => page.textContent('#client-figures [data-field="balance"]'), { timeout: 20_000 })
      .toBe(String(usage.balance));
    await page.locator(`button[data-job="${queryId}"]`).click();
    await expect
      .poll(() => page.textContent(`#client-queries output`), { timeout: 20_000 })
      .toMatch(/^valid: signed by the gateway/);

    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  });
});
