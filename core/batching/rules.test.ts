import { describe, expect, it } from "vitest";
import { WORKER_BATCH_DEFAULTS } from "./config.ts";
import { BatchRule, BatchRules, batchRuleProblems, batchSettingsFor, type RuleTarget } from "./rules.ts";

const digest = (c: string) => c.repeat(64);
const HOTKEY = `5${"F".repeat(47)}`;
const mlp: RuleTarget = {
  id: "mlp-1",
  task: "digits",
  runner: "classifier",
  hotkey: HOTKEY,
  model: { sha256: digest("a") },
};
const vad: RuleTarget = {
  id: "vad-1",
  task: "speech",
  runner: "silero-vad",
  hotkey: HOTKEY,
  model: { sha256: digest("b") },
};

describe("batch rules", () => {
  it("gives an expert the first matching rule's settings over the worker's, field by field, and others the worker's", () => {
    const rules = BatchRules.parse([
      { runner: "silero-vad", batch: { maxBatchSize: 4, maxConcurrentBatches: 2 } },
      { task: "speech", batch: { maxBatchSize: 99 } },
      { sha256: digest("a"), task: "digits", batch: { maxQueueDelayMs: 1.5, preferredBatchSizes: [16] } },
    ]);
    expect(batchSettingsFor(WORKER_BATCH_DEFAULTS, rules, vad)).toEqual({
      ...WORKER_BATCH_DEFAULTS,
      maxBatchSize: 4,
      maxConcurrentBatches: 2,
    });
    expect(batchSettingsFor(WORKER_BATCH_DEFAULTS, rules, mlp)).toEqual({
      ...WORKER_BATCH_DEFAULTS,
      maxQueueDelayMs: 1.5,
      preferredBatchSizes: [16],
    });
    // Every selector a rule names must match: the digest rule does not take another digits model.
    const other = { ...mlp, id: "mlp-2", model: { sha256: digest("c") } };
    expect(batchSettingsFor(WORKER_BATCH_DEFAULTS, rules, other)).toBe(WORKER_BATCH_DEFAULTS);
    // By id and by hotkey too.
    const byId = BatchRules.parse([{ expert: "mlp-2", batch: { maxBatchSize: 2 } }]);
    expect(batchSettingsFor(WORKER_BATCH_DEFAULTS, byId, other).maxBatchSize).toBe(2);
    expect(batchSettingsFor(WORKER_BATCH_DEFAULTS, byId, mlp).maxBatchSize).toBe(32);
    const byHotkey = BatchRules.parse([{ hotkey: HOTKEY, batch: { maxBatchSize: 3 } }]);
    expect(batchSettingsFor(WORKER_BATCH_DEFAULTS, byHotkey, vad).maxBatchSize).toBe(3);
  });

  it("refuses a rule that selects nothing, an unknown or misspelt setting, and values out of bounds", () => {
    expect(BatchRule.safeParse({ batch: { maxBatchSize: 4 } }).success).toBe(false);
    expect(BatchRule.safeParse({ task: "digits", batch: { maxBatchsize: 4 } }).success).toBe(false);
    expect(BatchRule.safeParse({ task: "digits", tsak: "x", batch: {} }).success).toBe(false);
    expect(BatchRule.safeParse({ task: "digits", batch: { maxBatchSize: 0 } }).success).toBe(false);
    expect(BatchRule.safeParse({ sha256: "abc", batch: {} }).success).toBe(false);
    expect(BatchRules.safeParse(Array.from({ length: 65 }, () => ({ task: "digits", batch: {} }))).success).toBe(false);
  });

  it("checks each rule against the settings it replaces, naming the rule", () => {
    const base = { ...WORKER_BATCH_DEFAULTS, preferredBatchSizes: [16] };
    const rules = BatchRules.parse([
      { task: "digits", batch: { maxBatchSize: 64 } },
      // Valid alone, but under the worker's preferred size 16.
      { task: "speech", batch: { maxBatchSize: 8 } },
    ]);
    expect(batchRuleProblems(base, rules)).toEqual([
      "batchRules[1].batch.preferredBatchSizes: every preferred batch size must be <= maxBatchSize",
    ]);
    expect(() => batchSettingsFor(base, rules, vad)).toThrow(/batchRules\[1\]/);
    expect(batchSettingsFor(base, rules, mlp).maxBatchSize).toBe(64);
  });
});
