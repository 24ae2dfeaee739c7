import type { NoticeAnswer } from "../core/jobs/settle-notice.ts";
import type { CompleteEntry, Transition } from "../core/ports/jobs.ts";
import { SETTLE_QUEUE } from "../infra/definitions.ts";
import { AnswersNotStoredError } from "./errors.ts";
import type { SettleNotifier } from "./job-handler.ts";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface PendingWrite {
  readonly entry: CompleteEntry;
  readonly resolve: (stored: Transition) => void;
  readonly reject: (error: unknown) => void;
}

interface InFlight {
  /** The request's routed jobs this worker is working on (entered, not yet left). */
  running: number;
  /** Of those, the ones whose answer is written, waiting for the others before the one notice goes. */
  waitingEntered: number;
  /** Everyone waiting for the notice: those, and jobs of the request not entered here (shadow, redeliveries). */
  readonly waiting: Waiter[];
  uids?: readonly number[];
  /** Answers the waiting jobs stored, for the notice to carry (the settler then need not read them). */
  answers: NoticeAnswer[];
  /** Answers not yet written, waiting for the request's other routed jobs here to be written with theirs. */
  readonly writes: PendingWrite[];
  /**
   * Answers given to their jobs as stored though nobody wrote them (`carry`): every routed answer of the request is
   * here, so the notice carries them marked unstored and the settler stores them with the result.
   */
  unstored: CompleteEntry[];
  /** Of those, the ones of routed jobs (entered). */
  writingEntered: number;
  /** When the waiting answers are written even if a routed job here is still running, and its timer. */
  holdUntil?: number;
  holdTimer?: ReturnType<typeof setTimeout>;
}

/**
 * One settle notice per request per worker, sent as soon as this worker has nothing more of it running, with no
 * timer (issue 17). The k jobs of a query usually reach one worker together; each used to send a notice after its
 * answer write, merged by a 2 ms window that every lone query waited out. Now a job whose answer is written while
 * another routed job of its request is still running here waits for that one (its message is deleted only after
 * the notice, as before), and the last one sends the notice for all. A routed job that leaves without a terminal
 * write (to be retried) releases the waiting ones as it goes. A job not entered (a newcomer's shadow job, a
 * redelivery) joins the notice of routed jobs still running here, and otherwise tells at once: routed jobs never
 * wait for it, so a slow newcomer cannot hold up a query's settlement.
 *
 * The answers themselves are written the same way (`answer`, issue 17): one that is ready while another routed job
 * of its request is still running here waits, and the last one writes them all (JobStore.completeMany: one write
 * for a paid request's jobs). Each job still gets its own outcome (first write wins per job), then sends the notice
 * as above. A routed job that leaves without an answer releases the waiting answers to be written. An answer waits
 * at most `holdMs` (and never past its job's deadline less a second): until it is written a cancel or an expiry
 * of the query would win over it, and a hung sibling would hold it forever. The siblings of one query on one
 * worker usually finish within a few milliseconds of each other, so the bound only gives up the saving of a slow
 * expert's query (its answers are then written as they come, as before).
 */
/** How long a ready answer waits for its query's other answers on this worker before it is written alone. */
export const DEFAULT_ANSWER_HOLD_MS = 50;
/** An answer is never held closer to its job's deadline than this. */
const DEADLINE_MARGIN_MS = 1_000;
/**
 * Answers are carried unstored only this long before their deadline at least: the notice's time in the settle queue
 * (a cold start, a short backlog, one redelivery after a settler that died before it could store them) must not let
 * a poll past the deadline expire the query first. With the default 60 s deadline, answers of the first 25 s carry.
 */
export const CARRY_MARGIN_MS = (SETTLE_QUEUE.visibilityTimeoutSeconds + 5) * 1000;

export class SettleNotices implements SettleNotifier {
  private readonly requests = new Map<string, InFlight>();

  constructor(
    /** Sends a notice; `unstored`: its routed answers were not written (it must carry them, or fail). */
    private readonly send: (
      requestId: string,
      uids: readonly number[] | undefined,
      answers: readonly NoticeAnswer[],
      unstored: boolean,
    ) => Promise<void>,
    /** Stores answers, each with its own outcome or error (JobStore.completeMany). */
    private readonly complete: (entries: readonly CompleteEntry[]) => Promise<PromiseSettledResult<Transition>[]>,
    private readonly holdMs = DEFAULT_ANSWER_HOLD_MS,
    /** Wall time (ms since epoch): the jobs' deadlines. */
    private readonly now: () => number = Date.now,
    /**
     * Whether a notice can carry these answers unstored (they fit one notice). Absent: answers are always written.
     * When every routed answer of a request is ready here at once and fits, none is written: the notice carries them
     * and the settler stores them with the result (issue 17: the jobs item's write, one a query, saved).
     */
    private readonly carry?: (requestId: string, uids: readonly number[], answers: readonly NoticeAnswer[]) => boolean,
  ) {}

