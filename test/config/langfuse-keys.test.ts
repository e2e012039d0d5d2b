// langfuse.lagMargin and langfuse.requestBudget: what is accepted, what is refused and how.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { loadConfig } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/errors.js';
import { configError, LANGFUSE_ENV } from './helpers.js';

const file = (langfuse: string) => `
langfuse:
${langfuse}
channels: { ops: { type: console } }
alerts:
  - { name: a, window: day, threshold: 1, channels: [ops] }
`;

const load = (langfuse: string, env: Record<string, string> = {}) =>
  loadConfig({ path: 'alerts.yaml', text: file(langfuse), env: { ...LANGFUSE_ENV, ...env }, needs: 'all' });

describe('langfuse.baseUrl', () => {
  it('holding credentials is a located error that does not print them, written or interpolated', async () => {
    const written = await configError(load('  baseUrl: https://admin:hunter2-pass@langfuse.example.com'));
    expect(written.issues.map(formatIssue)).toEqual([
      'alerts.yaml:3:12 langfuse.baseUrl: must not hold credentials (user:password@): give the keys as langfuse.publicKey and langfuse.secretKey',
    ]);
    const interpolated = await configError(load('  baseUrl: ${LANGFUSE_BASE_URL}', { LANGFUSE_BASE_URL: 'https://admin:hunter2-pass@langfuse.example.com' }));
    expect(interpolated.issues.map(formatIssue)).toEqual([expect.stringMatching(/^alerts\.yaml:3:12 langfuse\.baseUrl: must not hold credentials/)]);
    // from the default `${LANGFUSE_BASE_URL:-…}` of an omitted key: the langfuse block is named
    const omitted = await configError(load('  lagMargin: 15m', { LANGFUSE_BASE_URL: 'https://admin@langfuse.example.com' }));
    expect(omitted.issues.map(formatIssue)).toEqual([expect.stringMatching(/^alerts\.yaml:\d+:\d+ langfuse\.baseUrl: must not hold credentials/)]);
    for (const error of [written, interpolated, omitted]) {
      expect(error.message).not.toMatch(/hunter2|admin/);
    }
    expect((await load('  baseUrl: https://langfuse.example.com/')).config.langfuse.baseUrl).toBe('https://langfuse.example.com/');
  });
});

describe('langfuse.lagMargin', () => {
  it('is a duration in seconds, minutes or hours, 15m unless set', async () => {
    expect((await load('  baseUrl: https://cloud.langfuse.com')).config.langfuse.lagMargin).toBe('15m');
    expect((await load('  lagMargin: 90s')).config.langfuse.lagMargin).toBe('90s');
    expect((await load('  lagMargin: ${LAG:-1h}')).config.langfuse.lagMargin).toBe('1h');
    expect([parseDuration('90s'), parseDuration('15m'), parseDuration('1h'), parseDuration('0m')]).toEqual([90_000, 900_000, 3_600_000, 0]);
    expect(() => parseDuration('15 minutes')).toThrow(/invalid duration/);
  });

  it('refuses anything else, and warns when it is longer than a day', async () => {
    const error = await configError(load('  lagMargin: 15min'));
    expect(error.issues.map(formatIssue)).toEqual([expect.stringMatching(/langfuse\.lagMargin: must be a duration such as 90s, 15m or 1h/)]);
    const { warnings } = await load('  lagMargin: 36h');
    expect(warnings.map(formatIssue)).toEqual([expect.stringMatching(/langfuse\.lagMargin: 36h is more than a day/)]);
  });
});

describe('langfuse.requestBudget', () => {
  it('is a plan name or perHour / perDay, optional', async () => {
    expect((await load('  baseUrl: https://cloud.langfuse.com')).config.langfuse.requestBudget).toBeUndefined();
    expect((await load('  requestBudget: core')).config.langfuse.requestBudget).toBe('core');
    expect((await load('  requestBudget: ${LANGFUSE_PLAN}', { LANGFUSE_PLAN: 'self-hosted' })).config.langfuse.requestBudget).toBe('self-hosted');
    expect((await load('  requestBudget: { perHour: 200, perDay: "${PER_DAY}" }', { PER_DAY: '2000' })).config.langfuse.requestBudget).toEqual({
      perHour: 200,
      perDay: 2000,
    });
  });

  it('refuses unknown plans, empty limits, fractions and unknown keys', async () => {
    const messages = async (langfuse: string) => (await configError(load(langfuse))).issues.map(formatIssue);
    expect(await messages('  requestBudget: enterprise')).toEqual([expect.stringMatching(/langfuse\.requestBudget: must be hobby, core, pro, self-hosted, or \{ perHour, perDay \}/)]);
    expect(await messages('  requestBudget: {}')).toEqual([expect.stringMatching(/langfuse\.requestBudget: needs perHour, perDay or both/)]);
    expect((await messages('  requestBudget: { perHour: 2.5 }')).join('\n')).toMatch(/langfuse\.requestBudget/);
    expect((await messages('  requestBudget: { perMinute: 5 }')).join('\n')).toMatch(/perMinute/);
  });
});
