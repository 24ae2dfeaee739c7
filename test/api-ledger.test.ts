import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { isConditionalCheckFailed } from "../adapters/tables/dynamo.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoKeyStore } from "../adapters/tables/keys.ts";
import { type CrashStep, DynamoLedger, LedgerFullError, SimulatedCrash } from "../adapters/tables/ledger.ts";
import { describeLedgerContract } from "../adapters/tables/ledger-contract.ts";
import { accountIndexKeys, DUPLICATE_CHECK_AFTER_MS, ROLLUP_AT } from "../adapters/tables/ledger-holds.ts";
import {
  accountKey,
  creditKey,
  holdKey,
  MAX_APPLIED,
  openIndexKeys,
  PRUNE_EVERY,
} from "../adapters/tables/ledger-items.ts";
import {
  deleteOpenMarker,
  ORPHAN_MARKER_AFTER_MS,
  openMarkerKey,
  putOpenMarker,
} from "../adapters/tables/ledger-open-marker.ts";
import { PAYEE_SHARDS, payeeShardKey } from "../adapters/tables/ledger-shares.ts";
import { LedgerBusyError } from "../core/billing/errors.ts";
import { PLATFORM_PAYEE } from "../core/billing/schema.ts";
import { generateApiKey } from "../core/keys/api-key.ts";
import { DIGITS_PRICE } from "../functions/api/testing/digits-catalog.ts";
import { answerQueuedJobs } from "../functions/api/testing/fake-experts.ts";
import { digitInput, harness } from "../functions/api/testing/harness.ts";
import { KEYS_TABLE, LEDGER_TABLE, TABLES } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

let emulators: Emulators;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const PREFIX = "apiledger-";
const LEDGER = `${PREFIX}${LEDGER_TABLE.name}`;

beforeAll(async () => {
  emulators = await startEmulators();
  client = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  doc = createDynamoDocumentClient(client);
  await ensureTables(client, PREFIX, TABLES, { logger: () => {} });
});

afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

describeLedgerContract("DynamoLedger on dynalite", () => new DynamoLedger({ db: doc, table: LEDGER }));

const raw = async (key: { pk: string; sk: string }) =>
  (await doc.send(new GetCommand({ TableName: LEDGER, Key: key, ConsistentRead: true }))).Item;
const mapSize = async (key: { pk: string; sk: string }, name: string) =>
  Object.keys(((await raw(key))?.[name] ?? {}) as Record<string, unknown>).length;
const unique = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
/** The two payees of the property test of concurrent settles (its other writer's settlements pay the first). */
const PROPERTY_PAYEES = [unique("hk-x"), unique("hk-y")] as const;

/** A document client whose DynamoDB calls are counted by command (BatchWriteItem: per item, as billed). */
function countingDoc() {
  const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  const counts: Record<string, number> = {};
  base.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName).replace(/Command$/, "");
      if (name !== "BatchWriteItem") {
        counts[name] = (counts[name] ?? 0) + 1;
        return next(args);
      }
      // A batch write counts its items, the payees' journal pages apart from the durable records, and itself.
      type Put = { PutRequest?: { Item?: { pk?: unknown } } };
      const items = (args.input as { RequestItems?: Record<string, Put[]> }).RequestItems ?? {};
      for (const put of Object.values(items).flat()) {
        const kind = String(put.PutRequest?.Item?.pk ?? "").startsWith("PAYEE#") ? "BatchWriteItem PAYEE" : name;
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      counts["BatchWriteItem calls"] = (counts["BatchWriteItem calls"] ?? 0) + 1;
      return next(args);
    },
    { step: "initialize", name: "ledgerCallCounter" },
  );
  const take = () => {
    const out = { ...counts };
    for (const k of Object.keys(counts)) delete counts[k];
    return out;
  };
  return { doc: createDynamoDocumentClient(base), take, destroy: () => base.destroy() };
}

describe("DynamoDB calls per paid query (issue 17)", () => {
  it("a hold is one write (and a read unless its id is fresh), a capture with its split one; a rollup of 16 a handful", async () => {
    const counting = countingDoc();
    try {
      const ledger = new DynamoLedger({ db: counting.doc, table: LEDGER });
      const id = unique("count");
      await ledger.openAccount(id, "t", 1);
      await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 10_000, at: 1 });
      const [a, b] = [unique("hk-a"), unique("hk-b")];
      const split = (i: number) => ({
        task: "digits",
        shares: [
          { payee: a, amount: 6 + (i % 2), uid: 1 },
          { payee: b, amount: 3, uid: 2 },
          { payee: PLATFORM_PAYEE, amount: 1 },
        ],
      });
      // The payees' items exist already, on every shard (a payee's first credit on a shard creates it: a one-off
      // write; a batch's id, which picks the shard, is new each time).
      await ledger.creditShares({ requestId: `first-${id}`, at: 1, shares: split(0).shares });
      for (const payee of [a, b, PLATFORM_PAYEE]) {
        for (let shard = 0; shard < PAYEE_SHARDS; shard++) {
          const item = {
            ...payeeShardKey(payee, shard),
            payee,
            balance: 0,
            applied: {},
            appliedCount: 0,
            createdAt: 1,
          };
          await doc
            .send(new PutCommand({ TableName: LEDGER, Item: item, ConditionExpression: "attribute_not_exists(pk)" }))
            .catch((e: unknown) => {
              if (!isConditionalCheckFailed(e)) throw e;
            });
        }
      }
      counting.take();
      const perQuery: Record<string, number>[] = [];
      for (let i = 0; i < ROLLUP_AT; i++) {
        const ref = { accountId: id, holdId: `${id}-${i}`, amount: 20 };
        // The API's random request ids are fresh; an Idempotency-Key's id is not (odd ones here).
        await ledger.hold({ ...ref, deadline: 99_999, at: 1000 + i, freshId: i % 2 === 0 });
        const hold = counting.take();
        const captured = await ledger.capture(ref, 10 + (i % 2), 2000 + i, split(i));
        expect(captured.ok).toBe(true);
        // The 16th settle's rollup runs in the background; its calls are counted with that settle.
        await ledger.drain();
        perQuery.push(hold, counting.take());
      }
      // Before: a hold was 4 writes and a settle with its shares 13 writes and a read (hold item, account, journal,
      // hold state, a split item, each payee's balance and journal).
      // The account's first hold also puts its open-hold marker (ledger-open-marker.ts): a refused write, a read, the
      // marker, the hold; later holds are one write again.
      expect(perQuery.slice(0, 4)).toEqual([
        { UpdateItem: 2, GetItem: 1, PutItem: 1 },
        { UpdateItem: 1 },
        { UpdateItem: 1, GetItem: 1 },
        { UpdateItem: 1 },
      ]);
      // The 16th settle rolled the account's 16 settled holds up: start and finish on the account, the 16 durable
      // records in one call, each of the 3 payees' balances once, and their 3 journal pages in one call. No read:
      // the settle's write returned the account.
      expect(perQuery.at(-1)).toEqual({
        UpdateItem: 1 + 2 + 3,
        BatchWriteItem: ROLLUP_AT,
        "BatchWriteItem PAYEE": 3,
        "BatchWriteItem calls": 2,
      });
      const writes = perQuery.reduce(
        (t, c) =>
          t + (c.UpdateItem ?? 0) + (c.PutItem ?? 0) + (c.BatchWriteItem ?? 0) + (c["BatchWriteItem PAYEE"] ?? 0),
        0,
      );
      const reads = perQuery.reduce((t, c) => t + (c.GetItem ?? 0) + (c.Query ?? 0) + (c.BatchGetItem ?? 0), 0);
      expect([writes / ROLLUP_AT, reads / ROLLUP_AT]).toEqual([
        2 + (2 + 2 + 3 + 3 + ROLLUP_AT) / ROLLUP_AT,
        0.5 + 1 / 16,
      ]);
      // And the money is where it should be.
      expect(await ledger.payeeBalance(b)).toBe(3 * ROLLUP_AT + 3);
      const account = await ledger.getAccount(id);
      expect([account?.balance, account?.held, account?.spent]).toEqual([10_000 - 168, 0, 168]);
    } finally {
      counting.destroy();
    }
  });
  it("64 concurrent settles on one account archive each hold once: one rollup at a time per process", async () => {
    const counting = countingDoc();
    try {
      const ledger = new DynamoLedger({ db: counting.doc, table: LEDGER });
      const id = unique("busy-settles");
      const payee = unique("hk");
      await ledger.openAccount(id, "t", 1);
      await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 10_000, at: 1 });
      const refs = Array.from({ length: 64 }, (_, i) => ({ accountId: id, holdId: `${id}-${i}`, amount: 20 }));
      for (const ref of refs) await ledger.hold({ ...ref, deadline: 99_999, at: 1000, freshId: true });
      counting.take();
      // As 16 clients' settles arrive: each leaves more than ROLLUP_AT settled holds on the account. Before, every
      // one of them then finished the same batch (idempotently): each durable record and payee credit several times.
      const settles = await Promise.all(
        refs.map((ref, i) => ledger.capture(ref, 10, 2000 + i, { shares: [{ payee, amount: 10 }] })),
      );
      expect(settles.every((r) => r.ok)).toBe(true);
      await ledger.drain();
      await ledger.sweepHolds(3000);
      const calls = counting.take();
      expect(calls.BatchWriteItem).toBe(refs.length);
      expect(await ledger.payeeBalance(payee)).toBe(10 * refs.length);
      const account = await ledger.getAccount(id);
      expect([account?.balance, account?.held, account?.spent]).toEqual([10_000 - 640, 0, 640]);
    } finally {
      counting.destroy();
    }
  });
});

