// The reference configuration the request counts are measured on (tests and `npm run bench`):
// 20 alerts over day / week / month / 24h / 7d windows, 3 filter sets, 2 groupBy, 5 relative.
import type { FakeObservation } from '../../../../tools/fake-langfuse/server.js';
import { randomSpend } from './support.js';

export const REFERENCE_TIMEZONE = 'Europe/Berlin';

// The alerts here measure what their own reads cost: `explain: []` leaves out the top contributors'
// dimensions, whose cost bench (g) and test/e2e/contributors.test.ts measure.
export const REFERENCE_ALERTS = `
timezone: ${REFERENCE_TIMEZONE}
schedule: "*/15 * * * *"
alerts:
  - { name: all-day, window: day, threshold: 50, explain: [], channels: [terminal] }
  - { name: all-week, window: week, threshold: 300, explain: [], channels: [terminal] }
  - { name: all-month, window: month, threshold: 1000, explain: [], channels: [terminal] }
  - { name: all-24h, window: 24h, threshold: 50, explain: [], channels: [terminal] }
  - { name: all-7d, window: 7d, threshold: 300, explain: [], channels: [terminal] }
  - { name: all-day-spike, window: day, relative: { factor: 2, baseline: 7 }, explain: [], channels: [terminal] }
  - { name: all-24h-models, window: 24h, groupBy: model, threshold: 20, explain: [], channels: [terminal] }
  - { name: all-day-envs, window: day, groupBy: environment, threshold: 40, explain: [], channels: [terminal] }
  - { name: prod-day, window: day, threshold: 40, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: prod-week, window: week, threshold: 250, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: prod-month, window: month, threshold: 800, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: prod-24h, window: 24h, threshold: 40, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: prod-7d, window: 7d, threshold: 250, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: prod-24h-spike, window: 24h, relative: { factor: 2, baseline: 7 }, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: prod-week-spike, window: week, relative: { factor: 1.5, baseline: 4 }, filters: { environment: production }, explain: [], channels: [terminal] }
  - { name: rag-day, window: day, threshold: 10, filters: { environment: production, traceName: [rag_query, summarize] }, explain: [], channels: [terminal] }
  - { name: rag-24h, window: 24h, threshold: 10, filters: { environment: production, traceName: [rag_query, summarize] }, explain: [], channels: [terminal] }
  - { name: rag-7d, window: 7d, threshold: 60, filters: { environment: production, traceName: [rag_query, summarize] }, explain: [], channels: [terminal] }
  - { name: rag-day-spike, window: day, relative: { factor: 2, baseline: 7 }, filters: { environment: production, traceName: [rag_query, summarize] }, explain: [], channels: [terminal] }
  - { name: rag-7d-spike, window: 7d, relative: { factor: 1.5, baseline: 4 }, filters: { environment: production, traceName: [rag_query, summarize] }, explain: [], channels: [terminal] }
`;

export const REFERENCE_FILTER_SETS = 3;
/** the reference configuration's queries per evaluation: one per alert window */
export const REFERENCE_NAIVE_PER_EVALUATION = 20 + 7 + 7 + 4 + 7 + 4;

/** Spend over the 45 days before `end`, `perHour` generations an hour on average. */
export function referenceSpend(end: string, perHour: number, seed = 7): FakeObservation[] {
  const to = Date.parse(end);
  const from = to - 45 * 24 * 3_600_000;
  return randomSpend(new Date(from).toISOString(), new Date(to).toISOString(), Math.round(45 * 24 * perHour), seed);
}

/** The quarter-hour ticks of one day from `start`. */
export function dayOfTicks(start: string): Date[] {
  return Array.from({ length: 96 }, (_, i) => new Date(Date.parse(start) + i * 15 * 60_000));
}

/** Eight alerts with 28-day baselines over three filter sets, on Langfuse Cloud's Hobby plan. */
export const COLD_START_ALERTS = `
schedule: "*/15 * * * *"
langfuse: { requestBudget: hobby }
alerts:
  - { name: all-day, window: day, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: all-24h, window: 24h, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: all-models, window: day, groupBy: model, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: all-envs, window: 24h, groupBy: environment, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: prod-day, window: day, filters: { environment: production }, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: prod-24h, window: 24h, filters: { environment: production }, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: chat-day, window: day, filters: { traceName: chat }, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
  - { name: chat-12h, window: 12h, filters: { traceName: chat }, relative: { factor: 2, baseline: 28 }, explain: [], channels: [terminal] }
`;

/** Spend over the 70 days before 2026-06-11. */
export const coldStartSpend = () => randomSpend('2026-04-01T00:00:00Z', '2026-06-11T00:00:00Z', 20_000, 5);
