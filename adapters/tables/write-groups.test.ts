import { describe, expect, it } from "vitest";
import { type GroupWrite, WriteGroups } from "./write-groups.ts";

interface Entry {
  readonly id: string;
  readonly n: number;
}

/** A writer whose writes stay in flight until released, recording each group it was given. */
function gatedWriter(
  outcome: (entry: Entry) => PromiseSettledResult<number> = (e) => ({ status: "fulfilled", value: e.n }),
) {
  const groups: { key: string; ids: string[] }[] = [];
  const gates: (() => void)[] = [];
  let failNext: Error | undefined;
  const write: GroupWrite<Entry, number> = async (key, entries) => {
    groups.push({ key, ids: entries.map((e) => e.id) });
    await new Promise<void>((release) => gates.push(release));
    if (failNext) {
      const error = failNext;
      failNext = undefined;
      throw error;
    }
    return entries.map(outcome);
  };
  const releaseAll = async () => {
    await new Promise((r) => setImmediate(r));
    while (gates.length > 0) {
      for (const release of gates.splice(0)) release();
      await new Promise((r) => setImmediate(r));
    }
  };
  return {
    write,
    groups,
    gates,
    releaseAll,
    failNextWith: (e: Error) => {
      failNext = e;
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("WriteGroups (group commit per key)", () => {
  it("writes a lone entry at once, alone, and resolves its outcome", async () => {
    const w = gatedWriter();
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 16, stallMs: 1000 });
    const result = groups.submit("acct", { id: "a", n: 1 });
    await settle();
    expect(w.groups).toEqual([{ key: "acct", ids: ["a"] }]);
    await w.releaseAll();
    await expect(result).resolves.toBe(1);
    expect(groups.busyKeys).toBe(0);
  });

  it("puts entries of the same turn in one write, and those that come while it is in flight in the next", async () => {
    const w = gatedWriter();
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 3, stallMs: 1000 });
    const first = [groups.submit("acct", { id: "a", n: 1 }), groups.submit("acct", { id: "b", n: 2 })];
    await settle();
    const later = ["c", "d", "e", "f"].map((id, i) => groups.submit("acct", { id, n: 3 + i }));
    await settle();
    // Still one write in flight: the later four wait, then go in groups of at most 3, oldest first.
    expect(w.groups).toEqual([{ key: "acct", ids: ["a", "b"] }]);
    await w.releaseAll();
    expect(w.groups.map((g) => g.ids)).toEqual([["a", "b"], ["c", "d", "e"], ["f"]]);
    await expect(Promise.all([...first, ...later])).resolves.toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("never puts two entries with the same id in one write", async () => {
    const w = gatedWriter();
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 16, stallMs: 1000 });
    const all = [
      groups.submit("acct", { id: "a", n: 1 }),
      groups.submit("acct", { id: "a", n: 2 }),
      groups.submit("acct", { id: "b", n: 3 }),
      groups.submit("acct", { id: "a", n: 4 }),
    ];
    await w.releaseAll();
    expect(w.groups.map((g) => g.ids)).toEqual([["a", "b"], ["a"], ["a"]]);
    await expect(Promise.all(all)).resolves.toEqual([1, 2, 3, 4]);
  });

  it("keeps keys apart: each key has its own write in flight", async () => {
    const w = gatedWriter();
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 16, stallMs: 1000 });
    const all = [groups.submit("x", { id: "a", n: 1 }), groups.submit("y", { id: "a", n: 2 })];
    await settle();
    expect(w.groups).toEqual([
      { key: "x", ids: ["a"] },
      { key: "y", ids: ["a"] },
    ]);
    await w.releaseAll();
    await expect(Promise.all(all)).resolves.toEqual([1, 2]);
  });

  it("fails every entry of a write that throws, and goes on with the next group", async () => {
    const w = gatedWriter();
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 16, stallMs: 1000 });
    w.failNextWith(new Error("timed out"));
    const failed = Promise.allSettled([
      groups.submit("acct", { id: "a", n: 1 }),
      groups.submit("acct", { id: "b", n: 2 }),
    ]);
    await settle();
    const next = groups.submit("acct", { id: "c", n: 3 });
    await w.releaseAll();
    expect((await failed).map((f) => (f.status === "rejected" ? String(f.reason) : f.value))).toEqual([
      "Error: timed out",
      "Error: timed out",
    ]);
    await expect(next).resolves.toBe(3);
    expect(groups.busyKeys).toBe(0);
  });

  it("fails only the entry whose own outcome is a failure", async () => {
    const w = gatedWriter((e) =>
      e.id === "b" ? { status: "rejected", reason: new Error("b refused") } : { status: "fulfilled", value: e.n },
    );
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 16, stallMs: 1000 });
    const all = Promise.allSettled(["a", "b", "c"].map((id, i) => groups.submit("acct", { id, n: i + 1 })));
    await w.releaseAll();
    expect((await all).map((f) => (f.status === "rejected" ? String(f.reason) : f.value))).toEqual([
      1,
      "Error: b refused",
      3,
    ]);
  });

  it("lets the next group start beside a write still in flight after stallMs, and forgets the key once all return", async () => {
    const w = gatedWriter();
    const groups = new WriteGroups(w.write, (e) => e.id, { max: 16, stallMs: 30 });
    const slow = groups.submit("acct", { id: "a", n: 1 });
    await settle();
    const waiting = groups.submit("acct", { id: "b", n: 2 });
    await new Promise((r) => setTimeout(r, 5));
    // Within the limit the second entry waits for the first write.
    expect(w.groups.map((g) => g.ids)).toEqual([["a"]]);
    await new Promise((r) => setTimeout(r, 60));
    expect(w.groups.map((g) => g.ids)).toEqual([["a"], ["b"]]);
    await w.releaseAll();
    await expect(Promise.all([slow, waiting])).resolves.toEqual([1, 2]);
    expect(groups.busyKeys).toBe(0);
  });

  it("rejects every entry when the writer gives the wrong number of outcomes", async () => {
    const groups = new WriteGroups<Entry, number>(
      async () => [{ status: "fulfilled", value: 1 }],
      (e) => e.id,
      { max: 16, stallMs: 1000 },
    );
    const all = await Promise.allSettled([
      groups.submit("k", { id: "a", n: 1 }),
      groups.submit("k", { id: "b", n: 2 }),
    ]);
    expect(all.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("refuses a group size under one", () => {
    const w = gatedWriter();
    expect(() => new WriteGroups(w.write, (e) => e.id, { max: 0, stallMs: 1000 })).toThrow(/room for one entry/);
    expect(() => new WriteGroups(w.write, (e) => e.id, { max: 4, stallMs: 0 })).toThrow(/stall limit/);
  });
});
