import { describe, expect, it } from "vitest";
import { defaultHyperparams } from "../../adapters/chain/devnet/state.ts";
import { choosePath } from "./submit.ts";

describe("choosePath", () => {
  const hp = defaultHyperparams(1);
  it("set_weights without commit-reveal, the drand timelock with version 4", () => {
    expect(choosePath({ ...hp, commitRevealWeightsEnabled: false })).toEqual({ path: "set_weights" });
    expect(choosePath({ ...hp, commitRevealVersion: 4 })).toEqual({ path: "timelock" });
  });
  it("never a v2 hash commit, which would need a reveal the validator does not send", () => {
    expect(choosePath({ ...hp, commitRevealVersion: 2 })).toMatchObject({ path: "none" });
  });
});
