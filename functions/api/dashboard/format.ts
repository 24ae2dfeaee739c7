/** How the dashboard writes numbers: shared by the server's tables, the browser's charts and the browser test. */

/** rao (decimal string) -> TAO with 4 decimals, exact (no float on the u64). */
export function tao(rao: string): string {
  const digits = rao.replace(/^0+(?=\d)/, "").padStart(10, "0");
  const whole = digits.slice(0, -9);
  const frac = digits.slice(-9, -5);
  return `${Number(whole).toLocaleString("en-US")}.${frac}`;
}

/** A proportion in [0,1] with 4 decimals. */
export const ratio = (x: number): string => x.toFixed(4);

export const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Shapley values are small signed numbers: 5 significant digits. */
export const score = (x: number | null): string => (x === null ? "–" : x.toPrecision(5));

export const ms = (x: number | null): string => (x === null ? "–" : `${Math.round(x)} ms`);

/** An ss58 address shortened for a table cell (the full one is in the title). */
export const short = (hotkey: string): string =>
  hotkey.length > 14 ? `${hotkey.slice(0, 6)}…${hotkey.slice(-6)}` : hotkey;
