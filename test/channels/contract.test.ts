// What every channel type promises, checked against a real peer for each: a real HTTP server for
// Slack and webhooks, a real SMTP server for email, a stdout for the console. The suite runs for
// every definition in the registry, so a new channel type fails here until it has a peer below.
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/channels/channel.js';
import type { ChannelDeps } from '../../src/channels/definition.js';
import { deliver } from '../../src/channels/deliver.js';
import { CHANNEL_DEFINITIONS, createChannel, describeChannel } from '../../src/channels/registry.js';
import { loadConfig } from '../../src/config/load.js';
import { channelSchema, type ChannelConfig } from '../../src/config/schema.js';
import { formatUsd } from '../../src/render/money.js';
import { createRedactor, REDACTED } from '../../src/util/redact.js';
import { startHttpReceiver } from '../support/http-receiver.js';
import { startSmtpServer } from '../support/smtp.js';
import { context, explained, firing, recordingSleep, resolved } from './fixtures.js';

interface Peer {
  readonly config: ChannelConfig;
  readonly stdout?: NodeJS.WritableStream;
  /** everything a reader sees, one string per accepted message or request */
  received(): string[];
  /** how an amount appears at this peer */
  money(value: number): string;
  /** sends the peer saw, accepted or not */
  attempts(): number;
  failTransient(): void;
  failPermanent(): void;
  /** the next send is never answered; resolves once the peer holds it */
  hang(): Promise<unknown>;
  /** values that must never show up in an error message */
  readonly secrets: readonly string[];
  close(): Promise<void>;
}

interface Harness {
  /** talks over the network, so the per-request timeout applies */
  readonly network: boolean;
  start(): Promise<Peer>;
}

const slackPath = '/services/T0CONTRACT/B0CONTRACT/slackTokenContract';
const webhookPath = '/hooks/contract-path-secret?token=contract-query-secret';
const webhookSecret = 'whsec-contract-signing-secret';
const smtpPassword = 'contract-smtp-passw0rd';

/** A real peer for each channel type, by type. */
const harnesses: Readonly<Record<string, Harness>> = {
  slack: {
    network: true,
    async start() {
      const receiver = await startHttpReceiver();
      return {
        config: { type: 'slack', webhookUrl: receiver.url(slackPath) },
        received: () => receiver.requests.filter((r) => r.status === 200).map((r) => r.body),
        money: formatUsd,
        attempts: () => receiver.requests.length,
        failTransient: () => receiver.enqueue({ status: 500, body: 'rollup_error' }),
        failPermanent: () => receiver.enqueue({ status: 404, body: 'no_service' }),
        hang: () => {
          receiver.enqueue({ hang: true });
          return receiver.waitForRequests(receiver.requests.length + 1);
        },
        secrets: [slackPath, 'slackTokenContract'],
        close: () => receiver.close(),
      };
    },
  },
  webhook: {
    network: true,
    async start() {
      const receiver = await startHttpReceiver();
      return {
        config: { type: 'webhook', url: receiver.url(webhookPath), secret: webhookSecret },
        received: () => receiver.requests.filter((r) => r.status === 200).map((r) => r.body),
        money: (value) => JSON.stringify(value),
        attempts: () => receiver.requests.length,
        failTransient: () => receiver.enqueue({ status: 500, body: 'oops' }),
        failPermanent: () => receiver.enqueue({ status: 400, body: 'bad request' }),
        hang: () => {
          receiver.enqueue({ hang: true });
          return receiver.waitForRequests(receiver.requests.length + 1);
        },
        secrets: ['contract-path-secret', 'contract-query-secret', webhookSecret],
        close: () => receiver.close(),
      };
    },
  },
  email: {
    network: true,
    async start() {
      const credentials = { user: 'alerts', pass: smtpPassword };
      const server = await startSmtpServer({ auth: credentials });
      return {
        config: {
          type: 'email',
          smtpUrl: server.url(credentials),
          from: 'LLM spend <alerts@example.com>',
          to: ['finance@example.com', 'ops@example.com'],
        },
        received: () =>
          server.messages.map((m) => [m.parsed.subject, m.parsed.text ?? '', m.parsed.html ?? ''].join('\n')),
        money: formatUsd,
        attempts: () => server.transactions(),
        failTransient: () => server.failNext({ code: 451, message: '4.7.1 Greylisted, try again later' }),
        failPermanent: () => server.failNext({ code: 550, message: '5.1.1 Mailbox unavailable' }),
        hang: () => server.hangNext(),
        secrets: [smtpPassword],
        close: () => server.close(),
      };
    },
  },
  console: {
    network: false,
    async start() {
      const written: string[] = [];
      const script: Array<string | 'hang'> = [];
      let attempts = 0;
      let holding: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        holding = resolve;
      });
      // only write(text, callback) is used; a real Writable stays errored after one failed write
      const stdout = {
        write(text: string, callback: (error?: Error | null) => void) {
          attempts += 1;
          const step = script.shift();
          if (step === 'hang') holding();
          else if (step !== undefined) callback(Object.assign(new Error(`write ${step}`), { code: step }));
          else {
            written.push(text);
            callback();
          }
          return true;
        },
      } as unknown as NodeJS.WritableStream;
      return {
        config: { type: 'console' },
        stdout,
        received: () => written,
        money: formatUsd,
        attempts: () => attempts,
        failTransient: () => void script.push('EAGAIN'),
        failPermanent: () => void script.push('EPIPE'),
        hang: () => {
          script.push('hang');
          return held;
        },
        secrets: [],
        close: async () => undefined,
      };
    },
  },
};

