import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { forEachCommand, type MarketIo, marketProgram, runMarket } from "./program.ts";

function sinkIo(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: MarketIo = {
    env,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    stdin: async () => "",
    fetch: async () => {
      throw new Error("--help must not reach the network");
    },
  };
  return { io, out, err };
}

/** Every command path in the tree, walked from commander's own structure so a new command cannot be missed. */
const paths: string[][] = [];
forEachCommand(marketProgram(sinkIo().io), (_cmd, path) => paths.push(path));

describe("market CLI help", () => {
  it("has the client commands the README uses", () => {
    const names = paths.map((p) => p.join(" "));
    for (const expected of [
      "keys create",
      "keys list",
      "keys usage",
      "query",
      "jobs get",
      "jobs wait",
      "jobs cancel",
      "jobs list",
      "usage",
      "receipts verify",
      "experts list",
      "experts earnings",
      "metagraph",
      "miner wallet create",
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(paths.map((p) => [p.join(" ") || "(root)", p] as const))(
    "`market %s --help` prints usage, exit 0, no env",
    async (_name, path) => {
      const { io, out, err } = sinkIo();
      const code = await runMarket([...path, "--help"], io);
      expect({ code, err: err.join("") }).toEqual({ code: 0, err: "" });
      expect(out.join("")).toMatch(new RegExp(`^Usage: market${path.map((p) => ` ${p}`).join("")}\\b`));
    },
  );

  it("a command run without its credential says which setting is missing (exit 2)", async () => {
    const { io, err } = sinkIo();
    expect(await runMarket(["usage"], io)).toBe(2);
    expect(err.join("")).toContain("MARKET_API_KEY");
  });

  it("the `market` bin answers --help with exit 0 from a bare environment", () => {
    const bin = fileURLToPath(new URL("./market-bin.mjs", import.meta.url));
    const res = spawnSync(process.execPath, [bin, "query", "--help"], {
      env: { PATH: process.env.PATH ?? "" },
      encoding: "utf8",
    });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
    expect(res.stdout).toContain("Usage: market query");
  });
});
