import type { ValidatorDeps } from "./types.ts";

/**
 * A timelocked commit that fails to open is silent on chain: the only sign of success is the
 * `TimelockedWeightsRevealed` event for our hotkey. Each epoch, every accepted timelock commit whose reveal epoch
 * has passed is marked revealed or reveal_missed (and a miss is logged as an error).
 */
export async function checkReveals(deps: ValidatorDeps, epoch: number): Promise<void> {
  const hp = await deps.chain.hyperparams(deps.netuid);
  const recent = await deps.scores.recentSubmissions(deps.netuid, 8);
  const pending = recent.filter((s) => s.path === "timelock" && s.status === "accepted" && s.block !== undefined);
  if (pending.length === 0) return;
  const fromBlock = Math.min(...pending.map((s) => s.block ?? 0));
  const events = await deps.chain.events(fromBlock);
  for (const s of pending) {
    const revealed = events.some(
      (e) => e.name === "TimelockedWeightsRevealed" && e.block > (s.block ?? 0) && e.data.who === deps.signer.address,
    );
    if (revealed) {
      await deps.scores.updateSubmission(deps.netuid, s.epoch, { status: "revealed" });
    } else if (epoch > s.epoch + hp.revealPeriodEpochs) {
      await deps.scores.updateSubmission(deps.netuid, s.epoch, { status: "reveal_missed" });
      deps.log.error("timelocked weights were not revealed", { epoch: s.epoch, revealRound: s.revealRound });
    }
  }
}
