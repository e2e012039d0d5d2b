// The digest's trend chart as a PNG (issue #16): resvg's real output decoded by our own small reader
// (signature, CRCs, IHDR, pixels), its bars counted and its labels found as near-black pixels in
// the bands above and below the bars — with the shipped font, and none without it.
import { describe, expect, test } from 'vitest';
import { renderTrendPng } from '../../src/render/chart-png.js';
import { barCount, darkPixels, decodePng, PNG_SIGNATURE, type DecodedPng } from '../support/png.js';

/** 30 days of November, four of them (every seventh from the 4th) at $0 */
const NOVEMBER = Array.from({ length: 30 }, (_, index) => ({
  date: `2026-11-${String(index + 1).padStart(2, '0')}`,
  cost: index % 7 === 3 ? 0 : 10 + index * 1.5,
}));
const SPENDING_DAYS = NOVEMBER.filter((day) => day.cost > 0).length;

/** the max label sits in the top eighth of the chart, the dates in the bottom eighth */
const topLabels = (image: DecodedPng) => darkPixels(image, 0, Math.floor(image.height / 8));
const dateLabels = (image: DecodedPng) => darkPixels(image, image.height - Math.floor(image.height / 8), image.height);

describe('renderTrendPng', () => {
  test('30 days: a PNG of the default size, one bar per day with spend, the max label and dates', () => {
    const png = renderTrendPng(NOVEMBER);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([600, 200]);
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([600, 200]);
    expect(SPENDING_DAYS).toBe(26);
    expect(barCount(image)).toBe(SPENDING_DAYS);
    expect(topLabels(image)).toBeGreaterThan(50);
    expect(dateLabels(image)).toBeGreaterThan(100);
  });

  test('without labels the bands are empty and the bars are the same pixels', () => {
    const labelled = decodePng(renderTrendPng(NOVEMBER));
    const bare = decodePng(renderTrendPng(NOVEMBER, { labels: false }));
    expect(darkPixels(bare)).toBe(0);
    const band = Math.floor(labelled.height / 8);
    const rows = (image: DecodedPng, from: number, to: number) => image.rgba.subarray(from * image.width * 4, to * image.width * 4);
    expect(rows(bare, band, labelled.height - band).equals(rows(labelled, band, labelled.height - band))).toBe(true);
    expect(rows(bare, 0, band).equals(rows(labelled, 0, band))).toBe(false);
  });

  test('the labels come from the shipped font: with a font file that is missing there are none', () => {
    const image = decodePng(renderTrendPng(NOVEMBER, { fontFile: '/nonexistent/font.ttf' }));
    expect(darkPixels(image)).toBe(0);
    expect(barCount(image)).toBe(SPENDING_DAYS);
  });

  test('1 day: one bar and its date', () => {
    const image = decodePng(renderTrendPng([{ date: '2026-12-02', cost: 3.5 }]));
    expect(barCount(image)).toBe(1);
    expect(topLabels(image)).toBeGreaterThan(50);
    expect(dateLabels(image)).toBeGreaterThan(20);
  });

  test('only $0 days (and negative or non-finite costs): no bar, still labelled', () => {
    const days = [
      { date: '2026-12-01', cost: 0 },
      { date: '2026-12-02', cost: -4 },
      { date: '2026-12-03', cost: Number.NaN },
      { date: '2026-12-04', cost: 0 },
    ];
    const image = decodePng(renderTrendPng(days));
    expect(barCount(image)).toBe(0);
    expect(topLabels(image)).toBeGreaterThan(50);
    expect(dateLabels(image)).toBeGreaterThan(50);
  });

  test('a very large day next to a cent: both have a bar, the large one the full height', () => {
    const days = [
      { date: '2026-12-01', cost: 1e12 },
      { date: '2026-12-02', cost: 0.01 },
    ];
    const image = decodePng(renderTrendPng(days));
    expect(barCount(image)).toBe(2);
    // the bar of the highest day starts right under the top band, the cent's is a sliver
    const blueRows = (fromColumn: number, toColumn: number) => {
      const rows = new Set<number>();
      for (let y = 0; y < image.height; y++) {
        for (let x = fromColumn; x < toColumn; x++) {
          const i = (y * image.width + x) * 4;
          if (image.rgba[i + 2]! > 180 && image.rgba[i]! < 60) rows.add(y);
        }
      }
      return rows.size;
    };
    expect(blueRows(0, image.width / 2)).toBeGreaterThan(image.height / 2);
    expect(blueRows(image.width / 2, image.width)).toBeGreaterThanOrEqual(1);
    expect(blueRows(image.width / 2, image.width)).toBeLessThanOrEqual(2);
    // "max $1,000,000,000,000.00 a day" is long: more ink than a short amount
    expect(topLabels(image)).toBeGreaterThan(topLabels(decodePng(renderTrendPng([{ date: '2026-12-01', cost: 1 }]))));
  });

  test('another size', () => {
    const image = decodePng(renderTrendPng(NOVEMBER, { width: 800, height: 240 }));
    expect([image.width, image.height]).toEqual([800, 240]);
    expect(barCount(image)).toBe(SPENDING_DAYS);
  });

  test('a date that is not a date is drawn as text, XML-escaped', () => {
    // unescaped, `<` and `&` make the SVG malformed and resvg throws
    const image = decodePng(renderTrendPng([{ date: '<b>&"\'', cost: 1 }]));
    expect(barCount(image)).toBe(1);
    expect(dateLabels(image)).toBeGreaterThan(20);
  });
});
