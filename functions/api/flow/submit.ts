import { nodeBytes } from "../../../adapters/bytes/node-bytes.ts";
import { LedgerBusyError } from "../../../core/billing/errors.ts";
import { holdAmount } from "../../../core/billing/pricing.ts";
import { isTransient } from "../../../core/errors/transient.ts";
import { encodeJobInput, type WireInput } from "../../../core/jobs/job-input.ts";
import { paidJobOf, signPaidQuery } from "../../../core/jobs/paid-job.ts";
import type { JobMessage } from "../../../core/jobs/schema.ts";
import type { ApiKeyRecord } from "../../../core/keys/schema.ts";
import type { RequestRecord, WebhookSpec } from "../../../core/ports/requests.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { forgetPaying } from "../paid-gate.ts";
import { fingerprint, idempotentRequestId, jobIdOf, randomId } from "./ids.ts";
import { finishCancel, type RequestView, settleRequest } from "./settle.ts";
import { reserveSpend } from "./spend-limit.ts";

/** Holds stay open this long past the job deadline, so a late poll can still settle before the sweeper releases. */
export const SETTLE_MARGIN_MS = 5 * 60_000;
/**
 * With a settler in this process, how often at least the sync wait reads the request in case an announcement was
 * missed (a settle by another process): rarely, since each read is a paid request under load (issue 17), and the
 * wait's last look settles anyway.
 */
export const WATCH_POLL_MS = 2_000;
/** Retry-After of a hold the ledger had no room for: open holds on the account finish within seconds. */
export const LEDGER_BUSY_RETRY_SECONDS = 2;
/**
 * How long a submit refused by its key's spend limit looks again for a twin's record (same Idempotency-Key, sent
 * moments before: its reservation may be what refused this one, and its record comes one write after it).
 */
const TWIN_RECORD_WAIT_MS = 100;

export interface SubmitInput {
  readonly key: ApiKeyRecord;
  readonly task: string;
  readonly input: unknown;
  readonly k: number;
  readonly idempotencyKey: string | undefined;
  /** Where to POST the final state (already checked against the URL policy). */
  readonly webhook?: WebhookSpec;
}

/**
 * The paid path up to the queue: validate -> route -> request record (with the input's digest: its jobs' record
 * too) -> hold (before anything is enqueued) -> phase holding->dispatched (conditional) -> job messages; a random
 * id's record is written after its hold instead, already dispatched (see below: no cancel can come before its hold).
 * A cancel may land at any step: it moves the phase to `canceling`, so the conditional phase move fails
 * and this request cancels its own jobs and releases the hold it placed instead of enqueueing (no job runs, nothing
 * is charged); a cancel after the move cancels the jobs (their first terminal write) and its phase tells workers
 * not to start them.
 * Returns the request's current view (a replayed Idempotency-Key returns the first request's, whatever its state).
 */
