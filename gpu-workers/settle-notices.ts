import type { NoticeAnswer } from "../core/jobs/settle-notice.ts";
import type { CompleteEntry, Transition } from "../core/ports/jobs.ts";
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

export class SettleNotices implements SettleNotifier {
  private readonly requests = new Map<string, InFlight>();

  constructor(
    private readonly send: (
      requestId: string,
      uids: readonly number[] | undefined,
      answers: readonly NoticeAnswer[],
    ) => Promise<void>,
    /** Stores answers, each with its own outcome or error (JobStore.completeMany). */
    private readonly complete: (entries: readonly CompleteEntry[]) => Promise<PromiseSettledResult<Transition>[]>,
    private readonly holdMs = DEFAULT_ANSWER_HOLD_MS,
    /** Wall time (ms since epoch): the jobs' deadlines. */
    private readonly now: () => number = Date.now,
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
      });
  }

  /**
   * A job's answer, to be stored (`entered`: a routed job entered here): resolves with its write's outcome, now or
   * when the request's last routed job running here has its answer ready too (or leaves without one).
   */
  answer(requestId: string, write: CompleteEntry, options: { readonly entered?: boolean } = {}): Promise<Transition> {
    const entry = this.requests.get(requestId);
    const others = entry ? this.stillRunning(entry) - (options.entered ? 1 : 0) : 0;
    const holdFor = Math.min(this.holdMs, (write.base?.deadline ?? 0) - DEADLINE_MARGIN_MS - this.now());
    if (entry && others > 0 && holdFor > 0) {
      if (options.entered) entry.writingEntered++;
      const stored = new Promise<Transition>((resolve, reject) => entry.writes.push({ entry: write, resolve, reject }));
      this.holdAtMost(entry, holdFor);
      return stored;
    }
    return new Promise((resolve, reject) => {
      void this.writeAll([...(entry ? this.takeWrites(entry) : []), { entry: write, resolve, reject }]);
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
      if (entry.writes.length > 0 && this.stillRunning(entry) <= 0) void this.writeAll(this.takeWrites(entry));
      return sent;
    }
    const answers = [...(entry ? this.takeAnswers(entry) : []), ...(options.answer ? [options.answer] : [])];
    return this.sendFor(requestId, uids ?? entry?.uids, answers, entry ? this.takeWaiters(entry) : []);
  }

  /** The job entered for `requestId` is done here, whatever became of it. */
  leave(requestId: string): void {
    const entry = this.requests.get(requestId);
    if (!entry) return;
    entry.running--;
    // Every routed job still running here has its answer ready: the one that left (to be retried) brings none.
    if (entry.writes.length > 0 && this.stillRunning(entry) <= 0) void this.writeAll(this.takeWrites(entry));
    // Every routed job still here has its answer written: the one that left (to be retried) will not send for them.
    if (entry.waiting.length > 0 && entry.writingEntered === 0 && entry.running <= entry.waitingEntered) {
      void this.sendFor(requestId, entry.uids, this.takeAnswers(entry), this.takeWaiters(entry)).catch(() => undefined);
    }
    if (entry.running <= 0 && entry.waiting.length === 0 && entry.writes.length === 0) this.requests.delete(requestId);
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
  private holdAtMost(entry: InFlight, ms: number): void {
    const until = this.now() + ms;
    if (entry.holdUntil !== undefined && entry.holdUntil <= until) return;
    if (entry.holdTimer !== undefined) clearTimeout(entry.holdTimer);
    entry.holdUntil = until;
    entry.holdTimer = setTimeout(() => {
      entry.holdTimer = undefined;
      if (entry.writes.length > 0) void this.writeAll(this.takeWrites(entry));
    }, ms);
    entry.holdTimer.unref?.();
  }

  /** One write of the answers; each waiter gets its own outcome, or its own error. */
  private async writeAll(pending: readonly PendingWrite[]): Promise<void> {
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
  ): Promise<void> {
    try {
      await this.send(requestId, uids, answers);
    } catch (error) {
      for (const w of waiters) w.reject(error);
      throw error;
    }
    for (const w of waiters) w.resolve();
  }
}
