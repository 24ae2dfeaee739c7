import { TABLES, type TableDefinition } from "./definitions";
import { resourceName } from "./naming";

/** One sst.aws.Dynamo per definition: only key attributes are declared, as DynamoDB requires. */
function table(def: TableDefinition) {
  const fields: Record<string, "string"> = { [def.hashKey]: "string", [def.rangeKey]: "string" };
  for (const index of def.globalIndexes) {
    fields[index.hashKey] = "string";
    fields[index.rangeKey] = "string";
  }
  return new sst.aws.Dynamo(`Table${def.name[0]?.toUpperCase()}${def.name.slice(1)}`, {
    fields,
    primaryIndex: { hashKey: def.hashKey, rangeKey: def.rangeKey },
    globalIndexes: Object.fromEntries(
      def.globalIndexes.map((i) => [
        i.name,
        { hashKey: i.hashKey, rangeKey: i.rangeKey, projection: i.projection ?? "all" },
      ]),
    ),
    ...(def.ttlAttribute ? { ttl: def.ttlAttribute } : {}),
    deletionProtection: $app.stage === "production",
    transform: { table: { name: resourceName(def.name) } },
  });
}

export const tables = Object.fromEntries(TABLES.map((def) => [def.name, table(def)]));
export const allTables = Object.values(tables);
