import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMarketClient } from "../client/client.ts";
import { seedExperts } from "../stacks/ephemeral/experts-cache.ts";
import { alive, descendants, freePort, healthy, killTree, launch, type Started } from "./local-process.ts";

/** `npm start` as a user runs it: a real process tree, stopped with SIGINT, started again on the same data. */
const running: Started[] = [];

async function start(dataDir: string, port: number): Promise<Started> {
  const started = launch({ via: "node", dataDir, port, env: { MARKET_RESOURCE_PREFIX: "sigint-" } });
  running.push(started); // killed in afterAll even if it never becomes healthy
  await healthy(started, 90_000);
  return started;
}

/** The exit code of an orderly stop; on anything but 0 the log's tail says why (a crash prints its stack there). */
async function stop(started: Started): Promise<number | null> {
  started.child.kill("SIGINT");
  const exit = await started.exited(45_000);
  if (exit?.code !== 0) console.error(`stop ended with ${JSON.stringify(exit)}:\n${started.output().slice(-4000)}`);
  return exit?.code ?? null;
}

describe("npm start", () => {
  let dataDir = "";
  afterAll(async () => {
    for (const s of running) killTree(s);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("reports every component, stops cleanly on SIGINT, and resumes with the same keys and balances", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "market-local-"));
    // The shared build's experts, stamped: `npm start` finds them fresh instead of building them (cli/experts.ts).
    await seedExperts(dataDir);
    const port = await freePort();
    const first = await start(dataDir, port);

    const health = (await (await fetch(`${first.url}/health`)).json()) as {
      components: Record<string, { state: string }>;
    };
    expect(Object.keys(health.components).sort()).toEqual(["api", "chain", "queue", "tables", "validator", "workers"]);
    expect(first.output()).toContain("create an API key");

    const adminToken = (await readFile(join(dataDir, "admin-token"), "utf8")).trim();
    const admin = createMarketClient({ baseUrl: first.url, adminToken });
    const created = await admin.createKey({ name: "restart", credits: 123_456 });
    if (!created.ok) throw new Error(`${JSON.stringify(created.problem)}\n${first.output().slice(-4000)}`);
    const pixels = new Array(784).fill(0).map((_, i) => (i % 28 === 14 && i > 112 && i < 672 ? 1 : 0));
    const client = createMarketClient({ baseUrl: first.url, apiKey: created.data.key });
    const answer = await client.infer("digits", { pixels }, { k: 1, waitSeconds: 20 });
    // On failure, say why: the problem the API returned and the tail of the market's log.
    if (!answer.ok) throw new Error(`${JSON.stringify(answer.problem)}\n${first.output().slice(-4000)}`);
    expect(answer.status).toBe(200);
    const before = await client.usage();
    if (!before.ok) throw new Error(JSON.stringify(before.problem));
    expect(before.data.balance).toBe(123_456 - 1000);
    const blockBefore = ((await (await fetch(`${first.url}/v1/metagraph`)).json()) as { block: number }).block;

    const tree = descendants(first.child.pid ?? -1);
    expect(tree.length).toBeGreaterThanOrEqual(2);
    expect(await stop(first)).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    const left = tree
      .filter(alive)
      .map((pid) => `${pid} ${execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim()}`);
    expect(left).toEqual([]);
    for (const kept of ["admin-token", "devnet.json", "dynamo", "experts"])
      expect(existsSync(join(dataDir, kept))).toBe(true);

    const second = await start(dataDir, port);
    expect(second.output()).toContain("(resumed)");
    const again = createMarketClient({ baseUrl: second.url, apiKey: created.data.key });
    const after = await again.usage();
    if (!after.ok) throw new Error(JSON.stringify(after.problem));
    expect(after.data.balance).toBe(before.data.balance);
    const blockAfter = ((await (await fetch(`${second.url}/v1/metagraph`)).json()) as { block: number }).block;
    expect(blockAfter).toBeGreaterThanOrEqual(blockBefore);
    expect(await stop(second)).toBe(0);
  });
});