export async function submitInference(deps: ApiDeps, s: SubmitInput): Promise<RequestView> {
  const task = deps.tasks.get(s.task);
  if (!task) throw new ApiError("not_found", `unknown task "${s.task}"`);
  const prepared = await deps.tasks.prepare(s.task, s.input);
  if (!prepared.ok) {
    throw new ApiError("invalid_request", "input does not match the task's schema", {
      issues: prepared.issues.map((i) => ({ path: ["input", ...i.path].join("."), message: i.message })),
    });
  }
  // The body digest only serves to tell a replayed Idempotency-Key from a reused one; a random id never replays.
  const bodySha256 = s.idempotencyKey ? fingerprint({ task: s.task, input: s.input, k: s.k }) : "";
  // What the workers must run, in its queue form (a tensor as base64 float32 bytes), and its digest
  // (core/jobs/job-input.ts, the definition the workers check against).
  const { wire, digest: inputDigest } = encodeJobInput(prepared.value, nodeBytes);
  const requestId = s.idempotencyKey ? idempotentRequestId(s.key.accountId, s.idempotencyKey) : randomId("req");
  if (s.idempotencyKey) {
    const replay = await replayOf(deps, requestId, bodySha256);
    if (replay) return replay;
  }
  const experts = await deps.router.route(s.task, prepared.value, s.k);
  if (experts.length === 0) throw new ApiError("unavailable", `no expert serves "${s.task}" right now`);
  // Exploration lane: newcomers answer in the shadow (not held for, not charged, not in the result).
  const shadow = (await deps.router.explore?.(s.task, experts)) ?? [];
  const now = deps.clock.now();
  const deadline = now + deps.config.jobDeadlineSeconds * 1000;
  const amount = holdAmount(task.pricePerAnswer, experts.length);
  const record: RequestRecord = {
    requestId,
    accountId: s.key.accountId,
    keyId: s.key.keyId,
    task: s.task,
    bodySha256,
    inputDigest,
    experts,
    ...(shadow.length > 0 ? { shadow } : {}),
    pricePerAnswer: task.pricePerAnswer,
    holdAmount: amount,
    // A random id's record is written after its hold (below), so a cancel of it always finds the hold to release:
    // it starts `dispatched` (one write less per query, issue 17). An Idempotency-Key's id is known to its client,
    // who may cancel (or retry) before the hold: it moves holding -> dispatched conditionally.
    phase: s.idempotencyKey ? "holding" : "dispatched",
    createdAt: now,
    deadline,
    ...(s.webhook ? { webhook: s.webhook } : {}),
    ...(s.key.spendLimit && deps.spend ? { spendCounted: true } : {}),
  };
  // Counted against the key's spend limits first (conditional adds: parallel queries cannot pass a limit together),
  // before any record exists: a cancel, which gives a counted request's reservation back when it settles it, can only
  // meet a request whose reservation is made. `unwind` undoes the reservation (and an Idempotency-Key's record) on
  // every path below that leaves no hold.
  let unreserve: () => Promise<void>;
  try {
    unreserve = await reserveSpend(deps, record, s.key.spendLimit);
  } catch (error) {
    // Two submits of one Idempotency-Key racing past the replay look above both reserve: the twin's reservation
    // may be what refused this one. Its query is this one's, so its record answers, as a replay.
    const replay =
      error instanceof ApiError && error.code === "spend_limit" && s.idempotencyKey
        ? await twinReplay(deps, requestId, bodySha256)
        : null;
    if (replay) return replay;
    throw error;
  }
  // An Idempotency-Key's record goes before the hold: a retry of the key finds it. A random id's record is written
  // only once its hold is in place: a listing (GET /v1/jobs) shows a record as soon as it exists, so its client may
  // cancel it before this call returns, and a cancel that came before the hold would release nothing while the hold
  // placed after it stayed until the sweeper (deadline + margin). A refused hold then leaves no record to discard.
  const recordFirst = s.idempotencyKey !== undefined;
  const unwind = async () => {
    // A record a cancel took over is settled by that cancel, which gives the reservation back itself (afterSettle):
    // giving it back here too would count it off the key's spend twice.
    if (recordFirst && (await deps.requests.discard(requestId)) === "kept") return;
    await unreserve();
  };
  if (recordFirst) {
    const created = await deps.requests.create(record).catch(async (error: unknown) => {
      // The write may have gone through with its answer lost: undone like a refused hold, so a record left behind
      // is not settled later (giving the reservation back a second time).
      await unwind();
      throw error;
    });
    if (!created) {
      await unreserve();
      const replay = await replayOf(deps, requestId, bodySha256);
      if (replay) return replay;
      throw new ApiError("conflict", "request id collision; retry");
    }
  }
  const hold = await deps.ledger
    .hold({
      holdId: requestId,
      accountId: s.key.accountId,
      amount,
      deadline: deadline + SETTLE_MARGIN_MS,
      at: now,
      memo: `${s.task} x${experts.length}`,
      // A random request id was never held before: the ledger need not look for an earlier hold of it.
      freshId: !s.idempotencyKey,
    })
    .catch(async (error: unknown) => {
      if (!(error instanceof LedgerBusyError)) {
        // A random id has no record yet, so no settle will ever give its reservation back: given back here (a hold
        // that did go through is released by the ledger's sweep). An Idempotency-Key's record stays for its
        // retries: the settle of it (a retry or poll past its deadline: expired, nothing held) gives it back.
        if (!recordFirst) await unreserve();
        throw error;
      }
      // Nothing is held: forget the request so the same Idempotency-Key works on the retry.
      await unwind();
      throw new ApiError("ledger_busy", "too many queries in flight on this account; retry shortly", {
        retryAfterSeconds: LEDGER_BUSY_RETRY_SECONDS,
      });
    });
  // A replayed hold older than this (new) request record belongs to an earlier request under the same
  // Idempotency-Key whose record has expired (holds never do): answering it would run a query nobody pays for.
  if (hold.ok && hold.replay && hold.hold.createdAt !== now) {
    await unwind();
    throw new ApiError("conflict", "this Idempotency-Key belongs to an earlier, expired request");
  }
  if (!hold.ok) {
    await unwind();
    if (hold.reason === "conflict") throw new ApiError("conflict", "a different request already used this id");
    forgetPaying(deps, s.key.accountId);
    throw new ApiError("insufficient_credits", `this query needs ${amount} micro-credits of available balance`);
  }
  if (!recordFirst) await createAfterHold(deps, record, unreserve);
  const dispatched = await dispatch(deps, record, wire, now);
  if (!dispatched) return finishCancel(deps, (await deps.requests.get(requestId)) ?? record);
  // No settle here: nothing can be finished yet unless enqueueing failed, and the wait loop (or a poll) settles.
  return { record: { ...record, phase: "dispatched" }, status: "queued" };
}