describe("DynamoLedger rollup: payees' journal pages in one batch write", () => {
  it("a batch whose page write fails stays in flight: the next sweep writes every page once, no credit twice", async () => {
    // A client whose BatchWriteItem calls that carry journal pages fail, `failures.left` times.
    const failures = { left: 2 };
    const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    base.middlewareStack.add(
      (next, context) => async (args) => {
        type Put = { PutRequest?: { Item?: { pk?: unknown } } };
        const items = (args.input as { RequestItems?: Record<string, Put[]> }).RequestItems ?? {};
        const pages = Object.values(items)
          .flat()
          .some((put) => String(put.PutRequest?.Item?.pk ?? "").startsWith("PAYEE#"));
        if (String(context.commandName).startsWith("BatchWriteItem") && pages && failures.left > 0) {
          failures.left--;
          throw Object.assign(new Error("simulated throttle"), { name: "ProvisionedThroughputExceededException" });
        }
        return next(args);
      },
      { step: "initialize", name: "failPages" },
    );
    try {
      const failing = new DynamoLedger({ db: createDynamoDocumentClient(base), table: LEDGER });
      const ledger = new DynamoLedger({ db: doc, table: LEDGER });
      const id = unique("pages");
      const [a, b] = [unique("hk-a"), unique("hk-b")];
      await ledger.openAccount(id, "t", 1);
      await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 10_000, at: 1 });
      const shares = [
        { payee: a, amount: 3, uid: 1 },
        { payee: b, amount: 2, uid: 2 },
        { payee: PLATFORM_PAYEE, amount: 1 },
      ];
      for (let i = 0; i < ROLLUP_AT; i++) {
        const ref = { accountId: id, holdId: `${id}-${i}`, amount: 10 };
        expect((await failing.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })).ok).toBe(true);
        expect((await failing.capture(ref, 6, 20 + i, { task: "digits", shares })).ok).toBe(true);
      }
      await failing.drain();
      // The batch's credits are in, its pages are not, and it is still the account's batch in flight.
      expect(await ledger.payeeBalance(a)).toBe(3 * ROLLUP_AT);
      expect(await ledger.shareEntries(a, 100)).toHaveLength(0);
      expect((await raw(accountKey(id)))?.rollup).toBeDefined();
      await failing.sweepHolds(100); // the second failure
      await ledger.sweepHolds(101);
      expect(failures.left).toBe(0);
      for (const [payee, amount] of [
        [a, 3],
        [b, 2],
      ] as const) {
        expect(await ledger.payeeBalance(payee)).toBe(amount * ROLLUP_AT);
        const entries = await ledger.shareEntries(payee, 100);
        expect(new Set(entries.map((e) => e.entryId)).size).toBe(ROLLUP_AT);
        expect(entries).toHaveLength(ROLLUP_AT);
      }
      const account = await ledger.getAccount(id);
      expect([account?.balance, account?.held, account?.spent]).toEqual([10_000 - 6 * ROLLUP_AT, 0, 6 * ROLLUP_AT]);
      expect((await raw(accountKey(id)))?.rollup).toBeUndefined();
    } finally {
      base.destroy();
    }
  });
});

describe("DynamoLedger crash recovery (no transactions)", () => {
  const healthy = () => new DynamoLedger({ db: doc, table: LEDGER });

  it("finishes a rollup exactly once whichever write a crash interrupts (twice), and the books add up", async () => {
    const steps: CrashStep[] = ["creditIntent", "credited", "rollupStarted", "holdsArchived", "payeesCredited"];
    for (const step of steps) {
      const crashing = new DynamoLedger({ db: doc, table: LEDGER, crashAfter: (s) => s === step });
      const ledger = healthy();
      const id = unique(`crash-${step}`);
      const payee = unique("hk");
      await ledger.openAccount(id, "t", 1);
      const credit = { accountId: id, entryId: `c-${id}`, amount: 100, at: 1000, fingerprint: "f" };
      await crashing.credit(credit).catch((e: unknown) => expect(e).toBeInstanceOf(SimulatedCrash));
      expect((await ledger.credit(credit)).ok).toBe(true);
      const refs = [0, 1].map((i) => ({ accountId: id, holdId: `h${i}-${id}`, amount: 40 }));
      for (const ref of refs) expect((await crashing.hold({ ...ref, deadline: 99_999, at: 2000 })).ok).toBe(true);
      const shares = [
        { payee, amount: 20, uid: 3 },
        { payee: PLATFORM_PAYEE, amount: 5 },
      ];
      for (const ref of refs) expect((await crashing.capture(ref, 25, 3000, { shares })).ok).toBe(true);
      // Two sweeps die at the same step (the second repeating the steps before it; one that finds the batch
      // started goes on from there), then one finishes.
      const platformBefore = await ledger.payeeBalance(PLATFORM_PAYEE);
      const deaths = step.startsWith("credit") ? [0, 0] : step === "rollupStarted" ? [1, 0] : [1, 1];
      for (const failed of deaths) expect([step, (await crashing.sweepHolds(4000)).failed]).toEqual([step, failed]);
      const swept = await ledger.sweepHolds(4001);
      expect([step, swept.failed]).toEqual([step, 0]);
      const a = await ledger.getAccount(id);
      expect([step, a?.balance, a?.held, a?.spent]).toEqual([step, 50, 0, 50]);
      expect([step, await ledger.payeeBalance(payee)]).toEqual([step, 40]);
      expect([step, (await ledger.payeeBalance(PLATFORM_PAYEE)) - platformBefore]).toEqual([step, 10]);
      expect((await ledger.shareEntries(payee, 10)).map((e) => e.requestId).sort()).toEqual(
        refs.map((r) => r.holdId).sort(),
      );
      const kinds = (await ledger.entries(id, 20)).map((e) => `${e.kind}:${e.amount}`).sort();
      expect([step, ...kinds]).toEqual([
        step,
        "capture:25",
        "capture:25",
        "credit:100",
        "hold:40",
        "hold:40",
        "release:15",
        "release:15",
      ]);
      // Everything left the account item; the durable records answer for the holds.
      expect([await mapSize(accountKey(id), "holds"), (await raw(accountKey(id)))?.rollup]).toEqual([0, undefined]);
      expect((await raw(holdKey(refs[0]?.holdId ?? "")))?.status).toBe("captured");
      expect((await raw(creditKey(`c-${id}`)))?.status).toBe("applied");
      // A retried capture or hold changes nothing.
      for (const ref of refs) {
        expect(await ledger.capture(ref, 40, 5000, { shares: [{ payee, amount: 40 }] })).toMatchObject({
          ok: true,
          hold: { status: "captured", captureAmount: 25 },
        });
        expect((await ledger.hold({ ...ref, deadline: 99_999, at: 2000 })).ok).toBe(true);
      }
      await ledger.sweepHolds(6000);
      expect([(await ledger.getAccount(id))?.balance, await ledger.payeeBalance(payee)]).toEqual([50, 40]);
    }
  });

  it("a settle's own rollup that crashes leaves the settle done; the sweeper rolls up the rest", async () => {
    const crashing = new DynamoLedger({
      db: doc,
      table: LEDGER,
      rollupAt: 2,
      crashAfter: (s) => s === "holdsArchived",
    });
    const id = unique("settle-rollup");
    const payee = unique("hk");
    await healthy().openAccount(id, "t", 1);
    await healthy().credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
    for (let i = 0; i < 3; i++) {
      const ref = { accountId: id, holdId: `h${i}-${id}`, amount: 10 };
      await crashing.hold({ ...ref, deadline: 99_999, at: 10 });
      expect((await crashing.capture(ref, 10, 20, { shares: [{ payee, amount: 10 }] })).ok).toBe(true);
    }
    expect((await raw(accountKey(id)))?.rollup).toBeDefined();
    await healthy().sweepHolds(30);
    expect([await healthy().payeeBalance(payee), await mapSize(accountKey(id), "holds")]).toEqual([30, 0]);
  });

  it("a hold id debited again after its hold was rolled up (a crash before the hold's check) is given back", async () => {
    const ledger = healthy();
    const id = unique("dup");
    await ledger.openAccount(id, "t", 1);
    await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
    const ref = { accountId: id, holdId: `h-${id}`, amount: 30 };
    await ledger.hold({ ...ref, deadline: 99_999, at: 10 });
    await ledger.capture(ref, 30, 20);
    await ledger.sweepHolds(30);
    expect(await raw(holdKey(ref.holdId))).toBeDefined();
    // What the hold's one write does, left without its check by a crash.
    await doc.send(
      new UpdateCommand({
        TableName: LEDGER,
        Key: accountKey(id),
        UpdateExpression: "SET balance = balance - :a, held = held + :a, holds.#h = :hold, gsi1pk = :pk, gsi1sk = :sk",
        ExpressionAttributeNames: { "#h": ref.holdId },
        ExpressionAttributeValues: {
          ":a": 30,
          ":hold": { amount: 30, deadline: 99_999, createdAt: 40 },
          ":pk": accountIndexKeys(id).gsi1pk,
          ":sk": accountIndexKeys(id).gsi1sk,
        },
      }),
    );
    expect((await ledger.getAccount(id))?.balance).toBe(40);
    // Young holds are not checked (a live hold checks itself); once old enough, the sweeper gives it back.
    await ledger.sweepHolds(50);
    expect((await ledger.getAccount(id))?.balance).toBe(40);
    await ledger.sweepHolds(40 + DUPLICATE_CHECK_AFTER_MS + 1);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([70, 0, 30]);
    expect((await ledger.getHold(ref))?.status).toBe("captured");
    // Caught by the hold itself when it does run its check.
    const again = await ledger.hold({ ...ref, deadline: 99_999, at: 60 });
    expect(again.ok && [again.replay, again.hold.status]).toEqual([true, "captured"]);
    expect((await ledger.getAccount(id))?.balance).toBe(70);
  });

  it("a hold id used before whose new write lands but whose answer is lost is given back too, not taken as new", async () => {
    // The SDK's retry after a lost answer: the write lands, its retry is refused on the hold already there.
    const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    let lose = false;
    const seen: string[] = [];
    base.middlewareStack.add(
      (handler, context) => async (args) => {
        if (!lose || context.commandName !== "UpdateItemCommand") return handler(args);
        lose = false;
        seen.push(
          await handler(args).then(
            () => "landed",
            (e: Error) => e.name,
          ),
        );
        return handler(args);
      },
      { step: "initialize", name: "retryAfterLostAnswer" },
    );
    try {
      const ledger = new DynamoLedger({ db: createDynamoDocumentClient(base), table: LEDGER });
      const id = unique("dup-lost");
      await ledger.openAccount(id, "t", 1);
      await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
      const ref = { accountId: id, holdId: `h-${id}`, amount: 30 };
      await ledger.hold({ ...ref, deadline: 99_999, at: 10 });
      // An open hold keeps the account's marker (the sweep drops an idle account's), so the next hold is one write.
      await ledger.hold({ accountId: id, holdId: `open-${id}`, amount: 10, deadline: 99_999, at: 10 });
      await ledger.capture(ref, 30, 20);
      await ledger.sweepHolds(30);
      expect(await raw(holdKey(ref.holdId))).toBeDefined();
      lose = true;
      // An Idempotency-Key's id again: the earlier, captured hold answers (the API then refuses the request).
      const again = await ledger.hold({ ...ref, deadline: 99_999, at: 60 });
      expect(seen).toEqual(["landed"]);
      expect(again.ok && [again.replay, again.hold.status, again.hold.createdAt]).toEqual([true, "captured", 10]);
      const a = await ledger.getAccount(id);
      expect([a?.balance, a?.held, a?.spent]).toEqual([60, 10, 30]);
      expect(await mapSize(accountKey(id), "holds")).toBe(1);
    } finally {
      base.destroy();
    }
  });
});

