import { z } from "zod";
import { Micro, ShareCredit } from "../../core/billing/schema.ts";
import { MAX_SPLIT_SHARES } from "../../core/billing/shares.ts";

/** A settled hold as its account item keeps it until its rollup (ledger-holds.ts). */
export const Settlement = z.object({
  status: z.enum(["captured", "released"]),
  captureAmount: Micro.optional(),
  settledAt: z.number().int(),
  task: z.string().optional(),
  shares: z.array(ShareCredit).optional(),
});
export type Settlement = z.infer<typeof Settlement>;

const Payee = ShareCredit.shape.payee;
const Uid = ShareCredit.shape.uid.unwrap();
/** [status, captureAmount, settledAt, task, shares as [payee, amount] or [payee, amount, uid]]. */
const Packed = z.tuple([
  Settlement.shape.status,
  Micro.nullable(),
  z.number().int(),
  z.string().nullable(),
  z.array(z.union([z.tuple([Payee, Micro]), z.tuple([Payee, Micro, Uid])])).max(MAX_SPLIT_SHARES),
]);
/** Far above any real settlement (~175 bytes at k = 2): a longer value is not parsed at all. */
const MAX_PACKED = 64 * 1024;

/**
 * A settlement as the account item stores it: one string, a JSON array with no attribute names.
 *
 * Why not a map: DynamoDB bills every write by the whole item's size, and the account item is written twice per
 * paid query (hold, settle) while it carries the settlements not yet rolled up (ROLLUP_AT, and as many again while a
 * rollup runs). As a map, each repeats its attribute names, its shares' three times each: ~250 bytes at k = 2,
 * against ~175 as this string (bench/query-calls.ts, issue 17). Nothing reads inside a settlement in a condition or
 * update expression (only whether it exists), so the account's updates are unchanged.
 */
export function packSettlement(s: Settlement): string {
  const shares = (s.shares ?? []).map((share) =>
    share.uid === undefined ? [share.payee, share.amount] : [share.payee, share.amount, share.uid],
  );
  return JSON.stringify([s.status, s.captureAmount ?? null, s.settledAt, s.task ?? null, shares]);
}

/** A stored settlement: packed (packSettlement), or the map that items written before it carry. null: none or unreadable. */
export function readSettlement(value: unknown): Settlement | null {
  if (typeof value !== "string") return Settlement.safeParse(value).data ?? null;
  if (value.length > MAX_PACKED) return null;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return null;
  }
  const packed = Packed.safeParse(json);
  if (!packed.success) return null;
  const [status, captureAmount, settledAt, task, shares] = packed.data;
  return {
    status,
    settledAt,
    ...(captureAmount !== null ? { captureAmount } : {}),
    ...(task !== null ? { task } : {}),
    ...(shares.length > 0
      ? {
          shares: shares.map(([payee, amount, uid]) =>
            uid === undefined ? { payee, amount } : { payee, amount, uid },
          ),
        }
      : {}),
  };
}