/** A random id's record, once its hold is in place; a record that cannot be written gives the hold back. */
async function createAfterHold(deps: ApiDeps, record: RequestRecord, unreserve: () => Promise<void>): Promise<void> {
  const created = await deps.requests.create(record).catch(async (error: unknown) => {
    // The write may have gone through with its answer lost, and a listing shows it: removed first, so no settle of
    // it gives the reservation back again. One a cancel took over meanwhile is that cancel's to release; with the
    // store failing the discard too, the hold still goes back at once (the client's credits matter more).
    const discarded = await deps.requests.discard(record.requestId).catch(() => "unknown" as const);
    if (discarded !== "kept") await giveBack();
    throw error;
  });
  if (!created) {
    // A random id is never taken (96 random bits): a collision is refused rather than answered with another's.
    await giveBack();
    throw new ApiError("conflict", "request id collision; retry");
  }
  async function giveBack() {
    await deps.ledger.release(
      { accountId: record.accountId, holdId: record.requestId, amount: record.holdAmount },
      deps.clock.now(),
    );
    await unreserve();
  }
}

/**
 * A twin submit's record, when this submit's reservation was refused: at once, or (the twin may be between its
 * reservation and its record, one write) after TWIN_RECORD_WAIT_MS. Only a refused Idempotency-Key submit waits.
 */
async function twinReplay(deps: ApiDeps, requestId: string, bodySha256: string): Promise<RequestView | null> {
  const now = await replayOf(deps, requestId, bodySha256);
  if (now) return now;
  await deps.clock.sleep(TWIN_RECORD_WAIT_MS);
  return replayOf(deps, requestId, bodySha256);
}

async function replayOf(deps: ApiDeps, requestId: string, bodySha256: string): Promise<RequestView | null> {
  const existing = await deps.requests.get(requestId);
  if (!existing) return null;
  if (existing.bodySha256 !== bodySha256) {
    throw new ApiError("idempotency_mismatch", "this Idempotency-Key was used with a different request body");
  }
  return settleRequest(deps, requestId);
}

/**
/**
 * The phase move, then the messages. No job records: the request record (written before the messages, with the input's
 * digest and the experts) is every paid job's record until its first terminal write (core/ports/jobs.ts; issue 17).
 * Paid messages carry the query's facts signed once by the gateway (`query`, core/jobs/paid-job.ts): a worker that
 * trusts the gateway's key runs a first delivery on them, and any other only if the request record vouches for it;
 * the expert signs the input's digest with its answer either way. The input is serialised once for all k messages
 * (it is most of each message's bytes). false: a cancel came first; nothing was enqueued.
 */