describe("the API on DynamoLedger", () => {
  it("a settler that dies right after its capture: a cancel reports the charge, not 'canceled'", async () => {
    let crash = false;
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const capture = ledger.capture.bind(ledger);
    ledger.capture = async (...args) => {
      const r = await capture(...args);
      if (crash) throw new SimulatedCrash("captured");
      return r;
    };
    const h = await harness({ deps: { ledger } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    crash = true;
    const dying = await key.client.job(res.data.id);
    crash = false;
    expect(!dying.ok && dying.status).toBe(500);
    expect((await ledger.getHold({ accountId: key.accountId, holdId: res.data.id }))?.status).toBe("captured");
    const canceled = await key.client.cancel(res.data.id);
    expect(canceled.ok && [canceled.data.status, canceled.data.cost]).toEqual(["succeeded", 2 * DIGITS_PRICE]);
    // Whatever the sweeper finishes later, the account and the stored answer agree.
    await ledger.sweepHolds(Date.now());
    const account = await ledger.getAccount(key.accountId);
    expect([account?.balance, account?.held, account?.spent]).toEqual([8 * DIGITS_PRICE, 0, 2 * DIGITS_PRICE]);
  });
});

describe("DynamoLedger item sizes stay bounded", () => {
  const removeMarker = (key: { pk: string; sk: string }, entryId: string) =>
    doc.send(
      new UpdateCommand({
        TableName: LEDGER,
        Key: key,
        UpdateExpression: "REMOVE #applied.#e",
        ExpressionAttributeNames: { "#applied": "applied", "#e": entryId },
      }),
    );

  it("thousands of sequential holds and captures (with fee shares) keep the account and payee items small", async () => {
    // Small batches, so that each payee shard sees enough of them to be pruned.
    const rollupAt = 4;
    const ledger = new DynamoLedger({ db: doc, table: LEDGER, rollupAt });
    const id = unique("busy");
    const payee = unique("hk");
    const t0 = 1_700_000_000_000;
    await ledger.openAccount(id, "busy", t0);
    await ledger.credit({ accountId: id, entryId: `fund-${id}`, amount: 1_000_000, at: t0 });
    const n = 1500;
    let largest = 0;
    for (let i = 0; i < n; i++) {
      // 10 s apart: 1500 queries span ~4 h, far past every retention; no sweep runs: settles roll up.
      const at = t0 + (i + 1) * 10_000;
      const ref = { accountId: id, holdId: `${id}-${i}`, amount: 10 };
      expect((await ledger.hold({ ...ref, deadline: at + 60_000, at })).ok).toBe(true);
      expect((await ledger.capture(ref, 3, at + 1, { shares: [{ payee, amount: 3, uid: 1 }] })).ok).toBe(true);
      await ledger.drain();
      if (i % 50 === 0) largest = Math.max(largest, await mapSize(accountKey(id), "holds"));
    }
    expect(largest).toBeLessThanOrEqual(rollupAt);
    // The top-up's marker went too (its CREDIT item says applied).
    expect(await mapSize(accountKey(id), "applied")).toBeLessThan(5);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([1_000_000 - 3 * n, 0, 3 * n]);
    await ledger.sweepHolds(t0 + (n + 1) * 10_000);
    expect(await ledger.payeeBalance(payee)).toBe(3 * n);
    // 375 batches over 8 shards, each batch to a shard its random id picks: without pruning the shards would keep
    // all 375 markers (~47 a shard). With it, a shard keeps the markers since its last prune (fewer than PRUNE_EVERY)
    // and those that were still within the retention then: ~100-160 in all, a shard up to ~PRUNE_EVERY (a bound of
    // exactly PRUNE_EVERY failed one run in ten, as the random shards fell).
    const batches = n / rollupAt;
    const sizes = await Promise.all(
      Array.from({ length: PAYEE_SHARDS }, (_, s) => mapSize(payeeShardKey(payee, s), "applied")),
    );
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBeLessThan((2 * batches) / 3);
    expect(Math.max(...sizes)).toBeLessThan(2 * PRUNE_EVERY);
    // A replayed top-up is still answered from its CREDIT item, not applied again.
    const replay = await ledger.credit({ accountId: id, entryId: `fund-${id}`, amount: 1_000_000, at: t0 });
    expect(replay.ok && [replay.replay, replay.account.balance]).toEqual([true, 1_000_000 - 3 * n]);
  });

  it("keeps payee shards small under a steady stream of fee shares", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const payee = unique("hk");
    const t0 = 1_700_000_000_000;
    const n = 600;
    for (let i = 0; i < n; i++) {
      const r = await ledger.creditShares({
        requestId: `${payee}-r${i}`,
        at: t0 + i * 10_000,
        shares: [{ payee, amount: 2, uid: 1 }],
      });
      expect(r.ok).toBe(true);
    }
    // Without pruning each of the 8 shards would hold ~75 markers.
    const sizes = await Promise.all(
      Array.from({ length: PAYEE_SHARDS }, (_, s) => mapSize(payeeShardKey(payee, s), "applied")),
    );
    expect(Math.max(...sizes)).toBeLessThan(50);
    expect(await ledger.payeeBalance(payee)).toBe(2 * n);
    // A replay of an early request whose marker is long gone credits nothing.
    const again = await ledger.creditShares({
      requestId: `${payee}-r0`,
      at: t0,
      shares: [{ payee, amount: 2, uid: 1 }],
    });
    expect(again.ok && again.replay).toBe(true);
    expect(await ledger.payeeBalance(payee)).toBe(2 * n);
  });

  it("a top-up replayed after its marker is gone is not applied twice", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("topup");
    await ledger.openAccount(id, "t", 1);
    const first = await ledger.credit({ accountId: id, entryId: `k-${id}`, amount: 50, at: 10, fingerprint: "f" });
    expect(first.ok && first.replay).toBe(false);
    await removeMarker(accountKey(id), `k-${id}`);
    const again = await ledger.credit({ accountId: id, entryId: `k-${id}`, amount: 50, at: 11, fingerprint: "f" });
    expect(again.ok && [again.replay, again.account.balance, again.entry.amount]).toEqual([true, 50, 50]);
    expect((await ledger.entries(id, 10)).filter((e) => e.kind === "credit").length).toBe(1);
  });

  it("an account opened before holds moved onto it gets its maps on its first hold", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("old");
    const account = { accountId: id, name: "t", balance: 100, held: 0, spent: 0, createdAt: 1 };
    await doc.send(new PutCommand({ TableName: LEDGER, Item: { ...accountKey(id), ...account, applied: {} } }));
    const ref = { accountId: id, holdId: `h-${id}`, amount: 30 };
    expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10 })).ok).toBe(true);
    expect((await ledger.capture(ref, 10, 20)).ok).toBe(true);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([90, 0, 10]);
  });

  it("the sweeper moves open holds of the earlier ledger (hold items, account markers) onto their accounts", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("legacy");
    const [held, capturing, pending] = ["held", "capturing", "pending"].map((s) => `${s}-${id}`) as [
      string,
      string,
      string,
    ];
    // That ledger's state: 30 + 20 debited (markers are numbers), the pending hold never debited.
    const account = { accountId: id, name: "t", balance: 50, held: 50, spent: 0, createdAt: 1 };
    const applied = { [`hold:${held}`]: 10, [`hold:${capturing}`]: 10 };
    await doc.send(new PutCommand({ TableName: LEDGER, Item: { ...accountKey(id), ...account, applied } }));
    const old = (holdId: string, status: string, amount: number, extra: Record<string, unknown> = {}) =>
      putLegacyHold(id, holdId, { amount, status, deadline: 99_999, ...extra });
    await old(held, "held", 30);
    await old(capturing, "capturing", 20, { captureAmount: 15, settledAt: 20 });
    await old(pending, "pending", 40);
    // (The sweep covers the whole table: other tests' accounts count too.)
    const report = await ledger.sweepHolds(30);
    expect(report.failed).toBe(0);
    expect(report.finished).toBeGreaterThanOrEqual(3);
    expect((await ledger.openHolds(id)).map((h) => [h.holdId, h.amount])).toEqual([[held, 30]]);
    expect(await raw(holdKey(pending))).toBeUndefined();
    expect(await ledger.getAccount(id)).toMatchObject({ balance: 55, held: 30, spent: 15 });
    // From here on it is an ordinary hold.
    expect((await ledger.capture({ accountId: id, holdId: held, amount: 30 }, 30, 40)).ok).toBe(true);
    await ledger.sweepHolds(50);
    expect(await ledger.getAccount(id)).toMatchObject({ balance: 55, held: 0, spent: 45 });
    expect((await ledger.getHold({ accountId: id, holdId: capturing }))?.status).toBe("captured");
    expect((await ledger.entries(id, 10)).map((e) => `${e.kind}:${e.amount}`).sort()).toEqual([
      "capture:15",
      "capture:30",
      "hold:20",
      "hold:30",
      "release:5",
    ]);
  });

  it("refuses a new hold with LedgerFullError (not a ValidationException) when the account holds too many", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("full");
    // Open holds are never rolled up: MAX_APPLIED of them fill the account for good.
    const open = { amount: 1, deadline: 99_999, createdAt: 5 };
    const holds = Object.fromEntries(Array.from({ length: MAX_APPLIED }, (_, i) => [`x${i}`, open]));
    const account = { accountId: id, name: "t", balance: 1000, held: MAX_APPLIED, spent: 0, createdAt: 1 };
    await doc.send(
      new PutCommand({ TableName: LEDGER, Item: { ...accountKey(id), ...account, applied: {}, holds, settled: {} } }),
    );
    const hold = { holdId: `h-${id}`, accountId: id, amount: 1, deadline: 99_999, at: 10 };
    await expect(ledger.hold(hold)).rejects.toBeInstanceOf(LedgerFullError);
    // The API sees it through the port-level class (it never imports the adapter).
    await expect(ledger.hold(hold)).rejects.toBeInstanceOf(LedgerBusyError);
    // Nothing was debited and the hold id is free.
    expect(await ledger.getHold({ accountId: id, holdId: hold.holdId })).toBeNull();
    expect((await ledger.getAccount(id))?.balance).toBe(1000);
    // Top-ups still go through.
    expect((await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 5, at: 11 })).ok).toBe(true);
    // The refused hold put the account's open-hold marker: every later sweep of this shared table past the holds'
    // deadline would release all 2,000 of them (~20 s). Gone with the account.
    await doc.send(new DeleteCommand({ TableName: LEDGER, Key: openMarkerKey(id) }));
    await doc.send(new DeleteCommand({ TableName: LEDGER, Key: accountKey(id) }));
  });
});

