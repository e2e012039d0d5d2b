/**
 * A sum of float costs carries noise (159.1973632999999): 10 significant digits are far beyond a
 * cent and any sub-cent cost, and drop it. For the numbers leaving the core, where notifications
 * and the state are made (src/core/decide/notifications.ts); the evaluation itself compares the exact sums.
 */
export function cleanUsd(value: number): number {
  return Number(value.toPrecision(10));
}
