import { expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { plannerSettings } from '../../src/config/planner-settings.js';
import { alertQueries } from '../../src/core/alert-queries.js';
import { LANGFUSE_ENV } from './helpers.js';

test('the planner is told the lag margin, every schedule, the zone and every alert’s queries, nothing else of the configuration', async () => {
  const text = `
timezone: Asia/Kolkata
schedule: "*/15 * * * *"
langfuse: { lagMargin: 20m }
channels: { terminal: { type: console } }
alerts:
  - { name: a, window: day, threshold: 10, channels: [terminal] }
  - { name: b, window: 24h, groupBy: userId, top: 3, threshold: 5, schedule: "7 * * * *", channels: [terminal] }
`;
  const { config } = await loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' });
  const settings = plannerSettings(config);
  expect(Object.keys(settings).sort()).toEqual(['lagMarginMs', 'retention', 'schedules', 'timezone']);
  expect(settings.lagMarginMs).toBe(20 * 60_000);
  expect(settings.schedules).toEqual(['*/15 * * * *', '7 * * * *']);
  expect(settings.timezone).toBe('Asia/Kolkata');
  const now = new Date('2026-06-10T12:15:00Z');
  expect(settings.retention(now)).toEqual(alertQueries(config.alerts, now, 'Asia/Kolkata'));
  // a's own total, then the explain dimensions riding along over the window and the previous one; b's top users
  expect(settings.retention(now).map((q) => q.shape)).toEqual([
    { kind: 'total' },
    { kind: 'groups', by: 'model' },
    { kind: 'groups', by: 'traceName' },
    { kind: 'groups', by: 'model' },
    { kind: 'groups', by: 'traceName' },
    { kind: 'topN', by: 'userId', n: 3 },
  ]);
});
