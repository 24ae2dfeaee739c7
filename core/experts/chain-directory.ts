import type { ModelContract } from "../tasks/task.ts";
import type { ModelCommitment } from "./commitment.ts";
import { DIRECTORY_VERSION, type DirectoryEntry, type ExpertDirectoryDocument, modelKey } from "./directory.ts";

/** One registered uid and what it has on chain. */
export interface CommittedNeuron {
  readonly uid: number;
  readonly hotkey: string;
  /** The decoded commitment, `"invalid"` when the hotkey committed something that is not one, null when none. */
  readonly commitment: ModelCommitment | "invalid" | "retired" | null;
  readonly block: number;
}

export interface TaskServing {
  readonly contract: ModelContract;
  readonly runner: "classifier" | "silero-vad";
}

export type ServeDecision =
  | {
      readonly served: true;
      readonly entry: DirectoryEntry;
      readonly committedAt: number;
      /** Set when a later commitment could not be served and this earlier model stays. */
      readonly note?: string;
    }
  | { readonly served: false; readonly reason: string; readonly unavailable?: boolean };

/**
 * The market serves what the chain says (issue 15): for every registered hotkey, its latest commitment names the
 * model; the model is served when the commitment decodes, names a task that takes uploads, its digest is in the
 * store with the committed size, and no other uid committed the same digest earlier (the first committer of a
 * model is the one served and paid; a tie in block goes to the lower uid). Pure: the caller reads chain and store.
 */
export function decideServing(
  neurons: readonly CommittedNeuron[],
  tasks: (task: string) => TaskServing | undefined,
  stored: (sha256: string) => number | null,
  /**
   * Earlier commitments of each digest seen before (by hotkey): an original that moved on to another model still
   * has precedence over a later copy of the model it committed first.
   */
  history: ReadonlyMap<string, { uid: number; hotkey: string; block: number }> = new Map(),
): Map<number, ServeDecision> {
  const first = new Map<string, { uid: number; block: number }>();
  for (const [sha, h] of history) first.set(sha, { uid: h.uid, block: h.block });
  for (const n of neurons) {
    if (n.commitment === null || n.commitment === "invalid" || n.commitment === "retired") continue;
    const seen = first.get(n.commitment.sha256);
    if (seen === undefined || n.block < seen.block || (n.block === seen.block && n.uid < seen.uid)) {
      first.set(n.commitment.sha256, { uid: n.uid, block: n.block });
    }
  }
  const out = new Map<number, ServeDecision>();
  for (const n of neurons) {
    const c = n.commitment;
    if (c === null) {
      out.set(n.uid, { served: false, reason: "no model committed" });
      continue;
    }
    if (c === "retired") {
      out.set(n.uid, { served: false, reason: "retired by the miner" });
      continue;
    }
    if (c === "invalid") {
      out.set(n.uid, { served: false, reason: "the commitment is not a model commitment {task, sha256, size}" });
      continue;
    }
    const task = tasks(c.task);
    if (task === undefined) {
      out.set(n.uid, { served: false, reason: `task ${c.task} takes no miner models` });
      continue;
    }
    const size = stored(c.sha256);
    if (size === null) {
      out.set(n.uid, {
        served: false,
        unavailable: true,
        reason: `model ${c.sha256} was never uploaded (upload it, then commit)`,
      });
      continue;
    }
    if (size !== c.size) {
      out.set(n.uid, {
        served: false,
        unavailable: true,
        reason: `committed size ${c.size} differs from the uploaded model's ${size}`,
      });
      continue;
    }
    const original = first.get(c.sha256);
    const earlier = history.get(c.sha256);
    const isOriginal =
      original === undefined ||
      (original.uid === n.uid && (earlier === undefined || earlier.hotkey === n.hotkey || earlier.block > n.block));
    if (!isOriginal && original !== undefined) {
      out.set(n.uid, {
        served: false,
        reason: `copy: uid ${original.uid} committed this model first (block ${original.block})`,
      });
      continue;
    }
    out.set(n.uid, {
      served: true,
      committedAt: n.block,
      entry: {
        id: `miner-${n.uid}`,
        task: c.task,
        hotkey: n.hotkey,
        runner: task.runner,
        model: {
          path: modelKey(c.sha256),
          sha256: c.sha256,
          inputs: task.contract.inputs,
          outputs: task.contract.outputs,
        },
        description: `committed at block ${n.block}`,
      },
    });
  }
  return out;
}

/**
 * A commitment naming a model the market cannot serve (never uploaded, wrong size) changes nothing: the uid's
 * previously served model, if its hotkey still holds the uid, stays, with the reason as a note. Any other change
 * (a new model, a retirement, a copy, a new hotkey on the uid) replaces or drops it.
 */
export function keepServedOnUnavailable(
  next: ReadonlyMap<number, ServeDecision>,
  previous: ReadonlyMap<number, ServeDecision>,
  hotkeyOf: (uid: number) => string | undefined,
): Map<number, ServeDecision> {
  const out = new Map(next);
  for (const [uid, d] of next) {
    const before = previous.get(uid);
    if (d.served || d.unavailable !== true || before === undefined || !before.served) continue;
    if (before.entry.hotkey === hotkeyOf(uid))
      out.set(uid, { ...before, note: `latest commitment not served: ${d.reason}` });
  }
  return out;
}

/** Adds this round's commitments to the history of first committers (earliest block wins, then lower uid). */
export function recordFirstCommitters(
  history: Map<string, { uid: number; hotkey: string; block: number }>,
  neurons: readonly CommittedNeuron[],
): void {
  for (const n of neurons) {
    const c = n.commitment;
    if (c === null || typeof c !== "object") continue;
    const seen = history.get(c.sha256);
    if (seen === undefined || n.block < seen.block || (n.block === seen.block && n.uid < seen.uid)) {
      history.set(c.sha256, { uid: n.uid, hotkey: n.hotkey, block: n.block });
    }
  }
}

/** The directory document of the served entries, sorted by id (what the model store publishes). */
export function directoryOf(decisions: ReadonlyMap<number, ServeDecision>, updatedAt: string): ExpertDirectoryDocument {
  const experts = [...decisions.values()]
    .flatMap((d) => (d.served ? [d.entry] : []))
    .sort((a, b) => a.id.localeCompare(b.id));
  return { version: DIRECTORY_VERSION, updatedAt, experts };
}
