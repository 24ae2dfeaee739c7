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

  it("bills a keys-only index one unit when an item enters it or is re-keyed, nothing for other writes", () => {
    const model = new IndexWriteModel((table) => table.endsWith("-jobs"));
    const request = { TableName: "t-jobs", Key: { pk: "REQ#r", sk: "REQ" } };
    const item = { pk: "REQ#r", sk: "REQ", gsi1pk: "ACCTREQ#a", gsi1sk: "1#r" };
    expect(model.units("PutItemCommand", { TableName: "t-jobs", Item: item }, 1)).toBe(1);
    expect(model.units("UpdateItemCommand", { ...request, UpdateExpression: "SET #result = :r, phase = :s" }, 4)).toBe(
      0,
    );
    expect(
      model.units("UpdateItemCommand", { ...request, UpdateExpression: "SET attempts = :n, gsi1sk = :sk" }, 4),
    ).toBe(2); // a key change is two index writes: the old entry out, the new one in
    expect(
      model.units("UpdateItemCommand", { ...request, UpdateExpression: "SET x = :x REMOVE gsi1pk, gsi1sk" }, 4),
    ).toBe(1);
    // Another table's index still projects ALL.
    const account = { TableName: "t-ledger", Item: { pk: "OPEN#a", sk: "OPEN", gsi1pk: "OPENHOLD#1" } };
    expect(model.units("PutItemCommand", account, 3)).toBe(3);
    const marker = { TableName: "t-ledger", Key: { pk: "OPEN#a", sk: "OPEN" } };
    expect(model.units("UpdateItemCommand", { ...marker, UpdateExpression: "SET gsi1sk = :sk" }, 3)).toBe(4);
  });
});
