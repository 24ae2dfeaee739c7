/**
 * Every AWS call of a paid query, by command, table and queue: sequential digit queries (k = 2 by default) through
 * the ephemeral market, counted by SDK middleware on the data plane's clients. Receives that return no message
 * (idle long polls) are counted apart, and so are DynamoDB calls that failed (a refused conditional write is billed
 * too); DynamoDB calls also show the capacity units DynamoDB reported (by item size, ReturnConsumedCapacity).
 * Usage: node --import tsx bench/query-calls.ts [--k 2] [--n 20] [--c 1]
 * Its last line is the JSON of the counts per query.
 */
import { parseArgs } from "node:util";
import { dropHandlerCache } from "../adapters/aws/clients.ts";
import { silentLogger } from "../adapters/log/logger.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

const { values } = parseArgs({
  options: {
    k: { type: "string", default: "2" },
    n: { type: "string", default: "20" },
    c: { type: "string", default: "1" },
  },
});
const K = Number(values.k);
const N = Number(values.n);
/** Queries in flight at once (1: sequential). */
const C = Number(values.c);

const market = await startEphemeralMarket({ log: silentLogger, routerBootstrapItems: 0 });
const tally = new Map<string, number>();
/** Capacity units DynamoDB reported for the calls of each name (by item size; see bench/support/aws-counter.ts). */
const billed = new Map<string, number>();
let on = false;
const add = (name: string, units?: number) => {
  if (!on) return;
  tally.set(name, (tally.get(name) ?? 0) + 1);
  if (units !== undefined) billed.set(name, (billed.get(name) ?? 0) + units);
};
const where = (input: Record<string, unknown>) => {
  const url = typeof input.QueueUrl === "string" ? input.QueueUrl : "";
  const table = typeof input.TableName === "string" ? input.TableName : Object.keys(input.RequestItems ?? {})[0];
  return ((url ? url.split("/").pop() : table) ?? "?").replace(/^t[a-z0-9]{6}-/, "");
};
const items = (input: Record<string, unknown>) => {
  const r = input.RequestItems as Record<string, unknown[] | { Keys?: unknown[] }> | undefined;
  const e = input.Entries as unknown[] | undefined;
  if (e) return e.length;
  if (!r) return 1;
  return Object.values(r).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : (v.Keys?.length ?? 0)), 0);
};
// Both SQS clients (the sends' and the long polls'); the cached middleware dropped so the counter is seen.
for (const client of [market.dataPlane.sqs, market.dataPlane.pollSqs]) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const input = (args.input ?? {}) as Record<string, unknown>;
      const name = String(context.commandName).replace(/Command$/, "");
      const got = (out.output as { Messages?: unknown[] }).Messages?.length ?? 0;
      if (name === "ReceiveMessage") add(`sqs ${where(input)} ReceiveMessage${got === 0 ? " (empty)" : ""}`);
      else add(`sqs ${where(input)} ${name}`);
      if (name.endsWith("Batch")) add(`  (items) sqs ${where(input)} ${name}:${items(input)}`);
      if (name === "ReceiveMessage" && got > 0) add(`  (items) sqs ${where(input)} ReceiveMessage:${got}`);
      return out;
    },
    { step: "initialize", name: "queryCallsSqs" },
  );
  dropHandlerCache(client);
}
market.dataPlane.dynamo.middlewareStack.add(
  (next, context) => async (args) => {
    const input = (args.input ?? {}) as Record<string, unknown>;
    const name = String(context.commandName).replace(/Command$/, "");
    const key = (input.Key ?? input.Item) as Record<string, { S?: string } | string> | undefined;
    const pk = key?.pk;
    const kind = (typeof pk === "string" ? pk : pk?.S)?.split("#")[0];
    // An eventually consistent read costs half the read units of a strong one: named apart.
    const batch = Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>)[0];
    const eventual =
      (name === "GetItem" && !input.ConsistentRead) || (name === "BatchGetItem" && !batch?.ConsistentRead);
    input.ReturnConsumedCapacity = "TOTAL";
    const label = `ddb ${where(input)} ${name}${kind ? ` ${kind}` : ""}${name.startsWith("Batch") ? ` x${items(input)}` : ""}${eventual ? " (eventual)" : ""}`;
    let out: Awaited<ReturnType<typeof next>>;
    try {
      out = await next(args);
    } catch (error) {
      // A refused conditional write is billed too (its units are not reported): counted apart.
      add(`${label} (failed: ${(error as { name?: string }).name ?? "error"})`);
      throw error;
    }
    const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
    const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce<number>(
      (n, c) => n + Number((c as { CapacityUnits?: unknown }).CapacityUnits ?? 0),
      0,
    );
    add(label, units);
    return out;
  },
  { step: "initialize", name: "queryCallsDynamo" },
);

const adminHeaders = { authorization: `Bearer ${market.adminToken}`, "content-type": "application/json" };
const created = await fetch(`${market.url}/v1/keys`, {
  method: "POST",
  headers: adminHeaders,
  body: JSON.stringify({ name: "calls", credits: 1e12, rateLimit: { perMinute: 1_000_000, burst: 100_000 } }),
});
const { key } = (await created.json()) as { key: string };
const mnist = await loadMnist();
const query = async (i: number) => {
  const res = await fetch(`${market.url}/v1/tasks/digits/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, prefer: "wait=20" },
    body: JSON.stringify({ input: { pixels: Array.from(mnist.pixels.subarray(i * 784, (i + 1) * 784)) }, k: K }),
  });
  const json = (await res.json()) as { status?: string };
  if (json.status !== "succeeded") throw new Error(`query ${i}: ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
};
for (let i = 0; i < 5; i++) await query(i);
await new Promise((r) => setTimeout(r, 500));
on = true;
let next = 0;
await Promise.all(
  Array.from({ length: C }, async () => {
    for (let i = next++; i < N; i = next++) await query(i % 1000);
  }),
);
// Let the settler's and workers' trailing calls (deletes, after-settle) land.
await new Promise((r) => setTimeout(r, 1500));
on = false;
const per = Object.fromEntries([...tally].sort().map(([name, n]) => [name, Math.round((n / N) * 100) / 100]));
const units = Object.fromEntries([...billed].map(([name, u]) => [name, Math.round((u / N) * 100) / 100]));
for (const [name, n] of Object.entries(per)) {
  const u = units[name];
  console.log(`${n.toFixed(2).padStart(6)}  ${name}${u === undefined ? "" : `  [${u.toFixed(2)} units]`}`);
}
await market.stop();
console.log(JSON.stringify({ k: K, n: N, c: C, perQuery: per, billedUnitsPerQuery: units }));
