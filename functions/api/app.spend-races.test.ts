import { describe, expect, it } from "vitest";
import { idempotentRequestId } from "./flow/ids.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness } from "./testing/harness.ts";

/**
 * A key's spend-limit counters against the submit's failure and race paths: whatever happens between the
 * reservation and the hold, each query is counted once while it holds, and given back once when it does not.
 */
async function limitedKey(perDay: number, credits = 100 * DIGITS_PRICE) {
  const h = await harness();
  const { client, accountId } = await h.fundedKey(credits, { spendLimit: { perDay } });
  const spend = h.deps.spend;
  if (!spend) throw new Error("the harness has a spend store");
  const counted = async () => {
    const usage = await client.usage();
    return usage.ok ? usage.data.keySpend?.today : undefined;
  };
  return { h, client, spend, counted, accountId };
}

describe("spend limits against concurrent submits of one Idempotency-Key", () => {
  it("a submit whose reservation meets its twin's answers the twin's query, not 402 spend_limit", async () => {
    // Room for exactly one query today: the twin's reservation is what refuses this one's.
    const { client, spend, counted, accountId } = await limitedKey(DIGITS_PRICE);
    const reserve = spend.reserve.bind(spend);
    let twin: Awaited<ReturnType<typeof client.infer>> | undefined;
    let raced = false;
    spend.reserve = async (input) => {
      if (!raced) {
        raced = true;
        // The same key's other submit runs to its end between this one's replay look and its reservation.
        twin = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0, idempotencyKey: "twin" });
      }
      return reserve(input);
    };
    const res = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0, idempotencyKey: "twin" });
    const id = idempotentRequestId(accountId, "twin");
    expect(twin?.ok && [twin.status, twin.data.id]).toEqual([202, id]);
    // One query under one key: this submit answers it too (as a replay would), counted once.
    expect(res.ok ? res.data.id : res.problem.code).toBe(id);
    expect(await counted()).toBe(DIGITS_PRICE);
  });
});

describe("spend limits against a twin submit whose record is not written yet", () => {
  it("a submit refused in the moment between its twin's reservation and record answers the twin's query", async () => {
    // Room for one query. The first submit reserves it; the second's reservation is refused before the first has
    // written its record. A clock whose sleeps end only once that record exists lets the order be exact.
    let recordWritten: () => void = () => {};
    const written = new Promise<void>((resolve) => {
      recordWritten = resolve;
    });
    const clock = { now: () => Date.now(), sleep: async () => written };
    const h = await harness({ clock });
    const { client, accountId } = await h.fundedKey(100 * DIGITS_PRICE, { spendLimit: { perDay: DIGITS_PRICE } });
    const spend = h.deps.spend;
    if (!spend) throw new Error("the harness has a spend store");
    let refused: () => void = () => {};
    const secondRefused = new Promise<void>((resolve) => {
      refused = resolve;
    });
    const reserve = spend.reserve.bind(spend);
    let calls = 0;
    spend.reserve = async (input) => {
      const call = ++calls;
      const result = await reserve(input);
      if (call === 2 && !result.ok) refused();
      // The first submit holds on to its reservation until the second has been refused.
      if (call === 1) await secondRefused;
      return result;
    };
    const requests = h.deps.requests;
    const create = requests.create.bind(requests);
    requests.create = async (record) => {
      const created = await create(record);
      recordWritten();
      return created;
    };
    const submit = () => client.infer("digits", digitInput(), { k: 1, waitSeconds: 0, idempotencyKey: "late-twin" });
    const first = submit();
    // The second starts once the first has reserved (its replay look finds nothing yet).
    while (calls < 1) await new Promise((r) => setImmediate(r));
    const [a, b] = await Promise.all([first, submit()]);
    const id = idempotentRequestId(accountId, "late-twin");
    expect(a.ok && [a.status, a.data.id]).toEqual([202, id]);
    // Not 402: the query under this key is running and will be charged; the second submit answers it.
    expect(b.ok ? b.data.id : b.problem.code).toBe(id);
    const usage = await client.usage();
    expect(usage.ok && usage.data.keySpend?.today).toBe(DIGITS_PRICE);
  });
});

describe("spend limits against a failed step between the reservation and the hold", () => {
  it("a random id's hold that fails with a ledger error gives its reservation back", async () => {
    const { h, client, counted } = await limitedKey(100 * DIGITS_PRICE);
    const hold = h.ledger.hold.bind(h.ledger);
    let fail = true;
    h.ledger.hold = async (input) => {
      if (fail) {
        fail = false;
        throw new Error("ledger unavailable");
      }
      return hold(input);
    };
    const res = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(res.ok).toBe(false);
    // Nothing is held and no record names the query: nothing else would ever give the reservation back.
    expect(await counted()).toBe(0);
    const next = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(next.ok && next.status).toBe(202);
    expect(await counted()).toBe(DIGITS_PRICE);
  });

  it("an Idempotency-Key record written but answered with an error is given back once, not twice", async () => {
    const { h, client, counted, accountId } = await limitedKey(100 * DIGITS_PRICE);
    const first = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(first.ok && first.status).toBe(202);
    loseFirstCreateAnswer(h);
    const res = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0, idempotencyKey: "lost-answer" });
    expect(res.ok).toBe(false);
    // Whatever the client does with the key next (here a cancel, which settles a record it finds), the first
    // query stays counted: the failed one's reservation went back once.
    await client.cancel(idempotentRequestId(accountId, "lost-answer"));
    expect(await counted()).toBe(DIGITS_PRICE);
  });
});

describe("spend limits against a random id's record written after its hold", () => {
  it("a record written but answered with an error is given back once, though a listing shows it", async () => {
    const { h, client, counted } = await limitedKey(100 * DIGITS_PRICE);
    const first = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    const firstId = first.ok ? first.data.id : "";
    loseFirstCreateAnswer(h);
    const res = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(res.ok).toBe(false);
    // A dashboard's "cancel all" over what it lists settles whatever record the failed submit left behind.
    const listed = await client.listJobs();
    for (const job of listed.ok ? listed.data.data : []) if (job.id !== firstId) await client.cancel(job.id);
    expect(await counted()).toBe(DIGITS_PRICE);
    const usage = await client.usage();
    expect(usage.ok && usage.data.held).toBe(DIGITS_PRICE);
  });
});

/** The next request record write goes through, but its answer is lost (a timeout, a dropped connection). */
function loseFirstCreateAnswer(h: Awaited<ReturnType<typeof harness>>) {
  const requests = h.deps.requests;
  const create = requests.create.bind(requests);
  let lose = true;
  requests.create = async (record) => {
    const created = await create(record);
    if (lose) {
      lose = false;
      throw new Error("connection reset");
    }
    return created;
  };
}
