import { Gauge, Histogram, Counter as PromCounter, Registry } from "prom-client";

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

/** Which expert (and task) a measurement is about: the Prometheus labels of the per-expert series. */
export interface ExpertLabels {
  readonly expert: string;
  readonly task: string;
}

/** Recent samples for the JSON summary, also observed (in seconds) by a Prometheus histogram. */
class ObservedSamples extends RecentSamples {
  constructor(private readonly histogram: Histogram) {
    super();
  }

  override add(valueMs: number): void {
    super.add(valueMs);
    this.histogram.observe(valueMs / 1000);
  }
}

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/**
 * The worker's counters and latency samples: a JSON snapshot (tests, `Accept: application/json`) and the same
 * figures in Prometheus text on /metrics, from a registry of this worker's own (several workers may share a process).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly events = new PromCounter({
    name: "market_worker_events_total",
    help: "Worker events by kind (received, succeeded, failed, deadLettered, retried, ...)",
    labelNames: ["event"],
    registers: [this.registry],
  });
  private readonly errorsTotal = new PromCounter({
    name: "market_worker_errors_total",
    help: "Errors by stable code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  private readonly answers = new PromCounter({
    name: "market_worker_answers_total",
    help: "Answers stored, per expert and task",
    labelNames: ["expert", "task"],
    registers: [this.registry],
  });
  private readonly inferenceSeconds = new Histogram({
    name: "market_worker_inference_seconds",
    help: "Model run time of one batch, per expert and task",
    labelNames: ["expert", "task"],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly batchItems = new Histogram({
    name: "market_worker_batch_size",
    help: "Inputs per model run, per expert and task",
    labelNames: ["expert", "task"],
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly timing = (name: string, help: string) =>
    new ObservedSamples(new Histogram({ name, help, buckets: SECONDS_BUCKETS, registers: [this.registry] }));
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
  readonly queueWaitMs: RecentSamples = this.timing("market_worker_queue_wait_seconds", "From enqueue to receipt");
  readonly batchWaitMs: RecentSamples = this.timing(
    "market_worker_batch_wait_seconds",
    "Time a job waited for its batch",
  );
  readonly inferenceMs = new RecentSamples();
  readonly jobMs: RecentSamples = this.timing("market_worker_job_seconds", "From receipt to the job's outcome");

  constructor() {
    // Every event kind is present from the start (at 0), so a rate() over a new worker has a series to read.
    for (const event of Object.keys(this.counters)) this.events.inc({ event }, 0);
  }

  /** A gauge read when scraped (the consumer's in-flight count lives in the consumer). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  inc(counter: Counter, by = 1): void {
    this.counters[counter] += by;
    this.events.inc({ event: counter }, by);
  }

  error(code: string): void {
    this.inc("errors");
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
    this.errorsTotal.inc({ code });
  }

  batch(size: number, runMs: number, labels: ExpertLabels): void {
    this.inferenceCalls++;
    this.inferenceItems += size;
    this.batchSizes.set(size, (this.batchSizes.get(size) ?? 0) + 1);
    this.inferenceMs.add(runMs);
    this.inferenceSeconds.observe({ ...labels }, runMs / 1000);
    this.batchItems.observe({ ...labels }, size);
  }

  /** One answer stored for a job (counted in `succeeded` too). */
  answered(labels: ExpertLabels): void {
    this.inc("succeeded");
    this.answers.inc({ ...labels });
  }

  /** The Prometheus text exposition of this worker's metrics. */
  prometheus(): Promise<string> {
    return this.registry.metrics();
  }

  get prometheusContentType(): string {
    return this.registry.contentType;
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
