import { describe, expect, it } from "vitest";
import type { SpendStore } from "../../core/ports/spend.ts";

let seq = 0;
const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

/** Behaviour every SpendStore must have (MemorySpendStore in unit tests, DynamoSpendStore on dynalite). */
export function describeSpendContract(name: string, make: () => SpendStore): void {
  describe(name, () => {
    it("admits up to each limit, refuses the reservation that would cross one, and changes nothing then", async () => {
      const store = make();
      const keyId = uniq("key");
      const day = "2026-12-06";
      const limits = { perDay: 250, total: 400 };
      expect(await store.reserve({ keyId, amount: 100, day, limits })).toEqual({ ok: true });
      expect(await store.reserve({ keyId, amount: 100, day, limits })).toEqual({ ok: true });
      expect(await store.reserve({ keyId, amount: 100, day, limits })).toEqual({ ok: false, limit: "perDay" });
      expect(await store.spent(keyId, day)).toEqual({ today: 200, total: 200 });
      expect(await store.reserve({ keyId, amount: 150, day: "2026-12-07", limits })).toEqual({ ok: true });
      expect(await store.reserve({ keyId, amount: 100, day: "2026-12-08", limits })).toEqual({
        ok: false,
        limit: "total",
      });
      // The refused total took its day reservation back.
      expect(await store.spent(keyId, "2026-12-08")).toEqual({ today: 0, total: 350 });
    });

    it("gives back once per refund id", async () => {
      const store = make();
      const keyId = uniq("key");
      const day = "2026-12-06";
      await store.reserve({ keyId, amount: 300, day, limits: { total: 300 } });
      await store.giveBack({ keyId, refundId: uniq("r"), amount: 100, day });
      const refundId = uniq("r");
      await store.giveBack({ keyId, refundId, amount: 50, day });
      await store.giveBack({ keyId, refundId, amount: 50, day });
      expect(await store.spent(keyId, day)).toEqual({ today: 150, total: 150 });
    });

    it("never lets 50 parallel reservations pass the limit together", async () => {
      const store = make();
      const keyId = uniq("key");
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.reserve({ keyId, amount: 7, day: "2026-12-06", limits: { perDay: 100, total: 1000 } }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(14);
      expect((await store.spent(keyId, "2026-12-06")).today).toBe(98);
    });
  });
}
