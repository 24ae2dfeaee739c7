/** Keeps the last `capacity` samples: percentiles over recent behaviour, in bounded memory. */
export class RecentSamples {
  private readonly values: number[] = [];
  private next = 0;
  private total = 0;

  constructor(private readonly capacity = 2048) {}

  add(value: number): void {
    this.total++;
    if (this.values.length < this.capacity) this.values.push(value);
    else {
      this.values[this.next] = value;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  summary(): { count: number; p50: number | null; p99: number | null; max: number | null } {
    if (this.values.length === 0) return { count: this.total, p50: null, p99: null, max: null };
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return { count: this.total, p50: at(0.5), p99: at(0.99), max: round(sorted[sorted.length - 1] ?? 0) };
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export type Counter =
  | "received"
  | "succeeded"
  | "failed"
  | "deadLettered"
  | "duplicatesSkipped"
  | "expired"
  | "retried"
  | "badSignatures"
  /** Messages their job record did not vouch for (forged, substituted input, unsigned validation): deleted. */
  | "dropped"
  | "soloRetries"
  | "receiveErrors"
  | "heartbeats"
  | "heartbeatErrors"
  | "errors";

export interface MetricsSnapshot {
  readonly counters: Record<Counter, number>;
  readonly inferenceCalls: number;
  readonly inferenceItems: number;
  /** batch size -> number of inference calls of that size */
  readonly batchSizes: Record<string, number>;
  readonly queueWaitMs: ReturnType<RecentSamples["summary"]>;
  readonly batchWaitMs: ReturnType<RecentSamples["summary"]>;
  readonly inferenceMs: ReturnType<RecentSamples["summary"]>;
  readonly jobMs: ReturnType<RecentSamples["summary"]>;
  readonly errorsByCode: Record<string, number>;
}

/** The worker's counters and latency samples, served as JSON on /metrics. */
export class WorkerMetrics {
  private readonly counters: Record<Counter, number> = {
    received: 0,
    succeeded: 0,
    failed: 0,
    deadLettered: 0,
    duplicatesSkipped: 0,
    expired: 0,
    retried: 0,
    badSignatures: 0,
    dropped: 0,
    soloRetries: 0,
    receiveErrors: 0,
    heartbeats: 0,
    heartbeatErrors: 0,
    errors: 0,
  };
  private readonly batchSizes = new Map<number, number>();
  private readonly errorsByCode = new Map<string, number>();
  private inferenceCalls = 0;
  private inferenceItems = 0;
  readonly queueWaitMs = new RecentSamples();
  readonly batchWaitMs = new RecentSamples();
  readonly inferenceMs = new RecentSamples();
  readonly jobMs = new RecentSamples();

  inc(counter: Counter, by = 1): void {
    this.counters[counter] += by;
  }

  error(code: string): void {
    this.counters.errors++;
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }

  batch(size: number, runMs: number): void {
    this.inferenceCalls++;
    this.inferenceItems += size;
    this.batchSizes.set(size, (this.batchSizes.get(size) ?? 0) + 1);
    this.inferenceMs.add(runMs);
  }

  snapshot(): MetricsSnapshot {
    return {
      counters: { ...this.counters },
      inferenceCalls: this.inferenceCalls,
      inferenceItems: this.inferenceItems,
      batchSizes: Object.fromEntries([...this.batchSizes].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      queueWaitMs: this.queueWaitMs.summary(),
      batchWaitMs: this.batchWaitMs.summary(),
      inferenceMs: this.inferenceMs.summary(),
      jobMs: this.jobMs.summary(),
      errorsByCode: Object.fromEntries(this.errorsByCode),
    };
  }
}
