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