describe("DynamoLedger's open-hold markers (the account item stays off the sweeper's index)", () => {
  const ledger = () => new DynamoLedger({ db: doc, table: LEDGER });
  const funded = async (p: string, amount = 100) => {
    const id = unique(p);
    await ledger().openAccount(id, "t", 1);
    await ledger().credit({ accountId: id, entryId: `c-${id}`, amount, at: 1 });
    return id;
  };

  it("an account with holds has no index keys; its marker has them, and goes with its generation once idle", async () => {
    const id = await funded("mark");
    await ledger().hold({ accountId: id, holdId: `h-${id}`, amount: 30, deadline: 100, at: 10 });
    const account = await raw(accountKey(id));
    expect(account?.gsi1pk).toBeUndefined();
    expect(typeof account?.openGen).toBe("string");
    const marker = await raw(openMarkerKey(id));
    expect(marker).toMatchObject({ gen: account?.openGen, gsi1pk: accountIndexKeys(id).gsi1pk, gsi1sk: id });
    // The sweeper finds the account through the marker: it releases the expired hold, then the account is idle.
    const swept = await ledger().sweepHolds(200);
    expect(swept.released).toBe(1);
    expect((await ledger().getAccount(id))?.held).toBe(0);
    expect((await raw(accountKey(id)))?.openGen).toBeUndefined();
    expect(await raw(openMarkerKey(id))).toBeUndefined();
    // The next hold puts a new generation.
    await ledger().hold({ accountId: id, holdId: `h2-${id}`, amount: 30, deadline: 300, at: 210 });
    const again = (await raw(accountKey(id)))?.openGen;
    expect(again).not.toBe(account?.openGen);
    expect((await raw(openMarkerKey(id)))?.gen).toBe(again);
  });

  it("a hold that comes between the sweeper's two writes keeps its account on the index", async () => {
    const id = await funded("race");
    await ledger().hold({ accountId: id, holdId: `h-${id}`, amount: 30, deadline: 99_999, at: 10 });
    const seen = String((await raw(accountKey(id)))?.openGen);
    // The sweeper's first write, as on an idle account: the generation it read is removed from the account...
    await doc.send(new UpdateCommand({ TableName: LEDGER, Key: accountKey(id), UpdateExpression: "REMOVE openGen" }));
    // ...a hold comes in: with no generation on the account, it puts a marker of its own and names it...
    await ledger().hold({ accountId: id, holdId: `h2-${id}`, amount: 30, deadline: 99_999, at: 20 });
    const current = String((await raw(accountKey(id)))?.openGen);
    expect(current).not.toBe(seen);
    // ...and the sweeper's second write, for the generation it had seen, leaves the newer marker.
    expect(await deleteOpenMarker({ db: doc, table: LEDGER }, id, { gen: seen })).toBe(false);
    expect((await raw(openMarkerKey(id)))?.gen).toBe(current);
    // A sweep while the holds are open keeps both.
    await ledger().sweepHolds(30);
    expect((await raw(accountKey(id)))?.openGen).toBe(current);
    expect((await raw(openMarkerKey(id)))?.gen).toBe(current);
  });

  it("a marker whose account names no generation is kept while young and deleted once old", async () => {
    const id = await funded("orphan");
    const marker = await putOpenMarker({ db: doc, table: LEDGER }, id, 1000);
    await ledger().sweepHolds(1000 + ORPHAN_MARKER_AFTER_MS);
    expect((await raw(openMarkerKey(id)))?.gen).toBe(marker.gen);
    await ledger().sweepHolds(1001 + ORPHAN_MARKER_AFTER_MS);
    expect(await raw(openMarkerKey(id))).toBeUndefined();
  });

  it("a hold refused for want of credit puts no marker", async () => {
    const id = await funded("poor", 10);
    const refused = await ledger().hold({ accountId: id, holdId: `h-${id}`, amount: 30, deadline: 99_999, at: 10 });
    expect(refused).toMatchObject({ ok: false, reason: "insufficient" });
    expect(await raw(openMarkerKey(id))).toBeUndefined();
  });

  it("an account on the index itself (before markers) is swept as before, and its next hold moves it to a marker", async () => {
    const id = await funded("legacy");
    // A hold as the ledger wrote it before markers: the account item itself carries the index keys.
    await doc.send(
      new UpdateCommand({
        TableName: LEDGER,
        Key: accountKey(id),
        UpdateExpression:
          "SET balance = balance - :a, held = held + :a, holds = :holds, settled = :empty, gsi1pk = :pk, gsi1sk = :sk",
        ExpressionAttributeValues: {
          ":a": 30,
          ":holds": { [`old-${id}`]: { amount: 30, deadline: 100, createdAt: 5 } },
          ":empty": {},
          ":pk": accountIndexKeys(id).gsi1pk,
          ":sk": accountIndexKeys(id).gsi1sk,
        },
      }),
    );
    await ledger().hold({ accountId: id, holdId: `new-${id}`, amount: 30, deadline: 99_999, at: 10 });
    const account = await raw(accountKey(id));
    expect([account?.gsi1pk, typeof account?.openGen]).toEqual([undefined, "string"]);
    expect((await raw(openMarkerKey(id)))?.gen).toBe(account?.openGen);
    // The old hold expires and is released through the marker; the new one stays.
    expect((await ledger().sweepHolds(200)).released).toBe(1);
    const after = await ledger().getAccount(id);
    expect([after?.balance, after?.held]).toEqual([70, 30]);
  });
});

