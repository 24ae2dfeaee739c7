import { describe, expect, it } from "vitest";
import type { RequestRecord, RequestStore } from "../core/ports/requests.ts";
import { RequestReader } from "./request-reader.ts";

const record = (requestId: string, phase: RequestRecord["phase"]): RequestRecord => ({
  requestId,
  accountId: "acct",
  keyId: "key",
  task: "digits",
  bodySha256: "",
  inputDigest: "d".repeat(64),
  experts: [{ uid: 1, hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", gate: 1 }],
  pricePerAnswer: 10,
  holdAmount: 10,
  phase,
  createdAt: 0,
  deadline: 60_000,
});

/** A store whose eventually consistent reads lag: they see `stale`, strong reads see `now`. */
function laggingStore(stale: RequestRecord[], now: RequestRecord[]) {
  const reads: { ids: string[]; eventually: boolean }[] = [];
  const store: Pick<RequestStore, "getMany"> = {
    async getMany(ids, options) {
      const eventually = options?.eventually === true;
      reads.push({ ids: [...ids], eventually });
      return (eventually ? stale : now).filter((r) => ids.includes(r.requestId));
    },
  };
  return { store, reads };
}

describe("RequestReader (issue 17: one eventually consistent read per receive)", () => {
  it("reads a receive's requests once, eventually consistent, when none can be stale in a way that matters", async () => {
    const { store, reads } = laggingStore([record("a", "dispatched"), record("b", "canceling")], []);
    const reader = new RequestReader(store);
    const got = await Promise.all([reader.get("a"), reader.get("b"), reader.get("a")]);
    expect(got.map((r) => r?.phase)).toEqual(["dispatched", "canceling", "dispatched"]);
    expect(reads).toEqual([{ ids: ["a", "b"], eventually: true }]);
  });

  it("re-reads strongly those found missing or still holding (a job goes out only once its request is dispatched)", async () => {
    const { store, reads } = laggingStore(
      [record("held", "holding"), record("ok", "dispatched")],
      [record("held", "dispatched"), record("new", "dispatched")],
    );
    const reader = new RequestReader(store);
    const got = await Promise.all([reader.get("held"), reader.get("new"), reader.get("ok"), reader.get("gone")]);
    expect(got.map((r) => r?.phase ?? null)).toEqual(["dispatched", "dispatched", "dispatched", null]);
    expect(reads).toEqual([
      { ids: ["held", "new", "ok", "gone"], eventually: true },
      { ids: ["held", "new", "gone"], eventually: false },
    ]);
  });
});
