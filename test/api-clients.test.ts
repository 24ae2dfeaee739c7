import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoKeyStore } from "../adapters/tables/keys.ts";
import { DynamoRequestStore } from "../adapters/tables/requests.ts";
import { DynamoSpendStore } from "../adapters/tables/spend.ts";
import { describeSpendContract } from "../adapters/tables/spend-contract.ts";
import { DynamoWebhookOutbox } from "../adapters/tables/webhooks.ts";
import { requestSortKey } from "../core/jobs/list-cursor.ts";
import { hashApiKey } from "../core/keys/api-key.ts";
import type { ApiKeyRecord } from "../core/keys/schema.ts";
import type { RequestRecord } from "../core/ports/requests.ts";
import { DIGITS_PRICE } from "../functions/api/testing/digits-catalog.ts";
import { digitInput, harness } from "../functions/api/testing/harness.ts";
import { JOBS_TABLE, KEYS_TABLE, LEDGER_TABLE, TABLES } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

/** The DynamoDB side of issue 18's API: spend counters, the webhook outbox, request and key listings, rotation. */
let emulators: Emulators;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const PREFIX = "clients-";

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

describeSpendContract("DynamoSpendStore on dynalite", () => new DynamoSpendStore(doc, `${PREFIX}${LEDGER_TABLE.name}`));

describe("spend limit through the API on dynalite", () => {
  it("refuses the query that would cross the limit under 50 parallel requests", async () => {
    const h = await harness({ deps: { spend: new DynamoSpendStore(doc, `${PREFIX}${LEDGER_TABLE.name}`) } });
    const { client: c } = await h.fundedKey(1000 * DIGITS_PRICE, { spendLimit: { perDay: 12 * DIGITS_PRICE } });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => c.infer("digits", digitInput(), { k: 1, waitSeconds: 0 })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(12);
    expect(results.filter((r) => !r.ok && r.problem.code === "spend_limit")).toHaveLength(38);
  });
});

describe("DynamoWebhookOutbox", () => {
  it("deduplicates by id, hands a due message to one claimer, and leaves the due index once finished", async () => {
    const outbox = new DynamoWebhookOutbox(doc, `${PREFIX}${JOBS_TABLE.name}`);
    const now = Date.now();
    const message = {
      deliveryId: `msg_req_${now}_succeeded`,
      requestId: `req_${now}`,
      keyId: "key_1",
      url: "https://example.com/hook",
      payload: "{}",
      status: "pending" as const,
      attempts: 0,
      nextAt: now,
      createdAt: now,
    };
    expect(await outbox.add(message)).toBe(true);
    expect(await outbox.add({ ...message, payload: '{"other":1}' })).toBe(false);
    expect((await outbox.due(now, 10)).map((d) => d.deliveryId)).toContain(message.deliveryId);
    const claims = await Promise.all([
      outbox.claim(message.deliveryId, 0, now + 60_000),
      outbox.claim(message.deliveryId, 0, now + 60_000),
    ]);
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    expect((await outbox.due(now, 10)).map((d) => d.deliveryId)).not.toContain(message.deliveryId);
    await outbox.record(message.deliveryId, { status: "pending", nextAt: now + 5000, error: "HTTP 500" });
    expect((await outbox.due(now + 5000, 10)).map((d) => d.deliveryId)).toContain(message.deliveryId);
    await outbox.record(message.deliveryId, { status: "delivered", at: now + 5001 });
    expect((await outbox.due(now + 10 ** 9, 50)).map((d) => d.deliveryId)).not.toContain(message.deliveryId);
    expect((await outbox.get(message.deliveryId))?.status).toBe("delivered");
  });
});

describe("DynamoWebhookOutbox.due on the keys-only index", () => {
  it("lists no message another sender claimed between the index's answer and the items' read (it would be sent twice)", async () => {
    const table = `${PREFIX}${JOBS_TABLE.name}`;
    const other = new DynamoWebhookOutbox(doc, table);
    const now = Date.now();
    const message = {
      deliveryId: `msg_req_${now}_raced`,
      requestId: `req_${now}_raced`,
      keyId: "key_1",
      url: "https://example.com/hook",
      payload: "{}",
      status: "pending" as const,
      attempts: 0,
      nextAt: now - 1,
      createdAt: now - 1,
    };
    expect(await other.add(message)).toBe(true);
    // This sender's index Query names the message; before its BatchGetItem reads it, another sender claims it.
    let raced = false;
    const racing = {
      send: async (command: unknown) => {
        if (command instanceof BatchGetCommand && !raced) {
          raced = true;
          expect(await other.claim(message.deliveryId, 0, now + 60_000)).not.toBeNull();
        }
        return doc.send(command as QueryCommand);
      },
    } as unknown as DynamoDBDocumentClient;
    const due = await new DynamoWebhookOutbox(racing, table).due(now, 10);
    expect(raced).toBe(true);
    const listed = due.find((d) => d.deliveryId === message.deliveryId);
    // Listed as leased (attempts 1), its claim would pass and the attempt in flight be sent a second time.
    if (listed) expect(await other.claim(listed.deliveryId, listed.attempts, now + 60_000)).toBeNull();
    expect(listed).toBeUndefined();
  });
});

