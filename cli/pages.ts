import type { Command } from "commander";
import type { ApiResult, ListOptions, Page } from "../client/client.ts";
import { intFlag } from "./settings.ts";

/** Most pages `--all` follows: a bound, so a server that always returns a cursor cannot loop the CLI forever. */
const MAX_PAGES = 1000;

export interface PageFlags {
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

export function pageOptions(cmd: Command): Command {
  return cmd
    .option("--limit <n>", "items per page", intFlag("--limit", 1, 100))
    .option("--cursor <cursor>", "continue from a previous page's nextCursor")
    .option("--all", "follow nextCursor to the last page");
}

/** One page, or with `--all` every page merged into one (its nextCursor null). */
export async function collectPages<T>(
  o: PageFlags,
  fetchPage: (page: ListOptions) => Promise<ApiResult<Page<T>>>,
): Promise<ApiResult<Page<T>>> {
  let cursor = o.cursor;
  const items: T[] = [];
  for (let i = 0; i < MAX_PAGES; i++) {
    const res = await fetchPage({
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(cursor ? { cursor } : {}),
    });
    if (!res.ok || !o.all) return res;
    items.push(...res.data.data);
    if (!res.data.nextCursor) return { ...res, data: { data: items, nextCursor: null } };
    cursor = res.data.nextCursor;
  }
  throw new Error(`stopped after ${MAX_PAGES} pages`);
}
