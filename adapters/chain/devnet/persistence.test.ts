import { describe, expect, it } from "vitest";
import { restoreDevnet } from "./create.ts";
import { parseState } from "./persistence.ts";
import { testSubnet } from "./testing.ts";

describe("devnet snapshots", () => {
  it("round-trips the whole state and keeps producing the same chain", async () => {
    const t = await testSubnet();
    await t.chain.setWeights(t.validator, t.netuid, [1, 2], [5, 9], 0n);
    await t.chain.setCommitment(t.validator, t.netuid, new Uint8Array(32).fill(3));
    t.devnet.advance(12);
    const json = t.devnet.snapshot();
    const restored = restoreDevnet(json);
    expect(restored.snapshot()).toBe(json);
    t.devnet.advance(15);
    restored.advance(15);
    expect(restored.snapshot()).toBe(t.devnet.snapshot());
    expect(restored.metagraph(1)?.emission).toEqual(t.devnet.metagraph(1)?.emission);
    expect(restored.commitment(1, t.validator.address)?.data).toEqual(new Uint8Array(32).fill(3));
  });

  it("refuses a damaged snapshot with the field that is wrong", async () => {
    const t = await testSubnet();
    const raw = JSON.parse(t.devnet.snapshot()) as Record<string, unknown>;
    expect(() => parseState(JSON.stringify({ ...raw, block: -1 }))).toThrow(/block/);
    expect(() => parseState("{not json")).toThrow(/not JSON/);
    expect(() => parseState(JSON.stringify({ ...raw, emissionPerBlock: "12x" }))).toThrow(/emissionPerBlock/);
  });
});