async function dispatch(deps: ApiDeps, record: RequestRecord, wire: WireInput, now: number): Promise<boolean> {
  const all = answering(record);
  const query =
    record.inputDigest === undefined
      ? undefined
      : signPaidQuery(deps.gatewaySigner, { ...record, inputDigest: record.inputDigest }, now);
  // Every message ends with the same text (the input's member: `"tensor":"…"}` or `"input":…}`), written once.
  const inputTail = `,${JSON.stringify(wire).slice(1)}`;
  const messages = all.map((expert) => {
    const message: Omit<JobMessage, "input" | "tensor"> = {
      v: 1,
      jobId: jobIdOf(record.requestId, expert.uid),
      requestId: record.requestId,
      kind: "paid",
      task: record.task,
      uid: expert.uid,
      hotkey: expert.hotkey,
      deadline: record.deadline,
      enqueuedAt: now,
      ...(query ? { query } : {}),
    };
    return `${JSON.stringify(message).slice(0, -1)}${inputTail}`;
  });
  // The phase moves before the messages go, conditionally: a cancel that came first wins and nothing is sent. A
  // dispatched request whose jobs never run is settled by their expiry at the deadline (hold released), exactly
  // like one whose enqueue failed.
  if (record.phase === "holding" && !(await deps.requests.setPhase(record.requestId, ["holding"], "dispatched"))) {
    return false;
  }
  await enqueue(deps, record, messages, now);
  return true;
}

/** Every expert that gets a job: the routed ones, then the shadow lane's newcomers. */
export function answering(record: RequestRecord): RequestRecord["experts"] {
  return record.shadow === undefined ? record.experts : [...record.experts, ...record.shadow];
}

async function enqueue(deps: ApiDeps, record: RequestRecord, messages: readonly string[], now: number): Promise<void> {
  try {
    await deps.queue.sendMany(messages);
  } catch (error) {
    // Nothing (or not everything) reached the queue: fail the jobs so settling releases the hold at once.
    deps.logger.error("enqueue failed", { requestId: record.requestId, error });
    // Some messages may have gone out: the client must get its query's Location, never an error it would retry (a
    // second query, paid twice), so a failure here is logged. Jobs left open then expire at the deadline.
    await Promise.all(
      answering(record).map((expert) =>
        deps.jobs.fail(
          jobIdOf(record.requestId, expert.uid),
          { code: "enqueue_failed", message: "queue unavailable", retryable: true },
          now,
          paidJobOf(record, expert.uid) ?? undefined,
        ),
      ),
    ).catch((failed: unknown) =>
      deps.logger.error("enqueue failed and its jobs could not be failed", {
        requestId: record.requestId,
        error: failed,
      }),
    );
  }
}

/**
 * Waits until the request is settled or `waitMs` has passed. With a settler in this process (`deps.settled`) the
 * wait ends on its announcement, and the polls in between (every WATCH_POLL_MS, in case a notice was lost) only read
 * the request: settling beside the settler would run the ledger steps twice. The last look settles, so a lost
 * notice costs the client at most its wait. Without a settler here, polls with exponential backoff, each settling
 * when it can.
 */
export async function waitForSettlement(deps: ApiDeps, view: RequestView, waitMs: number): Promise<RequestView> {
  const until = deps.clock.now() + waitMs;
  const requestId = view.record.requestId;
  const watch = deps.settled?.watch(requestId);
  let current = view;
  let delay = deps.config.pollInitialMs;
  let lastLookSettled = true;
  try {
    while (!current.record.result && deps.clock.now() < until) {
      const left = Math.max(1, until - deps.clock.now());
      if (watch) {
        const announced = await watch.next(Math.min(Math.max(deps.config.pollMaxMs, WATCH_POLL_MS), left));
        if (!announced && deps.clock.now() < until) {
          const record = await deps.requests.get(requestId);
          if (record) current = { record, status: record.result?.status ?? current.status };
          lastLookSettled = false;
          continue;
        }
      } else {
        await deps.clock.sleep(Math.min(delay, left));
        delay = Math.min(deps.config.pollMaxMs, delay * 2);
      }
      // The settler's announcement carries the stored result: no read needed (issue 17).
      const announcedRecord = watch?.settled();
      current = announcedRecord?.result
        ? { record: announcedRecord, status: announcedRecord.result.status }
        : ((await settleRequest(deps, requestId)) ?? current);
      lastLookSettled = true;
    }
    if (!current.record.result && !lastLookSettled) current = (await settleRequest(deps, requestId)) ?? current;
  } catch (error) {
    // The query is held and its jobs are sent: a store's passing failure now must not reach the client as an error
    // it would retry (paying twice without an Idempotency-Key). It is answered as a wait that ran out is: still
    // running, 202 with its Location; the settler and the sweeper finish it.
    if (!isTransient(error)) throw error;
    deps.logger.warn("a store failed while a query was awaited; answered as still running", { requestId, error });
  } finally {
    watch?.close();
  }
  return current;
}
