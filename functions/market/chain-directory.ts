import { signerFromUri } from "../../adapters/identity/sr25519.ts";
import type { Logger } from "../../adapters/log/logger.ts";
import { demoHotkeyUri } from "../../adapters/runtime/manifest-store.ts";
import {
  type CommittedNeuron,
  decideServing,
  keepServedOnUnavailable,
  recordFirstCommitters,
  type ServeDecision,
  type TaskServing,
} from "../../core/experts/chain-directory.ts";
import {
  decodeCommitment,
  encodeCommitment,
  isRetirement,
  type ModelCommitment,
} from "../../core/experts/commitment.ts";
import {
  DIRECTORY_VERSION,
  type DirectoryEntry,
  ExpertDirectoryDocument,
  modelKey,
} from "../../core/experts/directory.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";

export interface ChainDirectoryOptions {
  /** Only reads (the cloud's follower hands it each invocation's connection). */
  readonly chain: Pick<Chain, "metagraph" | "commitment">;
  readonly netuid: number;
  readonly store: ModelStore;
  /** Tasks that take miners' models: their contract and runner. */
  readonly tasks: (task: string) => TaskServing | undefined;
  /**
   * Experts the operator serves without a commitment (the demo's built-in experts, registered from manifests): kept
   * in the directory unless their hotkey has a served commitment of its own, which then wins.
   */
  readonly base?: () => Promise<readonly ExpertManifest[]>;
  /** Reads a base expert's model file, to put it in the store when it is not there yet (an expert added at run time). */
  readonly readBaseModel?: (manifest: ExpertManifest) => Promise<Uint8Array>;
  readonly log: Logger;
}

export interface ChainDirectory {
  /** Reads the chain and the store once and replaces the directory when it changed; returns the decisions by uid. */
  refresh(): Promise<ReadonlyMap<number, ServeDecision>>;
  /** The last refresh's decision for a hotkey (null when it holds no uid) with its commitment. */
  decision(hotkey: string): { uid: number; decision: ServeDecision; commitment: CommittedNeuron } | null;
  /** Refreshes every `intervalMs` until stopped. */
  /** Refreshes every intervalMs; the returned stop resolves once no refresh is in flight (nothing writes after). */
  start(intervalMs: number): () => Promise<void>;
}

/**
 * The market serves what the chain says (issue 15): each registered hotkey's latest commitment `{task, sha256,
 * size}` names its model; the builder reads them, checks the store holds each model (the first committer of a
 * digest is the one served) and publishes the directory workers, API and validator read. A commitment that changes
 * or a uid that changes hands changes the directory on the next refresh, and the workers follow on their next poll.
 */
