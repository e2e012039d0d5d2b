// `spend-alerts test-notify`: proves each channel's wiring with a clearly marked test message.
import { deliver } from '../../channels/deliver.js';
import { LANGFUSE_CLOUD_URL } from '../../config/schema.js';
import type { Notification } from '../../notify/notification.js';
import { UsageError, type CliOptions } from '../args.js';
import { buildChannels, closeChannels, prepare, type Io } from '../runtime.js';
import { terminalSafe } from '../../util/terminal.js';

export async function testNotifyCommand(options: CliOptions, io: Io, now: Date): Promise<number> {
  const { config, log, redact } = await prepare(options, io, {
    channels: options.channels.length > 0 ? options.channels : 'all',
  });
  const unknown = options.channels.filter((name) => !(name in config.channels));
  if (unknown.length > 0) {
    throw new UsageError(`no channel named ${unknown.map((n) => `"${n}"`).join(', ')} in the configuration`);
  }
  const names = Object.keys(config.channels);
  const channels = buildChannels(config, names, io);
  let failures = 0;
  try {
    for (const [name, channel] of channels) {
      const [outcome] = await deliver(channel, [testNotification(name, config.timezone, now, langfuseLink(config.langfuse.baseUrl))], { redact });
      if (outcome?.ok) {
        io.stdout.write(`✓ ${name} (${channel.type}) accepted the test notification\n`);
      } else {
        failures += 1;
        // the error quotes the peer's answer
        io.stdout.write(terminalSafe(`✗ ${name} (${channel.type}): ${outcome?.ok === false ? outcome.error : 'no answer'}\n`));
        log.error({ channel: name }, `test notification to ${name} failed`);
      }
    }
  } finally {
    await closeChannels(channels);
  }
  return failures === 0 ? 0 : 1;
}

/**
 * The link of a test notification: test-notify asks Langfuse nothing, so not the project but the
 * base URL (without credentials, query or fragment), as notifications link when the project id is
 * unknown. Receivers that validate the field get a URL, never "": Langfuse Cloud when the base
 * URL's variable is unset (test-notify doesn't need it).
 */
export function langfuseLink(baseUrl: string): string {
  const url = new URL(URL.canParse(baseUrl) ? baseUrl : LANGFUSE_CLOUD_URL);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

export function testNotification(channel: string, timezone: string, now: Date, langfuseUrl: string): Notification {
  const at = now.toISOString();
  return {
    id: `spend-alerts|test|${channel}|${at}`,
    status: 'firing',
    severity: 'warning',
    alert: 'spend-alerts',
    kind: 'system',
    group: {},
    window: { type: 'test', from: at, to: at, timezone },
    value: 0,
    threshold: 0,
    baseline: null,
    factor: null,
    evaluatedAt: at,
    langfuseUrl,
    message: `Test notification from spend-alerts to channel "${channel}": if you can read this, the channel works.`,
    test: true,
  };
}
