// Email over SMTP: one message per evaluation listing every notification. smtp:// upgrades with
// STARTTLS whenever the server offers it (and fails rather than falling back to cleartext if the
// upgrade fails); to a host other than this machine it requires STARTTLS, so that someone in the
// middle can't strip the offer and read the password, unless the URL says ?requireTLS=false.
// smtps:// is TLS from the first byte.
import type { ConnectionOptions } from 'node:tls';
import type { Transporter } from 'nodemailer';
import * as z from 'zod/mini';
import { isDigest } from '../core/digest.js';
import type { Report } from '../core/report.js';
import { renderDigestEmail, TREND_CONTENT_ID } from '../render/digest.js';
import { renderEmail } from '../render/email.js';
import { isCertificateErrorCode } from '../util/http.js';
import { startTlsPolicy } from '../util/smtp-tls.js';
import { createRedactor, hostOf, safeUrl } from '../util/redact.js';
import { describe } from '../core/schema-parts.js';
import { DeliveryError, type Channel } from './channel.js';
import { defineChannel, type ChannelDeps, type ChannelFinding } from './definition.js';

// One mailbox, as it goes into a From or To header: a line break in it (a variable holding
// "a@x\r\nBcc: …") would add headers, and a comma or semicolon would add recipients.
const ADDRESS_CHARACTERS = String.raw`[^\s<>()[\]\\,;:@"\x00-\x1f\x7f-\x9f]+`;
const ADDRESS = `${ADDRESS_CHARACTERS}@${ADDRESS_CHARACTERS}`;
const DISPLAY_NAME = String.raw`(?:"[^"\\\x00-\x1f\x7f-\x9f]*"|[^<>()[\]\\,;:@"\x00-\x1f\x7f-\x9f]+)`;
/** `addr@host` or `Name <addr@host>` (a name with a comma is quoted: `"Doe, Jane" <jane@example.com>`) */
const EMAIL_ADDRESS_PATTERN = new RegExp(`^(?:${ADDRESS}|${DISPLAY_NAME}? *<${ADDRESS}>)$`);
const emailAddress = (): z.ZodMiniString =>
  z.string().check(
    z.regex(
      EMAIL_ADDRESS_PATTERN,
      'must be one email address, addr@host or Name <addr@host>, without line breaks or other control characters (quote a name with , or ;)',
    ),
  );

const schema = describe(
  z.strictObject({
    type: z.literal('email'),
    smtpUrl: describe(
      z.string().check(z.regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')),
      'smtp://user:pass@host:587 (STARTTLS, required unless the host is this machine or the URL ends ?requireTLS=false) or smtps://user:pass@host:465. A secret: use ${VAR}.',
    ),
    from: describe(emailAddress(), 'Sender, e.g. "LLM spend <alerts@example.com>".'),
    to: describe(z.array(emailAddress()).check(z.minLength(1)), 'Recipients: addr@host or Name <addr@host>, one address each.'),
  }),
  'Sends mail over SMTP.',
);

export type EmailChannelConfig = z.infer<typeof schema>;

export interface EmailChannelOptions {
  /**
   * Extra options for tls.connect, e.g. `{ ca }` for a private CA or `{ rejectUnauthorized: false }`
   * in tests. Production setups trust extra CAs through NODE_EXTRA_CA_CERTS instead.
   */
  readonly tls?: ConnectionOptions;
  /**
   * The daily trend of a digest's report as a PNG, attached inline (Content-ID `trend`) and shown
   * by the HTML part. Without it the HTML part keeps the report's SVG chart.
   */
  readonly trendPng?: (report: Report) => Buffer | Promise<Buffer>;
}

// Failures of the connection rather than of the message: the same message can go through later.
const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

interface SmtpError {
  readonly message?: string;
  readonly code?: string;
  /** the socket's own code under nodemailer's ESOCKET, e.g. DEPTH_ZERO_SELF_SIGNED_CERT */
  readonly originalCode?: string;
  readonly responseCode?: number;
  /** the SMTP command that failed, e.g. STARTTLS */
  readonly command?: string;
}

const NO_STARTTLS_HINT =
  ' (the server offers no STARTTLS, which smtp:// to another machine requires so that the password ' +
  "doesn't cross the network in plain text; for a plain-text relay on a network you trust, add ?requireTLS=false to smtpUrl)";

/**
 * 4xx replies (greylisting, mailbox busy) and dropped connections are transient; 5xx replies
 * (unknown mailbox, 535 bad credentials), refused TLS certificates and local configuration errors
 * are permanent.
 */
export function classifySmtpError(error: unknown, where: string, redact: (text: string) => string): DeliveryError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SmtpError;
  const text = redact(String(e.message ?? error)).replace(/\s+/g, ' ').trim();
  const message = `email via ${where}: ${text}${e.code === 'ETLS' && e.command === 'STARTTLS' ? NO_STARTTLS_HINT : ''}`;
  if (e.code === 'EABORT') return new DeliveryError(`email via ${where}: cancelled`, true);
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return new DeliveryError(message, e.responseCode < 500);
  if (e.originalCode !== undefined && isCertificateErrorCode(e.originalCode)) {
    return new DeliveryError(`${message} (${e.originalCode})`, false);
  }
  return new DeliveryError(message, e.code !== undefined && TRANSIENT_CODES.has(e.code));
}

