import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoKeyStore } from "../adapters/tables/keys.ts";
import { type CrashStep, DynamoLedger, LedgerFullError, SimulatedCrash } from "../adapters/tables/ledger.ts";
import { describeLedgerContract } from "../adapters/tables/ledger-contract.ts";
import { accountKey, creditKey, holdKey, MAX_APPLIED, openIndexKeys } from "../adapters/tables/ledger-items.ts";
import { PAYEE_SHARDS, payeeShardKey } from "../adapters/tables/ledger-shares.ts";
import { LedgerBusyError } from "../core/billing/errors.ts";
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

describe("DynamoLedger crash recovery (no transactions)", () => {
  const crashing = (step: "holdCreated" | "debited" | "settleDecided") =>
    new DynamoLedger({ db: doc, table: LEDGER, pendingGraceMs: 1000, crashAfter: (s) => s === step });
  const healthy = () => new DynamoLedger({ db: doc, table: LEDGER, pendingGraceMs: 1000 });

  async function account(name: string, amount: number) {
    const ledger = healthy();
    const id = `${name}-${Date.now()}`;
    await ledger.openAccount(id, name, 1);
    await ledger.credit({ accountId: id, entryId: `c-${id}`, amount, at: 1 });
    return id;
  }

  it("a hold abandoned before its debit is cancelled by the sweeper and can never debit later", async () => {
    const id = await account("pending", 100);
    await expect(
      crashing("holdCreated").hold({ holdId: `p-${id}`, accountId: id, amount: 40, deadline: 99_999, at: 1000 }),
    ).rejects.toBeInstanceOf(SimulatedCrash);
    const report = await healthy().sweepHolds(5000);
    expect(report.cancelled).toBeGreaterThanOrEqual(1);
    expect((await healthy().getHold(`p-${id}`))?.status).toBe("cancelled");
    // The writer coming back to life (a retry of the same hold) must not take the money.
    const late = await healthy().hold({ holdId: `p-${id}`, accountId: id, amount: 40, deadline: 99_999, at: 1000 });
    expect(late.ok).toBe(false);
    const a = await healthy().getAccount(id);
    expect([a?.balance, a?.held]).toEqual([100, 0]);
  });

  it("a hold that debited but crashed before being marked is kept, then released at its deadline", async () => {
    const id = await account("debited", 100);
    await expect(
      crashing("debited").hold({ holdId: `d-${id}`, accountId: id, amount: 40, deadline: 8000, at: 1000 }),
    ).rejects.toBeInstanceOf(SimulatedCrash);
    const retry = await healthy().hold({ holdId: `d-${id}`, accountId: id, amount: 40, deadline: 8000, at: 1000 });
    expect(retry.ok && retry.hold.status).toBe("held");
    expect((await healthy().getAccount(id))?.balance).toBe(60);
    await healthy().sweepHolds(9000);
    const a = await healthy().getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([100, 0, 0]);
  });

  it("a capture decided but not applied is finished by the sweeper exactly once", async () => {
    const id = await account("capture", 100);
    await healthy().hold({ holdId: `s-${id}`, accountId: id, amount: 30, deadline: 99_999, at: 1000 });
    await expect(crashing("settleDecided").capture(`s-${id}`, 20, 2000)).rejects.toBeInstanceOf(SimulatedCrash);
    expect((await healthy().getHold(`s-${id}`))?.status).toBe("capturing");
    const r1 = await healthy().sweepHolds(3000);
    expect(r1.finished).toBeGreaterThanOrEqual(1);
    expect((await healthy().getHold(`s-${id}`))?.status).toBe("captured");
    await healthy().sweepHolds(3000);
    const a = await healthy().getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([80, 0, 20]);
    const entries = await healthy().entries(id, 20);
    expect(entries.filter((e) => e.kind === "capture").map((e) => e.amount)).toEqual([20]);
  });
});

