// Issue 13 item 3 acceptance: `respond-async` queries that nobody ever polls are charged within 10 s of their last
// answer (the workers' settle notices, the settler; fauxqs + dynalite + in-process workers running real models).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMarketClient } from "../client/client.ts";
import { waitFor } from "../gpu-workers/testing/jobs.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

let market: EphemeralMarket;
beforeAll(async () => {
  market = await startEphemeralMarket();
});
afterAll(async () => {
  await market?.stop();
});

const QUERIES = 30;

describe("settlement without the client", () => {
  it(`${QUERIES} never-polled async queries are all charged within 10 s of their answers`, async () => {
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({ name: "async", credits: 1_000_000 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const ids: string[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const pixels = Array.from({ length: 784 }, (_, p) => ((p * (i + 3)) % 17) / 16);
      const res = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 0 });
      if (!res.ok || res.status !== 202) throw new Error(JSON.stringify(res.ok ? res.data : res.problem));
      ids.push(res.data.id);
    }
    const { ledger, requests } = market.dataPlane;
    // Read straight from the tables: any API read of a job would settle it, which is what must not be needed.
    const captured = await waitFor(
      "every hold captured",
      async () => {
        const holds = await Promise.all(
          ids.map((id) => ledger.getHold({ accountId: created.data.accountId, holdId: id })),
        );
        return holds.every((h) => h?.status === "captured") && holds;
      },
      60_000,
      200,
    );
    let charged = 0;
    for (const [i, id] of ids.entries()) {
      const record = await requests.get(id);
      // Both answers, as the result holds them (a worker's notice may carry them unstored: no job record then).
      const answers = record?.result?.experts ?? [];
      expect(answers).toHaveLength(2);
      const lastAnswer = Math.max(...answers.map((e) => Number(e.signatureTimestamp)));
      const hold = captured[i];
      expect(record?.result?.status).toBe("succeeded");
      expect(hold?.captureAmount).toBe(record?.result?.cost);
      expect(hold?.captureAmount).toBeGreaterThan(0);
      // Captured within 10 s of the last answer (settledAt is the capture decision's time).
      expect((hold?.settledAt ?? Number.POSITIVE_INFINITY) - lastAnswer).toBeLessThan(10_000);
      charged += hold?.captureAmount ?? 0;
    }
    const usage = await client.usage();
    expect(usage.ok && [usage.data.spent, usage.data.held]).toEqual([charged, 0]);
  });
});
