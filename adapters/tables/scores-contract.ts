import { describe, expect, it } from "vitest";
import type { ScoreStore } from "../../core/ports/scores.ts";
import type { WeightSubmission } from "../../core/scores/schema.ts";

/** One behaviour suite for every ScoreStore adapter (memory in unit tests, DynamoDB on dynalite in integration). */
export function scoreStoreContract(name: string, make: () => Promise<ScoreStore>): void {
  const row = (uid: number, shapley: number) => ({
    uid,
    hotkey: `5${"F".repeat(46)}${uid}`,
    shapley,
    ema: shapley / 2,
    accuracy: 0.5,
    brier: 0.4,
    answered: 10,
    items: 10,
    copyOf: null,
  });
  const submission = (epoch: number): WeightSubmission => ({
    netuid: 1,
    epoch,
    path: "set_weights",
    uids: [1, 2],
    values: [65535, 100],
    versionKey: "0",
    status: "claimed",
    claimedAt: 1,
  });

  describe(`ScoreStore contract: ${name}`, () => {
    it("returns the latest epoch's scores by number, not by insertion order", async () => {
      const store = await make();
      await store.putEpochScores({ task: "digits", epoch: 10, at: 1, rows: [row(1, 0.1)] });
      await store.putEpochScores({ task: "digits", epoch: 9, at: 2, rows: [row(1, 0.2)] });
      await store.putEpochScores({ task: "speech", epoch: 11, at: 3, rows: [row(2, 0.3)] });
      expect((await store.latestScores("digits"))?.epoch).toBe(10);
      expect((await store.epochScores("digits", 9))?.rows[0]?.shapley).toBe(0.2);
      expect(await store.latestScores("nothing")).toBeNull();
    });

    it("lets only the first claim of an epoch's submission through", async () => {
      const store = await make();
      const results = await Promise.all([store.claimSubmission(submission(5)), store.claimSubmission(submission(5))]);
      expect(results.filter(Boolean)).toHaveLength(1);
      await store.updateSubmission(1, 5, { status: "accepted", block: 42 });
      expect(await store.submission(1, 5)).toMatchObject({ status: "accepted", block: 42, uids: [1, 2] });
      await store.claimSubmission(submission(6));
      expect((await store.recentSubmissions(1, 10)).map((s) => s.epoch)).toEqual([6, 5]);
    });

    it("never rolls router parameters back to an older version", async () => {
      const store = await make();
      await store.putRouter({ task: "digits", version: 3, epoch: 3, at: 1, params: { w: [3] } });
      await store.putRouter({ task: "digits", version: 2, epoch: 2, at: 2, params: { w: [2] } });
      expect((await store.latestRouter("digits"))?.params).toEqual({ w: [3] });
    });

    it("counts a hotkey's shadow answers once per job, up to the limit", async () => {
      const store = await make();
      const answer = (jobId: string, hotkey = "5Newcomer") => ({
        hotkey,
        uid: 7,
        task: "digits",
        jobId,
        requestId: `req-${jobId}`,
        modelSha256: "ab".repeat(32),
        at: 1,
      });
      await store.recordShadowAnswer(answer("j1"));
      await store.recordShadowAnswer(answer("j1"));
      await store.recordShadowAnswer(answer("j2"));
      await store.recordShadowAnswer(answer("j3", "5Other"));
      expect(await store.shadowAnswerCount("5Newcomer", 100)).toBe(2);
      expect(await store.shadowAnswerCount("5Newcomer", 1)).toBe(1);
      expect(await store.shadowAnswerCount("5Nobody", 100)).toBe(0);
    });
  });
}
