export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export function floorTo(ms: number, unit: number): number {
  return Math.floor(ms / unit) * unit;
}