export function createEmailChannel(
  name: string,
  config: EmailChannelConfig,
  deps: ChannelDeps,
  options: EmailChannelOptions = {},
): Channel {
  // nodemailer is loaded on the first send: most evaluations send no email, and start-up stays quick
  let transport: Transporter | undefined;
  const open = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import('nodemailer');
    transport ??= nodemailer.createTransport({
      url: config.smtpUrl,
      requireTLS: startTlsPolicy(config.smtpUrl) === 'required',
      connectionTimeout: deps.timeoutMs,
      greetingTimeout: deps.timeoutMs,
      socketTimeout: deps.timeoutMs,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    return transport;
  };
  const where = safeUrl(config.smtpUrl);
  const redact = createRedactor([config.smtpUrl]);
  return {
    name,
    type: 'email',
    batches: true,
    async send(notifications, signal) {
      if (notifications.length === 0) return;
      // deliver() sends a digest alone: it is never batched with alerts
      const [first] = notifications;
      const digest = notifications.length === 1 && first !== undefined && isDigest(first) ? first : undefined;
      const png = digest === undefined ? undefined : await options.trendPng?.(digest.digest.report);
      const content = digest === undefined ? renderEmail(notifications) : renderDigestEmail(digest, png === undefined ? {} : { png });
      try {
        await (await open()).sendMail({
          from: config.from,
          to: config.to,
          subject: content.subject,
          text: content.text,
          html: content.html,
          ...(png === undefined ? {} : { attachments: [{ filename: 'trend.png', content: png, contentType: 'image/png', cid: TREND_CONTENT_ID, contentDisposition: 'inline' as const }] }),
          // RFC 3834: vacation responders and ticket systems must not answer an alert
          headers: { 'Auto-Submitted': 'auto-generated' },
          signal,
        });
      } catch (error) {
        throw classifySmtpError(error, where, redact);
      }
    },
    async close() {
      transport?.close();
    },
  };
}

/** smtp:// to another machine with ?requireTLS=false: allowed for a trusted relay, but said. */
function plainTextSmtp(entry: Readonly<Record<string, unknown>>): ChannelFinding[] {
  const smtpUrl = entry['smtpUrl'];
  if (typeof smtpUrl !== 'string' || startTlsPolicy(smtpUrl) !== 'opted-out') return [];
  return [
    {
      level: 'warning',
      path: ['smtpUrl'],
      message:
        'requireTLS=false: if the server offers no STARTTLS (or someone in the middle strips the offer), ' +
        'the SMTP password and the mail cross the network in plain text; keep it for a relay on a network you trust',
    },
  ];
}

export const emailChannel = defineChannel({
  type: 'email',
  schema,
  // the URL carries the SMTP password
  secrets: ['smtpUrl'],
  describe: (config) =>
    `email → ${config.to.join(', ')} via ${hostOf(config.smtpUrl, config.smtpUrl.startsWith('smtps:') ? '465' : '587')}`,
  check: plainTextSmtp,
  // the digest's trend as a PNG, drawn by resvg with the bundled font; resvg's native binary is
  // loaded only when a digest is sent, so that alert evaluations don't pay for it
  create: (name, config, deps) =>
    createEmailChannel(name, config, deps, { trendPng: async (report) => (await import('../render/chart-png.js')).renderTrendPng(report.daily) }),
});
