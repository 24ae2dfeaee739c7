import { describe, expect, it } from "vitest";
import { mulberry32 } from "../tasks/prng.ts";
import { initGate } from "./gate-network.ts";
import { parseGate, serializeGate } from "./gate-params.ts";

describe("gate parameters", () => {
  const params = initGate(5, 3, [4, 9], mulberry32(1));
  params.w2[1] = -0.125;
  params.b2[0] = 3.5;

  it("round-trips through JSON exactly", () => {
    const parsed = parseGate(JSON.parse(JSON.stringify(serializeGate(params))));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.params.expertUids).toEqual([4, 9]);
    expect(Array.from(parsed.params.w1)).toEqual(Array.from(params.w1));
    expect(Array.from(parsed.params.w2)).toEqual(Array.from(params.w2));
    expect(Array.from(parsed.params.b2)).toEqual([3.5, 0]);
  });

  it("refuses another version, wrong tensor sizes, duplicates and garbage without throwing", () => {
    const json = serializeGate(params);
    expect(parseGate({ ...json, version: 2 }).ok).toBe(false);
    expect(parseGate({ ...json, hidden: 4 }).ok).toBe(false);
    expect(parseGate({ ...json, expertUids: [4, 4] }).ok).toBe(false);
    expect(parseGate({ ...json, w1: "%%%" }).ok).toBe(false);
    expect(parseGate({ ...json, b1: "AAAA" }).ok).toBe(false);
    expect(parseGate("nope").ok).toBe(false);
    const nan = serializeGate({ ...params, b1: new Float32Array([Number.NaN, 0, 0]) });
    expect(parseGate(nan).ok).toBe(false);
  });
});
