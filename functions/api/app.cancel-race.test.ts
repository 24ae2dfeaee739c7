import { describe, expect, it } from "vitest";
import { idempotentRequestId } from "./flow/ids.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { answerQueuedJobs } from "./testing/fake-experts.ts";
import { digitInput, harness } from "./testing/harness.ts";

/**
 * Issue 13 item 5: a cancel may land at any step of a submit. Whatever the moment, the query either never holds
 * nor runs, or its hold is released, or (answers already in) exactly the answered part is charged: nothing stays
 * held, nothing unanswered is charged, and no answer is given away.
 */
// Paid jobs get no records at submit (issue 17): after the hold comes the phase move, then the send.
type Step = "beforeHold" | "afterHold" | "afterSend";
const STEPS: readonly Step[] = ["beforeHold", "afterHold", "afterSend"];

async function raceHarness(credits: number) {
  const h = await harness();
  const key = await h.fundedKey(credits);
  let cancelAt: { step: Step; requestId: string } | null = null;
  const cancels: unknown[] = [];
  const at = async (step: Step, requestId: string) => {
    if (cancelAt?.step !== step || cancelAt.requestId !== requestId) return;
    cancelAt = null;
    // The cancel runs to its end here, in the middle of the submit: the worst moment for that step.
    cancels.push(await key.client.cancel(requestId));
  };
  const { ledger, queue } = h;
  const hold = ledger.hold.bind(ledger);
  ledger.hold = async (input) => {
    await at("beforeHold", input.holdId);
    const r = await hold(input);
    await at("afterHold", input.holdId);
    return r;
  };
  const sendMany = queue.sendMany.bind(queue);
  queue.sendMany = async (bodies) => {
    await sendMany(bodies);
    const first = bodies[0];
    if (first !== undefined) await at("afterSend", (JSON.parse(first) as { requestId: string }).requestId);
  };
  return {
    h,
    key,
    cancelAt: (step: Step, requestId: string) => {
      cancelAt = { step, requestId };
    },
  };
}

async function checkBooks(
  h: Awaited<ReturnType<typeof harness>>,
  key: { client: ReturnType<typeof h.clientFor>; accountId: string },
  ids: readonly string[],
  credits: number,
) {
  // Whatever reached the queue is worked off, then every query is settled (as the settler or a poll would).
  while ((await answerQueuedJobs(h.queue, h.jobs, h.experts)) > 0);
  let charged = 0;
  for (const id of ids) {
    const view = await key.client.job(id);
    if (!view.ok) continue; // the cancel came before the request existed: nothing held, nothing run
    const jobs = await h.jobs.getMany([0, 1].map((uid) => `${id}:${uid}`));
    const answered = jobs.filter((j) => j.status === "succeeded").length;
    const cost = view.data.cost ?? 0;
    if (view.data.status === "canceled") {
      expect({ id, cost, answered }).toEqual({ id, cost: 0, answered: 0 });
    } else {
      // An answer in means it was charged, at the price of the answers in.
      expect({ id, status: view.data.status, cost }).toEqual({
        id,
        status: "succeeded",
        cost: answered * DIGITS_PRICE,
      });
    }
    const hold = await h.ledger.getHold({ accountId: key.accountId, holdId: id });
    expect(hold === null || hold.status === "released" || hold.status === "captured").toBe(true);
    charged += cost;
  }
  const usage = await key.client.usage();
  expect(usage.ok && [usage.data.held, usage.data.spent, usage.data.balance]).toEqual([0, charged, credits - charged]);
  expect((await h.queue.depth()).visible).toBe(0);
}

describe("cancel against submit, at every step", () => {
  it("a cancel at each step of the submit leaves nothing held and nothing run or charged", async () => {
    const credits = 100 * DIGITS_PRICE;
    const { h, key, cancelAt } = await raceHarness(credits);
    const ids: string[] = [];
    for (const step of STEPS) {
      const idem = `cancel-${step}`;
      const id = idempotentRequestId(key.accountId, idem);
      ids.push(id);
      cancelAt(step, id);
      const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0, idempotencyKey: idem });
      // A submit that meets its cancel before the send answers the canceled query (200) and sends nothing; after the
      // send it has already answered 202 for a query whose jobs are canceled before any worker starts them.
      expect(res.ok && [res.status, res.data.status]).toEqual(
        step === "afterSend" ? [202, "queued"] : [200, "canceled"],
      );
      const jobs = await h.jobs.getMany([0, 1].map((uid) => `${id}:${uid}`));
      expect(jobs.every((j) => j.status === "canceled")).toBe(true);
      // Nothing reached the queue unless the cancel came after the send, and then no job can start.
      const depth = (await h.queue.depth()).visible;
      expect(depth).toBe(step === "afterSend" ? 2 : 0);
      expect((await h.ledger.getHold({ accountId: key.accountId, holdId: id }))?.status ?? "none").toMatch(
        /^(released|none)$/,
      );
    }
    await checkBooks(h, key, ids, credits);
    const usage = await key.client.usage();
    expect(usage.ok && usage.data.spent).toBe(0);
  });

  it("cancels issued right after submits, with workers answering meanwhile, never lose or give away money", async () => {
    const credits = 1000 * DIGITS_PRICE;
    const { h, key } = await raceHarness(credits);
    const stop = h.startWorkers();
    const ids: string[] = [];
    try {
      await Promise.all(
        Array.from({ length: 80 }, async (_, i) => {
          const idem = `race-${i}`;
          const id = idempotentRequestId(key.accountId, idem);
          ids.push(id);
          const submit = key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0, idempotencyKey: idem });
          // Land the cancel anywhere from before the request exists to after its answers.
          for (let t = 0; t < i % 20; t++) await new Promise((r) => setImmediate(r));
          await Promise.all([submit, key.client.cancel(id)]);
        }),
      );
    } finally {
      await stop();
    }
    await checkBooks(h, key, ids, credits);
  });
});

