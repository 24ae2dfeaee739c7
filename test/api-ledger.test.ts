import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoKeyStore } from "../adapters/tables/keys.ts";
import { DynamoLedger, SimulatedCrash } from "../adapters/tables/ledger.ts";
import { describeLedgerContract } from "../adapters/tables/ledger-contract.ts";
import { generateApiKey } from "../core/keys/api-key.ts";
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
