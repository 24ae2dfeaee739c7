import type { Metagraph } from "../../core/ports/chain.ts";
import type { DirectoryValidator } from "../api/deps.ts";

/**
 * The validators of a metagraph: uids with a validator permit that act as validators (a weight row on chain, or
 * dividends), plus the market's own validators (`known`) even before their first weights. On a small subnet every
 * uid may hold a permit, miners too, so the permit alone does not tell. Values as the chain stores them.
 */
export function validatorsOf(metagraph: Metagraph, known: ReadonlySet<string>): DirectoryValidator[] {
  const out: DirectoryValidator[] = [];
  for (let uid = 0; uid < metagraph.n; uid++) {
    const hotkey = metagraph.hotkeys[uid] ?? "";
    const permit = metagraph.validatorPermit[uid] === true;
    const acts = (metagraph.weights[uid]?.length ?? 0) > 0 || (metagraph.dividends[uid] ?? 0) > 0;
    if (!known.has(hotkey) && !(permit && acts)) continue;
    out.push({
      uid,
      hotkey,
      stake: (metagraph.stake[uid] ?? 0n).toString(),
      validatorPermit: permit,
      validatorTrust: metagraph.validatorTrust[uid] ?? 0,
      dividends: metagraph.dividends[uid] ?? 0,
      lastWeightsBlock: metagraph.lastUpdate[uid] ?? 0,
    });
  }
  return out;
}
