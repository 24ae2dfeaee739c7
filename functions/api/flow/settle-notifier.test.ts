import { describe, expect, it } from "vitest";
import { inProcessSettleNotifier } from "./settle-notifier.ts";

describe("in-process settle notifier", () => {
  it("keeps an announcement that came between two waits, and wakes only the request announced", async () => {
    const notifier = inProcessSettleNotifier();
    const a = notifier.watch("req_a");
    const b = notifier.watch("req_b");
    notifier.announce("req_a");
    // Announced before the wait began (while the waiter was reading the request): not lost.
    expect(await a.next(60_000)).toBe(true);
    // Consumed: the next wait runs out; b was never announced.
    expect(await a.next(1)).toBe(false);
    expect(await b.next(1)).toBe(false);
    const waiting = b.next(60_000);
    notifier.announce("req_b");
    expect(await waiting).toBe(true);
    a.close();
    b.close();
  });

  it("a closed watch hears nothing more, and a close ends a pending wait", async () => {
    const notifier = inProcessSettleNotifier();
    const watch = notifier.watch("req_a");
    const waiting = watch.next(60_000);
    watch.close();
    expect(await waiting).toBe(false);
    notifier.announce("req_a");
    expect(await watch.next(1)).toBe(false);
  });
});
