/** @jsxImportSource hono/jsx */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { dashboardHistory, MAX_HISTORY_EPOCHS } from "./history.ts";
import { dashboardMarket } from "./market.ts";
import { DashboardPage } from "./page.tsx";
import { dashboardSnapshot } from "./snapshot.ts";

/** Epochs the page's charts show. */
const PAGE_EPOCHS = 16;
/** Only the names Vite writes (vite.config.ts fixes them): nothing else under the folder is reachable. */
const ASSET_NAME = /^[a-z0-9][a-z0-9._-]{0,80}\.(js|css)$/;
const CONTENT_TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" } as const;

const HistoryQuery = z.object({ epochs: z.coerce.number().int().min(1).max(MAX_HISTORY_EPOCHS).default(PAGE_EPOCHS) });

/**
 * The market dashboard: `GET /` (server-rendered tables that work without JavaScript), its JSON
 * (`/v1/dashboard`, `/v1/dashboard/history`, `/v1/dashboard/market`) that the page polls, and the Vite-built
 * script and styles under `/assets/`. Without `deps.dashboard` none of these routes exist.
 */
export function registerDashboardRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps): void {
  const source = deps.dashboard;
  if (!source) return;
  app.get("/", async (c) => {
    const [snapshot, market, history] = await Promise.all([
      dashboardSnapshot(source),
      dashboardMarket(deps, source),
      dashboardHistory(source, PAGE_EPOCHS),
    ]);
    const page = <DashboardPage d={{ snapshot, market, history }} />;
    c.header("cache-control", "no-store");
    return c.html(`<!doctype html>${await page.toString()}`);
  });
  app.get("/v1/dashboard", async (c) => c.json(await dashboardSnapshot(source)));
  app.get("/v1/dashboard/market", async (c) => c.json(await dashboardMarket(deps, source)));
  app.get("/v1/dashboard/history", async (c) => {
    const query = HistoryQuery.safeParse(c.req.query());
    if (!query.success) throw new ApiError("invalid_request", `epochs: 1 to ${MAX_HISTORY_EPOCHS}`);
    return c.json(await dashboardHistory(source, query.data.epochs));
  });
  app.get("/assets/:name", async (c) => {
    const name = c.req.param("name");
    const ext = ASSET_NAME.exec(name)?.[1] as keyof typeof CONTENT_TYPES | undefined;
    if (!ext) throw new ApiError("not_found", "no such asset");
    const body = await readFile(join(source.assetsDir, name)).catch(() => null);
    if (!body) throw new ApiError("not_found", "no such asset (is the dashboard built? npm run build:web)");
    return c.body(body, 200, { "content-type": CONTENT_TYPES[ext], "cache-control": "no-cache" });
  });
}
