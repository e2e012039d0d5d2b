// `spend-alerts test-notify`: proves each channel's wiring with a clearly marked test message.
import { resolve } from 'node:path';
import { deliver } from '../../channels/deliver.js';
import type { Logger } from '../../log/logger.js';
import { LANGFUSE_CLOUD_URL } from '../../config/schema.js';
import type { Notification } from '../../core/notification.js';
import { clearBackoff } from '../../core/decide/outbox.js';
import { StateStore } from '../../storage/state-store.js';
import { UsageError, type CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildChannels, closeChannels, prepare, type Io } from '../compose.js';
import { terminalSafe } from '../../util/terminal.js';

export async function testNotifyCommand(options: CliOptions, io: Io, now: Date, clock: () => Date): Promise<CommandOutcome> {
  const { config, log, redact } = await prepare(options, io, {
    channels: options.channels.length > 0 ? options.channels : 'all',
  });
  const unknown = options.channels.filter((name) => !(name in config.channels));
  if (unknown.length > 0) {
    throw new UsageError(`no channel named ${unknown.map((n) => `"${n}"`).join(', ')} in the configuration`);
  }
  const names = Object.keys(config.channels);
  const channels = buildChannels(config, names, io, clock);
  let failures = 0;
  const accepted = new Set<string>();
  try {
    for (const [name, channel] of channels) {
      const [outcome] = await deliver(channel, [testNotification(name, config.timezone, now, langfuseLink(config.langfuse.baseUrl))], { redact });
      if (outcome?.ok) {
        accepted.add(name);
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
  if (accepted.size > 0) await retryPendingNow(options, io, accepted, now, log);
  return failures === 0 ? 'ok' : 'failed';
}

/**
 * A channel that works again gets its pending deliveries at the next evaluation instead of after
 * their backoff. Only where a worker keeps state: no state directory is created here.
 */
async function retryPendingNow(options: CliOptions, io: Io, accepted: ReadonlySet<string>, now: Date, log: Logger): Promise<void> {
  const store = new StateStore(resolve(io.cwd, options.stateDir));
  let cleared = 0;
  try {
    await store.updateExisting((state) => {
      const next = clearBackoff(state, accepted, now);
      cleared = next.cleared;
      return next.state;
    });
  } catch (error) {
    // the test notifications went out; only the shortcut for pending ones is missed
    log.warn({ stateDir: store.dir, err: (error as Error).message }, `pending deliveries keep their backoff: ${(error as Error).message}`);
    return;
  }
  if (cleared > 0) {
    io.stdout.write(`${cleared} pending delivery(ies) to ${[...accepted].join(', ')} are due again: the next evaluation sends them\n`);
  }
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