  /** A routed job of `requestId` is about to run here. */
  enter(requestId: string): void {
    const entry = this.requests.get(requestId);
    if (entry) entry.running++;
    else
      this.requests.set(requestId, {
        running: 1,
        waitingEntered: 0,
        waiting: [],
        answers: [],
        writes: [],
        writingEntered: 0,
        unstored: [],
      });
  }

  /**
   * Every routed answer of the request (`uids`: its experts) is among `pending`, and they fit one notice: they can
   * go unstored.
   */
  private carriesAll(requestId: string, entry: InFlight | undefined, pending: readonly PendingWrite[]): boolean {
    const uids = entry?.uids;
    if (this.carry === undefined || uids === undefined || uids.length === 0) return false;
    const routed = (p: PendingWrite) => p.entry.base !== undefined && uids.includes(p.entry.base.uid);
    if (!pending.every(routed)) return false;
    if (!uids.every((uid) => pending.some((p) => p.entry.base?.uid === uid))) return false;
    // Near the deadline a notice settled a little late would find the query expired by a poll or the sweeper, and
    // the answers nowhere: those are written, as before.
    if (pending.some((p) => (p.entry.base?.deadline ?? 0) - this.now() < CARRY_MARGIN_MS)) return false;
    return this.carry(requestId, uids, pending.map(noticeAnswerOf));
  }

  /**
   * A job's answer, to be stored (`entered`: a routed job entered here): resolves with its write's outcome, now or
   * when the request's last routed job running here has its answer ready too (or leaves without one).
   */
  answer(
    requestId: string,
    write: CompleteEntry,
    options: { readonly entered?: boolean; readonly uids?: readonly number[] } = {},
  ): Promise<Transition> {
    const entry = this.requests.get(requestId);
    if (entry && options.uids !== undefined) entry.uids = options.uids;
    const others = entry ? this.stillRunning(entry) - (options.entered ? 1 : 0) : 0;
    const holdFor = Math.min(this.holdMs, (write.base?.deadline ?? 0) - DEADLINE_MARGIN_MS - this.now());
    if (entry && others > 0 && holdFor > 0) {
      if (options.entered) entry.writingEntered++;
      const stored = new Promise<Transition>((resolve, reject) => entry.writes.push({ entry: write, resolve, reject }));
      this.holdAtMost(requestId, entry, holdFor);
      return stored;
    }
    return new Promise((resolve, reject) => {
      const pending = [...(entry ? this.takeWrites(entry) : []), { entry: write, resolve, reject }];
      void this.writeAll(requestId, pending, others <= 0);
    });
  }

  /**
   * After a terminal write (`entered`: by a job entered here; `answer`: the answer that write stored): resolves once
   * the request's notice is sent, now or when its last routed job running here is done.
   */
  notify(
    requestId: string,
    uids?: readonly number[],
    options: { readonly entered?: boolean; readonly answer?: NoticeAnswer } = {},
  ): Promise<void> {
    const entry = this.requests.get(requestId);
    // Jobs whose answers wait to be written count as others: the notice waits for their answers too.
    const others = entry ? entry.running - entry.waitingEntered - (options.entered ? 1 : 0) : 0;
    if (entry && others > 0) {
      if (uids !== undefined) entry.uids = uids;
      if (options.entered) entry.waitingEntered++;
      if (options.answer) entry.answers.push(options.answer);
      const sent = new Promise<void>((resolve, reject) => entry.waiting.push({ resolve, reject }));
      // This one ended another way (a failure, an expiry): the answers waiting for it need wait no longer.
      if (entry.writes.length > 0 && this.stillRunning(entry) <= 0)
        void this.writeAll(requestId, this.takeWrites(entry), true);
      return sent;
    }
    const answers = [...(entry ? this.takeAnswers(entry) : []), ...(options.answer ? [options.answer] : [])];
    const waiters = entry ? this.takeWaiters(entry) : [];
    return this.sendFor(requestId, uids ?? entry?.uids, answers, waiters, entry ? entry.unstored.splice(0) : []);
  }

  /** The job entered for `requestId` is done here, whatever became of it. */
  leave(requestId: string): void {
    const entry = this.requests.get(requestId);
    if (!entry) return;
    entry.running--;
    // Every routed job still running here has its answer ready: the one that left (to be retried) brings none.
    if (entry.writes.length > 0 && this.stillRunning(entry) <= 0) {
      void this.writeAll(requestId, this.takeWrites(entry), true);
    }
    // Every routed job still here has its answer written: the one that left (to be retried) will not send for them.
    if (entry.waiting.length > 0 && entry.writingEntered === 0 && entry.running <= entry.waitingEntered) {
      const answers = this.takeAnswers(entry);
      const waiters = this.takeWaiters(entry);
      void this.sendFor(requestId, entry.uids, answers, waiters, entry.unstored.splice(0)).catch(() => undefined);
    }
    if (entry.running <= 0 && entry.waiting.length === 0 && entry.writes.length === 0 && entry.unstored.length === 0)
      this.requests.delete(requestId);
  }

