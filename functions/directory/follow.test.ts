import { describe, expect, it } from "vitest";
import { createLogger } from "../../adapters/log/logger.ts";
import { followChain } from "./follow.ts";

/** A chain whose head is read from `heads` one poll at a time (the last repeats), on a clock that sleeps instantly. */
function scripted(heads: (number | Error)[], refresh: (head: number) => Promise<void>) {
  let clock = 0;
  let polls = 0;
  let head = 0;
  const lines: string[] = [];
  const refreshed: number[] = [];
  return {
    refreshed,
    lines,
    options: {
      chain: {
        currentBlock: async () => {
          const next = heads[Math.min(polls++, heads.length - 1)];
          if (next instanceof Error) throw next;
          head = next ?? 0;
          return head;
        },
      },
      refresh: async () => {
        await refresh(head);
        refreshed.push(head);
      },
      until: 10_000,
      pollMs: 1_000,
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
      log: createLogger({ level: "debug", write: (line) => lines.push(line) }),
    },
  };
}

describe("followChain", () => {
  it("refreshes once per new head and stops at its deadline", async () => {
    const run = scripted([5, 5, 6, 6, 6, 7], async () => {});
    const report = await followChain(run.options);
    expect(run.refreshed).toEqual([5, 6, 7]);
    expect(report).toEqual({ blocks: 3, refreshes: 3, failures: 0, lastBlock: 7 });
  });

  it("keeps following after a failed refresh or head read, and retries that block on the next poll", async () => {
    let failOnce = true;
    const run = scripted([5, new Error("socket closed"), 6, 6, 7], async (head) => {
      if (head === 6 && failOnce) {
        failOnce = false;
        throw new Error("S3 PutObject 503");
      }
    });
    const report = await followChain(run.options);
    expect(run.refreshed).toEqual([5, 6, 7]);
    expect(report).toMatchObject({ blocks: 3, failures: 2, lastBlock: 7 });
    expect(run.lines.filter((l) => l.includes("directory refresh failed"))).toHaveLength(2);
  });

  it("returns at its deadline when a chain read hangs", async () => {
    const lines: string[] = [];
    const report = await followChain({
      chain: { currentBlock: () => new Promise<number>(() => {}) },
      refresh: async () => {},
      until: Date.now() + 50,
      pollMs: 1_000,
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      log: createLogger({ level: "debug", write: (line) => lines.push(line) }),
    });
    expect(report).toEqual({ blocks: 0, refreshes: 0, failures: 0, lastBlock: null });
    expect(lines.join("\n")).toContain("abandoned");
  });
});