describe("DynamoLedger's open-hold markers under concurrent first holds", () => {
  it("a first hold that another first hold overtook is held, not refused for want of credit", async () => {
    // Two first holds on an idle account: both fail the steady write (no generation yet). The second one reads the
    // account only after the first has put its marker and named it: it has the credit, and must simply hold.
    const hooked = hookedDoc(
      (input) =>
        input.UpdateExpression === undefined &&
        (input.Key as { pk?: string } | undefined)?.pk?.startsWith("ACCT#") === true,
    );
    try {
      const other = new DynamoLedger({ db: doc, table: LEDGER });
      const id = unique("overtaken");
      await other.openAccount(id, "t", 1);
      await other.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
      let first: unknown;
      hooked.state.hook = async () => {
        first = await other.hold({ accountId: id, holdId: `a-${id}`, amount: 30, deadline: 99_999, at: 10 });
      };
      const ledger = new DynamoLedger({ db: hooked.doc, table: LEDGER });
      const second = await ledger.hold({ accountId: id, holdId: `b-${id}`, amount: 30, deadline: 99_999, at: 10 });
      expect(first).toMatchObject({ ok: true });
      expect(hooked.state.hook).toBeUndefined();
      expect(second).toMatchObject({ ok: true, replay: false });
      const account = await other.getAccount(id);
      expect([account?.balance, account?.held]).toEqual([40, 60]);
      expect((await raw(openMarkerKey(id)))?.gen).toBe((await raw(accountKey(id)))?.openGen);
    } finally {
      hooked.destroy();
    }
  });

  it("a hold that stalled past the refresh re-puts a marker the sweeper can read", async () => {
    // Every reading of the monotonic clock a minute and a bit later than the one before: the hold re-puts its
    // marker before its write, with `at` moved on by the time that passed.
    let tick = performance.now();
    const clock = vi.spyOn(performance, "now").mockImplementation(() => {
      tick += 60_000.3;
      return tick;
    });
    const id = unique("stalled");
    try {
      const ledger = new DynamoLedger({ db: doc, table: LEDGER });
      await ledger.openAccount(id, "t", 1);
      await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
      expect((await ledger.hold({ accountId: id, holdId: `h-${id}`, amount: 30, deadline: 100, at: 10 })).ok).toBe(
        true,
      );
    } finally {
      clock.mockRestore();
    }
    const marker = await raw(openMarkerKey(id));
    expect(marker?.gen).toBe((await raw(accountKey(id)))?.openGen);
    expect(marker?.at).toBeGreaterThan(10);
    // The sweeper finds the account through that marker and releases the expired hold.
    await new DynamoLedger({ db: doc, table: LEDGER }).sweepHolds(200);
    const account = await new DynamoLedger({ db: doc, table: LEDGER }).getAccount(id);
    expect([account?.balance, account?.held]).toEqual([100, 0]);
  });

  it("a hold that stalled before putting its marker puts it as young as it is: a sweep before its write keeps it", async () => {
    // The monotonic clock stands still except for one stall of 11 minutes, just before the hold puts its marker.
    let stall = 0;
    const real = performance.now.bind(performance);
    const clock = vi.spyOn(performance, "now").mockImplementation(() => real() + stall);
    const start = performance.now();
    const wallNow = (at: number) => at + Math.ceil(performance.now() - start);
    const hooked = hookedDoc(
      (input) =>
        (input.UpdateExpression === undefined && (input.Key as { pk?: string } | undefined)?.pk?.startsWith("ACCT#")) ||
        String(input.UpdateExpression).includes("openGen = :gen"),
    );
    const id = unique("late-put");
    try {
      const other = new DynamoLedger({ db: doc, table: LEDGER });
      await other.openAccount(id, "t", 1);
      await other.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
      hooked.state.hook = async () => {
        // The read after the refused steady write: the process stalls here, before its marker's put...
        stall = ORPHAN_MARKER_AFTER_MS + 60_000;
        hooked.state.hook = async () => {
          // ...and a sweep comes between that put and the hold's write, on a clock that went on meanwhile.
          await other.sweepHolds(wallNow(10));
        };
      };
      const ledger = new DynamoLedger({ db: hooked.doc, table: LEDGER });
      expect((await ledger.hold({ accountId: id, holdId: `h-${id}`, amount: 30, deadline: 100, at: 10 })).ok).toBe(
        true,
      );
      expect(hooked.state.hook).toBeUndefined();
    } finally {
      clock.mockRestore();
      hooked.destroy();
    }
    // The account holds, so its marker must be there: the sweeper releases the expired hold through it.
    expect((await raw(openMarkerKey(id)))?.gen).toBe((await raw(accountKey(id)))?.openGen);
    await new DynamoLedger({ db: doc, table: LEDGER }).sweepHolds(10 + ORPHAN_MARKER_AFTER_MS + 120_000);
    const account = await new DynamoLedger({ db: doc, table: LEDGER }).getAccount(id);
    expect([account?.balance, account?.held]).toEqual([100, 0]);
  });
});

describe("DynamoKeyStore", () => {
  it("finds a key by hash and by id, refuses duplicates, revokes once", async () => {
    const keys = new DynamoKeyStore(doc, `${PREFIX}${KEYS_TABLE.name}`);
    const g = generateApiKey("test");
    const record = {
      keyId: `key_${Date.now()}`,
      accountId: "acct_1",
      name: "n",
      hash: g.hash,
      start: g.start,
      env: "test" as const,
      scopes: ["infer" as const],
      rateLimit: { perMinute: 60, burst: 10 },
      createdAt: 1,
    };
    expect(await keys.create(record)).toBe(true);
    expect(await keys.create(record)).toBe(false);
    expect(await keys.getByHash(g.hash)).toEqual(record);
    expect(await keys.getById(record.keyId)).toEqual(record);
    expect((await keys.revoke(record.keyId, 50))?.revokedAt).toBe(50);
    expect((await keys.revoke(record.keyId, 60))?.revokedAt).toBe(50);
    expect(await keys.getById("key_missing")).toBeNull();
  });
});

/** A document client that runs `hook` once, just before the first DynamoDB call `when` picks (then sends it). */
function hookedDoc(when: (input: Record<string, unknown>) => boolean) {
  const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  const state: { hook?: () => Promise<void> } = {};
  base.middlewareStack.add(
    (next) => async (args) => {
      const hook = state.hook;
      if (hook && when(args.input as Record<string, unknown>)) {
        state.hook = undefined;
        await hook();
      }
      return next(args);
    },
    { step: "initialize", name: "raceHook" },
  );
  return { doc: createDynamoDocumentClient(base), state, destroy: () => base.destroy() };
}

describe("DynamoLedger races between settles, rollups and the sweeper", () => {
  it("a settle whose rollup starts after another rollup took its holds credits no payee twice", async () => {
    // The settle's rollup starts from the account as its own write returned it; meanwhile another settle's rollup
    // (or the sweeper's) rolls those holds up. Map keys carry no order in DynamoDB (here integer-like hold ids come
    // first), so the late batch can be named by another first hold than the one that took its holds.
    const hooked = hookedDoc((input) => input.UpdateExpression === "SET #R = :r");
    try {
      const ledger = new DynamoLedger({ db: hooked.doc, table: LEDGER, rollupAt: 2 });
      const other = new DynamoLedger({ db: doc, table: LEDGER, rollupAt: 2 });
      const id = unique("stale-rollup");
      const payee = unique("hk");
      await ledger.openAccount(id, "t", 1);
      await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
      const base = 1_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
      const numbered = (n: number) => ({ accountId: id, holdId: String(base + n), amount: 10 });
      const a = numbered(20);
      const b = numbered(30);
      const c = numbered(10);
      for (const ref of [a, b, c]) expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10 })).ok).toBe(true);
      const split = { shares: [{ payee, amount: 5 }] };
      expect((await ledger.capture(a, 10, 20, split)).ok).toBe(true);
      // b's settle makes two settled holds: its rollup is about to start when c's settle rolls all three up.
      let hookFailed: unknown;
      hooked.state.hook = async () => {
        try {
          expect((await other.capture(c, 10, 21, split)).ok).toBe(true);
          // c's rollup runs in the background of its settle: done once `other` drains.
          await other.drain();
          expect(await other.payeeBalance(payee)).toBe(15);
        } catch (error) {
          hookFailed = error;
        }
      };
      expect((await ledger.capture(b, 10, 22, split)).ok).toBe(true);
      // b's rollup (and so this hook) runs in the background, which swallows errors: its checks are looked at here.
      await ledger.drain();
      expect(hookFailed).toBeUndefined();
      expect(hooked.state.hook).toBeUndefined();
      await other.sweepHolds(30);
      expect(await other.payeeBalance(payee)).toBe(15);
      const account = await other.getAccount(id);
      expect([account?.balance, account?.held, account?.spent]).toEqual([70, 0, 30]);
      expect((await raw(accountKey(id)))?.rollup).toBeUndefined();
    } finally {
      hooked.destroy();
    }
  });
});

