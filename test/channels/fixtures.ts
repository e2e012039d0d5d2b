// Notifications as the pipeline hands them to channels.
import type { Notification } from '../../src/core/notification.js';
import type { ChannelDeps } from '../../src/channels/definition.js';
import { nodeTransport } from '../../src/net/transport.js';
import { Writable } from 'node:stream';

export function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: 'daily-budget||2026-11-24|critical|firing',
    status: 'firing',
    severity: 'critical',
    alert: 'daily-budget',
    kind: 'threshold',
    group: {},
    // 00:00–14:00 in New York (EST, UTC−5)
    window: { type: 'day', from: '2026-11-24T05:00:00.000Z', to: '2026-11-24T19:00:00.000Z', timezone: 'America/New_York' },
    value: 61.25,
    threshold: 50,
    baseline: null,
    factor: null,
    evaluatedAt: '2026-11-24T19:00:00.000Z',
    langfuseUrl: 'https://cloud.langfuse.com/project/proj-1',
    ...overrides,
  };
}

export const firing = notification();

export const resolved = notification({
  id: 'model-budget|model=gpt-4o|2026-11-24T09:15:00Z|warning|resolved',
  status: 'resolved',
  severity: 'warning',
  alert: 'model-budget',
  group: { model: 'gpt-4o' },
  window: { type: '24h', from: '2026-11-23T15:04:05.000Z', to: '2026-11-24T15:04:05.000Z', timezone: 'UTC' },
  value: 17,
  threshold: 20,
});

export const relative = notification({
  id: 'daily-spike||2026-11-24|warning|firing',
  severity: 'warning',
  alert: 'daily-spike',
  kind: 'relative',
  value: 44.1,
  threshold: 40,
  baseline: 20,
  factor: 2,
});

export const systemNotice = notification({
  id: 'spend-alerts|degraded|2026-11-24T19:00:00Z|warning|firing',
  severity: 'warning',
  alert: 'spend-alerts',
  kind: 'system',
  value: 0,
  threshold: 0,
  message: 'Langfuse unreachable for 3 evaluations',
});

// Links in the Langfuse UI's format (filter `column;type;;any of;value`, encoded twice; the window as
// epoch milliseconds): a model goes to the observations list, anything else to the traces list.
const DATE_RANGE = 'dateRange=1795496400000-1795546800000';
const LIST = 'https://cloud.langfuse.com/project/proj-1';
export const GPT_4O_URL = `${LIST}/observations?filter=model%3BstringOptions%3B%3Bany%20of%3Bgpt-4o%2CprovidedModelName%3BstringOptions%3B%3Bany%20of%3Bgpt-4o&${DATE_RANGE}`;
export const CLAUDE_URL = `${LIST}/observations?filter=model%3BstringOptions%3B%3Bany%20of%3Bclaude-3%2CprovidedModelName%3BstringOptions%3B%3Bany%20of%3Bclaude-3&${DATE_RANGE}`;
export const RESEARCH_URL = `${LIST}/traces?filter=traceName%3BstringOptions%3B%3Bany%20of%3Bresearch_agent&${DATE_RANGE}`;

/** A firing threshold notification explained by model and trace name; its users could not be worked out. */
export const explained = notification({
  id: 'daily-budget||2026-11-24|critical|firing',
  contributors: [
    { dimension: 'model', value: 'gpt-4o', spend: 40, share: 0.653, baseline: 10, change: 30, url: GPT_4O_URL },
    { dimension: 'model', value: 'claude-3', spend: 12, share: 0.196, baseline: 0, change: 12, url: CLAUDE_URL },
    { dimension: 'model', value: null, spend: 2.5, share: 0.041, baseline: 4, change: -1.5, url: null },
    { dimension: 'traceName', value: 'research_agent', spend: 61.25, share: 1, baseline: null, change: null, url: RESEARCH_URL },
  ],
  contributorsMissing: [{ dimension: 'userId', reason: 'the request budget admits no more Langfuse requests until 13:40' }],
});

/** Contributor values that try to mention, link, format, break out of HTML and add a mail header. */
export const HOSTILE_VALUES = {
  model: '<img src=x onerror=alert(1)>',
  traceName: '@channel <!here>',
  userId: '*bold* </script>',
  release: 'gpt\r\nBcc: x@evil.example',
} as const;

export const hostileContributors = notification({
  id: 'daily-budget||2026-11-24|critical|firing',
  contributors: Object.entries(HOSTILE_VALUES).map(([dimension, value], index) => ({
    dimension: dimension as keyof typeof HOSTILE_VALUES,
    value,
    spend: 10 - index,
    share: (10 - index) / 61.25,
    baseline: null,
    change: null,
    url: `${LIST}/observations?filter=${index}&${DATE_RANGE}`,
  })),
});

/** A stdout that keeps what was written. */
export function memoryStdout(): { stream: Writable; output: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, output: () => chunks.join('') };
}

export function context(overrides: Partial<ChannelDeps> = {}): ChannelDeps {
  return { stdout: memoryStdout().stream, timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date(), ...overrides };
}

/** A `sleep` for deliver() that records the waits and returns at once. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
}
