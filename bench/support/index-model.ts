type Input = Record<string, unknown>;
type Item = Record<string, unknown>;

/**
 * The write units the emulator leaves out: DynamoDB copies an item into a global secondary index while the item
 * carries that index's keys. On an index that projects ALL, such an item's every write is billed its units again;
 * on a keys-only index (`keysOnly(table)`), one unit when the item enters the index or its index keys change, and
 * nothing for a write that leaves them alone (a write that takes an item out of either, one unit). A model, not a
 * measurement: it follows each item's index keys through the writes it sees (a put with `gsi*pk`: in; `SET gsi*pk`:
 * in; `REMOVE gsi*pk` or a delete: out). An item it never saw written counts as out until a write says otherwise.
 */
export class IndexWriteModel {
  private readonly inIndex = new Set<string>();

  constructor(private readonly keysOnly: (table: string) => boolean = () => false) {}

  /** Index write units of one successful write call, given the table units DynamoDB reported for it. */
  units(command: string, input: Input, tableUnits: number): number {
    const table = typeof input.TableName === "string" ? input.TableName : "";
    switch (command) {
      case "PutItemCommand":
        return this.move(table, keyOf(table, asItem(input.Item)), hasIndexKeys(asItem(input.Item)), tableUnits, "put");
      case "UpdateItemCommand": {
        const key = keyOf(table, asItem(input.Key));
        const expression = typeof input.UpdateExpression === "string" ? input.UpdateExpression : "";
        const sets = /\bgsi\d*pk\s*=/.test(clause(expression, "SET"));
        const rekeys = /\bgsi\d*(?:pk|sk)\s*=/.test(clause(expression, "SET"));
        const removes = /\bgsi\d*pk\b/.test(clause(expression, "REMOVE"));
        const inAfter = sets || (!removes && this.inIndex.has(key));
        return this.move(table, key, inAfter, tableUnits, rekeys ? "rekey" : "update");
      }
      case "DeleteItemCommand":
        return this.move(table, keyOf(table, asItem(input.Key)), false, 0, "put");
      case "BatchWriteItemCommand":
        return this.batch(input.RequestItems);
      default:
        return 0;
    }
  }

  private batch(requestItems: unknown): number {
    let units = 0;
    for (const [table, requests] of Object.entries((requestItems ?? {}) as Record<string, unknown[]>)) {
      for (const request of requests ?? []) {
        const { PutRequest, DeleteRequest } = request as { PutRequest?: { Item?: unknown }; DeleteRequest?: unknown };
        if (PutRequest) {
          const item = asItem(PutRequest.Item);
          // A batch reports its units per table, not per item: a put's units are its size, a unit per KB.
          const size = Math.ceil(JSON.stringify(item).length / 1024);
          units += this.move(table, keyOf(table, item), hasIndexKeys(item), size, "put");
        } else if (DeleteRequest) {
          units += this.move(table, keyOf(table, asItem((DeleteRequest as { Key?: unknown }).Key)), false, 0, "put");
        }
      }
    }
    return units;
  }

  /**
   * Records whether the item is in the index after a write; returns the index units that write costs. `write`: a
   * whole item put (or deleted), an update that sets its index keys, or one that leaves them alone. An update that
   * changes the keys of an item in the index is two index writes: the old entry deleted, the new one put.
   */
  private move(table: string, key: string, inAfter: boolean, tableUnits: number, write: IndexedWrite): number {
    const wasIn = this.inIndex.has(key);
    if (inAfter) this.inIndex.add(key);
    else this.inIndex.delete(key);
    if (!inAfter) return wasIn ? 1 : 0;
    const moved = wasIn && write === "rekey" ? 1 : 0;
    if (!this.keysOnly(table)) return tableUnits + moved;
    return wasIn && write === "update" ? 0 : 1 + moved;
  }
}

type IndexedWrite = "put" | "rekey" | "update";

const asItem = (value: unknown): Item => (value !== null && typeof value === "object" ? (value as Item) : {});

const hasIndexKeys = (item: Item) => Object.keys(item).some((name) => /^gsi\d*pk$/.test(name));

/** The document client's plain strings, or the low-level client's `{ S: ... }`. */
const text = (value: unknown) =>
  typeof value === "string" ? value : String((value as { S?: unknown } | undefined)?.S ?? "");

const keyOf = (table: string, item: Item) => `${table}|${text(item.pk)}|${text(item.sk)}`;

/** The part of an update expression after `keyword`, up to the next clause. */
function clause(expression: string, keyword: string): string {
  const match = new RegExp(`\\b${keyword}\\b([\\s\\S]*?)(?=\\b(?:SET|REMOVE|ADD|DELETE)\\b|$)`, "i").exec(expression);
  return match?.[1] ?? "";
}
