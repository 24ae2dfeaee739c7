import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoLedger } from "../adapters/tables/ledger.ts";
import { ACCOUNT_GROUP_MAX } from "../adapters/tables/ledger-account-writes.ts";
import type { Hold } from "../core/billing/schema.ts";
import { LEDGER_TABLE, TABLES } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

/**
 * Issue 17: an account's holds and settlements in flight from one process share its item's writes
 * (adapters/tables/ledger-account-writes.ts), on dynalite through the real adapter. Each test compares with a
 * ledger that writes each alone (groupMax 1): the books and every hold must come out the same.
 */
let emulators: Emulators;
let client: DynamoDBClient;
const PREFIX = "ledgergroups-";
const LEDGER = `${PREFIX}${LEDGER_TABLE.name}`;
let seq = 0;
const unique = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

beforeAll(async () => {
  emulators = await startEmulators();
  client = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  await ensureTables(client, PREFIX, TABLES, { logger: () => {} });
});

afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

/** A document client that counts the UpdateItem calls on account items (`ACCT#...`). */
function countingDoc(): { doc: DynamoDBDocumentClient; accountWrites: () => number } {
  const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  let writes = 0;
  base.middlewareStack.add(
    (next, context) => (args) => {
      // Marshalled or not, depending on where the document client's own middleware runs.
      const pk = (args.input as { Key?: { pk?: string | { S?: string } } }).Key?.pk;
      const name = typeof pk === "string" ? pk : pk?.S;
      if (context.commandName === "UpdateItemCommand" && name?.startsWith("ACCT#")) writes++;
      return next(args);
    },
    { step: "initialize", name: "accountWriteCounter" },
  );
  return { doc: createDynamoDocumentClient(base), accountWrites: () => writes };
}

/** A funded account with its open-hold marker in place (its first hold puts it: one write apart, not counted). */
async function account(ledger: DynamoLedger, balance: number): Promise<string> {
  const id = unique("acct");
  await ledger.openAccount(id, "t", 1);
  await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: balance + 1, at: 1 });
  const first = { accountId: id, holdId: `${id}-first`, amount: 1 };
  await ledger.hold({ ...first, deadline: 99_999, at: 2, freshId: true });
  await ledger.capture(first, 1, 3);
  return id;
}

/** A hold as the ledger reports it, without the ids that differ between two accounts. */
const shape = (hold: Hold | null | undefined) => {
  if (!hold) return hold;
  const { holdId: _h, accountId: _a, ...rest } = hold;
  return rest;
};

async function books(ledger: DynamoLedger, id: string) {
  const a = await ledger.getAccount(id);
  return [a?.balance, a?.held, a?.spent];
}

