import { afterEach, describe, expect, it } from "vitest";
import { startStatusServer } from "./http.ts";
import { WorkerMetrics } from "./metrics.ts";
import { parsePrometheusText, sampleValue } from "./testing/prometheus-text.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(metrics: WorkerMetrics) {
  const server = await startStatusServer("127.0.0.1", 0, {
    health: () => ({ status: "ok" }),
    metrics: () => metrics.snapshot(),
    prometheus: async () => ({ contentType: metrics.prometheusContentType, text: await metrics.prometheus() }),
  });
  servers.push(server);
  return `http://127.0.0.1:${server.port}/metrics`;
}

describe("worker metrics", () => {
  it("serves Prometheus text to a scraper: counters, per-expert/task histograms, error codes", async () => {
    const metrics = new WorkerMetrics();
    let inFlight = 3;
    metrics.gauge("market_worker_in_flight", "in flight", () => inFlight);
    metrics.inc("received", 3);
    metrics.batch(2, 40, { expert: "exp-a", task: "digits" });
    metrics.batch(1, 2_000, { expert: "vad-b", task: "speech" });
    metrics.answered({ expert: "exp-a", task: "digits" });
    metrics.answered({ expert: "exp-a", task: "digits" });
    metrics.error("input_mismatch");
    metrics.jobMs.add(120);
    inFlight = 1;

    const res = await fetch(await serve(metrics), {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1" },
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusText(await res.text());

    expect(parsed.types.get("market_worker_events_total")).toBe("counter");
    expect(parsed.types.get("market_worker_inference_seconds")).toBe("histogram");
    expect(parsed.types.get("market_worker_in_flight")).toBe("gauge");
    expect(sampleValue(parsed, "market_worker_events_total", { event: "received" })).toBe(3);
    expect(sampleValue(parsed, "market_worker_events_total", { event: "succeeded" })).toBe(2);
    expect(sampleValue(parsed, "market_worker_events_total", { event: "deadLettered" })).toBe(0);
    expect(sampleValue(parsed, "market_worker_answers_total", { expert: "exp-a", task: "digits" })).toBe(2);
    expect(sampleValue(parsed, "market_worker_errors_total", { code: "input_mismatch" })).toBe(1);
    expect(sampleValue(parsed, "market_worker_in_flight")).toBe(1);
    // Histograms in seconds, labelled per expert and task: 40 ms lands in the 0.05 s bucket, not the 0.025 one.
    const bucket = (le: string, expert = "exp-a", task = "digits") =>
      sampleValue(parsed, "market_worker_inference_seconds_bucket", { expert, task, le });
    expect([bucket("0.025"), bucket("0.05"), bucket("+Inf")]).toEqual([0, 1, 1]);
    expect(bucket("1", "vad-b", "speech")).toBe(0);
    expect(bucket("2.5", "vad-b", "speech")).toBe(1);
    expect(sampleValue(parsed, "market_worker_batch_size_sum", { expert: "exp-a", task: "digits" })).toBe(2);
    expect(sampleValue(parsed, "market_worker_job_seconds_count")).toBe(1);
  });

  it("still serves the JSON snapshot to a client that asks for JSON", async () => {
    const metrics = new WorkerMetrics();
    metrics.answered({ expert: "exp-a", task: "digits" });
    const res = await fetch(await serve(metrics), { headers: { accept: "application/json" } });
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as ReturnType<WorkerMetrics["snapshot"]>;
    expect(body.counters.succeeded).toBe(1);
  });

  it("the test reader refuses text that is not the exposition format", () => {
    expect(() => parsePrometheusText('# TYPE a counter\na{x="1" 2\n')).toThrow();
    expect(() => parsePrometheusText("b 1\n")).toThrow(/undeclared/);
  });
});
