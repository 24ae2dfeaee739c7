import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalescer.ts";

describe("Coalescer", () => {
  it("runs calls of one window as one batch and settles each caller with its own outcome", async () => {
    const batches: string[][] = [];
    const c = new Coalescer<string>(
      async (items) => {
        batches.push([...items]);
        return items.map((item) => (item === "bad" ? new Error("refused") : undefined));
      },
      60_000,
      3,
    );
    // Three reach `max`: the batch goes at once, without waiting out the (long) window.
    const outcomes = await Promise.allSettled([c.add("a"), c.add("bad"), c.add("b")]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(batches).toEqual([["a", "bad", "b"]]);
  });

  it("rejects every caller of a batch whose request failed, and starts a new batch when an item does not fit", async () => {
    const batches: string[][] = [];
    const c = new Coalescer<string>(
      async (items) => {
        batches.push([...items]);
        if (items.includes("x")) throw new Error("network");
        return [];
      },
      1,
      10,
      (batch, item) => batch.join("").length + item.length <= 4,
    );
    const outcomes = await Promise.allSettled([c.add("ab"), c.add("x"), c.add("cde")]);
    expect(batches).toEqual([["ab", "x"], ["cde"]]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "fulfilled"]);
  });

  it("with a zero window, sends what was added in one turn together, and what came during a batch after it", async () => {
    const { c, batches, release } = heldFirstBatch({ windowMs: 0 });
    const first = [c.add("a1"), c.add("a2")];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([["a1", "a2"]]);
    // Arriving while the first batch is in flight: they wait for it, then go as one.
    const later = [c.add("b1"), c.add("b2")];
    await new Promise((r) => setImmediate(r));
    const more = c.add("c1");
    await new Promise((r) => setImmediate(r));
    expect(batches).toHaveLength(1);
    release.now();
    await Promise.all([...first, ...later, more]);
    expect(batches).toEqual([
      ["a1", "a2"],
      ["b1", "b2", "c1"],
    ]);
  });

  it("holds a window's items while a batch is in flight and sends them together when it returns", async () => {
    const { c, batches, release } = heldFirstBatch({ windowMs: 1 });
    const first = c.add("a");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([["a"]]);
    // Three windows pass while "a" is in flight: b, c and d wait for it instead of going one by one.
    const later = [c.add("b")];
    await new Promise((resolve) => setTimeout(resolve, 10));
    later.push(c.add("c"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    later.push(c.add("d"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(batches).toEqual([["a"]]);
    release.now();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([["a"], ["b", "c", "d"]]);
  });

  it("with dedupe, an item equal to one still waiting joins it; one equal to an item already sent goes again", async () => {
    const { c, batches, release } = heldFirstBatch({ windowMs: 1, dedupe: true, refuse: "bad" });
    const first = [c.add("n"), c.add("n"), c.add("bad"), c.add("bad")];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([["n", "bad"]]);
    // "n" is in flight now: a later equal item may follow a write the sent one does not cover, so it is sent again.
    const again = c.add("n");
    release.now();
    const outcomes = await Promise.allSettled([...first, again]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(batches).toEqual([["n", "bad"], ["n"]]);
  });
});

/**
 * A coalescer (max 10) whose first batch stays in flight until `release.now()`, recording every batch; `refuse`
 * names an item the batch reports as failed.
 */
function heldFirstBatch(o: { windowMs: number; dedupe?: boolean; refuse?: string }) {
  const batches: string[][] = [];
  const release = { now: () => {} };
  const c = new Coalescer<string>(
    async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await new Promise<void>((resolve) => (release.now = resolve));
      return items.map((item) => (item === o.refuse ? new Error("refused") : undefined));
    },
    o.windowMs,
    10,
    () => true,
    o.dedupe === true,
  );
  return { c, batches, release };
}
