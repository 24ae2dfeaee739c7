import type { Logger } from "../adapters/log/logger.ts";
import type { Clock } from "../core/batching/clock.ts";
import type { BatchConfig } from "../core/batching/config.ts";
import { DynamicBatcher } from "../core/batching/dynamic-batcher.ts";
import { type BatchRule, batchSettingsFor, ruleFor } from "../core/batching/rules.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { ExpertModel, ExpertRuntime } from "../core/ports/runtime.ts";
import { ModelRunError } from "./errors.ts";
import { manifestFingerprint } from "./manifests.ts";
import type { WorkerMetrics } from "./metrics.ts";

/** One expert this worker serves: its model (loaded once) and its own batcher (answers: the worker's serving key). */
export interface ServedExpert {
  readonly manifest: ExpertManifest;
  readonly model: ExpertModel;
  readonly batcher: DynamicBatcher<unknown, unknown>;
  readonly fingerprint: string;
  /**
   * Ends when no call is inside the model: its batches (the batcher is closed) and calls made alone through `model`
   * (a failed batch's items, job-handler.ts), which are refused from now on. Only then may the model be closed.
   */
  readonly quiesce: () => Promise<void>;
}

export interface ExpertPoolDeps {
  readonly runtime: ExpertRuntime;
  /** Every expert's batch settings, but for those a rule of `batchRules` selects (its first match). */
  readonly batch: BatchConfig;
  readonly batchRules?: readonly BatchRule[];
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * How long a retired expert's batches may still run (ms) before it is left as it is: a model call that never
   * returns must hold up neither the next reload (reloads are serialised) nor the worker's stop. Default 300,000.
   */
  readonly retireWaitMs?: number;
}

/** A retired expert's batches get this long to finish by default (a job's own bound, WorkerConfig `maxJobMs`). */
const DEFAULT_RETIRE_WAIT_MS = 300_000;

/** A failed load is retried after this long (the model file may still be on its way), not on every poll. */
const RETRY_FAILED_LOAD_MS = 30_000;

/**
 * The set of served experts, kept in step with a list of manifests (hot reload): new ones are loaded, removed ones
 * dropped after their queued items drain, changed ones (other model/sha/hotkey) reloaded and then swapped in.
 * Jobs find their expert by hotkey, the identity the queue message names.
 */
