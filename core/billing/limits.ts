/**
 * The most micro-credits an account's available balance may reach through top-ups: 10^15 (one billion credits).
 * Amounts are JS numbers, exact only up to 2^53 (~9.007 x 10^15); an account past that reads back wrong and breaks.
 * A top-up that would take the balance past this cap is refused whole. Holds only move money out of the balance
 * and back, so balance + held stays below the cap plus the open holds: far inside 2^53.
 */
export const MAX_ACCOUNT_BALANCE = 1_000_000_000_000_000;

/** Whether crediting `amount` to `balance` stays within MAX_ACCOUNT_BALANCE. */
export function withinBalanceCap(balance: number, amount: number): boolean {
  return amount <= MAX_ACCOUNT_BALANCE && balance <= MAX_ACCOUNT_BALANCE - amount;
}
