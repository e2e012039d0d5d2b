// The digest's daily trend as a PNG for email (issue #16): bars, a few date labels and the highest
// day in USD, drawn as SVG and rasterised by resvg — no browser. Email clients show an inline PNG
// where they would drop an SVG or a script. The background is opaque white so that a client's dark
// mode doesn't put the dark labels on a dark page.
//
// The container has no system fonts, and resvg draws no text at all without one (it only logs a
// warning), so the labels come from the font shipped in assets/fonts/ (Inter, OFL-1.1), loaded
// explicitly with the system's fonts left out: the chart looks the same on every machine.
import { Resvg } from '@resvg/resvg-js';
import { escapeHtml } from './email.js';
import { formatUsd } from './money.js';

/**
 * The font file, found from this module's own place: src/render/ when run from the sources, and
 * dist/cli/ or dist/chunks/ once bundled — two levels under the package root either way, next to
 * assets/ (in the package's `files` and the image). A URL's path rather than node:url's
 * fileURLToPath: the renderers import no Node module (.dependency-cruiser.cjs).
 */
const FONT_FILE = decodeURIComponent(new URL('../../assets/fonts/Inter-Regular.ttf', import.meta.url).pathname);
const FONT_FAMILY = 'Inter';

const TEXT_COLOUR = '#1f2328';
const BAR_COLOUR = '#0969da';
const AXIS_COLOUR = '#d0d7de';
const FONT_SIZE = 12;
/** room above the bars for the max label, and below them for the dates */
const LABEL_BAND = 26;
const SIDE_PADDING = 12;
/** at most this many date labels, so that they never overlap (a label is ~40 px wide) */
const MAX_DATE_LABELS = 7;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface TrendPngOptions {
  /** pixels; default 600, the usual width of an email's body */
  readonly width?: number;
  /** pixels; default 200 */
  readonly height?: number;
  /** false draws the bars alone (default true) */
  readonly labels?: boolean;
  /** a TTF or OTF file for the labels; default the Inter shipped with the package */
  readonly fontFile?: string;
}

/**
 * The daily trend as a PNG: one bar per row in order, scaled to the highest day, a day with any
 * spend at least 1 px tall and a $0 day without a bar; the highest day's amount above the bars
 * and up to seven dates below them (the first and the last always). Negative or non-finite costs
 * are drawn as $0. Synchronous, ~10 ms for 30 days.
 *
 * Loading resvg's native binary takes 20–40 ms: a caller on the path of every `check` should load
 * this module with `import()` when it has a chart to draw, as the email channel does nodemailer.
 */
export function renderTrendPng(daily: ReadonlyArray<{ readonly date: string; readonly cost: number }>, options: TrendPngOptions = {}): Buffer {
  const width = options.width ?? 600;
  const height = options.height ?? 200;
  const resvg = new Resvg(trendSvg(daily, width, height, options.labels ?? true), {
    font: {
      loadSystemFonts: false,
      fontFiles: [options.fontFile ?? FONT_FILE],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    // resvg would write its own lines to stderr, beside our JSON log; a missing font shows in the
    // tests instead (no label pixels)
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

function trendSvg(daily: ReadonlyArray<{ readonly date: string; readonly cost: number }>, width: number, height: number, labels: boolean): string {
  const costs = daily.map((day) => (Number.isFinite(day.cost) && day.cost > 0 ? day.cost : 0));
  const max = Math.max(0, ...costs);
  const plot = { left: SIDE_PADDING, right: width - SIDE_PADDING, top: LABEL_BAND, bottom: height - LABEL_BAND };
  const slot = (plot.right - plot.left) / Math.max(1, daily.length);
  // a fifth of each slot stays empty (at least 1 px) so that neighbouring bars stay apart
  const barWidth = Math.max(1, slot - Math.max(1, slot / 5));
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="#ffffff"/>`];

  costs.forEach((cost, index) => {
    if (cost === 0) return;
    const barHeight = Math.max(1, (cost / max) * (plot.bottom - plot.top));
    const x = plot.left + index * slot + (slot - barWidth) / 2;
    parts.push(`<rect x="${x.toFixed(2)}" y="${(plot.bottom - barHeight).toFixed(2)}" width="${barWidth.toFixed(2)}" height="${barHeight.toFixed(2)}" fill="${BAR_COLOUR}" shape-rendering="crispEdges"/>`);
  });
  parts.push(`<line x1="${plot.left}" y1="${plot.bottom + 0.5}" x2="${plot.right}" y2="${plot.bottom + 0.5}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`);

  if (labels) {
    const text = (x: number, y: number, anchor: 'start' | 'middle' | 'end', value: string) =>
      `<text x="${x.toFixed(2)}" y="${y}" text-anchor="${anchor}" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}" fill="${TEXT_COLOUR}">${escapeHtml(value)}</text>`;
    parts.push(text(plot.left, LABEL_BAND - 9, 'start', `max ${formatUsd(max)} a day`));
    for (const index of labelledDays(daily.length)) {
      const centre = plot.left + (index + 0.5) * slot;
      // the outermost labels are anchored at the chart's edges so that they are never cut off
      const anchor = daily.length > 1 && index === 0 ? 'start' : daily.length > 1 && index === daily.length - 1 ? 'end' : 'middle';
      const x = anchor === 'start' ? plot.left : anchor === 'end' ? plot.right : centre;
      parts.push(text(x, height - 9, anchor, shortDate(daily[index]!.date)));
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** the indexes of the days that get a date label: evenly spread, the first and the last included */
function labelledDays(count: number): number[] {
  if (count <= MAX_DATE_LABELS) return Array.from({ length: count }, (_, index) => index);
  const step = (count - 1) / (MAX_DATE_LABELS - 1);
  return Array.from({ length: MAX_DATE_LABELS }, (_, index) => Math.round(index * step));
}

/** `2026-11-03` → `Nov 3`; anything else as it is */
function shortDate(date: string): string {
  const match = /^\d{4}-(\d{2})-(\d{2})$/.exec(date);
  const month = match ? MONTHS[Number(match[1]) - 1] : undefined;
  return match && month ? `${month} ${Number(match[2])}` : date;
}
