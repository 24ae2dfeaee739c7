import { describe, expect, it } from "vitest";
import { MAX_ACCOUNT_BALANCE } from "../../core/billing/limits.ts";
import { PLATFORM_PAYEE, type ShareCredit } from "../../core/billing/schema.ts";
import type { Ledger } from "../../core/ports/ledger.ts";

let seq = 0;
const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

/** Behaviour every Ledger adapter must have (run on MemoryLedger in unit tests and DynamoLedger on dynalite). */
export function describeLedgerContract(name: string, make: () => Ledger): void {
  describe(name, () => {
    async function funded(amount: number) {
      const ledger = make();
      const accountId = uniq("acct");
      await ledger.openAccount(accountId, "t", 1000);
      if (amount > 0) await ledger.credit({ accountId, entryId: uniq("c"), amount, at: 1000 });
      return { ledger, accountId };
    }

    it("opens an account once, with a zero balance", async () => {
      const ledger = make();
      const id = uniq("acct");
      const a = await ledger.openAccount(id, "first", 1);
      const b = await ledger.openAccount(id, "second", 2);
      expect(a).toEqual(b);
      expect(a.balance).toBe(0);
    });

    it("credits once per entry id and refuses the same id with another fingerprint", async () => {
      const { ledger, accountId } = await funded(0);
      const first = await ledger.credit({ accountId, entryId: "topup-1", amount: 50, at: 5, fingerprint: "f1" });
      const again = await ledger.credit({ accountId, entryId: "topup-1", amount: 50, at: 6, fingerprint: "f1" });
      expect(first.ok && first.account.balance).toBe(50);
      expect(again.ok && [again.account.balance, again.replay]).toEqual([50, true]);
      const other = await ledger.credit({ accountId, entryId: "topup-1", amount: 70, at: 7, fingerprint: "f2" });
      expect(other).toEqual({ ok: false, reason: "conflict" });
      expect(await ledger.credit({ accountId: uniq("none"), entryId: uniq("x"), amount: 1, at: 1 })).toEqual({
        ok: false,
        reason: "no_account",
      });
    });

    it("refuses a top-up past MAX_ACCOUNT_BALANCE whole; the account stays readable and the id reusable", async () => {
      const { ledger, accountId } = await funded(MAX_ACCOUNT_BALANCE - 10);
      const big = uniq("big");
      expect(await ledger.credit({ accountId, entryId: big, amount: 11, at: 5, fingerprint: "f" })).toEqual({
        ok: false,
        reason: "limit",
      });
      expect(await ledger.credit({ accountId, entryId: uniq("huge"), amount: 2 ** 53, at: 5 })).toEqual({
        ok: false,
        reason: "limit",
      });
      expect((await ledger.getAccount(accountId))?.balance).toBe(MAX_ACCOUNT_BALANCE - 10);
      const exact = await ledger.credit({ accountId, entryId: uniq("c"), amount: 10, at: 6 });
      expect(exact.ok && exact.account.balance).toBe(MAX_ACCOUNT_BALANCE);
      // Once a hold makes room, the refused entry id is credited (it was never recorded).
      await ledger.hold({ holdId: uniq("h"), accountId, amount: 11, deadline: 10_000, at: 7 });
      const retried = await ledger.credit({ accountId, entryId: big, amount: 11, at: 8, fingerprint: "f" });
      expect(retried.ok && [retried.account.balance, retried.replay]).toEqual([MAX_ACCOUNT_BALANCE, false]);
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held]).toEqual([MAX_ACCOUNT_BALANCE, 11]);
      expect(Number.isSafeInteger((account?.balance ?? 0) + (account?.held ?? 0))).toBe(true);
    });

    it("holds without going below zero, idempotently per hold id", async () => {
      const { ledger, accountId } = await funded(100);
      const h1 = await ledger.hold({ holdId: "h1", accountId, amount: 60, deadline: 10_000, at: 2000 });
      const h1again = await ledger.hold({ holdId: "h1", accountId, amount: 60, deadline: 10_000, at: 2001 });
      expect(h1.ok && h1.hold.status).toBe("held");
      expect(h1again.ok && h1again.replay).toBe(true);
      expect(await ledger.hold({ holdId: "h2", accountId, amount: 41, deadline: 10_000, at: 2002 })).toMatchObject({
        ok: false,
        reason: "insufficient",
      });
      expect(await ledger.hold({ holdId: "h1", accountId, amount: 10, deadline: 10_000, at: 2003 })).toMatchObject({
        ok: false,
        reason: "conflict",
      });
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held]).toEqual([40, 60]);
      // After a refusal the same hold id may be used again once the balance allows it.
      await ledger.credit({ accountId, entryId: uniq("c"), amount: 1, at: 2004 });
      expect((await ledger.hold({ holdId: "h2", accountId, amount: 41, deadline: 10_000, at: 2005 })).ok).toBe(true);
    });

    it("captures part of a hold, releases the rest, and replays as no-ops", async () => {
      const { ledger, accountId } = await funded(100);
      await ledger.hold({ holdId: "cap", accountId, amount: 30, deadline: 10_000, at: 2000 });
      const cap = { accountId, holdId: "cap" };
      const c1 = await ledger.capture(cap, 20, 3000);
      const c2 = await ledger.capture(cap, 20, 3001);
      expect(c1.ok && [c1.hold.status, c1.hold.captureAmount]).toEqual(["captured", 20]);
      expect(c2.ok).toBe(true);
      expect(await ledger.release(cap, 3002)).toMatchObject({ ok: false, reason: "conflict" });
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held, account?.spent]).toEqual([80, 0, 20]);
      const sums = async () => {
        const entries = await ledger.entries(accountId, 10);
        const sum = (kind: string) => entries.filter((e) => e.kind === kind).reduce((s, e) => s + e.amount, 0);
        return [sum("credit"), sum("hold"), sum("capture"), sum("release")];
      };
      expect(await sums()).toEqual([100, 30, 20, 10]);
      expect(await ledger.openHolds(accountId)).toEqual([]);
      // Once the sweeper has moved the settled hold off the account, the journal, the hold and its replays stand.
      await ledger.sweepHolds(3500);
      expect(await sums()).toEqual([100, 30, 20, 10]);
      expect((await ledger.getHold(cap))?.status).toBe("captured");
      expect((await ledger.capture(cap, 30, 3600)).ok && (await ledger.getHold(cap))?.captureAmount).toBe(20);
      const replay = await ledger.hold({ holdId: "cap", accountId, amount: 30, deadline: 10_000, at: 2000 });
      expect(replay.ok && [replay.replay, replay.hold.status]).toEqual([true, "captured"]);
      expect((await ledger.getAccount(accountId))?.balance).toBe(80);
    });

    it("releases a whole hold once, and the sweeper releases holds past their deadline", async () => {
      const { ledger, accountId } = await funded(100);
      await ledger.hold({ holdId: "rel", accountId, amount: 30, deadline: 10_000, at: 2000 });
      const rel = { accountId, holdId: "rel" };
      expect((await ledger.release(rel, 3000)).ok).toBe(true);
      expect((await ledger.release(rel, 3001)).ok).toBe(true);
      expect(await ledger.capture(rel, 30, 3002)).toMatchObject({ ok: false, reason: "conflict" });
      await ledger.hold({ holdId: uniq("late"), accountId, amount: 50, deadline: 5000, at: 2000 });
      expect((await ledger.openHolds(accountId)).length).toBe(1);
      const report = await ledger.sweepHolds(6000);
      expect(report.released).toBeGreaterThanOrEqual(1);
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held, account?.spent]).toEqual([100, 0, 0]);
      expect(await ledger.capture({ accountId, holdId: "missing-hold" }, 1, 1)).toEqual({
        ok: false,
        reason: "not_found",
      });
      // A hold is named with its account: under another one it is not found.
      expect(await ledger.getHold({ accountId: uniq("other"), holdId: "rel" })).toBeNull();
    });

    it("lets exactly as many concurrent holds through as the balance covers", async () => {
      const { ledger, accountId } = await funded(20);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          ledger.hold({ holdId: `race-${i}`, accountId, amount: 1, deadline: 99_999, at: 3000 }),
        ),
      );
      expect(results.filter((r) => r.ok).length).toBe(20);
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held]).toEqual([0, 20]);
    });

    it("credits a request's fee shares once: a replay (even with other shares) and a race credit nothing twice", async () => {
      const ledger = make();
      const [a, b] = [uniq("hk-a"), uniq("hk-b")];
      const requestId = uniq("req");
      const shares = [
        { payee: a, amount: 600, uid: 1 },
        { payee: b, amount: 300, uid: 2 },
        { payee: PLATFORM_PAYEE, amount: 100 },
      ];
      const platformBefore = await ledger.payeeBalance(PLATFORM_PAYEE);
      const first = await ledger.creditShares({ requestId, at: 5000, task: "digits", shares });
      expect(first.ok && [first.replay, first.entries.map((e) => e.amount)]).toEqual([false, [600, 300, 100]]);
      const raced = await Promise.all(
        Array.from({ length: 3 }, () => ledger.creditShares({ requestId, at: 5001, shares })),
      );
      expect(raced.every((r) => r.ok && r.replay)).toBe(true);
      // Weights moved between two settles: the replay's shares differ, the first decision stands.
      const moved = await ledger.creditShares({
        requestId,
        at: 6000,
        shares: [
          { payee: a, amount: 100, uid: 1 },
          { payee: b, amount: 800, uid: 2 },
        ],
      });
      expect(moved.ok && moved.replay && moved.entries.map((e) => [e.payee, e.amount])).toEqual([
        [a, 600],
        [b, 300],
        [PLATFORM_PAYEE, 100],
      ]);
      expect([await ledger.payeeBalance(a), await ledger.payeeBalance(b)]).toEqual([600, 300]);
      expect((await ledger.payeeBalance(PLATFORM_PAYEE)) - platformBefore).toBe(100);
      const entries = await ledger.shareEntries(a, 10);
      expect(entries).toEqual([
        { entryId: `share:${requestId}:${a}`, payee: a, requestId, amount: 600, at: 5000, uid: 1, task: "digits" },
      ]);
    });

    it("shares a capture's fee once, by the next sweep at the latest; a replay with another split shares nothing", async () => {
      const { ledger, accountId } = await funded(100);
      const [a, b] = [uniq("hk-a"), uniq("hk-b")];
      const ref = { accountId, holdId: uniq("split"), amount: 50 };
      await ledger.hold({ ...ref, deadline: 10_000, at: 2000 });
      const platformBefore = await ledger.payeeBalance(PLATFORM_PAYEE);
      const tooMuch = [{ payee: a, amount: 41, uid: 1 }];
      expect(await ledger.capture(ref, 40, 3000, { shares: tooMuch })).toMatchObject({ ok: false, reason: "invalid" });
      const shares = [
        { payee: a, amount: 24, uid: 1 },
        { payee: b, amount: 12, uid: 2 },
        { payee: PLATFORM_PAYEE, amount: 4 },
      ];
      const first = await ledger.capture(ref, 40, 3000, { task: "digits", shares });
      expect(first.ok && first.hold.captureAmount).toBe(40);
      const moved = [{ payee: b, amount: 40, uid: 2 }];
      expect((await ledger.capture(ref, 40, 3001, { task: "digits", shares: moved })).ok).toBe(true);
      await ledger.sweepHolds(4000);
      await ledger.sweepHolds(4001);
      expect([await ledger.payeeBalance(a), await ledger.payeeBalance(b)]).toEqual([24, 12]);
      expect((await ledger.payeeBalance(PLATFORM_PAYEE)) - platformBefore).toBe(4);
      expect(await ledger.shareEntries(a, 10)).toEqual([
        {
          entryId: `share:${ref.holdId}:${a}`,
          payee: a,
          requestId: ref.holdId,
          amount: 24,
          at: 3000,
          uid: 1,
          task: "digits",
        },
      ]);
      // The books: the client paid 40, the payees got 40.
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held, account?.spent]).toEqual([60, 0, 40]);
    });

    it("refuses a split its share records cannot keep, leaving the hold open (a stored split it could not read back was rolled up with nobody paid)", async () => {
      const { ledger, accountId } = await funded(100);
      const ref = { accountId, holdId: uniq("unkeepable"), amount: 50 };
      await ledger.hold({ ...ref, deadline: 10_000, at: 2000 });
      const payee = uniq("hk");
      const unkeepable: ShareCredit[][] = [
        [{ payee: "p".repeat(65), amount: 10 }],
        [{ payee, amount: 10, uid: 65_536 }],
        [{ payee, amount: 10, uid: -1 }],
        Array.from({ length: 1001 }, (_, i) => ({ payee: `${payee}-${i}`, amount: 0 })),
      ];
      for (const shares of unkeepable) {
        expect(await ledger.capture(ref, 40, 3000, { task: "digits", shares })).toMatchObject({
          ok: false,
          reason: "invalid",
        });
      }
      expect(await ledger.capture(ref, 40, 3000, { task: "x".repeat(65), shares: [] })).toMatchObject({
        ok: false,
        reason: "invalid",
      });
      expect(await ledger.getHold(ref)).toMatchObject({ status: "held", amount: 50 });
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held, account?.spent]).toEqual([50, 50, 0]);
    });

    it("replays a settled hold's capture or release with its first outcome, even with a split or time it would refuse", async () => {
      const { ledger, accountId } = await funded(100);
      const payee = uniq("hk");
      const ref = { accountId, holdId: uniq("replayed"), amount: 50 };
      await ledger.hold({ ...ref, deadline: 10_000, at: 2000 });
      expect((await ledger.capture(ref, 40, 3000, { task: "digits", shares: [{ payee, amount: 40 }] })).ok).toBe(true);
      // A settler's replay after the weights moved, or one whose split the ledger cannot keep: the charge stands.
      const refused = [
        { shares: [{ payee, amount: 41 }] },
        { shares: [{ payee: "p".repeat(65), amount: 10 }] },
        { task: "x".repeat(65), shares: [] },
      ];
      for (const split of refused) {
        expect(await ledger.capture(ref, 40, 3001, split)).toMatchObject({
          ok: true,
          hold: { status: "captured", captureAmount: 40 },
        });
      }
      // And at a time that is not a whole millisecond: still the first outcome.
      expect(await ledger.capture(ref, 40, 3001.5)).toMatchObject({ ok: true, hold: { status: "captured" } });
      expect(await ledger.release(ref, 3001.5)).toMatchObject({ ok: false, reason: "conflict" });
      await ledger.sweepHolds(4000);
      expect(await ledger.payeeBalance(payee)).toBe(40);
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held, account?.spent]).toEqual([60, 0, 40]);
    });

    it("holds and settles at times that are not whole milliseconds like any other (a hold so made was debited and then never found)", async () => {
      const { ledger, accountId } = await funded(100);
      const payee = uniq("hk");
      const ref = { accountId, holdId: uniq("fractional"), amount: 50 };
      expect((await ledger.hold({ ...ref, deadline: 10_000.5, at: 2000.25 })).ok).toBe(true);
      expect(await ledger.getHold(ref)).toMatchObject({ status: "held", amount: 50 });
      expect((await ledger.openHolds(accountId)).map((h) => h.holdId)).toEqual([ref.holdId]);
      const captured = await ledger.capture(ref, 40, 3000.75, { task: "digits", shares: [{ payee, amount: 40 }] });
      expect(captured).toMatchObject({ ok: true, hold: { status: "captured", captureAmount: 40 } });
      const other = { accountId, holdId: uniq("fractional-expired"), amount: 10 };
      expect((await ledger.hold({ ...other, deadline: 3500.5, at: 2000.5 })).ok).toBe(true);
      await ledger.sweepHolds(4000.5);
      await ledger.sweepHolds(4001.5);
      expect(await ledger.getHold(other)).toMatchObject({ status: "released" });
      expect(await ledger.payeeBalance(payee)).toBe(40);
      const account = await ledger.getAccount(accountId);
      expect([account?.balance, account?.held, account?.spent]).toEqual([60, 0, 40]);
    });

    it("lists a payee's shares newest first, adds them up, and knows nobody it never paid", async () => {
      const ledger = make();
      const payee = uniq("hk");
      for (const [i, amount] of [7, 11, 13].entries()) {
        const r = await ledger.creditShares({
          requestId: uniq("req"),
          at: 1000 + i,
          shares: [{ payee, amount, uid: 4 }],
        });
        expect(r.ok).toBe(true);
      }
      expect(await ledger.payeeBalance(payee)).toBe(31);
      expect((await ledger.shareEntries(payee, 2)).map((e) => e.amount)).toEqual([13, 11]);
      expect(await ledger.payeeBalance(uniq("nobody"))).toBe(0);
      expect(await ledger.shareEntries(uniq("nobody"), 5)).toEqual([]);
    });

    it("refuses shares with a payee twice or with '#', or an amount that is not a non-negative integer", async () => {
      const ledger = make();
      const payee = uniq("hk");
      const bad = [
        [
          { payee, amount: 1 },
          { payee, amount: 2 },
        ],
        [{ payee, amount: -1 }],
        [{ payee, amount: 1.5 }],
        [{ payee: `${payee}#1`, amount: 1 }],
      ];
      for (const shares of bad) {
        expect(await ledger.creditShares({ requestId: uniq("req"), at: 1, shares })).toEqual({
          ok: false,
          reason: "invalid",
        });
      }
      expect(await ledger.payeeBalance(payee)).toBe(0);
    });
  });
}