export class ExpertPool {
  private readonly byId = new Map<string, ServedExpert>();
  private readonly failed = new Map<string, { fingerprint: string; retryAt: number }>();
  private syncing: Promise<void> = Promise.resolve();
  /** Retirements waiting for their batches now: each can be told to stop waiting sooner (`limitRetireWaits`). */
  private readonly waits = new Set<(ms: number) => void>();
  /** A reload's retirement waits no later than this (clock time), once a stop has begun. */
  private retireDeadline = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: ExpertPoolDeps) {}

  byHotkey(hotkey: string): ServedExpert | undefined {
    for (const expert of this.byId.values()) if (expert.manifest.hotkey === hotkey) return expert;
    return undefined;
  }

  list(): ServedExpert[] {
    return [...this.byId.values()];
  }

  /** Batches stop waiting for their delay (on stop, so in-flight jobs finish promptly). */
  expedite(): void {
    for (const expert of this.byId.values()) expert.batcher.expedite();
  }

  /** Serialised: a slow model load and the next reload poll never interleave. */
  sync(manifests: readonly ExpertManifest[]): Promise<void> {
    this.syncing = this.syncing.then(() => this.apply(manifests));
    return this.syncing;
  }

  /**
   * A stop has begun: a reload's retirement (waiting up to `retireWaitMs` for a hung batch) waits at most `ms` more,
   * so that the stop, which waits for the reload, is held no longer than its own bound.
   */
  limitRetireWaits(ms: number): void {
    this.retireDeadline = Math.min(this.retireDeadline, this.deps.clock.now() + ms);
    for (const cap of this.waits) cap(ms);
  }

  /** Retires every expert; `waitMs` bounds the wait for each one's running batches (default `retireWaitMs`). */
  async close(waitMs?: number): Promise<void> {
    await this.syncing;
    const all = [...this.byId.values()];
    this.byId.clear();
    await Promise.all(all.map((expert) => this.retire(expert, waitMs)));
  }

  private async apply(manifests: readonly ExpertManifest[]): Promise<void> {
    const wanted = new Map<string, ExpertManifest>();
    const hotkeys = new Set<string>();
    for (const manifest of manifests) {
      if (hotkeys.has(manifest.hotkey)) {
        this.deps.logger.warn("two manifests name the same hotkey; serving the first", { expert: manifest.id });
        continue;
      }
      hotkeys.add(manifest.hotkey);
      wanted.set(manifest.id, manifest);
    }
    for (const [id, expert] of this.byId) {
      if (wanted.has(id)) continue;
      this.byId.delete(id);
      this.deps.logger.info("expert removed", { expert: id });
      await this.retire(expert);
    }
    for (const manifest of wanted.values()) {
      const fingerprint = manifestFingerprint(manifest);
      const current = this.byId.get(manifest.id);
      if (current?.fingerprint === fingerprint) continue;
      const failure = this.failed.get(manifest.id);
      if (failure?.fingerprint === fingerprint && failure.retryAt > Date.now()) continue;
      const loaded = await this.load(manifest, fingerprint);
      if (loaded === undefined) continue;
      this.byId.set(manifest.id, loaded);
      if (current !== undefined) await this.retire(current);
    }
  }

  private async load(manifest: ExpertManifest, fingerprint: string): Promise<ServedExpert | undefined> {
    const rules = this.deps.batchRules ?? [];
    let batch: BatchConfig;
    let model: ExpertModel;
    try {
      // Before the model: settings a rule makes invalid (never, once the worker's config is parsed) load nothing.
      batch = batchSettingsFor(this.deps.batch, rules, manifest);
      model = await this.deps.runtime.load(manifest);
    } catch (error) {
      this.fail(manifest, fingerprint, error instanceof Error ? error.message : String(error));
      return undefined;
    }
    this.failed.delete(manifest.id);
    const { metrics } = this.deps;
    const batcher = new DynamicBatcher<unknown, unknown>(
      (inputs) =>
        model.runBatch(inputs).catch((error: unknown) => {
          throw new ModelRunError(error, inputs.length);
        }),
      batch,
      this.deps.clock,
      (report) => metrics.batch(report.size, report.runMs, { expert: manifest.id, task: manifest.task }),
    );
    // Calls outside the batcher are counted, so that a retirement waits for them too before it closes the model.
    let alone = 0;
    let retiring = false;
    let quiet: (() => void) | undefined;
    const counted: ExpertModel = {
      manifest: model.manifest,
      provider: model.provider,
      async runBatch(inputs) {
        if (retiring) throw new Error(`expert ${manifest.id} is being retired`);
        alone++;
        try {
          return await model.runBatch(inputs);
        } finally {
          alone--;
          if (alone === 0) quiet?.();
        }
      },
      close: () => model.close(),
    };
    const quiesce = async () => {
      retiring = true;
      await batcher.close();
      if (alone > 0)
        await new Promise<void>((resolve) => {
          quiet = resolve;
        });
    };
    const rule = ruleFor(rules, manifest);
    this.deps.logger.info("expert loaded", {
      expert: manifest.id,
      task: manifest.task,
      hotkey: manifest.hotkey,
      provider: model.provider,
      // The settings only where a rule changed them (the worker's own are in its "worker started" line).
      ...(rule ? { batchRule: rule.index, batch } : {}),
    });
    return { manifest, model: counted, batcher, fingerprint, quiesce };
  }

  private fail(manifest: ExpertManifest, fingerprint: string, error: string): void {
    this.failed.set(manifest.id, { fingerprint, retryAt: Date.now() + RETRY_FAILED_LOAD_MS });
    this.deps.metrics.error("expert_load_failed");
    this.deps.logger.error("expert not served: load failed", { expert: manifest.id, error });
  }

  private async retire(expert: ServedExpert, waitMs?: number): Promise<void> {
    const bound =
      waitMs ??
      Math.min(
        this.deps.retireWaitMs ?? DEFAULT_RETIRE_WAIT_MS,
        Math.max(0, this.retireDeadline - this.deps.clock.now()),
      );
    const idle = expert.quiesce();
    try {
      if (!(await this.within(idle, bound))) {
        // Its session is not released under a call still inside it, but once that call returns: the expert is in
        // no pool any more, so no later stop would release it.
        this.deps.metrics.error("expert_retire_timeout");
        this.deps.logger.error("expert left open: a model call is still running", {
          expert: expert.manifest.id,
          waitedMs: bound,
        });
        idle
          .then(() => expert.model.close())
          .catch((error: unknown) =>
            this.deps.logger.warn("closing an expert failed", { expert: expert.manifest.id, error }),
          );
        return;
      }
      await expert.model.close();
    } catch (error) {
      this.deps.logger.warn("closing an expert failed", { expert: expert.manifest.id, error });
    }
  }

  /** Whether `work` ended within `ms`, or sooner if `limitRetireWaits` says so (it is not cancelled either way). */
  private within(work: Promise<void>, ms: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const timers: unknown[] = [];
      const end = () => {
        for (const timer of timers) this.deps.clock.clearTimer(timer);
        this.waits.delete(cap);
      };
      const cap = (limit: number) => {
        timers.push(
          this.deps.clock.setTimer(() => {
            end();
            resolve(false);
          }, limit),
        );
      };
      cap(ms);
      this.waits.add(cap);
      work.then(
        () => {
          end();
          resolve(true);
        },
        (error: unknown) => {
          end();
          reject(error);
        },
      );
    });
  }
}