describe("DynamoLedger under concurrent settles, replays and sweeps", () => {
  it("whatever the interleaving, every micro-credit is charged once and shared out once", async () => {
    const payees = PROPERTY_PAYEES;
    const Query = fc.record({
      amount: fc.integer({ min: 1, max: 40 }),
      capture: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
      cut: fc.integer({ min: 0, max: 100 }),
      replays: fc.integer({ min: 0, max: 2 }),
      // Also settled, racing this ledger's settles, by another writer: as a map (before packing), or in a form this
      // version cannot read (the hold then stays on the account, its shares uncredited, its charge taken).
      other: fc.constantFrom(undefined, "map", "unreadable"),
      otherFirst: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(Query, { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 2 }),
        async (qs, sweeps) => {
          const ledger = new DynamoLedger({ db: doc, table: LEDGER, rollupAt: 2 });
          const id = unique("concurrent");
          await ledger.openAccount(id, "t", 1);
          await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 1000, at: 1 });
          const before = await Promise.all(payees.map((p) => ledger.payeeBalance(p)));
          // Integer-like ids, later ones smaller: map keys then come in another order than the settles (DynamoDB's
          // maps have none), as a rollup must not rely on.
          const base = 1_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
          const refs = qs.map((q, i) => ({ accountId: id, holdId: String(base + 99 - i), amount: q.amount }));
          await Promise.all(refs.map((ref) => ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })));
          const splitOf = (charged: number, cut: number) => {
            const first = Math.floor((charged * cut) / 100);
            return {
              shares: [
                { payee: payees[0] ?? "", amount: first },
                { payee: payees[1] ?? "", amount: charged - first },
              ],
            };
          };
          // Each settle and its replays race each other, the other queries' settles and the sweeps.
          await Promise.all([
            ...qs.flatMap((q, i): Promise<unknown>[] => {
              const ref = refs[i] ?? { accountId: id, holdId: "none", amount: 0 };
              const charged = Math.min(q.amount, q.capture ?? 0);
              const settle = () =>
                q.capture === undefined
                  ? ledger.release(ref, 20)
                  : ledger.capture(ref, charged, 20, splitOf(charged, q.cut));
              const other = () =>
                settleIfOpen(ref, charged, q.capture === undefined ? "released" : "captured", q.other);
              const mine = () => Array.from({ length: 1 + q.replays }, settle);
              if (!q.other) return mine();
              // Started together, this ledger's settle wins the race: first, the other writer's settlement stands.
              // A settle of a hold settled unreadably fails (UnreadableSettlementError): the books below still add up.
              const tolerant = () => mine().map((p) => (q.other === "unreadable" ? p.catch(() => undefined) : p));
              return q.otherFirst ? [other().then(() => Promise.all(tolerant()))] : [...tolerant(), other()];
            }),
            ...Array.from({ length: sweeps }, () => ledger.sweepHolds(30)),
          ]);
          await ledger.sweepHolds(40);
          await ledger.sweepHolds(100_000);
          const chargeOf = (q: (typeof qs)[number]) => (q.capture === undefined ? 0 : Math.min(q.amount, q.capture));
          const charged = qs.reduce((t, q) => t + chargeOf(q), 0);
          const a = await ledger.getAccount(id);
          expect([a?.balance, a?.held, a?.spent]).toEqual([1000 - charged, 0, charged]);
          // Left on the account: exactly the holds whose unreadable settlement won the race, none of them paid out.
          const left = Object.keys(((await raw(accountKey(id)))?.holds ?? {}) as Record<string, unknown>);
          const kept = qs.filter((_q, i) => left.includes(refs[i]?.holdId ?? ""));
          expect(kept.every((q) => q.other === "unreadable")).toBe(true);
          const paid = charged - kept.reduce((t, q) => t + chargeOf(q), 0);
          const after = await Promise.all(payees.map((p) => ledger.payeeBalance(p)));
          expect((after[0] ?? 0) + (after[1] ?? 0) - (before[0] ?? 0) - (before[1] ?? 0)).toBe(paid);
          // Every id stays debited once: a hold again is a replay, whoever settled it.
          for (const ref of refs) {
            const again = await ledger.hold({ ...ref, deadline: 99_999, at: 50 });
            expect(again.ok && again.replay).toBe(true);
          }
          expect((await ledger.getAccount(id))?.balance).toBe(1000 - charged);
        },
      ),
      { numRuns: 12, seed: 1706 },
    );
  });
});

type HoldRefLike = { accountId: string; holdId: string; amount: number };

/**
 * Settles an open hold as another writer would, on the same condition as the ledger's settle: its settlement a map
 * (as before packing) or a packed form with a field more than this version reads. The split pays `charged` to one
 * payee of the property test below (its payees are named in the settlement, so a readable one pays them).
 */
async function settleIfOpen(
  ref: HoldRefLike,
  charged: number,
  status: "captured" | "released",
  form: "map" | "unreadable" | undefined,
  payee = PROPERTY_PAYEES[0],
) {
  const shares = status === "captured" ? [{ payee, amount: charged }] : [];
  const take = status === "captured" ? charged : 0;
  const value =
    form === "map"
      ? { status, ...(status === "captured" ? { captureAmount: take } : {}), settledAt: 20, shares }
      : JSON.stringify([
          status,
          status === "captured" ? take : null,
          20,
          null,
          shares.map((x) => [x.payee, x.amount]),
          1,
        ]);
  await doc
    .send(
      new UpdateCommand({
        TableName: LEDGER,
        Key: accountKey(ref.accountId),
        UpdateExpression: "SET held = held - :held, spent = spent + :charged, balance = balance + :back, #S.#h = :s",
        ConditionExpression: "#H.#h.amount = :held AND attribute_not_exists(#S.#h)",
        ExpressionAttributeNames: { "#H": "holds", "#S": "settled", "#h": ref.holdId },
        ExpressionAttributeValues: { ":held": ref.amount, ":charged": take, ":back": ref.amount - take, ":s": value },
      }),
    )
    .catch((e: unknown) => {
      if (!isConditionalCheckFailed(e)) throw e;
    });
}

/** A ledger that rolls up only in sweeps, and a new account on it funded with 1,000. */
async function fundedAccount(name: string) {
  const ledger = new DynamoLedger({ db: doc, table: LEDGER, rollupAt: 100 });
  const id = unique(name);
  await ledger.openAccount(id, "t", 1);
  await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 1000, at: 1 });
  return { ledger, id };
}

/** A rollup batch of `holdIds` put in flight on the account by hand (as a finisher that died after starting it). */
async function putBatchInFlight(accountId: string, holdIds: readonly string[]) {
  await doc.send(
    new UpdateCommand({
      TableName: LEDGER,
      Key: accountKey(accountId),
      UpdateExpression: "SET #R = :r",
      ExpressionAttributeNames: { "#R": "rollup" },
      ExpressionAttributeValues: { ":r": { id: `roll:${accountId}:${holdIds[0]}`, at: 25, holdIds } },
    }),
  );
}

/**
 * A capture of `charged` from a hold of `held` written straight onto the account, its settlement stored as `value`:
 * what another version of the ledger (a map before packing, a packed form this one cannot read) leaves there.
 */
async function settleByHand(accountId: string, holdId: string, held: number, charged: number, value: unknown) {
  await doc.send(
    new UpdateCommand({
      TableName: LEDGER,
      Key: accountKey(accountId),
      UpdateExpression: "SET held = held - :held, spent = spent + :charged, balance = balance + :back, #S.#h = :s",
      ExpressionAttributeNames: { "#S": "settled", "#h": holdId },
      ExpressionAttributeValues: { ":held": held, ":charged": charged, ":back": held - charged, ":s": value },
    }),
  );
}

describe("DynamoLedger: settlements packed on the account item", () => {
  it("a settle stores its settlement as one string; settlements stored as maps before are rolled up alongside", async () => {
    const { ledger, id } = await fundedAccount("packed");
    const [payee, before] = [unique("hk"), unique("hk-before")];
    const packed = { accountId: id, holdId: `packed-${id}`, amount: 30 };
    const mapped = { accountId: id, holdId: `mapped-${id}`, amount: 50 };
    for (const ref of [packed, mapped]) {
      expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })).ok).toBe(true);
    }
    expect((await ledger.capture(packed, 20, 20, { task: "digits", shares: [{ payee, amount: 20, uid: 3 }] })).ok).toBe(
      true,
    );
    // `mapped` captured as the ledger did before packing: 40 of its 50, its split a map on the account.
    await settleByHand(id, mapped.holdId, 50, 40, {
      status: "captured",
      captureAmount: 40,
      settledAt: 21,
      shares: [{ payee: before, amount: 40 }],
    });
    const settled = (await raw(accountKey(id)))?.settled as Record<string, unknown>;
    expect(typeof settled[packed.holdId]).toBe("string");
    expect(await ledger.getHold(mapped)).toMatchObject({ status: "captured", captureAmount: 40, settledAt: 21 });
    expect(await ledger.getHold(packed)).toMatchObject({ status: "captured", captureAmount: 20, settledAt: 20 });
    await ledger.sweepHolds(30);
    expect(await mapSize(accountKey(id), "settled")).toBe(0);
    expect([await ledger.payeeBalance(payee), await ledger.payeeBalance(before)]).toEqual([20, 40]);
    // Their durable records answer for them now.
    expect(await ledger.getHold(mapped)).toMatchObject({ status: "captured", captureAmount: 40 });
    expect(await ledger.getHold(packed)).toMatchObject({ status: "captured", captureAmount: 20 });
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([940, 0, 60]);
  });
});

