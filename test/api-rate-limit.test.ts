import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoRateLimits } from "../adapters/tables/rate-limits.ts";
import { describeRateLimitContract } from "../adapters/tables/rate-limits-contract.ts";
import { fixedWindow } from "../core/keys/rate-limit.ts";
import { createApp } from "../functions/api/app.ts";
import { harness, manualClock } from "../functions/api/testing/harness.ts";
import { LEDGER_TABLE, TABLES } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

let emulators: Emulators;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const PREFIX = "ratelimit-";
const TABLE = `${PREFIX}${LEDGER_TABLE.name}`;

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

describeRateLimitContract("DynamoRateLimits on dynalite", () => new DynamoRateLimits(doc, TABLE));

describe("DynamoRateLimits items", () => {
  it("one counter item per bucket and window, with a TTL past the window's end", async () => {
    const store = new DynamoRateLimits(doc, TABLE);
    const w = fixedWindow({ perMinute: 600, burst: 60 }, 1_800_000_003_000);
    await store.hit("key:k1", w);
    await store.hit("key:k1", w);
    const out = await doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: "RATE#key:k1", sk: `W#${w.lengthMs}#${w.start}` } }),
    );
    expect(out.Item?.n).toBe(2);
    expect(out.Item?.expireAt).toBe(Math.ceil((w.start + w.lengthMs) / 1000) + 300);
    expect(out.Item?.gsi1pk).toBeUndefined();
  });

  it("two API instances over DynamoDB admit one key's limit once, not once each", async () => {
    // A clock that stands still: the requests cannot straddle a window boundary.
    const h = await harness({ clock: manualClock(), deps: { rateLimits: new DynamoRateLimits(doc, TABLE) } });
    const second = createApp(h.deps);
    const key = await h.fundedKey(0, { rateLimit: { perMinute: 60, burst: 4 } });
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        Promise.resolve(
          (i % 2 ? second : h.app).request("/v1/usage", { headers: { authorization: `Bearer ${key.key}` } }),
        ).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
  });
});
