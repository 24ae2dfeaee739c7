import type { Metagraph } from "../../core/ports/chain.ts";
import { type EpochReport, rateLimited, runValidatorEpoch, sendEpochWeights } from "./epoch.ts";
import type { ValidatorDeps } from "./types.ts";

/**
 * Dishonest validators, run beside the honest ones on the devnet to show what Yuma Consensus does to them
 * (MARKET_ADVERSARIES). They sign and submit through the same chain adapter and the same path (set_weights, or a
 * drand-timelocked commit when commit-reveal is on) as an honest validator; only where their weights come from differs.
 * - `copier` does no work: it sets the stake-weighted median (kappa) of the other validators' weight rows it reads
 *   from chain. With commit-reveal off these are this epoch's weights; with timelocked commits only revealed ones.
 * - `cabal` puts all its weight on one chosen expert, whatever it is worth.
 * - `lazy` scores once (its first epoch), then resends those stale weights every epoch.
 */
export type AdversaryRole =
  | { readonly kind: "copier" }
  | { readonly kind: "cabal"; readonly favourite: number }
  | { readonly kind: "lazy" };

export type ValidatorRole = { readonly kind: "honest" } | AdversaryRole;

/** Parses MARKET_ADVERSARIES entries (the config schema has checked their shape). */
export function parseAdversary(text: string): AdversaryRole {
  if (text === "copier") return { kind: "copier" };
  if (text === "lazy") return { kind: "lazy" };
  const cabal = /^cabal:(\d{1,5})$/.exec(text);
  if (cabal?.[1] !== undefined) return { kind: "cabal", favourite: Number(cabal[1]) };
  throw new Error(`unknown adversary ${JSON.stringify(text)}: copier, lazy or cabal:<uid>`);
}

export function roleName(role: ValidatorRole): string {
  return role.kind === "cabal" ? `cabal:${role.favourite}` : role.kind;
}

/** One epoch of a validator of any role; state that must outlive an epoch (the lazy one's weights) lives in the closure. */
export function epochRunner(role: ValidatorRole): (deps: ValidatorDeps) => Promise<EpochReport> {
  switch (role.kind) {
    case "honest":
      return runValidatorEpoch;
    case "copier":
      return (deps) => fromChain(deps, copiedWeights);
    case "cabal":
      return (deps) =>
        fromChain(deps, (metagraph) => {
          const weights = new Float64Array(metagraph.n);
          if (role.favourite < metagraph.n) weights[role.favourite] = 1;
          return weights;
        });
    case "lazy": {
      let stale: Float64Array | null = null;
      return async (deps) => {
        if (stale !== null) {
          const kept = stale;
          return fromChain(deps, (metagraph) => fitted(kept, metagraph.n));
        }
        const report = await runValidatorEpoch(deps);
        if (report.submission !== null) stale = weightsOf(report.submission.uids, report.submission.values);
        return report;
      };
    }
  }
}

/** Reads the chain, takes the weights `choose` makes of it and sends them, once per epoch (claimed as honest runs). */
async function fromChain(
  deps: ValidatorDeps,
  choose: (metagraph: Metagraph, me: number) => Float64Array,
): Promise<EpochReport> {
  const epoch = await deps.chain.epochIndex(deps.netuid);
  if (await deps.scores.submission(deps.netuid, epoch)) {
    return { epoch, skipped: "weights already submitted this epoch", scores: [], submission: null };
  }
  const [hp, metagraph] = await Promise.all([deps.chain.hyperparams(deps.netuid), deps.chain.metagraph(deps.netuid)]);
  const me = metagraph.hotkeys.indexOf(deps.signer.address);
  if (me < 0)
    return { epoch, skipped: "validator hotkey is not registered on the subnet", scores: [], submission: null };
  const waiting = rateLimited(epoch, hp, metagraph, me);
  if (waiting) return waiting;
  const weights = choose(metagraph, me);
  // Nothing to send (a copier before anyone's weights are visible) is skipped: processWeights would make it uniform.
  if (!weights.some((w) => w > 0)) return { epoch, skipped: "no weights to copy yet", scores: [], submission: null };
  return sendEpochWeights(deps, { epoch, hp, n: metagraph.n, weights, scores: [] });
}

/**
 * The consensus a copier can compute from chain: per uid, the stake-weighted median of the other permitted
 * validators' normalised weight rows, at kappa = 1/2 (subtensor's default), so it matches what Yuma will clip to.
 */
export function copiedWeights(metagraph: Metagraph, me: number): Float64Array {
  const rows: { stake: number; weights: Float64Array }[] = [];
  for (let uid = 0; uid < metagraph.n; uid++) {
    const row = metagraph.weights[uid] ?? [];
    if (uid === me || metagraph.validatorPermit[uid] !== true || row.length === 0) continue;
    const sum = row.reduce((s, [, w]) => s + w, 0);
    if (sum === 0) continue;
    const weights = new Float64Array(metagraph.n);
    for (const [j, w] of row) if (j < metagraph.n) weights[j] = w / sum;
    rows.push({ stake: Number(metagraph.stake[uid] ?? 0n), weights });
  }
  const total = rows.reduce((s, r) => s + r.stake, 0);
  const consensus = new Float64Array(metagraph.n);
  if (total === 0) return consensus;
  for (let j = 0; j < metagraph.n; j++) {
    const column = rows.map((r) => ({ w: r.weights[j] ?? 0, stake: r.stake })).sort((a, b) => a.w - b.w);
    // As the chain: the smallest weight whose cumulative stake (ascending) is more than the minority (1 - kappa).
    let cumulative = 0;
    for (const entry of column) {
      cumulative += entry.stake;
      if (cumulative > total / 2) {
        consensus[j] = entry.w;
        break;
      }
    }
  }
  return consensus;
}

function weightsOf(uids: readonly number[], values: readonly number[]): Float64Array {
  const n = Math.max(0, ...uids.map((u) => u + 1));
  const weights = new Float64Array(n);
  uids.forEach((uid, k) => {
    weights[uid] = values[k] ?? 0;
  });
  return weights;
}

/** Stale weights on a subnet that has grown since: new uids get nothing. */
function fitted(weights: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  out.set(weights.subarray(0, Math.min(n, weights.length)));
  return out;
}
