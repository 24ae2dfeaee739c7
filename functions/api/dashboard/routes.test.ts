import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryScoreStore } from "../../../adapters/tables/memory-scores.ts";
import type { Metagraph } from "../../../core/ports/chain.ts";
import { createApp } from "../app.ts";
import { type MemoryKit, memoryDeps } from "../testing/memory-deps.ts";
import type { DashboardSource } from "./source.ts";

/** Three experts (uids 0-2) and one validator (uid 3) whose weights clip expert 0 above its consensus. */
function metagraph(hotkeys: string[]): Metagraph {
  const n = hotkeys.length;
  return {
    netuid: 1,
    block: 77,
    n,
    hotkeys,
    coldkeys: hotkeys,
    stake: [0n, 0n, 0n, 1_500_000_000_000n],
    active: hotkeys.map(() => true),
    validatorPermit: [false, false, false, true],
    lastUpdate: [0, 0, 0, 70],
    blockAtRegistration: hotkeys.map(() => 0),
    incentive: [32768, 32767, 0, 0],
    consensus: [20000, 32767, 0, 0],
    dividends: [0, 0, 0, 65535],
    validatorTrust: [0, 0, 0, 65535],
    emission: [2_000_000_000n, 1_000_000_000n, 0n, 3_000_000_000n],
    weights: [
      [],
      [],
      [],
      [
        [0, 32768],
        [1, 32767],
      ],
    ],
  };
}

describe("dashboard routes", () => {
  let kit: MemoryKit;
  let app: ReturnType<typeof createApp>;
  let assets: string;
  beforeAll(async () => {
    kit = await memoryDeps();
    assets = await mkdtemp(join(tmpdir(), "dashboard-assets-"));
    await writeFile(join(assets, "dashboard.js"), "console.log(1)");
    await writeFile(join(assets, ".source-sha256"), "secret-ish");
    const validator = "5".padEnd(48, "V");
    const hotkeys = [...kit.experts.map((e) => e.hotkey), validator];
    const scores = new MemoryScoreStore();
    for (const epoch of [4, 5]) {
      await scores.putEpochScores({
        task: "digits",
        epoch,
        at: epoch,
        rows: kit.experts.map((e) => ({
          uid: e.uid,
          hotkey: e.hotkey,
          shapley: epoch / 10 + e.uid,
          ema: 0,
          accuracy: 0.5,
          brier: 0.3,
          answered: 4,
          items: 4,
          copyOf: null,
        })),
      });
      await scores.claimSubmission({
        netuid: 1,
        epoch,
        path: "set_weights",
        uids: [0, 1],
        values: [65535, epoch === 5 ? 65535 : 0],
        versionKey: "0",
        status: "claimed",
        claimedAt: epoch,
      });
    }
    await scores.updateSubmission(1, 5, { status: "rejected", error: "SettingWeightsTooFast" });
    const source: DashboardSource = {
      netuid: 1,
      metagraph: async () => metagraph(hotkeys),
      scores,
      labels: async () => new Map(kit.experts.map((e) => [e.hotkey, { name: `expert-${e.uid}`, task: e.task }])),
      assetsDir: assets,
    };
    app = createApp({ ...kit.deps, dashboard: source });
  });
  afterAll(() => rm(assets, { recursive: true, force: true }));

  it("renders every hotkey and the validator's failure in HTML, without JavaScript", async () => {
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    for (const e of kit.experts) expect(html).toContain(`<code>${e.hotkey}</code>`);
    expect(html).toContain("expert-2");
    expect(html).toContain("SettingWeightsTooFast");
    // Stake 1500 TAO, written exactly.
    expect(html).toContain("1,500.0000");
  });

  it("answers the metagraph with Yuma clipping and trust", async () => {
    const body = (await (await app.request("/v1/dashboard")).json()) as {
      validators: { uid: number; lastWeightsBlock: number }[];
      weights: { rows: number[]; columns: number[]; clipped: boolean[][]; trust: number[] };
      neurons: { uid: number; name: string; incentive: number }[];
    };
    expect(body.validators).toEqual([expect.objectContaining({ uid: 3, lastWeightsBlock: 70 })]);
    expect(body.weights.rows).toEqual([3]);
    expect(body.weights.columns).toEqual([0, 1, 2]);
    expect(body.weights.clipped).toEqual([[true, false, false]]);
    expect(body.weights.trust[0]).toBeCloseTo(20000 / 65535 / (32768 / 65535), 4);
    expect(body.neurons[0]).toMatchObject({ name: "expert-0", incentive: 32768 / 65535 });
  });

  it("lines up Shapley values and weights per epoch", async () => {
    const body = (await (await app.request("/v1/dashboard/history?epochs=8")).json()) as {
      epochs: number[];
      experts: { uid: number; shapley: number[]; weight: (number | null)[] }[];
    };
    expect(body.epochs).toEqual([4, 5]);
    expect(body.experts.find((e) => e.uid === 1)).toMatchObject({ shapley: [1.4, 1.5], weight: [0, 0.5] });
    expect(body.experts.find((e) => e.uid === 2)?.weight).toEqual([0, 0]);
    const bad = await app.request("/v1/dashboard/history?epochs=1000");
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
  });

  it("serves only the built script and styles", async () => {
    const script = await app.request("/assets/dashboard.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("text/javascript");
    for (const path of ["/assets/.source-sha256", "/assets/..%2Fdashboard.js", "/assets/missing.css"])
      expect((await app.request(path)).status, path).toBe(404);
  });

  it("documents its JSON routes in the OpenAPI document (the page and its assets are not JSON)", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect((await new Validator().validate(doc)).valid).toBe(true);
    const undocumented = new Set(["GET /", "GET /assets/{name}", "GET /openapi.json", "GET /docs"]);
    const served = app.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/dashboard"))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
      .filter((r) => !undocumented.has(r));
    expect(new Set(served)).toEqual(
      new Set(["GET /v1/dashboard", "GET /v1/dashboard/history", "GET /v1/dashboard/market"]),
    );
    for (const route of served) expect(Object.keys(doc.paths)).toContain(route.split(" ")[1]);
  });

  it("does not exist without a dashboard source", async () => {
    const bare = createApp(kit.deps);
    expect((await bare.request("/")).status).toBe(404);
    expect((await bare.request("/v1/dashboard")).status).toBe(404);
  });
});
