// Email over SMTP: one message per evaluation listing every notification. smtp:// upgrades with
// STARTTLS whenever the server offers it (and fails rather than falling back to cleartext if the
// upgrade fails); to a host other than this machine it requires STARTTLS, so that someone in the
// middle can't strip the offer and read the password, unless the URL says ?requireTLS=false.
// smtps:// is TLS from the first byte.
import type { ConnectionOptions } from 'node:tls';
import type { Transporter } from 'nodemailer';
import type { ChannelConfig } from '../config/schema.js';
import { renderEmail } from '../render/email.js';
import { isCertificateErrorCode } from '../util/http.js';
import { startTlsPolicy } from '../util/smtp-tls.js';
import { createRedactor, safeUrl } from '../util/redact.js';
import { DeliveryError, type Channel, type ChannelContext } from './channel.js';

export type EmailChannelConfig = Extract<ChannelConfig, { type: 'email' }>;

export interface EmailChannelOptions {
  /**
   * Extra options for tls.connect, e.g. `{ ca }` for a private CA or `{ rejectUnauthorized: false }`
   * in tests. Production setups trust extra CAs through NODE_EXTRA_CA_CERTS instead.
   */
  readonly tls?: ConnectionOptions;
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
  context: ChannelContext,
  options: EmailChannelOptions = {},
): Channel {
  // nodemailer is loaded on the first send: most evaluations send no email, and start-up stays quick
  let transport: Transporter | undefined;
  const open = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import('nodemailer');
    transport ??= nodemailer.createTransport({
      url: config.smtpUrl,
      requireTLS: startTlsPolicy(config.smtpUrl) === 'required',
      connectionTimeout: context.timeoutMs,
      greetingTimeout: context.timeoutMs,
      socketTimeout: context.timeoutMs,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    return transport;
  };
  const where = safeUrl(config.smtpUrl);
  const redact = createRedactor([config.smtpUrl]);
  return {
    name,
    type: 'email',
    digest: true,
    async send(notifications, signal) {
      if (notifications.length === 0) return;
      const content = renderEmail(notifications);
      try {
        await (await open()).sendMail({
          from: config.from,
          to: config.to,
          subject: content.subject,
          text: content.text,
          html: content.html,
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
