// Error messages and logs must never carry a credential. Secrets arrive as whole values (a signing
// secret, an API key) or inside URLs: a Slack webhook's path is its token, an SMTP URL carries a
// password, and any query string may hold a key. A peer (or a proxy in front of it) may echo a
// request back in its error, so a secret also travels encoded: base64 in a Basic Authorization
// header, percent-encoded in a URL. A redactor removes every form it knows of.
import { createHash } from 'node:crypto';

export const REDACTED = '[REDACTED]';

const MIN_SECRET_CHARS = 4;

// scheme://user:password@ — any URL in any text, known or not
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*@/gi;

function parseUrl(value: string): URL | null {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// an Authorization header's credentials, whoever's they are: "Basic cGs6c2s=", "Bearer xoxb-1…";
// a token has a digit or a base64 sign, which "Basic authentication failed" has not
const AUTHORIZATION = /\b(Basic|Bearer)\s+(?=[A-Za-z._~-]*[0-9+/=])[A-Za-z0-9+/=._~-]{8,}/gi;

// a path segment that looks like a token or an id (Slack's T0123ABCD, B0456EFGH, xoxb…), not a word like "services"
const TOKEN_LIKE = /^(?=.*[0-9A-Z]).{8,}$/;

/**
 * The parts of a secret worth hiding on their own: for URLs the password, the path and query, the
 * query's values and the token-like path segments.
 */
function secretForms(secret: string): string[] {
  const forms = [secret];
  const url = parseUrl(secret);
  if (url === null) return forms;
  if (url.password !== '') forms.push(url.password, safeDecode(url.password));
  if (url.pathname.length > 1) forms.push(url.pathname, url.pathname.slice(1));
  forms.push(...url.pathname.split('/').filter((segment) => TOKEN_LIKE.test(segment)));
  if (url.search !== '') forms.push(url.search, url.search.slice(1), ...url.searchParams.values());
  return forms;
}

/** How a value travels when it is echoed back: base64 (Basic auth, either alphabet) and percent-encoded. */
function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const percent = encodeURIComponent(value);
  return [
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    percent,
    percent.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    new URLSearchParams({ v: value }).toString().slice(2),
  ];
}

/**
 * The secrets of a Basic-auth key pair (Langfuse's public and secret key): each key and the
 * `user:password` pair the Authorization header encodes. The pair's encoded forms follow from it.
 */
export function credentialPair(user: string, password: string): string[] {
  return [user, password, `${user}:${password}`];
}

/**
 * Returns a function replacing every known secret (its URL parts, and each of those base64- and
 * percent-encoded) with `[REDACTED]`, plus the password of any URL with userinfo and the
 * credentials of any Authorization header. Secrets shorter than four characters are ignored:
 * redacting "a" would destroy the message without protecting anything.
 */
export function createRedactor(secrets: Iterable<string>): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      if (form.length < MIN_SECRET_CHARS) continue;
      forms.add(form);
      for (const encoded of encodedForms(form)) forms.add(encoded);
    }
  }
  // longest first, so a whole URL goes before its path and no fragment of a secret survives
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let result = text;
    for (const form of ordered) result = result.split(form).join(REDACTED);
    return result.replace(URL_PASSWORD, `$1:${REDACTED}@`).replace(AUTHORIZATION, `$1 ${REDACTED}`);
  };
}

/**
 * A short one-way name for a secret, for where one must be told apart from another without being
 * written down (the key of a file that belongs to one Langfuse project's keys).
 */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

/**
 * scheme://host[:port] and an ellipsis when there is more: "https://hooks.slack.com/…". Never the
 * userinfo, path or query, which is where URLs keep their secrets.
 */
export function safeUrl(value: string): string {
  const url = parseUrl(value);
  if (url === null) return '(invalid URL)';
  const origin = `${url.protocol}//${url.host}`;
  const more = url.pathname.length > 1 || url.search !== '' || url.hash !== '';
  return more ? `${origin}/…` : origin;
}

/**
 * host[:port] only, e.g. "hooks.slack.com" or "smtp.example.com:587" (with `defaultPort` when the
 * URL names none): what `validate` shows of a channel's URL, whose path, query and user info carry
 * tokens and passwords.
 */
export function hostOf(url: string, defaultPort?: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || defaultPort;
    return port ? `${parsed.hostname}:${port}` : parsed.hostname;
  } catch {
    return '(invalid URL)';
  }
}
