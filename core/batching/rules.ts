import { z } from "zod";
import { ExpertManifest } from "../experts/manifest.ts";
import { type BatchConfig, BatchOverride, withOverride } from "./config.ts";

/** What a rule may select an expert by (all of an ExpertManifest, so a worker's served experts match directly). */
export interface RuleTarget {
  readonly id: string;
  readonly task: string;
  readonly runner: string;
  readonly hotkey: string;
  readonly model: { readonly sha256: string };
}

const SELECTORS = ["expert", "task", "runner", "hotkey", "sha256"] as const;

/**
 * Batch settings for some experts (issue 17: per-expert batch settings). A rule selects by any of the expert's
 * manifest id, task, runner, miner hotkey (ss58) or model digest; every selector it names must match. Its `batch`
 * replaces those settings of the worker's `batch`, field by field. The first matching rule applies, alone: so each
 * rule is checked once, at start, against the settings it replaces, and no combination of rules can be invalid.
 */
export const BatchRule = z
  .object({
    expert: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .optional(),
    task: z.string().min(1).max(64).optional(),
    // The manifest's own runner names, so a misspelt one is refused rather than matching nothing.
    runner: ExpertManifest.shape.runner.optional(),
    hotkey: z.string().min(40).max(60).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    batch: BatchOverride,
  })
  .strict()
  .refine((rule) => SELECTORS.some((name) => rule[name] !== undefined), {
    message: `a rule names at least one of ${SELECTORS.join(", ")} (settings for every expert go in "batch")`,
  });
export type BatchRule = z.infer<typeof BatchRule>;

/** A worker's rules: a short, ordered list (each expert's load scans it once). */
export const BatchRules = z.array(BatchRule).max(64);

function matches(rule: BatchRule, target: RuleTarget): boolean {
  return (
    (rule.expert === undefined || rule.expert === target.id) &&
    (rule.task === undefined || rule.task === target.task) &&
    (rule.runner === undefined || rule.runner === target.runner) &&
    (rule.hotkey === undefined || rule.hotkey === target.hotkey) &&
    (rule.sha256 === undefined || rule.sha256 === target.model.sha256)
  );
}

/** The first rule that matches `target`, with its index; undefined when none does. */
export function ruleFor(
  rules: readonly BatchRule[],
  target: RuleTarget,
): { rule: BatchRule; index: number } | undefined {
  const index = rules.findIndex((rule) => matches(rule, target));
  const rule = rules[index];
  return rule === undefined ? undefined : { rule, index };
}

/** What is wrong with a rule over `base`: each issue's path within the rule's `batch`, and why. */
export interface BatchRuleIssue {
  readonly index: number;
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Issues of rules over `base` ([] when every rule gives valid settings): the one check, at start and at deploy. */
export function batchRuleIssues(base: BatchConfig, rules: readonly BatchRule[]): BatchRuleIssue[] {
  return rules.flatMap((rule, index) => ruleIssues(base, rule, index));
}

/** batchRuleIssues as lines naming each rule by its index. */
export function batchRuleProblems(base: BatchConfig, rules: readonly BatchRule[]): string[] {
  return batchRuleIssues(base, rules).map(problemLine);
}

function ruleIssues(base: BatchConfig, rule: BatchRule, index: number): BatchRuleIssue[] {
  const merged = withOverride(base, rule.batch);
  return merged.success
    ? []
    : merged.error.issues.map((issue) => ({ index, path: issue.path, message: issue.message }));
}

const problemLine = (issue: BatchRuleIssue) =>
  `batchRules[${issue.index}].batch.${issue.path.map(String).join(".")}: ${issue.message}`;

/**
 * The settings `target` is batched with: the first matching rule's over `base`. Rules are checked at start
 * (batchRuleProblems), so this only fails for rules that were not; it throws then rather than guess.
 */
export function batchSettingsFor(base: BatchConfig, rules: readonly BatchRule[], target: RuleTarget): BatchConfig {
  const found = ruleFor(rules, target);
  if (found === undefined) return base;
  const merged = withOverride(base, found.rule.batch);
  if (!merged.success) throw new Error(ruleIssues(base, found.rule, found.index).map(problemLine).join("; "));
  return merged.data;
}
