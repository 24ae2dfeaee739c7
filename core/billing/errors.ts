/**
 * A ledger refused a movement for want of room to record it (e.g. too many unfinished movements on one account),
 * not for want of credits: nothing was charged and the same call may succeed later. Thrown by `Ledger.hold`; a
 * port-level class so callers can tell it from a failure without importing an adapter.
 */
export class LedgerBusyError extends Error {
  override readonly name: string = "LedgerBusyError";
}
