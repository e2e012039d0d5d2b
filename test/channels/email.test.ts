import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/channels/channel.js';
import { deliver } from '../../src/channels/deliver.js';
import { createEmailChannel, type EmailChannelOptions } from '../../src/channels/email.js';
import { startTlsPolicy } from '../../src/util/smtp-tls.js';
import { startSmtpServer, type TestSmtpOptions, type TestSmtpServer } from '../support/smtp.js';
import { GPT_4O_URL, context, explained, firing, hostileContributors, notification, recordingSleep, relative, resolved } from './fixtures.js';

const credentials = { user: 'alerts@example.com', pass: 'smtp-p4ss:w/rd@secret' };

let server: TestSmtpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(serverOptions: TestSmtpOptions = { auth: credentials }, options?: EmailChannelOptions, pass = credentials.pass) {
  server = await startSmtpServer(serverOptions);
  const smtpUrl = server.url(serverOptions.auth === undefined ? undefined : { user: credentials.user, pass });
  const channel = createEmailChannel(
    'finance-mail',
    { type: 'email', smtpUrl, from: 'LLM spend <alerts@example.com>', to: ['finance@example.com', 'ops@example.com'] },
    context(),
    options,
  );
  return { server, channel };
}

describe('email channel', () => {
  it('sends one message with a subject naming alert, severity and amount, and text and HTML parts', async () => {
    const { server, channel } = await setup();
    await channel.send([firing], AbortSignal.timeout(10_000));
    const [mail] = server.messages;
    expect(mail?.from).toBe('alerts@example.com');
    expect(mail?.to).toEqual(['finance@example.com', 'ops@example.com']);
    expect(mail?.user).toBe(credentials.user);
    expect(mail?.parsed.subject).toBe('[CRITICAL] daily-budget: $61.25 > $50.00');
    expect(mail?.parsed.header('from')).toBe('LLM spend <alerts@example.com>');
    expect(mail?.parsed.header('content-type')).toMatch(/^multipart\/alternative/);
    expect(mail?.parsed.header('auto-submitted')).toBe('auto-generated');
    expect(mail?.parsed.text).toContain('CRITICAL FIRING: daily-budget');
    expect(mail?.parsed.text).toContain('  Spend:     $61.25\n');
    expect(mail?.parsed.text).toContain('  Window:    day, 2026-11-24 00:00 – 14:00 America/New_York\n');
    expect(mail?.parsed.text).toContain('  Langfuse:  https://cloud.langfuse.com/project/proj-1\n');
    expect(mail?.parsed.html).toContain('<a href="https://cloud.langfuse.com/project/proj-1">Open in Langfuse</a>');
    expect(mail?.parsed.html).toContain('<td style="padding:2px 0">$50.00</td>');
  });

  it('sums up several notifications in the subject and lists each in both parts', async () => {
    const { server, channel } = await setup();
    const second = notification({ id: 'monthly', alert: 'monthly-budget', value: 1234.5, threshold: 1000 });
    await channel.send([relative, firing, second, resolved], AbortSignal.timeout(10_000));
    expect(server.messages).toHaveLength(1);
    const parsed = server.messages[0]?.parsed;
    expect(parsed?.subject).toBe('[spend-alerts] 4 alerts: 2 critical, 1 warning, 1 resolved');
    for (const part of [parsed?.text ?? '', parsed?.html ?? '']) {
      for (const fact of ['daily-budget', 'monthly-budget', '$1,234.50', 'daily-spike', '$20.00', '2×', 'model-budget']) {
        expect(part).toContain(fact);
      }
    }
    const text = parsed?.text ?? '';
    expect(text.indexOf('CRITICAL FIRING')).toBeLessThan(text.indexOf('WARNING FIRING'));
    expect(text.indexOf('WARNING FIRING')).toBeLessThan(text.indexOf('WARNING RESOLVED'));
  });

  it('keeps a model name with CR/LF from adding a header, and escapes HTML', async () => {
    const { server, channel } = await setup();
    const hostile = notification({
      id: 'evil',
      alert: 'model-budget',
      group: { model: 'gpt\r\nBcc: x@evil.example\r\n<script>alert(1)</script>' },
    });
    await channel.send([hostile], AbortSignal.timeout(10_000));
    const [mail] = server.messages;
    expect(mail?.to).toEqual(['finance@example.com', 'ops@example.com']);
    const names = mail?.parsed.headers.map(([name]) => name.toLowerCase()) ?? [];
    expect(names).not.toContain('bcc');
    expect(names.filter((n) => n === 'subject')).toHaveLength(1);
    expect(mail?.parsed.subject).toBe(
      '[CRITICAL] model-budget (model=gpt\\x0d\\x0aBcc: x@evil.example\\x0d\\x0a<script>alert(1)</script>): $61.25 > $50.00',
    );
    expect(mail?.parsed.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail?.parsed.html).not.toContain('<script>');
    expect(mail?.raw).not.toMatch(/^Bcc:/im);
  });

  it('lists the top contributors in both parts, linked in the HTML', async () => {
    const { server, channel } = await setup();
    await channel.send([explained], AbortSignal.timeout(10_000));
    const parsed = server.messages[0]?.parsed;
    expect(parsed?.subject).toBe('[CRITICAL] daily-budget: $61.25 > $50.00');
    expect(parsed?.text).toContain(
      [
        '  Langfuse:  https://cloud.langfuse.com/project/proj-1',
        '  Top models: gpt-4o $40.00 (65.3%, +$30.00 on $10.00), claude-3 $12.00 (19.6%, new), (none) $2.50 (4.1%, -$1.50 on $4.00)',
        '  Top trace names: research_agent $61.25 (100%)',
        '  Top users: not available (the request budget admits no more Langfuse requests until 13:40)',
        '',
      ].join('\n'),
    );
    expect(parsed?.html).toContain(`<a href="${GPT_4O_URL.replace('&', '&amp;')}">gpt-4o</a> $40.00 (65.3%, +$30.00 on $10.00)`);
    expect(parsed?.html).toContain('>research_agent</a> $61.25 (100%)</td>');
  });

  it('keeps hostile contributor values inert in the HTML, the text and the headers', async () => {
    const { server, channel } = await setup();
    await channel.send([hostileContributors], AbortSignal.timeout(10_000));
    const [mail] = server.messages;
    expect(mail?.to).toEqual(['finance@example.com', 'ops@example.com']);
    const names = mail?.parsed.headers.map(([name]) => name.toLowerCase()) ?? [];
    expect(names).not.toContain('bcc');
    expect(mail?.raw).not.toMatch(/^Bcc:/im);
    expect(mail?.parsed.subject).toBe('[CRITICAL] daily-budget: $61.25 > $50.00');
    const html = mail?.parsed.html ?? '';
    expect(html).toContain('>&lt;img src=x onerror=alert(1)&gt;</a> $10.00 (16.3%)');
    expect(html).toContain('>@channel &lt;!here&gt;</a>');
    expect(html).toContain('>*bold* &lt;/script&gt;</a>');
    expect(html).not.toMatch(/<img|<\/script|<!here/);
    expect(mail?.parsed.text).toContain('  Top releases: gpt\\x0d\\x0aBcc: x@evil.example $7.00 (11.4%)\n');
  });

  it('retries greylisting (451) and delivers, through deliver()', async () => {
    const { server, channel } = await setup();
    server.failNext({ code: 451, message: '4.7.1 Greylisted, please try again later' }, 2);
    const { sleep, waits } = recordingSleep();
    const outcomes = await deliver(channel, [firing, resolved], { sleep, random: () => 1, baseDelayMs: 100 });
    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: true },
      { notificationId: resolved.id, ok: true },
    ]);
    expect(waits).toEqual([100, 200]);
    expect(server.transactions()).toBe(3);
    expect(server.messages).toHaveLength(1);
  });

  it('gives up after the last attempt when greylisting persists, as retryable', async () => {
    const { server, channel } = await setup();
    server.failNext({ code: 451, message: '4.7.1 Greylisted' }, 5);
    const [outcome] = await deliver(channel, [firing], { ...recordingSleep(), attempts: 3 });
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(outcome?.ok === false && outcome.error).toMatch(/451 4\.7\.1 Greylisted \(after 3 attempts\)$/);
    expect(server.transactions()).toBe(3);
  });

  it('treats a 550 after DATA as permanent', async () => {
    const { server, channel } = await setup();
    server.failNext({ code: 550, message: '5.7.1 Message rejected as spam', stage: 'data' });
    const error = await channel.send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect((error as DeliveryError).message).toContain('550 5.7.1 Message rejected as spam');
  });

  it('treats a failed login (535) as permanent, without the password in the message', async () => {
    const { server, channel } = await setup({ auth: credentials }, undefined, 'wrong-password-value');
    const { sleep, waits } = recordingSleep();
    const [outcome] = await deliver(channel, [firing], { sleep });
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    const error = outcome?.ok === false ? outcome.error : '';
    expect(error).toContain('535');
    expect(error).toMatch(/^email via smtp:\/\/127\.0\.0\.1:\d+: /);
    expect(error).not.toContain('wrong-password-value');
    expect(error).not.toContain(encodeURIComponent('wrong-password-value'));
    expect(waits).toEqual([]);
    expect(server.messages).toHaveLength(0);
  });

  it('reports an unreachable server as retryable, without the password', async () => {
    const { server, channel } = await setup();
    await server.close();
    const error = (await channel.send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain(credentials.pass);
    expect(error.message).not.toContain(encodeURIComponent(credentials.pass));
  });

  it('sends over implicit TLS (smtps://) to a server it trusts', async () => {
    const { server, channel } = await setup({ tls: 'implicit', auth: credentials });
    expect(server.url()).toMatch(/^smtps:\/\//);
    const trusting = createEmailChannel(
      'tls-mail',
      { type: 'email', smtpUrl: server.url(credentials), from: 'alerts@example.com', to: ['finance@example.com'] },
      context(),
      { tls: { ca: server.ca } },
    );
    await trusting.send([firing], AbortSignal.timeout(10_000));
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]?.secure).toBe(true);
    expect(server.messages[0]?.user).toBe(credentials.user);
    // without the CA the self-signed certificate is refused, for good
    const error = (await channel.send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('SELF_SIGNED');
    expect(server.messages).toHaveLength(1);
  });

  it('upgrades smtp:// with STARTTLS when offered, and never falls back to cleartext', async () => {
    const { server, channel } = await setup({ tls: 'starttls', auth: credentials });
    const trusting = createEmailChannel(
      'tls-mail',
      { type: 'email', smtpUrl: server.url(credentials), from: 'alerts@example.com', to: ['finance@example.com'] },
      context(),
      { tls: { ca: server.ca } },
    );
    await trusting.send([firing], AbortSignal.timeout(10_000));
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]?.secure).toBe(true);
    const error = (await channel.send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(false);
    expect(server.messages).toHaveLength(1);
  });

  it('sends in cleartext, with the password, to a server on this machine that offers no STARTTLS', async () => {
    const { server, channel } = await setup({ tls: 'none', auth: credentials });
    expect(server.url()).toMatch(/^smtp:\/\/127\.0\.0\.1:/);
    await channel.send([firing], AbortSignal.timeout(10_000));
    expect(server.messages[0]?.secure).toBe(false);
    expect(server.messages[0]?.user).toBe(credentials.user);
  });

  it('requires STARTTLS from a host it does not take for this machine, unless the URL says requireTLS=false', async () => {
    // 127.1 reaches the test server, but only the plain spellings of loopback (127.x.y.z, ::1,
    // localhost) count as this machine: here it stands for a relay across the network.
    const { server } = await setup({ tls: 'none', auth: credentials });
    const remote = server.url(credentials).replace('@127.0.0.1:', '@127.1:');
    const channel = (smtpUrl: string) =>
      createEmailChannel('relay', { type: 'email', smtpUrl, from: 'alerts@example.com', to: ['finance@example.com'] }, context());
    const error = (await channel(remote).send([firing], AbortSignal.timeout(10_000)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('the server offers no STARTTLS, which smtp:// to another machine requires');
    expect(error.message).toContain('add ?requireTLS=false to smtpUrl');
    expect(error.message).not.toContain(credentials.pass);
    expect(server.messages).toHaveLength(0);

    await channel(`${remote}?requireTLS=false`).send([firing], AbortSignal.timeout(10_000));
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]?.secure).toBe(false);
  });
});

describe('startTlsPolicy', () => {
  it.each([
    ['smtp://user:pass@smtp.example.com:587', 'required'],
    ['smtp://user:pass@10.0.0.5:25', 'required'],
    ['smtp://mailhog:1025', 'required'],
    ['smtp://user:pass@smtp.example.com:587?requireTLS=false', 'opted-out'],
    ['smtp://smtp.example.com:25?pool=true&requireTLS=false', 'opted-out'],
    ['smtp://smtp.example.com:25?requireTLS=true', 'required'],
    ['smtp://user:pass@127.0.0.1:25', 'not-needed'],
    ['smtp://127.42.0.9:25', 'not-needed'],
    ['smtp://[::1]:25', 'not-needed'],
    ['smtp://LOCALHOST:25', 'not-needed'],
    ['smtp://127.0.0.1.evil.example:25', 'required'],
    ['smtps://user:pass@smtp.example.com:465', 'not-needed'],
    ['smtp://[bad', 'required'],
  ] as const)('%s: %s', (url, policy) => {
    expect(startTlsPolicy(url)).toBe(policy);
  });
});