describe("the API on DynamoLedger", () => {
  it("a cancel that finds the hold `capturing` (a settler died mid-capture) reports the charge, not 'canceled'", async () => {
    let crash = false;
    const ledger = new DynamoLedger({ db: doc, table: LEDGER, crashAfter: (s) => crash && s === "settleDecided" });
    const h = await harness({ deps: { ledger } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    crash = true;
    const dying = await key.client.job(res.data.id);
    crash = false;
    expect(!dying.ok && dying.status).toBe(500);
    expect((await ledger.getHold(res.data.id))?.status).toBe("capturing");
    const canceled = await key.client.cancel(res.data.id);
    expect(canceled.ok && [canceled.data.status, canceled.data.cost]).toEqual(["succeeded", 2 * DIGITS_PRICE]);
    // Whatever the sweeper finishes later, the account and the stored answer agree.
    await ledger.sweepHolds(Date.now());
    const account = await ledger.getAccount(key.accountId);
    expect([account?.balance, account?.held, account?.spent]).toEqual([8 * DIGITS_PRICE, 0, 2 * DIGITS_PRICE]);
  });
});

describe("DynamoLedger applied-marker lifecycle (item size stays bounded)", () => {
  const raw = async (key: { pk: string; sk: string }) =>
    (await doc.send(new GetCommand({ TableName: LEDGER, Key: key, ConsistentRead: true }))).Item;
  const appliedOf = async (key: { pk: string; sk: string }) =>
    ((await raw(key))?.applied ?? {}) as Record<string, unknown>;
  const removeMarker = (key: { pk: string; sk: string }, entryId: string) =>
    doc.send(
      new UpdateCommand({
        TableName: LEDGER,
        Key: key,
        UpdateExpression: "REMOVE #applied.#e",
        ExpressionAttributeNames: { "#applied": "applied", "#e": entryId },
      }),
    );
  const unique = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

  it("thousands of sequential holds and captures keep one account's applied map small", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("busy");
    const t0 = 1_700_000_000_000;
    await ledger.openAccount(id, "busy", t0);
    await ledger.credit({ accountId: id, entryId: `fund-${id}`, amount: 1_000_000, at: t0 });
    const n = 1500;
    let largest = 0;
    for (let i = 0; i < n; i++) {
      // 10 s apart: 1500 queries span ~4 h, far past every retention.
      const at = t0 + (i + 1) * 10_000;
      const held = await ledger.hold({ holdId: `${id}-${i}`, accountId: id, amount: 10, deadline: at + 60_000, at });
      expect(held.ok).toBe(true);
      expect((await ledger.capture(`${id}-${i}`, 3, at + 1)).ok).toBe(true);
      if (i % 50 === 0) largest = Math.max(largest, Object.keys(await appliedOf(accountKey(id))).length);
    }
    const applied = await appliedOf(accountKey(id));
    largest = Math.max(largest, Object.keys(applied).length);
    expect(largest).toBeLessThan(50);
    // The top-up's marker went too (its CREDIT item says applied), and no settled hold lingers past the retention.
    expect(applied[`fund-${id}`]).toBeUndefined();
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held, a?.spent]).toEqual([1_000_000 - 3 * n, 0, 3 * n]);
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
      Array.from(
        { length: PAYEE_SHARDS },
        async (_, s) => Object.keys(await appliedOf(payeeShardKey(payee, s))).length,
      ),
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

  it("a hold debited, then left pending for hours while markers are pruned, is kept rather than cancelled", async () => {
    const crashing = new DynamoLedger({ db: doc, table: LEDGER, crashAfter: (s) => s === "debited" });
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("stale");
    await ledger.openAccount(id, "t", 1);
    await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 100, at: 1000 });
    await expect(
      crashing.hold({ holdId: `h-${id}`, accountId: id, amount: 40, deadline: 99_999_999, at: 1000 }),
    ).rejects.toBeInstanceOf(SimulatedCrash);
    const later = 1000 + 3 * 3_600_000;
    // Enough account writes, hours later, to run several prunes.
    for (let i = 0; i < 70; i++) await ledger.credit({ accountId: id, entryId: `t-${id}-${i}`, amount: 1, at: later });
    await ledger.sweepHolds(later);
    expect((await ledger.getHold(`h-${id}`))?.status).toBe("held");
    expect((await ledger.release(`h-${id}`, later + 1)).ok).toBe(true);
    const a = await ledger.getAccount(id);
    expect([a?.balance, a?.held]).toEqual([170, 0]);
  });

  it("refuses a new hold with LedgerFullError (not a ValidationException) when the applied map is full", async () => {
    const ledger = new DynamoLedger({ db: doc, table: LEDGER });
    const id = unique("full");
    // Unsettled holds are never pruned: MAX_APPLIED of them fill the map for good.
    const applied = Object.fromEntries(Array.from({ length: MAX_APPLIED }, (_, i) => [`hold:x${i}`, 5]));
    const account = { accountId: id, name: "t", balance: 1000, held: 0, spent: 0, createdAt: 1 };
    await doc.send(new PutCommand({ TableName: LEDGER, Item: { ...accountKey(id), ...account, applied } }));
    const hold = { holdId: `h-${id}`, accountId: id, amount: 1, deadline: 99_999, at: 10 };
    await expect(ledger.hold(hold)).rejects.toBeInstanceOf(LedgerFullError);
    // The API sees it through the port-level class (it never imports the adapter).
    await expect(ledger.hold(hold)).rejects.toBeInstanceOf(LedgerBusyError);
    // Nothing was debited and the hold id is free again.
    expect(await ledger.getHold(hold.holdId)).toBeNull();
    expect((await ledger.getAccount(id))?.balance).toBe(1000);
    // Top-ups still go through.
    expect((await ledger.credit({ accountId: id, entryId: `c-${id}`, amount: 5, at: 11 })).ok).toBe(true);
  });

  it("settles exactly once whichever write a crash interrupts, even after markers are pruned", async () => {
    const steps: CrashStep[] = [
      "creditIntent",
      "credited",
      "holdCreated",
      "debited",
      "settleDecided",
      "accountSettled",
    ];
    for (const step of steps) {
      const crashing = new DynamoLedger({
        db: doc,
        table: LEDGER,
        pendingGraceMs: 1000,
        crashAfter: (s) => s === step,
      });
      const ledger = new DynamoLedger({ db: doc, table: LEDGER, pendingGraceMs: 1000 });
      const id = unique(`crash-${step}`);
      const holdId = `h-${id}`;
      await ledger.openAccount(id, "t", 1);
      const credit = { accountId: id, entryId: `c-${id}`, amount: 100, at: 1000, fingerprint: "f" };
      await crashing.credit(credit).catch((e: unknown) => expect(e).toBeInstanceOf(SimulatedCrash));
      expect((await ledger.credit(credit)).ok).toBe(true);
      const hold = { holdId, accountId: id, amount: 40, deadline: 99_999, at: 2000 };
      await crashing.hold(hold).catch((e: unknown) => expect(e).toBeInstanceOf(SimulatedCrash));
      expect(await ledger.hold(hold)).toMatchObject({ ok: true, hold: { status: "held" } });
      await crashing.capture(holdId, 25, 3000).catch((e: unknown) => expect(e).toBeInstanceOf(SimulatedCrash));
      await ledger.sweepHolds(4000);
      expect(await ledger.capture(holdId, 25, 3001)).toMatchObject({ ok: true, hold: { status: "captured" } });
      // A stale finisher: the settled marker pruned and the hold seen as still capturing must change nothing.
      await removeMarker(accountKey(id), `hold:${holdId}`);
      await doc.send(
        new UpdateCommand({
          TableName: LEDGER,
          Key: holdKey(holdId),
          UpdateExpression: "SET #s = :c, gsi1pk = :pk, gsi1sk = :sk",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":c": "capturing", ...prefixed(openIndexKeys({ accountId: id, holdId })) },
        }),
      );
      const swept = await ledger.sweepHolds(5000);
      expect(swept.failed).toBe(0);
      const a = await ledger.getAccount(id);
      expect([step, a?.balance, a?.held, a?.spent]).toEqual([step, 75, 0, 25]);
      const kinds = (await ledger.entries(id, 20)).map((e) => `${e.kind}:${e.amount}`).sort();
      expect([step, ...kinds]).toEqual([step, "capture:25", "credit:100", "hold:40", "release:15"]);
      expect((await raw(creditKey(`c-${id}`)))?.status).toBe("applied");
    }
  });
});

function prefixed(keys: { gsi1pk: string; gsi1sk: string }) {
  return { ":pk": keys.gsi1pk, ":sk": keys.gsi1sk };
}

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
