// When smtp:// must upgrade with STARTTLS: one decision, used by the email channel to send and by
// the configuration checks to warn about the opt-out.

/**
 * What an SMTP URL asks of STARTTLS:
 * - `required`: smtp:// to another machine; someone in the middle could strip the server's
 *   STARTTLS offer and read the password, so the upgrade is required
 * - `opted-out`: the same with ?requireTLS=false (a plain-text relay on a trusted network): upgraded
 *   when offered, plain text otherwise; `validate` warns
 * - `not-needed`: smtp:// to this machine (127.0.0.0/8, ::1, localhost), where no one sits in the
 *   middle (upgraded when offered), or smtps://, TLS from the first byte
 */
export type StartTlsPolicy = 'required' | 'opted-out' | 'not-needed';

export function startTlsPolicy(smtpUrl: string): StartTlsPolicy {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return 'required'; // not a URL: nothing is sent anyway, and nothing is given up
  }
  if (url.protocol !== 'smtp:' || isLoopbackHost(url.hostname)) return 'not-needed';
  // nodemailer reads the same query parameter from the URL
  return url.searchParams.get('requireTLS') === 'false' ? 'opted-out' : 'required';
}

/** A host name (as URL.hostname spells it) that can only be this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