function missingHarness(type: string): Harness {
  return {
    network: false,
    start: () => Promise.reject(new Error(`no contract harness for channel type "${type}"`)),
  };
}

const registered = CHANNEL_DEFINITIONS.map((definition) => ({ type: definition.type, definition }));

it('has a real peer for every registered channel type', () => {
  expect(Object.keys(harnesses).sort()).toEqual(registered.map(({ type }) => type).sort());
});

describe.each(registered)('$type channel contract', ({ type, definition }) => {
  // a type without a harness fails "has a real peer for every registered channel type" above
  const harness = harnesses[type] ?? missingHarness(type);
  let peer: Peer;
  afterEach(async () => {
    await peer.close();
  });

  async function channelFor(overrides: Partial<ChannelDeps> = {}) {
    peer = await harness.start();
    const ctx = context({ ...(peer.stdout === undefined ? {} : { stdout: peer.stdout }), ...overrides });
    return createChannel(`my-${type}`, peer.config, ctx);
  }

  it('is built by its factory with the right name, type and batching mode', async () => {
    const channel = await channelFor();
    expect(channel).toMatchObject({ name: `my-${type}`, type, batches: type !== 'webhook' });
    const factory = definition.create as (name: string, config: ChannelConfig, ctx: ChannelDeps) => unknown;
    expect(factory('other', peer.config, context())).toMatchObject({ name: 'other', type });
  });

  it('is a type of the configuration schema, with exactly its own settings', async () => {
    peer = await harness.start();
    expect(channelSchema.parse(peer.config)).toEqual(peer.config);
    expect(definition.schema.safeParse({ ...peer.config, unknownSetting: 'x' }).success).toBe(false);
    for (const key of definition.secrets) expect(Object.keys(definition.schema.shape)).toContain(key);
  });

  it('names every setting that carries a secret, so that redaction hides it', async () => {
    peer = await harness.start();
    // JSON is YAML: the peer's settings as alerts.yaml gives them to the loader, which collects the secrets
    const text = JSON.stringify({ channels: { peer: peer.config }, alerts: [{ name: 'a', window: 'day', threshold: 1, channels: ['peer'] }] });
    const loaded = await loadConfig({ path: 'alerts.yaml', text, env: { LANGFUSE_PUBLIC_KEY: 'pk-lf-1', LANGFUSE_SECRET_KEY: 'sk-lf-1' }, needs: 'all' });
    const redact = createRedactor(loaded.secrets);
    const values = Object.values(peer.config).filter((value): value is string => typeof value === 'string');
    for (const secret of peer.secrets) {
      const carriers = values.filter((value) => value.includes(secret));
      expect(carriers, `a setting holds ${secret}`).not.toEqual([]);
      for (const value of carriers) expect(redact(`echo ${value} end`)).toBe(`echo ${REDACTED} end`);
    }
  });

  it('describes itself by its type, without a secret', async () => {
    peer = await harness.start();
    const description = describeChannel(peer.config);
    expect(description.startsWith(type)).toBe(true);
    for (const secret of peer.secrets) expect(description).not.toContain(secret);
  });

  it('delivers a firing and a resolved notification with their key facts', async () => {
    const channel = await channelFor();
    const outcomes = await deliver(channel, [firing, resolved], recordingSleep());

    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: true },
      { notificationId: resolved.id, ok: true },
    ]);
    const received = peer.received();
    expect(received).toHaveLength(channel.batches ? 1 : 2);
    const everything = received.join('\n');
    for (const fact of ['daily-budget', 'model-budget', 'gpt-4o', peer.money(61.25), peer.money(50), peer.money(17), peer.money(20)]) {
      expect(everything).toContain(fact);
    }
    expect(everything).toMatch(/critical/i);
    expect(everything).toMatch(/warning/i);
    expect(everything).toMatch(/firing/i);
    expect(everything).toMatch(/resolved/i);
  });

  it("delivers a firing notification's top contributors, and says which could not be worked out", async () => {
    const channel = await channelFor();
    expect(await deliver(channel, [explained], recordingSleep())).toEqual([{ notificationId: explained.id, ok: true }]);
    const everything = peer.received().join('\n');
    for (const fact of ['gpt-4o', 'claude-3', 'research_agent', peer.money(40), peer.money(2.5), 'Langfuse requests until 13:40']) {
      expect(everything).toContain(fact);
    }
  });

  it('reports a transient failure (5xx, 4xx SMTP, EAGAIN) as retryable', async () => {
    const channel = await channelFor();
    peer.failTransient();
    const error = await channel.send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(true);
  });

  it('succeeds through deliver() after a transient failure, backing off once', async () => {
    const channel = await channelFor();
    peer.failTransient();
    const { sleep, waits } = recordingSleep();
    const outcomes = await deliver(channel, [firing], { sleep, random: () => 0.5, baseDelayMs: 100 });
    expect(outcomes).toEqual([{ notificationId: firing.id, ok: true }]);
    expect(waits).toEqual([50]);
    expect(peer.attempts()).toBe(2);
    expect(peer.received()).toHaveLength(1);
  });

  it('reports a permanent failure as not retryable, and deliver() does not retry it', async () => {
    const channel = await channelFor();
    peer.failPermanent();
    const { sleep, waits } = recordingSleep();
    const [outcome] = await deliver(channel, [firing], { sleep });
    expect(outcome).toMatchObject({ notificationId: firing.id, ok: false, retryable: false });
    expect(waits).toEqual([]);
    expect(peer.attempts()).toBe(1);
  });

  it('never puts its secrets in an error message', async () => {
    const channel = await channelFor();
    peer.failPermanent();
    const error = (await channel.send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).not.toBe('');
    for (const secret of peer.secrets) expect(error.message).not.toContain(secret);
  });

  it('does not send when the signal is already aborted', async () => {
    const channel = await channelFor();
    const controller = new AbortController();
    controller.abort();
    const error = await channel.send([firing], controller.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(peer.received()).toEqual([]);
    const outcomes = await deliver(channel, [firing, resolved], { signal: controller.signal });
    expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
    expect(peer.received()).toEqual([]);
  });

  it('gives up a send in flight when the signal aborts', async () => {
    // the timeout is far beyond the test's own, so only the abort can end the send
    const channel = await channelFor({ timeoutMs: 600_000 });
    const inFlight = peer.hang();
    const controller = new AbortController();
    const sending = channel.send([firing], controller.signal).catch((e: unknown) => e);
    await inFlight;
    controller.abort();
    const error = await sending;
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(true);
  });

  if (harness.network) {
    it('gives up on a peer that never answers after the per-request timeout, as retryable', async () => {
      const channel = await channelFor({ timeoutMs: 300 });
      void peer.hang();
      const error = await channel.send([firing], new AbortController().signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).retryable).toBe(true);
    });
  }
});
