import { describe, expect, it } from "vitest";
import { parseWorkerConfig, WorkerConfigError } from "./config.ts";

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof WorkerConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("parseWorkerConfig", () => {
  it("has working defaults: experts under MARKET_DATA_DIR, the jobs queue, a batcher", () => {
    const config = parseWorkerConfig({ MARKET_DATA_DIR: "/srv/market/" });
    expect(config.expertsDir).toBe("/srv/market/experts");
    expect(config.queueName).toBe("jobs");
    expect(config.deadLetterQueueName).toBe("jobs-dlq");
    // Validation jobs: their own queue, a few slots of their own (issue 17).
    expect(config.validationQueueName).toBe("validation");
    expect(config.validationDeadLetterQueueName).toBe("validation-dlq");
    expect(config.validationConcurrency).toBe(8);
    expect(parseWorkerConfig({ WORKER_VALIDATION_CONCURRENCY: "3" }).validationConcurrency).toBe(3);
    expect(problemsOf(() => parseWorkerConfig({ WORKER_VALIDATION_CONCURRENCY: "0" }))).toHaveLength(1);
    expect(config.maxReceives).toBe(5);
    // One receive loop per lane with no linger (issue 17); a hung model call is given up on after maxJobMs.
    expect([config.pollers, config.receiveLingerMs]).toEqual([1, 0]);
    expect(config.maxJobMs).toBe(300_000);
    expect(parseWorkerConfig({ WORKER_MAX_JOB_MS: "60000" }).maxJobMs).toBe(60_000);
    expect(config.batch.maxBatchSize).toBe(32);
    // One ONNX thread per session unless asked (issue 17: ORT's own pools spin between runs); 0 = ORT's default.
    expect(config.intraOpThreads).toBe(1);
    expect(parseWorkerConfig({ WORKER_ORT_THREADS: "0" }).intraOpThreads).toBe(0);
    expect(problemsOf(() => parseWorkerConfig({ WORKER_ORT_THREADS: "1.5" }))).toHaveLength(1);
    // Experts run in a thread of their own unless told otherwise; on/off words only, a typo is refused, not "off".
    expect(config.inferenceThread).toBe(true);
    expect(parseWorkerConfig({ WORKER_INFERENCE_THREAD: "off" }).inferenceThread).toBe(false);
    expect(parseWorkerConfig({ WORKER_INFERENCE_THREAD: " 0 " }).inferenceThread).toBe(false);
    expect(parseWorkerConfig({ WORKER_INFERENCE_THREAD: "Yes" }).inferenceThread).toBe(true);
    expect(problemsOf(() => parseWorkerConfig({ WORKER_INFERENCE_THREAD: "flase" }))).toEqual([
      expect.stringContaining("inferenceThread"),
    ]);
    expect(problemsOf(() => parseWorkerConfig({ WORKER_PREFER_CUDA: "nope" }))).toHaveLength(1);
    // Answers go unstored in a notice unless turned off (a settler rollback).
    expect([config.carryAnswers, parseWorkerConfig({ WORKER_CARRY_ANSWERS: "off" }).carryAnswers]).toEqual([
      true,
      false,
    ]);
    expect(parseWorkerConfig({ WORKER_PREFER_CUDA: "false" }).preferCuda).toBe(false);
    expect(config.heartbeatSeconds).toBeLessThan(config.visibilitySeconds);
    expect(parseWorkerConfig({}).expertsDir).toBe(".data/experts");
  });

  it("layers a JSON file, inline JSON and single variables, later ones winning", () => {
    const config = parseWorkerConfig(
      {
        WORKER_CONFIG_FILE: "/etc/worker.json",
        WORKER_CONFIG: JSON.stringify({ concurrency: 20, batch: { maxBatchSize: 8, maxQueueDelayMs: 1 } }),
        WORKER_BATCH_PREFERRED: "4, 8",
        WORKER_ID: "gpu-1",
        WORKER_TRUSTED_SENDERS: "",
      },
      (path) =>
        path === "/etc/worker.json" ? JSON.stringify({ concurrency: 10, workerId: "from-file", pollers: 3 }) : "{}",
    );
    expect(config).toMatchObject({ workerId: "gpu-1", concurrency: 20, pollers: 3 });
    expect(config.batch).toMatchObject({ maxBatchSize: 8, maxQueueDelayMs: 1, preferredBatchSizes: [4, 8] });
    expect(config.trustedSenders).toEqual([]);
  });

  it("names each bad setting, refuses miners' hotkey secrets and never echoes a secret", () => {
    const secret = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    const problems = problemsOf(() =>
      parseWorkerConfig({
        WORKER_BATCH_MAX: "lots",
        WORKER_HOTKEY_URIS: JSON.stringify({ "expert-a": "//Alice", note: secret }),
        WORKER_SERVING_KEY_URI: "x".repeat(2000),
      }),
    );
    expect(problems.some((p) => p.startsWith("batch.maxBatchSize"))).toBe(true);
    expect(problems.some((p) => p.startsWith("WORKER_HOTKEY_URIS: no longer read"))).toBe(true);
    expect(problems.some((p) => p.startsWith("servingKeyUri: invalid (secret)"))).toBe(true);
    expect(problems.join("\n")).not.toContain("xxxx");
    expect(problems.join("\n")).not.toContain("bottom drive");
    // Cross-field rule: a heartbeat slower than the visibility timeout would let running jobs reappear.
    expect(
      problemsOf(() => parseWorkerConfig({ WORKER_HEARTBEAT_SECONDS: "60", WORKER_VISIBILITY_SECONDS: "30" })),
    ).toEqual(["heartbeatSeconds: heartbeatSeconds must be below visibilitySeconds"]);
  });

  it("rejects preferred batch sizes above the max batch size and a config file that is not JSON", () => {
    expect(problemsOf(() => parseWorkerConfig({ WORKER_BATCH_MAX: "8", WORKER_BATCH_PREFERRED: "16" }))).toEqual([
      "batch.preferredBatchSizes: every preferred batch size must be <= maxBatchSize",
    ]);
    expect(problemsOf(() => parseWorkerConfig({ WORKER_CONFIG: "{nope" }))[0]).toMatch(/^WORKER_CONFIG: not JSON/);
  });

  it("keeps the worker's other batch defaults when one batch setting is given (no delay unless asked)", () => {
    expect(parseWorkerConfig({ WORKER_BATCH_MAX: "16" }).batch).toEqual({
      maxBatchSize: 16,
      preferredBatchSizes: [],
      maxQueueDelayMs: 0,
      maxQueueSize: 1024,
      maxConcurrentBatches: 1,
    });
    expect(parseWorkerConfig({ WORKER_CONFIG: JSON.stringify({ batch: { maxConcurrentBatches: 2 } }) }).batch).toEqual({
      ...parseWorkerConfig({}).batch,
      maxConcurrentBatches: 2,
    });
    // A misspelt setting is named, not ignored.
    expect(
      problemsOf(() => parseWorkerConfig({ WORKER_CONFIG: JSON.stringify({ batch: { maxDelayMs: 5 } }) })),
    ).toEqual([expect.stringMatching(/^batch: .*maxDelayMs/)]);
  });

  it("merges `batch` setting by setting across the file and inline layers", () => {
    const config = parseWorkerConfig(
      { WORKER_CONFIG_FILE: "/etc/w.json", WORKER_CONFIG: JSON.stringify({ batch: { maxBatchSize: 64 } }) },
      () => JSON.stringify({ batch: { maxQueueDelayMs: 5, maxBatchSize: 8 } }),
    );
    expect(config.batch).toMatchObject({ maxBatchSize: 64, maxQueueDelayMs: 5 });
  });

  it("says where a settings text is not JSON without quoting it (it may hold the serving key's secret)", () => {
    const secret = "//my-secret-serving-seed";
    const problems = problemsOf(() =>
      // Unquoted: the parser's message would quote `..."gKeyUri": //my-secre"...`.
      parseWorkerConfig({ WORKER_CONFIG: `{"servingKeyUri": ${secret}, "batch": {}}` }),
    );
    expect(problems).toEqual([expect.stringMatching(/^WORKER_CONFIG: not JSON/)]);
    expect(problems.join("\n")).not.toContain("//my-sec");
    expect(
      problemsOf(() => parseWorkerConfig({ WORKER_BATCH_RULES: `[{"task": x ${secret}` })).join("\n"),
    ).not.toContain("//my-sec");
  });

  it("reads per-expert batch rules from WORKER_BATCH_RULES, checked over the worker's batch settings", () => {
    const rules = [
      { runner: "silero-vad", batch: { maxBatchSize: 4 } },
      { task: "digits", batch: { maxQueueDelayMs: 1 } },
    ];
    const config = parseWorkerConfig({ WORKER_BATCH_RULES: JSON.stringify(rules), WORKER_BATCH_MAX: "8" });
    expect(config.batchRules).toEqual(rules);
    expect(config.batch.maxBatchSize).toBe(8);
    expect(parseWorkerConfig({}).batchRules).toEqual([]);
    // Each rule over the worker's settings: a preferred size of 16 does not fit the rule's max of 4.
    expect(
      problemsOf(() => parseWorkerConfig({ WORKER_BATCH_RULES: JSON.stringify(rules), WORKER_BATCH_PREFERRED: "16" })),
    ).toEqual(["batchRules.0.batch.preferredBatchSizes: every preferred batch size must be <= maxBatchSize"]);
    expect(problemsOf(() => parseWorkerConfig({ WORKER_BATCH_RULES: "[{" }))[0]).toMatch(
      /^WORKER_BATCH_RULES: not JSON/,
    );
    expect(
      problemsOf(() => parseWorkerConfig({ WORKER_BATCH_RULES: JSON.stringify([{ batch: { maxBatchSize: 4 } }]) })),
    ).toEqual([expect.stringMatching(/^batchRules\.0: a rule names at least one of/)]);
    // A runner the manifests do not know is refused, not left to match nothing.
    expect(
      problemsOf(() =>
        parseWorkerConfig({
          WORKER_BATCH_RULES: JSON.stringify([{ runner: "silero_vad", batch: { maxBatchSize: 4 } }]),
        }),
      ),
    ).toEqual([expect.stringMatching(/^batchRules\.0\.runner: /)]);
  });

  it("takes its serving key from WORKER_SERVING_KEY_URI, else a key file in its own folder", () => {
    const config = parseWorkerConfig({ WORKER_SERVING_KEY_URI: "//Worker" });
    expect(config.servingKeyUri).toBe("//Worker");
    expect(parseWorkerConfig({ MARKET_DATA_DIR: "/data" }).servingKeyFile).toBe("/data/worker/serving-key.json");
  });

  it("trusts the market's validator hotkey and any listed senders, and names the settle queue", () => {
    const v = "5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY";
    const g = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    expect(parseWorkerConfig({ MARKET_VALIDATOR_HOTKEY: v }).trustedSenders).toEqual([v]);
    expect(
      parseWorkerConfig({ MARKET_VALIDATOR_HOTKEY: v, WORKER_TRUSTED_SENDERS: `${g},${v}` }).trustedSenders,
    ).toEqual([g, v]);
    expect(parseWorkerConfig({}).trustedSenders).toEqual([]);
    expect(parseWorkerConfig({}).settleQueueName).toBe("settle");
    expect(parseWorkerConfig({ WORKER_SETTLE_QUEUE_NAME: "s2" }).settleQueueName).toBe("s2");
  });
});