export function chainDirectory(options: ChainDirectoryOptions): ChainDirectory {
  const sizes = new Map<string, number>();
  let lastText = "";
  let lastDoc: string | null = null;
  let previous: ReadonlyMap<number, ServeDecision> = new Map();
  // Who committed each digest first, kept across refreshes (an original that moves on keeps its precedence) and
  // across restarts: published in the directory document and read back from it on the first refresh.
  const firstCommitters = new Map<string, { uid: number; hotkey: string; block: number }>();
  let historyLoaded = false;
  const loadHistory = async (chainBlock: number): Promise<void> => {
    if (historyLoaded) return;
    const text = await options.store.readDirectory();
    historyLoaded = true;
    if (text === null) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    const doc = ExpertDirectoryDocument.safeParse(json);
    if (!doc.success) {
      options.log.warn("published directory unreadable: first committers start from the chain alone");
      return;
    }
    for (const c of doc.data.firstCommitters ?? []) {
      // A block past the chain's head belongs to another chain (a devnet started afresh): not evidence here.
      if (c.block > chainBlock) continue;
      const seen = firstCommitters.get(c.sha256);
      if (seen === undefined || c.block < seen.block || (c.block === seen.block && c.uid < seen.uid))
        firstCommitters.set(c.sha256, { uid: c.uid, hotkey: c.hotkey, block: c.block });
    }
  };
  let last: { byHotkey: Map<string, { uid: number; decision: ServeDecision; commitment: CommittedNeuron }> } = {
    byHotkey: new Map(),
  };

  const storedSize = async (sha256: string): Promise<number | null> => {
    const known = sizes.get(sha256);
    if (known !== undefined) return known;
    // A HEAD, never the model (up to MARKET_MODEL_MAX_BYTES each). Content-addressed: a digest's size never changes,
    // so it is asked once.
    const size = await options.store.size(sha256);
    if (size === null) return null;
    sizes.set(sha256, size);
    return size;
  };

  const refresh = async (): Promise<ReadonlyMap<number, ServeDecision>> => {
    const metagraph = await options.chain.metagraph(options.netuid);
    await loadHistory(metagraph.block);
    const neurons: CommittedNeuron[] = await Promise.all(
      metagraph.hotkeys.map(async (hotkey, uid) => {
        const raw = await options.chain.commitment(options.netuid, hotkey);
        const decoded: ModelCommitment | "invalid" | "retired" | null =
          raw === null ? null : isRetirement(raw.data) ? "retired" : (decodeCommitment(raw.data) ?? "invalid");
        return { uid, hotkey, commitment: decoded, block: raw?.block ?? 0 };
      }),
    );
    const digests = new Set(
      neurons.flatMap((n) => (typeof n.commitment === "object" && n.commitment !== null ? [n.commitment.sha256] : [])),
    );
    const known = new Map<string, number | null>();
    for (const d of digests) known.set(d, await storedSize(d));
    const hotkeys = new Map(neurons.map((n) => [n.uid, n.hotkey]));
    const decisions = keepServedOnUnavailable(
      decideServing(neurons, options.tasks, (sha) => known.get(sha) ?? null, firstCommitters),
      previous,
      (uid) => hotkeys.get(uid),
    );
    previous = decisions;
    recordFirstCommitters(firstCommitters, neurons);

    const served = new Set<string>();
    const entries: DirectoryEntry[] = [];
    for (const d of decisions.values()) {
      if (!d.served) continue;
      entries.push(d.entry);
      served.add(d.entry.hotkey);
    }
    // The operator's own experts whose hotkey holds a uid and has committed nothing: once a hotkey commits (a model,
    // a copy, a retirement), the chain alone says what it serves.
    const registered = new Set(metagraph.hotkeys);
    const committedHotkeys = new Set(neurons.flatMap((n) => (n.commitment === null ? [] : [n.hotkey])));
    for (const m of (await options.base?.()) ?? []) {
      if (served.has(m.hotkey) || committedHotkeys.has(m.hotkey) || !registered.has(m.hotkey)) continue;
      if (!(await options.store.has(m.model.sha256))) {
        if (options.readBaseModel === undefined) continue;
        try {
          const put = await options.store.put(await options.readBaseModel(m));
          if (put !== m.model.sha256) continue;
        } catch (error) {
          options.log.warn("expert's model could not be put in the store", { expert: m.id, error });
          continue;
        }
      }
      const { hotkeyUri: _dropped, ...rest } = m;
      entries.push({ ...rest, model: { ...m.model, path: modelKey(m.model.sha256) } });
      served.add(m.hotkey);
    }
    entries.sort((a, b) => a.id.localeCompare(b.id));
    const committers = [...firstCommitters]
      .map(([sha256, c]) => ({ sha256, ...c }))
      .sort((a, b) => a.sha256.localeCompare(b.sha256));
    const text = JSON.stringify([entries, committers]);
    // Also rewritten when another writer replaced it since (an operator's `experts publish`, which knows nothing of
    // commitments): the published directory is always this builder's.
    if (text !== lastText || (await options.store.readDirectory()) !== lastDoc) {
      const doc: ExpertDirectoryDocument = {
        version: DIRECTORY_VERSION,
        updatedAt: new Date().toISOString(),
        experts: entries,
        firstCommitters: committers,
      };
      const written = `${JSON.stringify(doc, null, 2)}\n`;
      await options.store.writeDirectory(written);
      lastText = text;
      lastDoc = written;
      options.log.info("expert directory published from chain commitments", {
        experts: entries.length,
        committed: [...decisions.values()].filter((d) => d.served).length,
      });
    }
    const byHotkey = new Map<string, { uid: number; decision: ServeDecision; commitment: CommittedNeuron }>();
    for (const n of neurons) {
      const decision = decisions.get(n.uid);
      if (decision) byHotkey.set(n.hotkey, { uid: n.uid, decision, commitment: n });
    }
    last = { byHotkey };
    return decisions;
  };

  return {
    refresh,
    decision: (hotkey) => last.byHotkey.get(hotkey) ?? null,
    start(intervalMs) {
      let inFlight: Promise<void> | null = null;
      const timer = setInterval(() => {
        if (inFlight) return;
        inFlight = refresh()
          .then(() => {})
          .catch((error: unknown) => options.log.warn("directory refresh failed", { error }))
          .finally(() => {
            inFlight = null;
          });
      }, intervalMs);
      timer.unref();
      // A refresh still writing the directory after stop once made a test's data folder refuse removal (ENOTEMPTY).
      return async () => {
        clearInterval(timer);
        await inFlight;
      };
    },
  };
}

/**
 * The demo's miners commit their models as any miner does (`market miner commit`): each with its own demo hotkey
 * (derived in memory, under its own coldkey; never written anywhere), for the tasks that take miners' models, when
 * its commitment is not already that model. Models must already be in the store. Returns how many committed.
 */
export async function commitDemoModels(
  chain: Chain,
  netuid: number,
  manifests: readonly ExpertManifest[],
  tasks: (task: string) => TaskServing | undefined,
  store: ModelStore,
): Promise<number> {
  const registered = new Set((await chain.metagraph(netuid)).hotkeys);
  let count = 0;
  for (const m of manifests) {
    if (tasks(m.task) === undefined || !registered.has(m.hotkey)) continue;
    const hotkey = signerFromUri(demoHotkeyUri(m.id));
    if (hotkey.address !== m.hotkey) continue;
    const bytes = await store.get(m.model.sha256);
    if (bytes === null) continue;
    const data = encodeCommitment({ task: m.task, sha256: m.model.sha256, size: bytes.length });
    const current = await chain.commitment(netuid, m.hotkey);
    if (current !== null && Buffer.from(current.data).equals(Buffer.from(data))) continue;
    const outcome = await chain.setCommitment(hotkey, netuid, data);
    if (outcome.ok) count++;
  }
  return count;
}