/** A dispatched digits request of `accountId`, created at `createdAt`. */
const requestOf = (accountId: string, requestId: string, createdAt: number): RequestRecord => ({
  requestId,
  accountId,
  keyId: "key_1",
  task: "digits",
  bodySha256: "",
  experts: [],
  pricePerAnswer: 1,
  holdAmount: 1,
  phase: "dispatched",
  createdAt,
  deadline: createdAt + 60_000,
});

describe("DynamoRequestStore.listByAccount", () => {
  it("pages over 250 requests newest first without a gap or a repeat", async () => {
    const store = new DynamoRequestStore(doc, `${PREFIX}${JOBS_TABLE.name}`);
    const accountId = `acct_${Date.now()}`;
    const base = Date.now();
    const records = Array.from({ length: 250 }, (_, i) =>
      requestOf(accountId, `req_${accountId}_${String(i).padStart(3, "0")}`, base + Math.floor(i / 3)),
    );
    for (let i = 0; i < records.length; i += 25)
      await Promise.all(records.slice(i, i + 25).map((r) => store.create(r)));
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listByAccount(accountId, { limit: 100, ...(before ? { before } : {}) });
      seen.push(...page.records.map((r) => r.requestId));
      if (page.next === null) break;
      before = page.next;
    }
    const expected = [...records]
      .sort((a, b) => (requestSortKey(a.createdAt, a.requestId) < requestSortKey(b.createdAt, b.requestId) ? 1 : -1))
      .map((r) => r.requestId);
    expect(seen).toEqual(expected);
  });
});

describe("the jobs table's keys-only index (issue 17: the index does not copy a request's writes)", () => {
  it("projects only keys; a listing still shows each request as stored, its result included", async () => {
    const table = `${PREFIX}${JOBS_TABLE.name}`;
    const described = await client.send(new DescribeTableCommand({ TableName: table }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.Projection?.ProjectionType)).toEqual(["KEYS_ONLY"]);
    const store = new DynamoRequestStore(doc, table);
    const accountId = `acct_keys_${Date.now()}`;
    const record = requestOf(accountId, `req_${accountId}`, Date.now());
    expect(await store.create(record)).toBe(true);
    await store.settle(record.requestId, { status: "expired", experts: [], failedUids: [], cost: 0, settledAt: 5 });
    const indexed = await doc.send(
      new QueryCommand({
        TableName: table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": `ACCTREQ#${accountId}` },
      }),
    );
    expect(Object.keys(indexed.Items?.[0] ?? {}).sort()).toEqual(["gsi1pk", "gsi1sk", "pk", "sk"]);
    const page = await store.listByAccount(accountId, { limit: 10 });
    expect(page.records.map((r) => [r.requestId, r.phase, r.result?.status])).toEqual([
      [record.requestId, "settled", "expired"],
    ]);
  });
});

describe("DynamoKeyStore rotation and listing", () => {
  it("moves the id to the new secret, cuts the old one to the grace period, and revokes both", async () => {
    const keys = new DynamoKeyStore(doc, `${PREFIX}${KEYS_TABLE.name}`);
    const stamp = Date.now();
    const accountId = `acct_${stamp}`;
    const key: ApiKeyRecord = {
      keyId: `key_${stamp}`,
      accountId,
      name: "k",
      hash: hashApiKey(`old-${stamp}`),
      start: "mk_test_old",
      env: "test",
      scopes: ["infer", "read"],
      rateLimit: { perMinute: 60, burst: 10 },
      createdAt: stamp,
      webhookSecret: "whsec_AAAA",
    };
    expect(await keys.create(key)).toBe(true);
    const newHash = hashApiKey(`new-${stamp}`);
    const rotated = await keys.rotate(
      key.keyId,
      { hash: newHash, start: "mk_test_new", at: stamp + 1 },
      stamp + 60_000,
    );
    expect(rotated?.key.hash).toBe(newHash);
    expect(rotated?.key.webhookSecret).toBe("whsec_AAAA");
    expect((await keys.getById(key.keyId))?.hash).toBe(newHash);
    expect((await keys.getByHash(key.hash))?.expiresAt).toBe(stamp + 60_000);
    // A second rotation racing from the same old hash loses.
    expect(await keys.rotate(key.keyId, { hash: newHash, start: "x", at: stamp + 2 }, stamp)).toBeNull();
    const listed = await keys.list({ accountId, limit: 10 });
    expect(listed.keys.map((k) => k.hash)).toEqual([newHash]);
    await keys.revoke(key.keyId, stamp + 3);
    expect((await keys.getByHash(key.hash))?.revokedAt).toBe(stamp + 3);
    expect((await keys.getByHash(newHash))?.revokedAt).toBe(stamp + 3);
  });

  it("lists every key a page at a time", async () => {
    const keys = new DynamoKeyStore(doc, `${PREFIX}${KEYS_TABLE.name}`);
    const stamp = Date.now();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const keyId = `key_all_${stamp}_${i}`;
      made.push(keyId);
      await keys.create({
        keyId,
        accountId: `acct_all_${stamp}`,
        name: "k",
        hash: hashApiKey(`all-${stamp}-${i}`),
        start: "mk_test_x",
        env: "test",
        scopes: ["read"],
        rateLimit: { perMinute: 60, burst: 10 },
        createdAt: stamp,
      });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await keys.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.keys.map((k) => k.keyId));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(seen.filter((id) => made.includes(id)).sort()).toEqual(made);
    expect(new Set(seen).size).toBe(seen.length);
    expect(await keys.list({ limit: 2, cursor: "{not json" })).toEqual({ keys: [], next: null });
  });
});
