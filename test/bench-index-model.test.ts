import { describe, expect, it } from "vitest";
import { IndexWriteModel } from "../bench/support/index-model.ts";

// The bench's model of the index copies the emulator does not bill (bench/market.ts prices them).
describe("IndexWriteModel", () => {
  it("bills a write again while its item carries index keys, and one unit for leaving the index", () => {
    const model = new IndexWriteModel();
    const account = { TableName: "ledger", Key: { pk: "ACCT#a", sk: "ACCT" } };
    expect(model.units("PutItemCommand", { TableName: "ledger", Item: { pk: "ACCT#a", sk: "ACCT" } }, 1)).toBe(0);
    const hold = { ...account, UpdateExpression: "SET balance = balance - :amount, #H.#h = :hold, gsi1pk = :gpk" };
    expect(model.units("UpdateItemCommand", hold, 7)).toBe(7);
    // A later write that leaves the keys alone is still copied: the item is in the index.
    expect(model.units("UpdateItemCommand", { ...account, UpdateExpression: "SET held = held - :amount" }, 8)).toBe(8);
    expect(model.units("UpdateItemCommand", { ...account, UpdateExpression: "REMOVE gsi1pk, gsi1sk" }, 2)).toBe(1);
    expect(model.units("UpdateItemCommand", { ...account, UpdateExpression: "SET held = :zero" }, 2)).toBe(0);
  });

  it("reads keys in the low-level client's form, batch puts by size, and deletes", () => {
    const model = new IndexWriteModel();
    const record = {
      pk: { S: "HOLD#h" },
      sk: { S: "HOLD" },
      gsi1pk: { S: "JOURNAL#a" },
      memo: { S: "x".repeat(1500) },
    };
    const batch = {
      RequestItems: { ledger: [{ PutRequest: { Item: record } }, { PutRequest: { Item: { pk: "P" } } }] },
    };
    expect(model.units("BatchWriteItemCommand", batch, 3)).toBe(2);
    const key = { TableName: "ledger", Key: { pk: { S: "HOLD#h" }, sk: { S: "HOLD" } } };
    expect(model.units("DeleteItemCommand", key, 1)).toBe(1);
    expect(model.units("DeleteItemCommand", key, 1)).toBe(0);
  });
});
