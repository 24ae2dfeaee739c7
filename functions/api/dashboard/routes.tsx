/** @jsxImportSource hono/jsx */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError, problemResponses } from "../errors.ts";
import { dashboardHistory, MAX_HISTORY_EPOCHS } from "./history.ts";
import { dashboardMarket } from "./market.ts";
import { DashboardPage } from "./page.tsx";
import { DashboardHistorySchema, DashboardMarketSchema, DashboardSnapshotSchema } from "./schemas.ts";
import { dashboardSnapshot } from "./snapshot.ts";

/** Epochs the page's charts show. */
const PAGE_EPOCHS = 16;
/** Only the names Vite writes (vite.config.ts fixes them): nothing else under the folder is reachable. */
const ASSET_NAME = /^[a-z0-9][a-z0-9._-]{0,80}\.(js|css)$/;
const CONTENT_TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" } as const;

const HistoryQuery = z.object({
  epochs: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_HISTORY_EPOCHS)
    .default(PAGE_EPOCHS)
    .openapi({ param: { name: "epochs", in: "query" }, example: PAGE_EPOCHS }),
});
function json<T>(schema: T) {
  return { content: { "application/json": { schema } } };
}

const snapshotRoute = createRoute({
  method: "get",
  path: "/v1/dashboard",
  tags: ["dashboard"],
  summary: "The metagraph with names, the validators, the weights matrix (consensus, clipping) and recent submissions",
  responses: { 200: { description: "Snapshot", ...json(DashboardSnapshotSchema) }, ...problemResponses("not_found") },
});
const historyRoute = createRoute({
  method: "get",
  path: "/v1/dashboard/history",
  tags: ["dashboard"],
  summary: "Per expert and epoch: the Shapley value and the weight the validator set",
  request: { query: HistoryQuery },
  responses: {
    200: { description: "History", ...json(DashboardHistorySchema) },
    ...problemResponses("invalid_request", "not_found"),
  },
});
const marketRoute = createRoute({
  method: "get",
  path: "/v1/dashboard/market",
  tags: ["dashboard"],
  summary: "Queries per minute, latency percentiles, and per expert answers, fee shares, routing share, accuracy",
  responses: { 200: { description: "Market", ...json(DashboardMarketSchema) }, ...problemResponses("not_found") },
});

/** How long one reading of the dashboard's data serves every viewer (each polls every 5 s; the market view alone
 * reads a few hundred items). */
const SHARED_FOR_MS = 2000;

/** `read`'s latest result for SHARED_FOR_MS, one read in flight at a time; a failed read is not kept. */
function shortLived<T>(read: () => Promise<T>, now: () => number): () => Promise<T> {
  let kept: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (kept && now() - kept.at < SHARED_FOR_MS) return kept.value;
    const value = read();
    const entry = { at: now(), value };
    kept = entry;
    value.catch(() => {
      if (kept === entry) kept = null;
    });
    return value;
  };
}

/**
 * The market dashboard: `GET /` (server-rendered tables that work without JavaScript), its JSON
 * (`/v1/dashboard`, `/v1/dashboard/history`, `/v1/dashboard/market`) that the page polls, and the Vite-built
 * script and styles under `/assets/`. Without `deps.dashboard` none of these routes exist.
 */
export function registerDashboardRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps): void {
  const source = deps.dashboard;
  if (!source) return;
  const now = () => deps.clock.now();
  const snapshotOf = shortLived(() => dashboardSnapshot(source), now);
  const marketOf = shortLived(() => dashboardMarket(deps, source), now);
  const histories = new Map<number, () => ReturnType<typeof dashboardHistory>>();
  const historyOf = (epochs: number) => {
    let read = histories.get(epochs);
    if (!read) {
      read = shortLived(() => dashboardHistory(source, epochs), now);
      histories.set(epochs, read);
    }
    return read();
  };
  app.get("/", async (c) => {
    const [snapshot, market, history] = await Promise.all([snapshotOf(), marketOf(), historyOf(PAGE_EPOCHS)]);
    const page = <DashboardPage d={{ snapshot, market, history }} />;
    c.header("cache-control", "no-store");
    return c.html(`<!doctype html>${await page.toString()}`);
  });
  app.openapi(snapshotRoute, async (c) => c.json(await snapshotOf(), 200));
  app.openapi(marketRoute, async (c) => c.json(await marketOf(), 200));
  app.openapi(historyRoute, async (c) => c.json(await historyOf(c.req.valid("query").epochs), 200));
  app.get("/assets/:name", async (c) => {
    const name = c.req.param("name");
    const ext = ASSET_NAME.exec(name)?.[1] as keyof typeof CONTENT_TYPES | undefined;
    if (!ext) throw new ApiError("not_found", "no such asset");
    const body = await readFile(join(source.assetsDir, name)).catch(() => null);
    if (!body) throw new ApiError("not_found", "no such asset (is the dashboard built? npm run build:web)");
    return c.body(body, 200, { "content-type": CONTENT_TYPES[ext], "cache-control": "no-cache" });
  });
}
