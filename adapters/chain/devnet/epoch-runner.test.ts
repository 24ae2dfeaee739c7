import { describe, expect, it } from "vitest";
import { splitBlockEmission } from "./emission.ts";
import { testSubnet } from "./testing.ts";

describe("epochs on the devnet", () => {
  it("pays incentive and emission to the weighted miners after tempo blocks", async () => {
    const t = await testSubnet();
    const [m0, m1, m2] = t.miners;
    if (!m0 || !m1 || !m2) throw new Error("miners");
    expect((await t.chain.setWeights(t.validator, t.netuid, [1, 2], [1, 3], 0n)).ok).toBe(true);
    const epoch = await t.chain.epochIndex(t.netuid);
    const next = await t.chain.nextEpochStartBlock(t.netuid);
    t.devnet.advance(next - t.devnet.block);
    expect(await t.chain.epochIndex(t.netuid)).toBe(epoch + 1);
    const m = await t.chain.metagraph(t.netuid);
    expect(m.incentive[3]).toBe(0);
    expect(m.incentive[2]).toBeGreaterThan(m.incentive[1] ?? 0);
    expect(m.incentive[1]).toBeGreaterThan(0);
    expect(m.emission[3]).toBe(0n);
    expect(m.emission[2]).toBeGreaterThan(m.emission[1] ?? 0n);
    expect(m.dividends[0]).toBe(65535);
    expect(t.devnet.earned(m1.address)).toBe(m.emission[2]);
    expect(t.devnet.earned(m2.address)).toBe(0n);
    // Everything minted over the tempo minus the owner cut is paid out.
    const split = splitBlockEmission(t.devnet.state.emissionPerBlock);
    const paid = m.emission.reduce((s, e) => s + e, 0n);
    const minted = (split.server + split.validator) * 10n;
    expect(minted - paid).toBeGreaterThanOrEqual(0n);
    expect(minted - paid).toBeLessThan(10n);
    expect(t.devnet.events(next).some((e) => e.name === "EpochRun")).toBe(true);
  });

  it("grants validator permits from the epoch and runs one epoch per tempo", async () => {
    const t = await testSubnet();
    expect((await t.chain.metagraph(t.netuid)).validatorPermit[0]).toBe(true);
    const start = await t.chain.epochIndex(t.netuid);
    t.devnet.advance(30);
    expect(await t.chain.epochIndex(t.netuid)).toBe(start + 3);
  });
});
