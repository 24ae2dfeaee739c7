import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digitInput, harness } from "../functions/api/testing/harness.ts";
import { TEST_ADMIN_TOKEN } from "../functions/api/testing/memory-deps.ts";
import { readTaskInput } from "./input-file.ts";
import { type MarketIo, runMarket } from "./program.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "market-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Fetch = NonNullable<MarketIo["fetch"]>;

async function cli(args: string[], env: Record<string, string>, fetch: Fetch) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMarket(args, {
    env: { MARKET_API_URL: "http://market.local", ...env },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    stdin: async () => "",
    fetch,
  });
  return { code, out: out.join(""), err: err.join("") };
}

describe("market client commands against the API (in process)", () => {
  it("keys create -> query (JSON file) -> jobs get -> receipts verify, here and via the API; usage", async () => {
    const h = await harness();
    const fetch: Fetch = async (input, init) => h.app.request(input, init);
    const admin = { MARKET_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    const created = await cli(["keys", "create", "--name", "cli", "--credits", "50000", "--json"], admin, fetch);
    expect(created).toMatchObject({ code: 0, err: "" });
    const key = (JSON.parse(created.out) as { key: string; id: string }).key;
    const user = { MARKET_API_KEY: key };

    const inputFile = join(dir, "input.json");
    await writeFile(inputFile, JSON.stringify(digitInput(0.25)));
    const stop = h.startWorkers();
    const answered = await cli(["query", "digits", inputFile, "--k", "2", "--wait", "5", "--json"], user, fetch);
    await stop();
    expect(answered).toMatchObject({ code: 0, err: "" });
    const answer = JSON.parse(answered.out) as { id: string; status: string; cost: number; output: unknown };
    expect(answer).toMatchObject({ status: "succeeded", cost: 2000 });

    const job = await cli(["jobs", "get", answer.id, "--field", "status"], user, fetch);
    expect(job).toEqual({ code: 0, out: "succeeded\n", err: "" });

    const answerFile = join(dir, "answer.json");
    await writeFile(answerFile, answered.out);
    expect((await cli(["receipts", "verify", answerFile], {}, fetch)).out).toMatch(/^valid\s+true$/m);
    const local = await cli(["receipts", "verify", answerFile, "--local"], {}, fetch);
    expect(local.out).toMatch(/^valid\s+true$/m);
    // Any key's signature checks out without --gateway: the answer says the signer was not checked.
    expect(local.out).toMatch(/^signer\s+not checked/m);
    const localJson = await cli(["receipts", "verify", answerFile, "--local", "--json"], {}, fetch);
    const gateway = (JSON.parse(localJson.out) as { signedBy: string }).signedBy;
    const pinned = await cli(["receipts", "verify", answerFile, "--local", "--gateway", gateway, "--json"], {}, fetch);
    expect([pinned.code, JSON.parse(pinned.out)]).toEqual([
      0,
      expect.objectContaining({ valid: true, signer: "checked against --gateway" }),
    ]);
    const other = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"; // //Bob's address: not the gateway
    const wrong = await cli(["receipts", "verify", answerFile, "--local", "--gateway", other, "--json"], {}, fetch);
    expect([wrong.code, JSON.parse(wrong.out)]).toEqual([1, expect.objectContaining({ valid: false })]);
    // Another output than the one the receipt's digest names: refused both ways, exit 1.
    const forged = join(dir, "forged.json");
    await writeFile(
      forged,
      JSON.stringify({ ...JSON.parse(answered.out), output: { probs: new Array(10).fill(0.1) } }),
    );
    const here = await cli(["receipts", "verify", forged, "--local", "--json"], {}, fetch);
    expect([here.code, JSON.parse(here.out)]).toEqual([
      1,
      expect.objectContaining({ valid: false, reason: "output_mismatch" }),
    ]);
    expect((await cli(["receipts", "verify", forged], {}, fetch)).code).toBe(1);

    const experts = await cli(["experts", "list", "--json"], {}, fetch);
    const uid = (JSON.parse(experts.out) as { experts: { uid: number }[] }).experts[0]?.uid;
    const earned = await cli(["experts", "earnings", String(uid), "--json"], {}, fetch);
    expect([earned.code, JSON.parse(earned.out)]).toEqual([0, expect.objectContaining({ uid })]);

    const usage = await cli(["usage", "--field", "balance"], user, fetch);
    expect(usage).toEqual({ code: 0, out: "48000\n", err: "" });
  });

  it("queues with --async, then cancels; jobs wait ends with exit 1 on a canceled job", async () => {
    const h = await harness();
    const fetch: Fetch = async (input, init) => h.app.request(input, init);
    const { key } = await h.fundedKey(10_000);
    const inputFile = join(dir, "input-async.json");
    await writeFile(inputFile, JSON.stringify(digitInput()));
    const queued = await cli(
      ["query", "digits", inputFile, "--async", "--field", "id"],
      { MARKET_API_KEY: key },
      fetch,
    );
    expect(queued.code).toBe(0);
    const id = queued.out.trim();
    expect((await cli(["jobs", "cancel", id, "--field", "status"], { MARKET_API_KEY: key }, fetch)).out).toBe(
      "canceled\n",
    );
    const waited = await cli(["jobs", "wait", id, "--field", "status"], { MARKET_API_KEY: key }, fetch);
    expect(waited).toEqual({ code: 1, out: "canceled\n", err: "" });
  });

  it("a problem answer is exit 1 with its code on stderr; a bad flag value is a usage error (exit 2)", async () => {
    const h = await harness();
    const fetch: Fetch = async (input, init) => h.app.request(input, init);
    const denied = await cli(
      ["keys", "get", "key_nope"],
      { MARKET_ADMIN_TOKEN: "wrong-token-0123456789abcdef" },
      fetch,
    );
    expect(denied).toMatchObject({ code: 1, out: "" });
    expect(denied.err).toContain("401 unauthorized");
    expect((await cli(["jobs", "list", "--limit", "0"], { MARKET_API_KEY: "k" }, fetch)).code).toBe(2);
  });

  it("jobs list --all follows nextCursor over the API's {data, nextCursor} pages", async () => {
    const seen: string[] = [];
    const pages: Record<string, { data: { id: string; task: string; status: string }[]; nextCursor: string | null }> = {
      "": { data: [{ id: "j1", task: "digits", status: "succeeded" }], nextCursor: "c2" },
      c2: { data: [{ id: "j2", task: "speech", status: "failed" }], nextCursor: null },
    };
    const fetch: Fetch = async (input, init) => {
      const url = new URL(input);
      seen.push(`${init.method} ${url.pathname}${url.search}`);
      const page = pages[url.searchParams.get("cursor") ?? ""];
      return Response.json(page);
    };
    const listed = await cli(["jobs", "list", "--all", "--limit", "1", "--json"], { MARKET_API_KEY: "k" }, fetch);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toEqual({
      data: [...(pages[""]?.data ?? []), ...(pages.c2?.data ?? [])],
      nextCursor: null,
    });
    expect(seen).toEqual(["GET /v1/jobs?limit=1", "GET /v1/jobs?limit=1&cursor=c2"]);
    const table = await cli(["jobs", "list"], { MARKET_API_KEY: "k" }, fetch);
    expect(table.out).toMatch(/^id\s+task\s+status\nj1\s+digits\s+succeeded$/m);
  });
});

describe("query input files", () => {
  it("sends a PNG as {png}, a WAV as {wav} (base64, by content not name) and parses anything else as JSON", async () => {
    const png = new PNG({ width: 28, height: 28 });
    const pngFile = join(dir, "digit.dat");
    await writeFile(pngFile, PNG.sync.write(png));
    const wav = Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WAVEfmt ")]);
    const wavFile = join(dir, "clip.bin");
    await writeFile(wavFile, wav);
    const jsonFile = join(dir, "input.txt");
    await writeFile(jsonFile, '{"samples":[0,0.5]}');
    expect(await readTaskInput(pngFile)).toEqual({ png: PNG.sync.write(png).toString("base64") });
    expect(await readTaskInput(wavFile)).toEqual({ wav: wav.toString("base64") });
    expect(await readTaskInput(jsonFile)).toEqual({ samples: [0, 0.5] });
    await writeFile(jsonFile, "RIFF but not a wave");
    await expect(readTaskInput(jsonFile)).rejects.toThrow(/neither a PNG, a WAV nor JSON/);
  });
});