  /** Routed jobs of the request here with neither an answer waiting to be written nor a notice to wait for. */
  private stillRunning(entry: InFlight): number {
    return entry.running - entry.waitingEntered - entry.writingEntered;
  }

  private takeWrites(entry: InFlight): PendingWrite[] {
    entry.writingEntered = 0;
    if (entry.holdTimer !== undefined) clearTimeout(entry.holdTimer);
    entry.holdTimer = undefined;
    entry.holdUntil = undefined;
    return entry.writes.splice(0);
  }

  /** The waiting answers are written by `ms` from now at the latest (the earliest bound of those waiting). */
  private holdAtMost(requestId: string, entry: InFlight, ms: number): void {
    const until = this.now() + ms;
    if (entry.holdUntil !== undefined && entry.holdUntil <= until) return;
    if (entry.holdTimer !== undefined) clearTimeout(entry.holdTimer);
    entry.holdUntil = until;
    entry.holdTimer = setTimeout(() => {
      entry.holdTimer = undefined;
      // A job of the request still runs here (a slow sibling, a second delivery): written, never carried, so that
      // the answers do not wait for it.
      if (entry.writes.length > 0) void this.writeAll(requestId, this.takeWrites(entry), false);
    }, ms);
    entry.holdTimer.unref?.();
  }

  /**
   * One write of the answers; each waiter gets its own outcome, or its own error. Or none, when they are all the
   * request's routed answers and the notice can carry them (carriesAll): each is then told stored, as its own
   * first write would have been, and the notice goes marked unstored.
   */
  private async writeAll(requestId: string, pending: readonly PendingWrite[], mayCarry: boolean): Promise<void> {
    const entry = this.requests.get(requestId);
    if (mayCarry && entry && this.carriesAll(requestId, entry, pending)) {
      entry.unstored.push(...pending.map((p) => p.entry));
      for (const p of pending) p.resolve(asStored(p.entry));
      return;
    }
    let stored: PromiseSettledResult<Transition>[];
    try {
      stored = await this.complete(pending.map((p) => p.entry));
    } catch (error) {
      for (const p of pending) p.reject(error);
      return;
    }
    pending.forEach((p, i) => {
      const outcome = stored[i];
      if (outcome?.status === "fulfilled") p.resolve(outcome.value);
      else p.reject(outcome ? outcome.reason : new Error("the job store returned fewer outcomes than answers"));
    });
  }

  /** Requests with jobs in flight here (tests, metrics). */
  get tracked(): number {
    return this.requests.size;
  }

  private takeWaiters(entry: InFlight): Waiter[] {
    entry.waitingEntered = 0;
    return entry.waiting.splice(0);
  }

  private takeAnswers(entry: InFlight): NoticeAnswer[] {
    return entry.answers.splice(0);
  }

  private async sendFor(
    requestId: string,
    uids: readonly number[] | undefined,
    answers: readonly NoticeAnswer[],
    waiters: Waiter[],
    unstored: readonly CompleteEntry[],
  ): Promise<void> {
    try {
      try {
        await this.send(requestId, uids, answers, unstored.length > 0);
      } catch (error) {
        if (unstored.length === 0) throw error;
        // The notice was the only copy of these answers: they are written now, and told as written ones are.
        await this.send(requestId, uids, await this.storeCarried(unstored, answers), false);
      }
    } catch (error) {
      for (const w of waiters) w.reject(error);
      throw error;
    }
    for (const w of waiters) w.resolve();
  }

  /**
   * Writes answers a notice failed to carry; returns the notice's answers less those a write refused (the job was
   * finished otherwise meanwhile: a cancel, an expiry). Throws AnswersNotStoredError when one is not known written:
   * their jobs are then retried, not acknowledged.
   */
  private async storeCarried(
    unstored: readonly CompleteEntry[],
    answers: readonly NoticeAnswer[],
  ): Promise<NoticeAnswer[]> {
    let outcomes: PromiseSettledResult<Transition>[];
    try {
      outcomes = await this.complete(unstored);
    } catch (error) {
      throw new AnswersNotStoredError(error);
    }
    const refused = new Set<number>();
    for (const [i, e] of unstored.entries()) {
      const outcome = outcomes[i];
      if (outcome?.status !== "fulfilled") throw new AnswersNotStoredError(outcome?.reason);
      if (!outcome.value.ok && e.base !== undefined) refused.add(e.base.uid);
    }
    return answers.filter((a) => !refused.has(a.uid));
  }
}

const noticeAnswerOf = (p: PendingWrite): NoticeAnswer => ({ uid: p.entry.base?.uid ?? -1, answer: p.entry.answer });

/** What a job's own first write of `entry` would have returned. */
function asStored(entry: CompleteEntry): Transition {
  const base = entry.base as NonNullable<CompleteEntry["base"]>;
  const job = { ...base, status: "succeeded" as const, answer: entry.answer, finishedAt: entry.at };
  return { ok: true, job: { ...job, workerId: entry.answer.workerId } };
}
