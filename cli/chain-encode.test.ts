import { afterEach, describe, expect, it, vi } from "vitest";
import { run } from "./chain-encode.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  return { out, err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("chain encode-set-weights", () => {
  it("prints pallet 7, call 0, then netuid u16, two Vec<u16> and version_key u64", async () => {
    const io = capture();
    const code = await run(["--netuid", "1", "--uids", "0,1", "--weights", "65535,32768", "--version-key", "3"]);
    expect(code).toBe(0);
    expect(io.out.join("")).toBe("0x07000100080000010008ffff00800300000000000000\n");
  });

  it("refuses bad input with a message and exit code 2", async () => {
    const io = capture();
    expect(await run(["--netuid", "1", "--uids", "0,1", "--weights", "1", "--version-key", "0"])).toBe(2);
    expect(await run(["--netuid", "70000", "--uids", "0", "--weights", "1", "--version-key", "0"])).toBe(2);
    expect(await run(["--netuid", "1", "--uids", "0,x", "--weights", "1,2", "--version-key", "0"])).toBe(2);
    expect(await run(["--netuid", "1", "--uids", "0", "--weights", "1", "--version-key", "-1"])).toBe(2);
    expect(await run(["--netuid"])).toBe(2);
    expect(io.out).toEqual([]);
    expect(io.err.join("")).toMatch(/same length/);
    expect(io.err.join("")).toMatch(/--netuid/);
  });
});
