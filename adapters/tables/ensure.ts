import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { physicalName, type TableDefinition } from "../../infra/definitions.ts";
import { type AdapterLogger, errorFields, stderrLogger } from "../aws/logger.ts";
import { errorName, sleep } from "./dynamo.ts";

export interface EnsureTablesOptions {
  readonly logger?: AdapterLogger;
  /** How long to wait for a table or index to become ACTIVE. Default 5 min (a GSI backfill on AWS can be slow). */
  readonly activeTimeoutMs?: number;
}

export interface EnsuredTable {
  readonly name: string;
  /** false when the table existed (missing indexes are then added). */
  readonly created: boolean;
}

// One note per process is enough: every table of an emulator without TTL would repeat it.
let ttlUnsupportedLogged = false;

/**
 * Creates the tables of `definitions` that are missing (physical name = prefix + name; PAY_PER_REQUEST; string
 * keys; GSIs projecting ALL), adds GSIs missing from existing tables, waits until all are ACTIVE, and enables TTL
 * where the server supports it (dynalite does not: items are filtered on read anyway). Idempotent.
 */
export async function ensureTables(
  client: DynamoDBClient,
  prefix: string,
  definitions: readonly TableDefinition[],
  options: EnsureTablesOptions = {},
): Promise<Map<string, EnsuredTable>> {
  const logger = options.logger ?? stderrLogger;
  const timeoutMs = options.activeTimeoutMs ?? 300_000;
  const ensured = new Map<string, EnsuredTable>();
  for (const definition of definitions) {
    const name = physicalName(prefix, definition.name);
    let table = await describe(client, name);
    const created = table === undefined;
    if (table === undefined) await create(client, name, definition);
    table = await waitActive(client, name, timeoutMs);
    for (const index of missingIndexes(table, definition)) {
      await addIndex(client, name, definition, index);
      // AWS allows one index creation at a time per table.
      const updated = await waitActive(client, name, timeoutMs);
      // dynalite accepts the UpdateTable but silently ignores index creation.
      if (missingIndexes(updated, definition).some((missing) => missing.name === index.name)) {
        throw new Error(
          `table ${name} lacks index ${index.name} and the server did not add it; delete the table (locally: the data folder) so it is re-created`,
        );
      }
    }
    if (definition.ttlAttribute !== undefined) await enableTtl(client, name, definition.ttlAttribute, logger);
    ensured.set(definition.name, { name, created });
  }
  return ensured;
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (errorName(error) === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

async function create(client: DynamoDBClient, name: string, definition: TableDefinition): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: attributeDefinitions(definition),
        KeySchema: [
          { AttributeName: definition.hashKey, KeyType: "HASH" },
          { AttributeName: definition.rangeKey, KeyType: "RANGE" },
        ],
        ...(definition.globalIndexes.length > 0
          ? { GlobalSecondaryIndexes: definition.globalIndexes.map(globalIndex) }
          : {}),
      }),
    );
  } catch (error) {
    // Another process created it between our describe and create: fine, we wait for ACTIVE next.
    if (errorName(error) !== "ResourceInUseException") throw error;
  }
}

async function addIndex(client: DynamoDBClient, name: string, definition: TableDefinition, index: IndexDefinition) {
  const update = (Create: GlobalSecondaryIndex) =>
    client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: attributeDefinitions(definition),
        GlobalSecondaryIndexUpdates: [{ Create }],
      }),
    );
  try {
    await update(globalIndex(index));
  } catch (error) {
    // dynalite validates UpdateTable as in the provisioned-only API and demands a throughput that AWS refuses for
    // on-demand tables; only then is it given one.
    if (!(error instanceof Error && /provisionedThroughput/i.test(error.message))) throw error;
    await update({ ...globalIndex(index), ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } });
  }
}

type IndexDefinition = TableDefinition["globalIndexes"][number];

function globalIndex(index: IndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.hashKey, KeyType: "HASH" },
      { AttributeName: index.rangeKey, KeyType: "RANGE" },
    ],
    Projection: { ProjectionType: index.projection === "keys-only" ? "KEYS_ONLY" : "ALL" },
  };
}

function attributeDefinitions(definition: TableDefinition): AttributeDefinition[] {
  const names = new Set([definition.hashKey, definition.rangeKey]);
  for (const index of definition.globalIndexes) names.add(index.hashKey).add(index.rangeKey);
  return [...names].map((AttributeName) => ({ AttributeName, AttributeType: "S" }));
}

function missingIndexes(table: TableDescription, definition: TableDefinition): IndexDefinition[] {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  return definition.globalIndexes.filter((index) => !present.has(index.name));
}

async function waitActive(client: DynamoDBClient, name: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    const table = await describe(client, name);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === "ACTIVE");
    if (table?.TableStatus === "ACTIVE" && indexesActive) return table;
    if (Date.now() > deadline) throw new Error(`table ${name} not ACTIVE after ${timeoutMs} ms`);
    await sleep(Math.min(2_000, 50 * 2 ** round));
  }
}

async function enableTtl(client: DynamoDBClient, name: string, attribute: string, logger: AdapterLogger) {
  try {
    const current = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
    const status = current.TimeToLiveDescription?.TimeToLiveStatus;
    if ((status === "ENABLED" || status === "ENABLING") && current.TimeToLiveDescription?.AttributeName === attribute) {
      return;
    }
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite answers UnknownOperationException; expired items are filtered on read everywhere, so go on.
    if (!ttlUnsupportedLogged) {
      ttlUnsupportedLogged = true;
      logger("DynamoDB TTL could not be enabled; expired items are only filtered on read", {
        table: name,
        ...errorFields(error),
      });
    }
  }
}
