// Top contributors for rendering tests: every dimension, 3 values each, as long as a test wants.
import { GROUP_BY_FIELDS } from '../../src/core/alert.js';
import type { Contributor } from '../../src/core/notification.js';

/** 5 dimensions × 3 values: `value(dimension, rank)`, linked to `url(value)`; $10 each, 16 % of the series, +$5 on $5. */
export function everyDimension(value: (dimension: Contributor['dimension'], rank: number) => string, url: (value: string) => string): Contributor[] {
  return GROUP_BY_FIELDS.flatMap((dimension) =>
    [1, 2, 3].map((rank) => {
      const text = value(dimension, rank);
      return { dimension, value: text, spend: 10, share: 0.16, baseline: 5, change: 5, url: url(text) };
    }),
  );
}