describe("DynamoLedger: a settlement it could not read back", () => {
  it("is never stored: a rollup forgot such a hold (no record, nobody paid) and a replay of its id was charged again", async () => {
    const { ledger, id } = await fundedAccount("unreadable");
    // More shares than a packed settlement reads back (validSplit let them through); a settle time that is not
    // a whole millisecond (no split rule covers it: DynamoLedger stores the millisecond it falls in, wholeMs).
    const many = Array.from({ length: 1001 }, (_, i) => ({ payee: `hk-${i}-${id}`, amount: 0 }));
    const attempts = [
      { at: 20, split: { task: "digits", shares: many } },
      { at: 20.5, split: { task: "digits", shares: [{ payee: `hk-${id}`, amount: 10, uid: 1 }] } },
    ];
    let charged = 0;
    for (const [i, { at, split }] of attempts.entries()) {
      const hold = { accountId: id, holdId: `h${i}-${id}`, amount: 50, deadline: 99_999, at: 10 };
      expect((await ledger.hold(hold)).ok).toBe(true);
      const capture = await ledger.capture(hold, 40, at, split);
      // A settle reported as done must be one: never a success that left the hold looking open.
      if (capture.ok) expect(capture.hold.status).toBe("captured");
      charged += capture.ok ? 40 : 0;
      await ledger.sweepHolds(30);
      const again = await ledger.hold({ ...hold, at: 40 });
      expect(again.ok && again.replay).toBe(true);
    }
    const a = await ledger.getAccount(id);
    expect((a?.balance ?? 0) + (a?.held ?? 0) + (a?.spent ?? 0)).toBe(1000);
    expect(a?.spent).toBe(charged);
  });
});

describe("DynamoLedger: a stored settlement this version cannot read", () => {
  // E.g. written by another version of the ledger during a deploy or after a rollback, or damaged by hand.
  async function accountWithForeignSettlement(name: string) {
    const { ledger, id } = await fundedAccount(name);
    const foreign = { accountId: id, holdId: `foreign-${id}`, amount: 50, deadline: 99_999, at: 10 };
    const plain = { accountId: id, holdId: `plain-${id}`, amount: 30, deadline: 99_999, at: 10 };
    for (const hold of [foreign, plain]) expect((await ledger.hold({ ...hold, freshId: true })).ok).toBe(true);
    expect((await ledger.capture(plain, 20, 20)).ok).toBe(true);
    // `foreign` captured (40 of 50) by a writer whose packed form has a field more than this version reads.
    await settleByHand(id, foreign.holdId, 50, 40, '["captured",40,21,null,[],1]');
    return { ledger, id, foreign, plain };
  }

  async function expectKeptAndRest({
    ledger,
    id,
    foreign,
    plain,
  }: Awaited<ReturnType<typeof accountWithForeignSettlement>>) {
    await ledger.sweepHolds(30);
    await ledger.sweepHolds(100_000);
    expect(await ledger.getHold(plain)).toMatchObject({ status: "captured", captureAmount: 20 });
    const account = await raw(accountKey(id));
    expect(Object.keys(account?.settled as Record<string, unknown>)).toEqual([foreign.holdId]);
    expect(account?.rollup).toBeUndefined();
    const again = await ledger.hold({ ...foreign, at: 40 });
    expect(again.ok && again.replay).toBe(true);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([940, 0, 60]);
  }

  it("stays on the account: a rollup never forgets a hold it cannot archive (a replay of its id would be charged again)", async () => {
    await expectKeptAndRest(await accountWithForeignSettlement("foreign"));
  });

  it("is not open to this version: no sweep asks to release it, and a settle of it fails rather than answer that it is held (a settler then stored its query expired at no cost though the client had paid)", async () => {
    const { ledger, id, foreign } = await accountWithForeignSettlement("foreign-settle");
    const asked: string[] = [];
    const beforeRelease = async (hold: { holdId: string }) => {
      asked.push(hold.holdId);
      return true;
    };
    await ledger.sweepHolds(100_000, { beforeRelease });
    expect(asked).not.toContain(foreign.holdId);
    expect((await ledger.openHolds(id)).map((h) => h.holdId)).not.toContain(foreign.holdId);
    await expect(ledger.capture(foreign, 40, 41, { shares: [] })).rejects.toThrow(/cannot read/);
    await expect(ledger.release(foreign, 42)).rejects.toThrow(/cannot read/);
    await expect(ledger.getHold(foreign)).rejects.toThrow(/cannot read/);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([940, 0, 60]);
  });

  it("stays on the account when a batch in flight names it (one started by a version that reads it)", async () => {
    const setup = await accountWithForeignSettlement("foreign-batch");
    await putBatchInFlight(setup.id, [setup.foreign.holdId, setup.plain.holdId]);
    await expectKeptAndRest(setup);
  });
});

describe("DynamoLedger: a hold a finished batch left on the account", () => {
  it("is credited when a later batch takes it, though that batch starts with it (a batch named only by its first hold met the earlier batch's payee markers)", async () => {
    const { ledger, id } = await fundedAccount("left-behind");
    const payee = unique("hk");
    const foreign = { accountId: id, holdId: `foreign-${id}`, amount: 50 };
    const plain = { accountId: id, holdId: `plain-${id}`, amount: 30 };
    for (const ref of [foreign, plain]) {
      expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })).ok).toBe(true);
    }
    expect((await ledger.capture(plain, 20, 20, { shares: [{ payee, amount: 20 }] })).ok).toBe(true);
    // `foreign` captured (40 of 50, all to the same payee) by a version whose packed form this one cannot read,
    // which also started a batch of both, `foreign` first, before this version took over.
    await settleByHand(id, foreign.holdId, 50, 40, `["captured",40,21,null,[["${payee}",40]],1]`);
    await putBatchInFlight(id, [foreign.holdId, plain.holdId]);
    await ledger.sweepHolds(30);
    expect(await ledger.payeeBalance(payee)).toBe(20);
    expect(Object.keys((await raw(accountKey(id)))?.settled as Record<string, unknown>)).toEqual([foreign.holdId]);
    // A version that reads it comes back (here: its settlement as this version packs it) and rolls it up.
    await doc.send(
      new UpdateCommand({
        TableName: LEDGER,
        Key: accountKey(id),
        UpdateExpression: "SET #S.#h = :s",
        ExpressionAttributeNames: { "#S": "settled", "#h": foreign.holdId },
        ExpressionAttributeValues: { ":s": `["captured",40,21,null,[["${payee}",40]]]` },
      }),
    );
    await ledger.sweepHolds(31);
    expect(await mapSize(accountKey(id), "settled")).toBe(0);
    expect(await ledger.getHold(foreign)).toMatchObject({ status: "captured", captureAmount: 40 });
    expect(await ledger.payeeBalance(payee)).toBe(60);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([940, 0, 60]);
  });
});

describe("DynamoLedger: a batch in flight that names a settlement this version cannot read", () => {
  it("credits the other holds' payees once whichever step a finisher dies after, racing finishers and repeated sweeps", async () => {
    for (const step of ["rollupStarted", "holdsArchived", "payeesCredited"] as const) {
      const { ledger, id } = await fundedAccount(`inflight-${step}`);
      const crashing = new DynamoLedger({ db: doc, table: LEDGER, crashAfter: (s) => s === step });
      const payee = unique("hk");
      const refs = ["foreign", "packed", "mapped"].map((name) => ({
        accountId: id,
        holdId: `${name}-${id}`,
        amount: 50,
      }));
      const [foreign, packed, mapped] = refs as [HoldRefLike, HoldRefLike, HoldRefLike];
      for (const ref of refs) {
        expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })).ok).toBe(true);
      }
      expect((await ledger.capture(packed, 20, 20, { shares: [{ payee, amount: 20 }] })).ok).toBe(true);
      await settleByHand(id, mapped.holdId, 50, 10, {
        status: "captured",
        captureAmount: 10,
        settledAt: 21,
        shares: [{ payee, amount: 10 }],
      });
      await settleByHand(id, foreign.holdId, 50, 40, `["captured",40,22,null,[["${payee}",40]],1]`);
      await putBatchInFlight(
        id,
        refs.map((r) => r.holdId),
      );
      // (A batch is in flight already: none is started, so none dies after starting one.)
      await expect(crashing.sweepHolds(30)).resolves.toMatchObject({ failed: step === "rollupStarted" ? 0 : 1 });
      await Promise.all([ledger.sweepHolds(31), crashing.sweepHolds(31).catch(() => undefined), ledger.sweepHolds(31)]);
      for (const now of [32, 100_000, 100_001]) await ledger.sweepHolds(now);
      expect(await ledger.payeeBalance(payee)).toBe(30);
      const account = await raw(accountKey(id));
      expect([Object.keys(account?.settled as object), Object.keys(account?.holds as object)]).toEqual([
        [foreign.holdId],
        [foreign.holdId],
      ]);
      expect(account?.rollup).toBeUndefined();
      for (const ref of [packed, mapped]) expect(await ledger.getHold(ref)).toMatchObject({ status: "captured" });
      // The foreign hold's id stays debited once: holding it again is a replay, capturing it again charges nothing.
      const again = await ledger.hold({ ...foreign, deadline: 99_999, at: 40 });
      expect(again.ok && again.replay).toBe(true);
      await expect(ledger.capture(foreign, 50, 41)).rejects.toThrow(/cannot read/);
      const a = await ledger.getAccount(id);
      expect([a?.balance, a?.held, a?.spent]).toEqual([930, 0, 70]);
    }
  });
});

