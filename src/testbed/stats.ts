/**
 * The small statistics the testbed's figures use: the median of repeated runs (robust on a shared
 * machine) and Jain's fairness index of per-flow throughputs.
 */

/** Median of a list of numbers (NaN for an empty list). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Jain's fairness index of a list of throughputs: (Σx)² / (n·Σx²); 1 = perfectly fair. */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sum = values.reduce((a, b) => a + b, 0);
  const sq = values.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? NaN : (sum * sum) / (values.length * sq);
}
