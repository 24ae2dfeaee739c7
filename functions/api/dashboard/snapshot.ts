import { clippingView } from "../../../core/consensus/clipping.ts";
import type { DashboardSource } from "./source.ts";

const U16 = 65535;
/** Submissions listed in the validator status view. */
const STATUS_EPOCHS = 10;

const ratio = (u16: number | undefined) => (u16 ?? 0) / U16;

/**
 * The metagraph, the weights matrix (validators x experts, with consensus and clipping), the validators and the
 * validator's recent submissions: what `GET /` renders and `GET /v1/dashboard` answers.
 */
export async function dashboardSnapshot(source: DashboardSource) {
  const [m, labels, submissions] = await Promise.all([
    source.metagraph(),
    source.labels(),
    source.scores.recentSubmissions(source.netuid, STATUS_EPOCHS),
  ]);
  const uids = Array.from({ length: m.n }, (_, uid) => uid);
  // A validator is a uid that set weights, or holds a permit without serving a model (miners earn stake, and with
  // it permits, on a small subnet: a permit alone does not make a miner a validator).
  const serves = (uid: number) => labels.has(m.hotkeys[uid] ?? "");
  const isValidator = (uid: number) =>
    (m.weights[uid]?.length ?? 0) > 0 || (m.validatorPermit[uid] === true && !serves(uid));
  const validatorUids = uids.filter(isValidator);
  const expertUids = uids.filter((uid) => serves(uid) || !isValidator(uid));
  // Trust is computed over every uid so that a validator's own column reads the same as the chain's view.
  const stake = m.stake.map((s) => Number(s));
  const trust = clippingView({ stake, weights: m.weights, consensus: m.consensus, rows: validatorUids, columns: uids });
  const matrix = clippingView({
    stake,
    weights: m.weights,
    consensus: m.consensus,
    rows: validatorUids,
    columns: expertUids,
  });
  const neurons = uids.map((uid) => {
    const hotkey = m.hotkeys[uid] ?? "";
    const label = labels.get(hotkey);
    return {
      uid,
      name: label?.name ?? "",
      task: label?.task ?? "",
      hotkey,
      coldkey: m.coldkeys[uid] ?? "",
      /** rao, as a decimal string (u64 does not fit a JSON number). */
      stake: String(m.stake[uid] ?? 0n),
      validatorPermit: m.validatorPermit[uid] === true,
      incentive: ratio(m.incentive[uid]),
      dividends: ratio(m.dividends[uid]),
      emission: String(m.emission[uid] ?? 0n),
      trust: trust.trust[uid] ?? 0,
      consensus: ratio(m.consensus[uid]),
      validatorTrust: ratio(m.validatorTrust[uid]),
      lastUpdate: m.lastUpdate[uid] ?? 0,
      active: m.active[uid] === true,
    };
  });
  // The shape of GET /v1/validators (several validators, issue 20), so the view can switch to it unchanged.
  const validators = validatorUids.map((uid) => ({
    uid,
    hotkey: m.hotkeys[uid] ?? "",
    stake: String(m.stake[uid] ?? 0n),
    validatorPermit: m.validatorPermit[uid] === true,
    validatorTrust: ratio(m.validatorTrust[uid]),
    dividends: ratio(m.dividends[uid]),
    lastWeightsBlock: m.lastUpdate[uid] ?? 0,
  }));
  return {
    netuid: source.netuid,
    block: m.block,
    neurons,
    validators,
    weights: {
      rows: [...matrix.rows],
      columns: [...matrix.columns],
      weights: matrix.weights.map((row) => [...row]),
      clipped: matrix.clipped.map((row) => [...row]),
      consensus: [...matrix.consensus],
      trust: [...matrix.trust],
    },
    submissions: submissions.map((s) => ({
      epoch: s.epoch,
      path: s.path,
      status: s.status,
      claimedAt: s.claimedAt,
      ...(s.block === undefined ? {} : { block: s.block }),
      ...(s.error === undefined ? {} : { error: s.error }),
      ...(s.note === undefined ? {} : { note: s.note }),
    })),
  };
}

export type DashboardSnapshot = Awaited<ReturnType<typeof dashboardSnapshot>>;
