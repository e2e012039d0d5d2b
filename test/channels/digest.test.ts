// A digest through the channels: never batched with alerts, and the email's seam for the trend
// picture (an image/png part with Content-ID `trend` that the HTML shows as cid:trend).
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/channels/channel.js';
import { deliver } from '../../src/channels/deliver.js';
import { createEmailChannel } from '../../src/channels/email.js';
import { digestNotification, type DigestNotification } from '../../src/core/digest.js';
import type { Notification } from '../../src/core/notification.js';
import type { Report } from '../../src/core/report.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { context, firing, resolved } from './fixtures.js';

const report: Report = {
  window: { from: '2026-11-23T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z', timezone: 'UTC' },
  currency: 'USD',
  total: 70,
  previousTotal: 50,
  daily: [
    { date: '2026-11-23', cost: 10 },
    { date: '2026-11-24', cost: 60 },
  ],
  byModel: [{ model: '<b>gpt-4o</b>', cost: 70, inputTokens: 1000, outputTokens: 200 }],
  byTraceName: [],
  byEnvironment: [],
  topTraces: [],
  topUsers: [],
  budgets: [],
};
const digest: DigestNotification = digestNotification({
  name: 'weekly',
  window: 'week',
  scheduledFor: new Date('2026-11-30T09:00:00.000Z'),
  report,
  at: new Date('2026-11-30T09:00:02.000Z'),
  langfuseUrl: 'https://cloud.langfuse.com/project/p1',
  late: false,
});

/** A 1×1 PNG: the picture stands in for the chart renderer's, whose output only has to travel intact. */
const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let server: TestSmtpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('digests through the channels', () => {
  it('a batching channel sends the alerts together and each digest alone, the outcomes in the order given', async () => {
    const sends: string[][] = [];
    const channel: Channel = {
      name: 'fake',
      type: 'console',
      batches: true,
      async send(notifications: readonly Notification[]) {
        sends.push(notifications.map((n) => n.id));
      },
    };
    const outcomes = await deliver(channel, [firing, digest, resolved]);
    expect(sends).toEqual([[firing.id, resolved.id], [digest.id]]);
    expect(outcomes.map((o) => o.notificationId)).toEqual([firing.id, digest.id, resolved.id]);
  });

  it('email: with the trend picture, an inline image/png part with Content-ID trend that the HTML shows; without it, the SVG chart', async () => {
    server = await startSmtpServer();
    const config = { type: 'email' as const, smtpUrl: server.url(), from: 'alerts@example.com', to: ['finance@example.com'] };
    const pictured = createEmailChannel('mail', config, context(), { trendPng: () => ONE_PIXEL_PNG });
    await pictured.send([digest], AbortSignal.timeout(10_000));
    const plain = createEmailChannel('mail', config, context());
    await plain.send([digest], AbortSignal.timeout(10_000));
    await pictured.close?.();
    await plain.close?.();

    const [withPicture, without] = server.messages;
    expect(withPicture!.parsed.subject).toBe('[DIGEST] weekly: $70.00 (+40.0%), week, 2026-11-23 00:00 – 2026-11-30 00:00 UTC');
    expect(withPicture!.parsed.html).toContain('<img id="trend" src="cid:trend"');
    expect(withPicture!.parsed.html).toContain('&lt;b&gt;gpt-4o&lt;/b&gt;');
    expect(withPicture!.parsed.text).toContain('<b>gpt-4o</b>');
    const raw = withPicture!.raw;
    expect(raw).toMatch(/Content-Type: image\/png/i);
    expect(raw).toMatch(/Content-ID: <trend>/i);
    // the part's base64 decodes to the very PNG given
    const part = raw.split(/Content-ID: <trend>\r?\n/i)[1]!.split(/\r?\n\r?\n/)[1]!.split(/\r?\n--/)[0]!;
    const png = Buffer.from(part.replace(/\s+/g, ''), 'base64');
    expect(png.equals(ONE_PIXEL_PNG)).toBe(true);

    expect(without!.parsed.html).toContain('id="daily-chart"');
    expect(without!.parsed.html).not.toContain('cid:trend');
    expect(without!.raw).not.toMatch(/image\/png/i);
  });
});
