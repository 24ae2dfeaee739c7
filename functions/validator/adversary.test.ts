import { describe, expect, it } from "vitest";
import type { Metagraph } from "../../core/ports/chain.ts";
import { copiedWeights, parseAdversary, roleName } from "./adversary.ts";

/** A metagraph of `n` uids where only the given validators hold stake, a permit and a weight row. */
function metagraph(n: number, rows: { uid: number; stake: bigint; weights: [number, number][] }[]): Metagraph {
  const at = <T>(fill: T, pick: (r: (typeof rows)[number]) => T) =>
    Array.from({ length: n }, (_, uid) => {
      const r = rows.find((x) => x.uid === uid);
      return r ? pick(r) : fill;
    });
  const zeros = Array.from({ length: n }, () => 0);
  return {
    netuid: 1,
    block: 100,
    n,
    hotkeys: Array.from({ length: n }, (_, uid) => `hk${uid}`),
    coldkeys: Array.from({ length: n }, (_, uid) => `ck${uid}`),
    stake: at(0n, (r) => r.stake),
    active: Array.from({ length: n }, () => true),
    validatorPermit: at(false, () => true),
    lastUpdate: zeros,
    blockAtRegistration: zeros,
    incentive: zeros,
    consensus: zeros,
    dividends: zeros,
    validatorTrust: zeros,
    emission: Array.from({ length: n }, () => 0n),
    weights: at([] as [number, number][], (r) => r.weights),
  };
}

describe("adversaries", () => {
  it("parses the MARKET_ADVERSARIES entries and names them back", () => {
    expect(parseAdversary("copier")).toEqual({ kind: "copier" });
    expect(parseAdversary("lazy")).toEqual({ kind: "lazy" });
    expect(parseAdversary("cabal:12")).toEqual({ kind: "cabal", favourite: 12 });
    expect(roleName(parseAdversary("cabal:12"))).toBe("cabal:12");
    expect(() => parseAdversary("cabal:")).toThrow(/unknown adversary/);
  });

  it("the copier sets the stake-weighted median of the other validators' normalised rows, not its own", () => {
    // uid 0 (stake 3) weighs expert 3 fully; uids 1 and 2 (stake 2 each) split between experts 3 and 4. The median
    // (more than half of the stake, ascending) of expert 3 is 0.5, of expert 4 is 0.5; the copier's row (uid 5) and
    // its stake are ignored.
    const m = metagraph(6, [
      { uid: 0, stake: 3n, weights: [[3, 65535]] },
      {
        uid: 1,
        stake: 2n,
        weights: [
          [3, 100],
          [4, 100],
        ],
      },
      {
        uid: 2,
        stake: 2n,
        weights: [
          [3, 7],
          [4, 7],
        ],
      },
      { uid: 5, stake: 100n, weights: [[4, 65535]] },
    ]);
    expect([...copiedWeights(m, 5)]).toEqual([0, 0, 0, 0.5, 0.5, 0]);
  });

  it("the copier finds nothing to copy before any weights are on chain", () => {
    const m = metagraph(4, [{ uid: 0, stake: 5n, weights: [] }]);
    expect([...copiedWeights(m, 3)]).toEqual([0, 0, 0, 0]);
  });
});