describe("DynamoLedger groups an account's holds and settlements in flight (issue 17)", () => {
  it("makes 16 holds started together one account write and their captures another, with the books of 32 writes", async () => {
    const runs = [];
    for (const groupMax of [ACCOUNT_GROUP_MAX, 1]) {
      const counting = countingDoc();
      // No rollup here: its writes on the account are not the ones counted.
      const ledger = new DynamoLedger({ db: counting.doc, table: LEDGER, rollupAt: 1000, groupMax });
      const id = await account(ledger, 10_000);
      const refs = Array.from({ length: 16 }, (_, i) => ({ accountId: id, holdId: `${id}-${i}`, amount: 20 + i }));
      const before = counting.accountWrites();
      const holds = await Promise.all(
        refs.map((ref, i) => ledger.hold({ ...ref, deadline: 99_999, at: 100 + i, freshId: true })),
      );
      const afterHolds = counting.accountWrites();
      const captures = await Promise.all(
        refs.map((ref, i) =>
          ledger.capture(ref, 10 + i, 200 + i, { task: "digits", shares: [{ payee: `hk-${i % 3}`, amount: 5 }] }),
        ),
      );
      runs.push({
        writes: [afterHolds - before, counting.accountWrites() - afterHolds],
        holds: holds.map((h) => (h.ok ? [h.replay, shape(h.hold)] : h)),
        captures: captures.map((c) => (c.ok ? shape(c.hold) : c)),
        found: (await Promise.all(refs.map((ref) => ledger.getHold(ref)))).map(shape),
        books: await books(ledger, id),
      });
    }
    const [grouped, alone] = runs;
    expect(grouped?.writes).toEqual([1, 1]);
    expect(alone?.writes).toEqual([16, 16]);
    const charged = Array.from({ length: 16 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0);
    expect(grouped?.books).toEqual([10_000 - charged, 0, 1 + charged]);
    expect({ ...grouped, writes: null }).toEqual({ ...alone, writes: null });
  });

  it("gives each hold of a failed group what it would get alone: a replay, a duplicate id, one the balance refuses", async () => {
    const runs = [];
    for (const groupMax of [ACCOUNT_GROUP_MAX, 1]) {
      const ledger = new DynamoLedger({ db: countingDoc().doc, table: LEDGER, rollupAt: 1000, groupMax });
      const id = await account(ledger, 100);
      const old = { accountId: id, holdId: `${id}-old`, amount: 10 };
      await ledger.hold({ ...old, deadline: 99_999, at: 10 });
      const hold = (holdId: string, amount: number) =>
        ledger.hold({ accountId: id, holdId: `${id}-${holdId}`, amount, deadline: 99_999, at: 20 });
      // Started in one turn: grouped, the group's condition fails (the replay's id is on the account, and the
      // balance cannot cover them all), so each is written alone.
      const results = await Promise.all([
        hold("old", 10),
        hold("new", 20),
        hold("new", 20),
        hold("big", 1000),
        hold("other", 30),
        hold("old", 11),
      ]);
      runs.push({
        results: results.map((r) => (r.ok ? ["ok", r.replay, r.hold.amount] : [r.reason])),
        books: await books(ledger, id),
      });
    }
    const [grouped, alone] = runs;
    // The two holds of "new": one made it, the other is its replay, in either order.
    const sorted = (r: unknown[][] | undefined) => r?.map((x) => JSON.stringify(x)).sort();
    expect(sorted(grouped?.results)).toEqual(sorted(alone?.results));
    expect(sorted(grouped?.results)).toEqual(
      sorted([
        ["ok", true, 10],
        ["ok", false, 20],
        ["ok", true, 20],
        ["insufficient"],
        ["ok", false, 30],
        ["conflict"],
      ]),
    );
    expect(grouped?.books).toEqual([100 - 60, 60, 1]);
    expect(alone?.books).toEqual(grouped?.books);
  });

  it("refuses holds whose sum no number can carry as each alone would: insufficient, not an error", async () => {
    const ledger = new DynamoLedger({ db: countingDoc().doc, table: LEDGER, rollupAt: 1000 });
    const id = await account(ledger, 100);
    const huge = 5_000_000_000_000_000; // two of them pass Number.MAX_SAFE_INTEGER
    const results = await Promise.all(
      ["x", "y"].map((h) =>
        ledger.hold({ accountId: id, holdId: `${id}-${h}`, amount: huge, deadline: 99_999, at: 10 }),
      ),
    );
    expect(results).toEqual([
      { ok: false, reason: "insufficient" },
      { ok: false, reason: "insufficient" },
    ]);
    expect(await books(ledger, id)).toEqual([100, 0, 1]);
  });

  it("settles a group with a replay in it and a capture racing a release of one hold: each hold settles once", async () => {
    const runs = [];
    for (const groupMax of [ACCOUNT_GROUP_MAX, 1]) {
      const ledger = new DynamoLedger({ db: countingDoc().doc, table: LEDGER, rollupAt: 1000, groupMax });
      const id = await account(ledger, 1000);
      const refs = ["a", "b", "c", "d"].map((h) => ({ accountId: id, holdId: `${id}-${h}`, amount: 40 }));
      for (const ref of refs) await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true });
      const [a, b, c, d] = refs as [(typeof refs)[0], (typeof refs)[0], (typeof refs)[0], (typeof refs)[0]];
      await ledger.capture(a, 30, 20);
      const results = await Promise.all([
        ledger.capture(a, 25, 30), // a replay: the first capture (30) stands
        ledger.capture(b, 15, 30),
        ledger.release(b, 30), // loses to b's capture, started first in the same turn
        ledger.capture(c, 40, 30),
        ledger.release(d, 30),
        ledger.capture({ ...c, amount: 41 }, 40, 30), // a wrong amount: read, then found captured
      ]);
      runs.push({
        results: results.map((r) => (r.ok ? ["ok", r.hold.status, r.hold.captureAmount] : [r.reason, r.hold?.status])),
        books: await books(ledger, id),
      });
    }
    const [grouped, alone] = runs;
    expect(grouped?.results).toEqual([
      ["ok", "captured", 30],
      ["ok", "captured", 15],
      ["conflict", "captured"],
      ["ok", "captured", 40],
      ["ok", "released", undefined],
      ["ok", "captured", 40],
    ]);
    expect(alone).toEqual(grouped);
    expect(grouped?.books).toEqual([1000 - 85, 0, 1 + 85]);
  });

  it("writes each hold alone when the group's write fails otherwise: refused before it was sent, or its response lost", async () => {
    const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    // "refuse": the next account write fails before it reaches the table; "lose": it is applied, its answer lost.
    let next: "refuse" | "lose" | undefined;
    base.middlewareStack.add(
      (handler, context) => async (args) => {
        const trouble = context.commandName === "UpdateItemCommand" ? next : undefined;
        if (!trouble) return handler(args);
        next = undefined;
        if (trouble === "lose") await handler(args);
        throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
      },
      { step: "initialize", name: "troubleOnce" },
    );
    const ledger = new DynamoLedger({ db: createDynamoDocumentClient(base), table: LEDGER, rollupAt: 1000 });
    try {
      const id = await account(ledger, 1000);
      const wave = async (name: string, trouble: "refuse" | "lose") => {
        const refs = Array.from({ length: 4 }, (_, i) => ({ accountId: id, holdId: `${id}-${name}-${i}`, amount: 50 }));
        next = trouble;
        const results = await Promise.all(refs.map((ref) => ledger.hold({ ...ref, deadline: 99_999, at: 10 })));
        return results.map((r) => r.ok && r.replay);
      };
      // Refused: nothing was held, so each hold is new.
      expect(await wave("refused", "refuse")).toEqual([false, false, false, false]);
      expect(await books(ledger, id)).toEqual([800, 200, 1]);
      // Lost: the group's write was applied, so each one's own write finds its hold there: held once, as a replay.
      expect(await wave("lost", "lose")).toEqual([true, true, true, true]);
      expect(await books(ledger, id)).toEqual([600, 400, 1]);
    } finally {
      base.destroy();
    }
  });

  it("writes each settle alone after a lost response too: each finds its hold settled, charged once", async () => {
    const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    let lose = false;
    base.middlewareStack.add(
      (handler, context) => async (args) => {
        if (!lose || context.commandName !== "UpdateItemCommand") return handler(args);
        lose = false;
        await handler(args);
        throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
      },
      { step: "initialize", name: "loseOnce" },
    );
    const ledger = new DynamoLedger({ db: createDynamoDocumentClient(base), table: LEDGER, rollupAt: 1000 });
    try {
      const id = await account(ledger, 1000);
      const refs = Array.from({ length: 4 }, (_, i) => ({ accountId: id, holdId: `${id}-${i}`, amount: 50 }));
      for (const ref of refs) await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true });
      lose = true;
      const settled = await Promise.all(refs.map((ref, i) => ledger.capture(ref, 10 + i, 20)));
      expect(settled.map((r) => r.ok && [r.hold.status, r.hold.captureAmount])).toEqual([
        ["captured", 10],
        ["captured", 11],
        ["captured", 12],
        ["captured", 13],
      ]);
      expect(await books(ledger, id)).toEqual([1000 - 46, 0, 1 + 46]);
    } finally {
      base.destroy();
    }
  });

  it("fails a throttled group's holds without a write per entry on the throttled item", async () => {
    const base = createDynamoClient({ ...emulatorClientOptions(emulators.dynamoEndpoint), maxAttempts: 1 });
    let throttle = false;
    let accountWrites = 0;
    base.middlewareStack.add(
      (handler, context) => async (args) => {
        if (context.commandName !== "UpdateItemCommand") return handler(args);
        accountWrites++;
        if (!throttle) return handler(args);
        throttle = false;
        throw Object.assign(new Error("Throughput exceeds the current capacity"), { name: "ThrottlingException" });
      },
      { step: "initialize", name: "throttleOnce" },
    );
    const ledger = new DynamoLedger({ db: createDynamoDocumentClient(base), table: LEDGER, rollupAt: 1000 });
    try {
      const id = await account(ledger, 1000);
      const refs = Array.from({ length: 4 }, (_, i) => ({ accountId: id, holdId: `${id}-${i}`, amount: 50 }));
      throttle = true;
      const before = accountWrites;
      const results = await Promise.allSettled(refs.map((ref) => ledger.hold({ ...ref, deadline: 99_999, at: 10 })));
      expect(results.map((r) => (r.status === "rejected" ? (r.reason as Error).name : "held"))).toEqual(
        Array(4).fill("ThrottlingException"),
      );
      expect(accountWrites - before).toBe(1);
      expect(await books(ledger, id)).toEqual([1000, 0, 1]);
    } finally {
      base.destroy();
    }
  });

  it("with groupMax 1 writes each at once, side by side, as before grouping; refuses groups past the expressions' limits", async () => {
    const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    let inFlight = 0;
    let most = 0;
    base.middlewareStack.add(
      (handler, context) => async (args) => {
        if (context.commandName !== "UpdateItemCommand") return handler(args);
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 20));
          return await handler(args);
        } finally {
          inFlight--;
        }
      },
      { step: "initialize", name: "inFlight" },
    );
    try {
      for (const [groupMax, expected] of [
        [1, 4],
        [ACCOUNT_GROUP_MAX, 1],
      ] as const) {
        const ledger = new DynamoLedger({
          db: createDynamoDocumentClient(base),
          table: LEDGER,
          rollupAt: 1000,
          groupMax,
        });
        const id = await account(ledger, 1000);
        most = 0;
        const refs = Array.from({ length: 4 }, (_, i) => ({ accountId: id, holdId: `${id}-${i}`, amount: 50 }));
        const held = await Promise.all(
          refs.map((ref) => ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })),
        );
        expect(held.every((h) => h.ok)).toBe(true);
        expect([groupMax, most]).toEqual([groupMax, expected]);
      }
    } finally {
      base.destroy();
    }
    expect(() => new DynamoLedger({ db: createDynamoDocumentClient(client), table: LEDGER, groupMax: 33 })).toThrow(
      /1 to 32 entries/,
    );
  });
});