describe("cancel of a query seen in a listing before its submit returned", () => {
  it("a random id canceled from GET /v1/jobs at any moment of its submit leaves nothing held", async () => {
    const credits = 100 * DIGITS_PRICE;
    const h = await harness();
    const key = await h.fundedKey(credits);
    // A client that cancels every open query it lists (a dashboard's "cancel all"), run at each step of the submit:
    // a random request id is nobody's until the submit answers, but a listing shows its record as soon as it exists.
    const canceled = new Set<string>();
    const cancelListed = async () => {
      const listed = await key.client.listJobs();
      for (const job of listed.ok ? listed.data.data : []) {
        if (job.status !== "queued" || canceled.has(job.id)) continue;
        canceled.add(job.id);
        await key.client.cancel(job.id);
      }
    };
    const { ledger } = h;
    const requests = h.deps.requests;
    const create = requests.create.bind(requests);
    requests.create = async (record) => {
      const created = await create(record);
      await cancelListed();
      return created;
    };
    const hold = ledger.hold.bind(ledger);
    ledger.hold = async (input) => {
      await cancelListed();
      const r = await hold(input);
      await cancelListed();
      return r;
    };
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    expect(res.ok).toBe(true);
    const id = res.ok ? res.data.id : "";
    expect(canceled.has(id)).toBe(true);
    const view = await key.client.job(id);
    expect(view.ok && view.data.status).toBe("canceled");
    // The cancel's release must have found the hold: nothing waits for the sweeper (deadline + margin).
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: id }))?.status ?? "none").toMatch(
      /^(released|none)$/,
    );
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.held, usage.data.spent, usage.data.balance]).toEqual([0, 0, credits]);
  });
});

describe("cancel of an Idempotency-Key query against its spend reservation", () => {
  /**
   * A key with a spend limit, one query held (counted), and too few credits left for the next, whose hold is
   * refused while a cancel lands at `step`.
   */
  async function refusedHoldWithCancel(step: "beforeReserve" | "beforeHold") {
    const h = await harness();
    const { accountId, client } = await h.fundedKey(3 * DIGITS_PRICE, { spendLimit: { perDay: 100 * DIGITS_PRICE } });
    const first = await client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(first.ok && first.status).toBe(202);
    const id = idempotentRequestId(accountId, "limited-cancel");
    const cancels: unknown[] = [];
    const spend = h.deps.spend;
    if (!spend) throw new Error("the harness has a spend store");
    const reserve = spend.reserve.bind(spend);
    spend.reserve = async (input) => {
      if (step === "beforeReserve") cancels.push(await client.cancel(id));
      return reserve(input);
    };
    const hold = h.ledger.hold.bind(h.ledger);
    h.ledger.hold = async (input) => {
      if (step === "beforeHold") cancels.push(await client.cancel(id));
      return hold(input);
    };
    const res = await client.infer("digits", digitInput(), { k: 3, waitSeconds: 0, idempotencyKey: "limited-cancel" });
    return { res, cancels, client };
  }

  for (const step of ["beforeReserve", "beforeHold"] as const) {
    it(`a cancel ${step === "beforeHold" ? "between the reservation and a refused hold" : "before the reservation"} gives the reservation back once`, async () => {
      const { res, cancels, client } = await refusedHoldWithCancel(step);
      expect(cancels).toHaveLength(1);
      // The canceled query answers as canceled or as refused; either way it holds nothing.
      expect(res.ok ? res.data.status : res.problem.code).toMatch(/^(canceled|insufficient_credits)$/);
      // Only the first query is held and counted: the raced one's reservation went back once, not twice.
      const usage = await client.usage();
      expect(usage.ok && [usage.data.held, usage.data.spent]).toEqual([DIGITS_PRICE, 0]);
      expect(usage.ok && usage.data.keySpend && [usage.data.keySpend.today, usage.data.keySpend.total]).toEqual([
        DIGITS_PRICE,
        DIGITS_PRICE,
      ]);
    });
  }
});
