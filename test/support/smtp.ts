// A real SMTP server (smtp-server) on 127.0.0.1 for email tests: cleartext, STARTTLS or implicit
// TLS with a self-signed certificate made at test time, optional AUTH, and scripted refusals
// (greylisting 451, permanent 550, a server that never answers). It records every accepted
// message's raw source and parses just enough MIME to check what a reader would see.
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

// ---- a self-signed certificate without openssl: a few DER structures signed with node:crypto

function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}
const sequence = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
/** A non-negative DER INTEGER: minimal, so leading zero bytes go (a random serial starts with 0x00 one time in 256, and X509Certificate refuses that padding) and one comes back before a high bit. */
export function derInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const minimal = bytes.subarray(start);
  return der(0x02, (minimal[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}
const utcTime = (date: Date) => der(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const encoded = [arc & 0x7f];
    for (let n = arc >> 7; n > 0; n >>= 7) encoded.unshift((n & 0x7f) | 0x80);
    bytes.push(...encoded);
  }
  return der(0x06, Buffer.from(bytes));
}

export interface TestCertificate {
  /** PEM; pass as `ca` to trust it */
  readonly cert: string;
  readonly key: string;
}

/** An ECDSA P-256 certificate for "localhost" and 127.0.0.1, valid for a day. */
export function generateSelfSignedCert(): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = sequence(set(sequence(oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const altNames = sequence(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])));
  const now = Date.now();
  const tbs = sequence(
    der(0xa0, derInteger(Buffer.from([2]))),
    derInteger(randomBytes(8)),
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(sequence(oid('2.5.29.17'), der(0x04, altNames)))),
  );
  const signature = sign('sha256', tbs, privateKey);
  const body = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const cert = `-----BEGIN CERTIFICATE-----\n${body.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  new X509Certificate(cert); // throws if the encoding above is wrong, rather than a TLS error later
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

// ---- just enough MIME to read what nodemailer sends

export interface ParsedMail {
  /** unfolded header fields in order, names as sent */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** the first header with this name (case-insensitive), undecoded */
  header(name: string): string | undefined;
  /** the Subject with RFC 2047 encoded words decoded */
  readonly subject: string;
  /** decoded, with \n line ends */
  readonly text: string | undefined;
  readonly html: string | undefined;
}

function splitHead(source: string): { headers: Array<[string, string]>; body: string } {
  const end = source.indexOf('\r\n\r\n');
  const head = end === -1 ? source : source.slice(0, end);
  const body = end === -1 ? '' : source.slice(end + 4);
  const headers: Array<[string, string]> = [];
  for (const line of head.split('\r\n')) {
    const last = headers[headers.length - 1];
    if (/^[ \t]/.test(line) && last !== undefined) last[1] += line;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
  }
  return { headers, body };
}

const find = (headers: ReadonlyArray<readonly [string, string]>, name: string) =>
  headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

function decodeQuotedPrintable(value: string, underscoreIsSpace = false): string {
  const soft = value.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i += 1) {
    const char = soft[i] ?? '';
    const hex = soft.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (underscoreIsSpace && char === '_') {
      bytes.push(0x20);
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?[^?]+\?([QB])\?([^?]*)\?=/gi, (_, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text, true),
    );
}

function collectParts(source: string, found: { text?: string; html?: string }): void {
  const { headers, body } = splitHead(source);
  const type = find(headers, 'content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary !== undefined) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      collectParts(part.replace(/^\r\n/, ''), found);
    }
    return;
  }
  const encoding = (find(headers, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  const content =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : body;
  // line ends as a mail client shows them
  const decoded = content.replace(/\r\n/g, '\n');
  if (/^text\/html/i.test(type)) found.html ??= decoded;
  else if (/^text\/plain/i.test(type)) found.text ??= decoded;
}

export function parseMail(raw: string): ParsedMail {
  const { headers } = splitHead(raw);
  const found: { text?: string; html?: string } = {};
  collectParts(raw, found);
  return {
    headers,
    header: (name) => find(headers, name),
    subject: decodeEncodedWords(find(headers, 'subject') ?? ''),
    text: found.text,
    html: found.html,
  };
}

// ---- the server

export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
  /** the message came over TLS (implicit or STARTTLS) */
  readonly secure: boolean;
  /** the authenticated user, if any */
  readonly user: string | undefined;
  readonly parsed: ParsedMail;
}

export interface SmtpFailure {
  readonly code: number;
  readonly message: string;
  /** where the refusal comes: at RCPT TO (default, like greylisting) or after DATA */
  readonly stage?: 'rcpt' | 'data';
}

export interface TestSmtpOptions {
  /** 'none' (default): cleartext, STARTTLS not offered; 'starttls': offered; 'implicit': smtps */
  readonly tls?: 'none' | 'starttls' | 'implicit';
  /** require AUTH with these credentials; a wrong password gets 535 */
  readonly auth?: { readonly user: string; readonly pass: string };
}

export interface TestSmtpServer {
  readonly port: number;
  /** the certificate to trust (`tls: { ca }`) in TLS modes */
  readonly ca: string;
  /** smtp:// or smtps:// URL for this server, with credentials when given */
  url(credentials?: { readonly user: string; readonly pass: string }): string;
  readonly messages: ReceivedMail[];
  /** mail transactions started (MAIL FROM), accepted or not */
  readonly transactions: () => number;
  /** refuse the next `times` transactions */
  failNext(failure: SmtpFailure, times?: number): void;
  /** take the next message's data and never answer; resolves once the server holds it */
  hangNext(): Promise<void>;
  waitForMessages(count: number): Promise<ReceivedMail[]>;
  /** idempotent */
  close(): Promise<void>;
}

type Script = SmtpFailure | { readonly hang: () => void };

let certificate: TestCertificate | undefined;

export async function startSmtpServer(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  certificate ??= generateSelfSignedCert();
  const mode = options.tls ?? 'none';
  const messages: ReceivedMail[] = [];
  const script: Script[] = [];
  const current = new Map<string, Script | undefined>();
  const waiters: Array<{ count: number; resolve: (m: ReceivedMail[]) => void }> = [];
  let transactions = 0;
  let closing: Promise<void> | undefined;

  const refusal = (failure: SmtpFailure) => Object.assign(new Error(failure.message), { responseCode: failure.code });
  const scripted = (session: SMTPServerSession) => current.get(session.id);

  const server = new SMTPServer({
    secure: mode === 'implicit',
    key: certificate.key,
    cert: certificate.cert,
    name: 'localhost',
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 200,
    disabledCommands: mode === 'none' ? ['STARTTLS'] : [],
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (options.auth !== undefined && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onMailFrom(_address, session, callback) {
      transactions += 1;
      current.set(session.id, script.shift());
      callback();
    },
    onRcptTo(_address, session, callback) {
      const step = scripted(session);
      if (step !== undefined && 'code' in step && (step.stage ?? 'rcpt') === 'rcpt') return callback(refusal(step));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const step = scripted(session);
        if (step !== undefined && 'hang' in step) return step.hang();
        if (step !== undefined) return callback(refusal(step));
        const raw = Buffer.concat(chunks).toString('utf8');
        const { mailFrom, rcptTo } = session.envelope;
        messages.push({
          from: mailFrom === false ? '' : mailFrom.address,
          to: rcptTo.map((r) => r.address),
          raw,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          parsed: parseMail(raw),
        });
        for (const waiter of waiters.filter((w) => messages.length >= w.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve([...messages]);
        }
        callback();
      });
    },
  });

  // a client giving up mid-handshake (an untrusted certificate, an aborted send) is part of the tests
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  const scheme = mode === 'implicit' ? 'smtps' : 'smtp';

  return {
    port,
    ca: certificate.cert,
    url: (credentials) =>
      credentials === undefined
        ? `${scheme}://127.0.0.1:${port}`
        : `${scheme}://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@127.0.0.1:${port}`,
    messages,
    transactions: () => transactions,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i += 1) script.push(failure);
    },
    hangNext: () => new Promise<void>((resolve) => void script.push({ hang: resolve })),
    waitForMessages(count) {
      if (messages.length >= count) return Promise.resolve([...messages]);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close() {
      closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closing;
    },
  };
}
