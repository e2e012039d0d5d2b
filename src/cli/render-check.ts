// `node dist/cli/render-check.js > chart.png`: the digest's trend chart for 30 sample days, as PNG
// on stdout. Not a command of spend-alerts: a check that this install (its resvg binary for the
// platform, the font shipped in assets/fonts/) draws the chart with its labels — the container test
// runs it inside the image, where there are no system fonts, and reads the pixels.
import { renderTrendPng } from '../render/chart-png.js';

const DAY = 86_400_000;
const start = Date.UTC(2026, 10, 1);
/** a week-shaped trend with one $0 day, so the chart has bars of every height and a gap */
const daily = Array.from({ length: 30 }, (_, index) => ({
  date: new Date(start + index * DAY).toISOString().slice(0, 10),
  cost: index === 12 ? 0 : 40 + 25 * Math.sin((index / 7) * 2 * Math.PI) + index,
}));

process.stdout.write(renderTrendPng(daily));
