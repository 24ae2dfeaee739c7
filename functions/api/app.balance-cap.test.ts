import { describe, expect, it } from "vitest";
import { MAX_ACCOUNT_BALANCE } from "../../core/billing/limits.ts";
import { harness } from "./testing/harness.ts";

describe("balance cap (issue 13.9)", () => {
  it("refuses a top-up past the cap with 422 balance_limit; the account stays whole and readable", async () => {
    const h = await harness();
    const key = await h.fundedKey(MAX_ACCOUNT_BALANCE - 5);
    // The attack: top-ups until the balance passes 2^53 (the account then read back as missing, balance 0).
    const over = await h.admin.topUp(key.id, 1e15);
    expect(!over.ok && [over.status, over.problem.code]).toEqual([422, "balance_limit"]);
    const edge = await h.admin.topUp(key.id, 6);
    expect(!edge.ok && edge.problem.code).toBe("balance_limit");
    const fits = await h.admin.topUp(key.id, 5);
    expect(fits.ok && fits.data.balance).toBe(MAX_ACCOUNT_BALANCE);
    const view = await h.admin.getKey(key.id);
    expect(view.ok && view.data.balance).toBe(MAX_ACCOUNT_BALANCE);
    const usage = await key.client.usage();
    expect(usage.ok && usage.data.balance).toBe(MAX_ACCOUNT_BALANCE);
    // A second key on the full account with initial credits is refused too, before the key exists.
    const second = await h.admin.createKey({ name: "more", credits: 1, accountId: key.accountId });
    expect(!second.ok && [second.status, second.problem.code]).toEqual([422, "balance_limit"]);
  });
});
