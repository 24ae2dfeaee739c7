import { describe, expect, it } from "vitest";
import { DIGITS_MODEL_CONTRACT } from "../tasks/digits.ts";
import {
  type CommittedNeuron,
  decideServing,
  directoryOf,
  keepServedOnUnavailable,
  recordFirstCommitters,
} from "./chain-directory.ts";
import { decodeCommitment, encodeCommitment, isRetirement, MAX_COMMITMENT_BYTES, RETIREMENT } from "./commitment.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const hk = (i: number) => `5${String(i).padStart(47, "H")}`;
const tasks = (t: string) =>
  t === "digits" ? { contract: DIGITS_MODEL_CONTRACT, runner: "classifier" as const } : undefined;
const sizes = new Map([
  [A, 100],
  [B, 200],
]);
const stored = (sha: string) => sizes.get(sha) ?? null;
const n = (uid: number, commitment: CommittedNeuron["commitment"], block: number): CommittedNeuron => ({
  uid,
  hotkey: hk(uid),
  commitment,
  block,
});

describe("model commitments", () => {
  it("round-trips {task, sha256, size} within the pallet's 128 bytes and refuses anything else", () => {
    const c = { task: "digits", sha256: A, size: 123_456 };
    const bytes = encodeCommitment(c);
    expect(bytes.length).toBeLessThanOrEqual(MAX_COMMITMENT_BYTES);
    expect(decodeCommitment(bytes)).toEqual(c);
    expect(decodeCommitment(new TextEncoder().encode('{"t":"digits","h":"zz","s":1}'))).toBeNull();
    expect(decodeCommitment(new Uint8Array([0xff, 0xfe]))).toBeNull();
    expect(decodeCommitment(RETIREMENT)).toBeNull();
    expect(isRetirement(RETIREMENT)).toBe(true);
    expect(() => encodeCommitment({ task: "Digits!", sha256: A, size: 1 })).toThrow();
  });
});

describe("serving what the chain says", () => {
  it("serves the first committer of a digest, not a later copy (ties to the lower uid)", () => {
    const d = decideServing(
      [
        n(3, { task: "digits", sha256: A, size: 100 }, 50),
        n(1, { task: "digits", sha256: A, size: 100 }, 60),
        n(2, { task: "digits", sha256: B, size: 200 }, 70),
        n(4, { task: "digits", sha256: B, size: 200 }, 70),
      ],
      tasks,
      stored,
    );
    expect(d.get(3)?.served).toBe(true);
    expect(d.get(1)).toMatchObject({ served: false, reason: "copy: uid 3 committed this model first (block 50)" });
    expect(d.get(2)?.served).toBe(true);
    expect(d.get(4)?.served).toBe(false);
    const doc = directoryOf(d, "now");
    expect(doc.experts.map((e) => [e.id, e.model.sha256, e.model.path])).toEqual([
      ["miner-2", B, `models/${B}.onnx`],
      ["miner-3", A, `models/${A}.onnx`],
    ]);
  });

  it("keeps the first committer's precedence after it moves on to another model", () => {
    const history = new Map<string, { uid: number; hotkey: string; block: number }>();
    recordFirstCommitters(history, [n(1, { task: "digits", sha256: A, size: 100 }, 10)]);
    // uid 1 now serves B; uid 2 commits A (a copy of uid 1's earlier model) later.
    const d = decideServing(
      [n(1, { task: "digits", sha256: B, size: 200 }, 20), n(2, { task: "digits", sha256: A, size: 100 }, 15)],
      tasks,
      stored,
      history,
    );
    expect(d.get(1)?.served).toBe(true);
    expect(d.get(2)).toMatchObject({ served: false, reason: "copy: uid 1 committed this model first (block 10)" });
  });

  it("says why a uid is not served: none, not a model commitment, retired, unknown task, not uploaded, size", () => {
    const d = decideServing(
      [
        n(0, null, 0),
        n(1, "invalid", 5),
        n(2, "retired", 5),
        n(3, { task: "speech", sha256: A, size: 100 }, 5),
        n(4, { task: "digits", sha256: "c".repeat(64), size: 1 }, 5),
        n(5, { task: "digits", sha256: B, size: 999 }, 5),
      ],
      tasks,
      stored,
    );
    const reasons = [...d.values()].map((x) => (x.served ? "served" : x.reason));
    expect(reasons).toEqual([
      "no model committed",
      "the commitment is not a model commitment {task, sha256, size}",
      "retired by the miner",
      "task speech takes no miner models",
      `model ${"c".repeat(64)} was never uploaded (upload it, then commit)`,
      "committed size 999 differs from the uploaded model's 200",
    ]);
  });

  it("keeps a uid's model when its new commitment names an unavailable model, but not for a new hotkey", () => {
    const before = decideServing([n(1, { task: "digits", sha256: A, size: 100 }, 5)], tasks, stored);
    const next = decideServing([n(1, { task: "digits", sha256: "c".repeat(64), size: 1 }, 9)], tasks, stored);
    const kept = keepServedOnUnavailable(next, before, () => hk(1));
    expect(kept.get(1)).toMatchObject({ served: true, entry: { model: { sha256: A } } });
    const replaced = keepServedOnUnavailable(next, before, () => hk(9));
    expect(replaced.get(1)?.served).toBe(false);
    // A retirement or a new model is never overridden.
    const retired = decideServing([n(1, "retired", 9)], tasks, stored);
    expect(keepServedOnUnavailable(retired, before, () => hk(1)).get(1)?.served).toBe(false);
  });
});
