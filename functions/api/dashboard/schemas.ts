import { z } from "@hono/zod-openapi";

/** The dashboard's JSON (GET /v1/dashboard*), as the page polls it; amounts in rao are decimal strings. */
const Rao = z.string().regex(/^\d+$/);

export const DashboardValidator = z
  .object({
    uid: z.number().int(),
    hotkey: z.string(),
    stake: Rao,
    validatorPermit: z.boolean(),
    validatorTrust: z.number(),
    dividends: z.number(),
    lastWeightsBlock: z.number().int(),
  })
  .openapi("DashboardValidator");

export const DashboardSnapshotSchema = z
  .object({
    netuid: z.number().int(),
    block: z.number().int(),
    neurons: z.array(
      z.object({
        uid: z.number().int(),
        name: z.string(),
        task: z.string(),
        hotkey: z.string(),
        coldkey: z.string(),
        stake: Rao,
        validatorPermit: z.boolean(),
        incentive: z.number(),
        dividends: z.number(),
        emission: Rao,
        trust: z.number(),
        consensus: z.number(),
        validatorTrust: z.number(),
        lastUpdate: z.number().int(),
        active: z.boolean(),
      }),
    ),
    validators: z.array(DashboardValidator),
    weights: z.object({
      rows: z.array(z.number().int()),
      columns: z.array(z.number().int()),
      weights: z.array(z.array(z.number())),
      clipped: z.array(z.array(z.boolean())),
      consensus: z.array(z.number()),
      trust: z.array(z.number()),
    }),
    submissions: z.array(
      z.object({
        epoch: z.number().int(),
        path: z.string(),
        status: z.string(),
        claimedAt: z.number().int(),
        block: z.number().int().optional(),
        error: z.string().optional(),
        note: z.string().optional(),
      }),
    ),
  })
  .openapi("DashboardSnapshot");

export const DashboardHistorySchema = z
  .object({
    epochs: z.array(z.number().int()),
    experts: z.array(
      z.object({
        uid: z.number().int(),
        hotkey: z.string(),
        name: z.string(),
        task: z.string(),
        shapley: z.array(z.number().nullable()),
        weight: z.array(z.number().nullable()),
      }),
    ),
  })
  .openapi("DashboardHistory");

export const DashboardMarketSchema = z
  .object({
    windowMinutes: z.number().int(),
    queriesPerMinute: z.array(z.object({ minute: z.string(), queries: z.number().int() })),
    latencyMs: z.object({
      samples: z.number().int(),
      p50: z.number().nullable(),
      p90: z.number().nullable(),
      p99: z.number().nullable(),
    }),
    experts: z.array(
      z.object({
        uid: z.number().int(),
        hotkey: z.string(),
        name: z.string(),
        task: z.string(),
        answers: z.number().int(),
        feeShares: z.number().int(),
        feeBalance: z.number().int(),
        routingShare: z.number(),
        accuracy: z.number().nullable(),
        latencyP50: z.number().nullable(),
      }),
    ),
  })
  .openapi("DashboardMarket");