describe("DynamoLedger: a settled hold whose open entry does not read", () => {
  it("stays on the account with its settlement, whether a sweep or a batch in flight meets it", async () => {
    for (const inFlight of [false, true]) {
      const { ledger, id } = await fundedAccount("damaged-hold");
      const damaged = { accountId: id, holdId: `damaged-${id}`, amount: 50 };
      const plain = { accountId: id, holdId: `plain-${id}`, amount: 30 };
      for (const ref of [damaged, plain]) {
        expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })).ok).toBe(true);
        expect((await ledger.capture(ref, 20, 20)).ok).toBe(true);
      }
      // Its open entry damaged (by hand, or a writer of another shape): the hold cannot be archived as it is.
      const names = { "#H": "holds", "#h": damaged.holdId };
      const values: Record<string, unknown> = { ":bad": { amount: "fifty" } };
      let update = "SET #H.#h = :bad";
      if (inFlight) {
        Object.assign(names, { "#R": "rollup" });
        values[":r"] = { id: `roll:${id}:${damaged.holdId}`, at: 25, holdIds: [damaged.holdId, plain.holdId] };
        update += ", #R = :r";
      }
      await doc.send(
        new UpdateCommand({
          TableName: LEDGER,
          Key: accountKey(id),
          UpdateExpression: update,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      await ledger.sweepHolds(30);
      expect(await ledger.getHold(plain)).toMatchObject({ status: "captured", captureAmount: 20 });
      const account = await raw(accountKey(id));
      expect(Object.keys(account?.settled as Record<string, unknown>)).toEqual([damaged.holdId]);
      expect(Object.keys(account?.holds as Record<string, unknown>)).toEqual([damaged.holdId]);
      expect(account?.rollup).toBeUndefined();
    }
  });
});

describe("DynamoLedger: a rollup that died half way", () => {
  it("does not stop later settles from rolling up (the account item would grow to DynamoDB's 400 KB)", async () => {
    // Only the first rollup dies (after writing the durable records); the sweeper runs once a minute.
    let crashes = 1;
    const ledger = new DynamoLedger({
      db: doc,
      table: LEDGER,
      rollupAt: 2,
      crashAfter: (step) => step === "holdsArchived" && crashes-- > 0,
    });
    const id = unique("stuck-rollup");
    const payee = unique("hk");
    await ledger.openAccount(id, "t", 1);
    await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 1000, at: 1 });
    const settledSizes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const ref = { accountId: id, holdId: `h${i}-${id}`, amount: 10 };
      expect((await ledger.hold({ ...ref, deadline: 99_999, at: 10, freshId: true })).ok).toBe(true);
      expect((await ledger.capture(ref, 10, 20 + i, { shares: [{ payee, amount: 4 }] })).ok).toBe(true);
      await ledger.drain();
      settledSizes.push(await mapSize(accountKey(id), "settled"));
    }
    expect(crashes).toBeLessThanOrEqual(0);
    // A settle that finds the batch still in flight once twice the threshold has piled up finishes it.
    expect(Math.max(...settledSizes)).toBeLessThanOrEqual(4);
    await ledger.sweepHolds(40);
    expect(await ledger.payeeBalance(payee)).toBe(48);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([880, 0, 120]);
  });
});

/**
 * The state a sweep of the earlier ledger's holds leaves when it dies after moving a hold of 20 onto its account
 * (the debit and the hold are there) and before deleting the old item, which still names the account.
 */
async function putHalfMoved(id: string, holdId: string, deadline: number, old: Record<string, unknown>) {
  await doc.send(
    new PutCommand({
      TableName: LEDGER,
      Item: {
        ...accountKey(id),
        ...accountIndexKeys(id),
        accountId: id,
        name: "t",
        balance: 50,
        held: 20,
        spent: 0,
        createdAt: 1,
        applied: { [`hold:${holdId}`]: "s:25" },
        holds: { [holdId]: { amount: 20, deadline, createdAt: 10 } },
        settled: {},
      },
    }),
  );
  await putLegacyHold(id, holdId, { amount: 20, deadline, ...old });
}

/** An open hold item of the earlier ledger (its own item, on the open-hold index), created at 10. */
async function putLegacyHold(accountId: string, holdId: string, fields: Record<string, unknown>) {
  await doc.send(
    new PutCommand({
      TableName: LEDGER,
      Item: {
        ...holdKey(holdId),
        ...openIndexKeys({ accountId, holdId }),
        holdId,
        accountId,
        createdAt: 10,
        ...fields,
      },
    }),
  );
}

describe("DynamoLedger: the earlier ledger's open holds, moved by a sweep that died half way", () => {
  it("a hold moved onto its account whose old item is still there is not given back as a duplicate", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("legacy-half");
    const holdId = `capturing-${id}`;
    // The state a sweep leaves when it dies after moving the hold (step 1) and before settling the capture that
    // ledger had decided and deleting the old item (steps 2, 3): the debit is on the account, the hold too, and the
    // old item still names the account.
    await putHalfMoved(id, holdId, 99_999, { status: "capturing", captureAmount: 15, settledAt: 20 });
    // The next sweep, a while later (holds from before an upgrade are old).
    await ledger.sweepHolds(10 + DUPLICATE_CHECK_AFTER_MS + 1000);
    await ledger.sweepHolds(10 + DUPLICATE_CHECK_AFTER_MS + 2000);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([55, 0, 15]);
    expect(await ledger.getHold({ accountId: id, holdId })).toMatchObject({ status: "captured", captureAmount: 15 });
  });

  it("an expired moved hold released and rolled up by the next sweep keeps its journal entries", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("legacy-expired");
    const holdId = `held-${id}`;
    // As above (a sweep died after moving it), but a plain hold whose deadline has passed.
    await putHalfMoved(id, holdId, 100, { status: "held" });
    // This sweep releases it and rolls it up (its durable record replaces the old item) before it reaches the old
    // item in its list: that must not take the record out of the account's journal.
    await ledger.sweepHolds(200);
    expect(await ledger.getAccount(id)).toMatchObject({ balance: 70, held: 0, spent: 0 });
    expect((await raw(holdKey(holdId)))?.gsi1pk).toBe(`JOURNAL#${id}`);
    expect((await ledger.entries(id, 10)).map((e) => `${e.kind}:${e.amount}`).sort()).toEqual([
      "hold:20",
      "release:20",
    ]);
  });
});

describe("DynamoLedger: a rollup that stalled (a frozen Lambda, a paused process)", () => {
  it("resumed after another finisher completed its batch and the payees' markers were pruned, credits nothing again", async () => {
    const base = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    let freeze: Promise<void> | null = null;
    let frozen: () => void = () => {};
    let thaw: () => void = () => {};
    // The rollup's first durable-record write waits until the test thaws it.
    base.middlewareStack.add(
      (next, context) => async (args) => {
        if (freeze && context.commandName === "BatchWriteItemCommand") {
          const wait = freeze;
          freeze = null;
          frozen();
          await wait;
        }
        return next(args);
      },
      { step: "initialize", name: "freezeRollup" },
    );
    try {
      // Retention 4 ms: this test's stall (a few sweeps and credits) counts as one past it.
      const stalled = new DynamoLedger({
        db: createDynamoDocumentClient(base),
        table: LEDGER,
        rollupAt: 2,
        settledRetentionMs: 4,
      });
      const sweeper = new DynamoLedger({ db: doc, table: LEDGER, rollupAt: 2 });
      const id = unique("frozen-rollup");
      const payee = unique("hk");
      await sweeper.openAccount(id, "t", 1);
      await sweeper.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1 });
      const refs = [0, 1].map((i) => ({ accountId: id, holdId: `${id}-h${i}`, amount: 10 }));
      for (const ref of refs) expect((await stalled.hold({ ...ref, deadline: 99_999, at: 10 })).ok).toBe(true);
      const isFrozen = new Promise<void>((resolve) => {
        frozen = resolve;
      });
      freeze = new Promise<void>((resolve) => {
        thaw = resolve;
      });
      for (const ref of refs) {
        expect((await stalled.capture(ref, 10, 20, { shares: [{ payee, amount: 10 }] })).ok).toBe(true);
      }
      // The second settle's rollup started its batch, then stalled before its durable records.
      await isFrozen;
      const batchId = String(((await raw(accountKey(id)))?.rollup as { id?: unknown } | undefined)?.id);
      await sweeper.sweepHolds(60_000);
      expect(await sweeper.payeeBalance(payee)).toBe(20);
      // Later credits on the batch's payee shard prune its marker (the batch is finished, the retention passed).
      const shardOf = (requestId: string) => {
        let h = 0;
        for (let i = 0; i < requestId.length; i++) h = (h * 31 + requestId.charCodeAt(i)) >>> 0;
        return h % PAYEE_SHARDS;
      };
      const shard = shardOf(batchId);
      const marker = async () =>
        (((await raw(payeeShardKey(payee, shard)))?.applied ?? {}) as Record<string, unknown>)[batchId];
      let extra = 0;
      for (let n = 0; extra <= PRUNE_EVERY && (await marker()) !== undefined; n++) {
        const requestId = `later-${id}-${n}`;
        if (shardOf(requestId) !== shard) continue;
        await sweeper.creditShares({ requestId, at: 10_000_000, shares: [{ payee, amount: 1 }] });
        extra++;
      }
      expect(await marker()).toBeUndefined();
      // The stalled rollup resumes (the container's next invocation).
      thaw();
      await stalled.drain();
      expect(await sweeper.payeeBalance(payee)).toBe(20 + extra);
      const account = await sweeper.getAccount(id);
      expect([account?.balance, account?.held, account?.spent]).toEqual([80, 0, 20]);
    } finally {
      base.destroy();
    }
  });
});
