import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor, credentialPair, fingerprint, safeUrl } from '../../src/util/redact.js';

describe('createRedactor', () => {
  it('replaces every occurrence of a secret', () => {
    const redact = createRedactor(['sk-lf-1234567890']);
    expect(redact('key sk-lf-1234567890 and again sk-lf-1234567890')).toBe(`key ${REDACTED} and again ${REDACTED}`);
  });

  it('ignores secrets shorter than four characters', () => {
    expect(createRedactor(['abc', ''])('abc a b c')).toBe('abc a b c');
  });

  it('hides the path and query of a secret URL wherever they appear alone', () => {
    const redact = createRedactor(['https://hooks.slack.com/services/T000/B000/XXXXXXXX']);
    expect(redact('POST https://hooks.slack.com/services/T000/B000/XXXXXXXX failed')).toBe(`POST ${REDACTED} failed`);
    expect(redact('path /services/T000/B000/XXXXXXXX not found')).toBe(`path ${REDACTED} not found`);
    expect(redact('token XXXXXXXX alone, services and T000 are words')).toBe(`token ${REDACTED} alone, services and T000 are words`);
    expect(redact('host hooks.slack.com is fine')).toBe('host hooks.slack.com is fine');
    const withQuery = createRedactor(['https://example.com/hook?token=abcdef123']);
    expect(withQuery('got ?token=abcdef123')).toBe(`got ${REDACTED}`);
    expect(withQuery('token abcdef123 refused')).toBe(`token ${REDACTED} refused`);
  });

  it('hides the password of a secret URL, raw and decoded', () => {
    const redact = createRedactor(['smtps://user:p%40ss%3Aword@smtp.example.com:465']);
    expect(redact('login p@ss:word failed')).toBe(`login ${REDACTED} failed`);
    expect(redact('login p%40ss%3Aword failed')).toBe(`login ${REDACTED} failed`);
  });

  it('hides the password of any URL with userinfo, known or not', () => {
    const redact = createRedactor([]);
    expect(redact('connect smtp://bob:hunter22@mail.example.com:587 refused')).toBe(
      `connect smtp://bob:${REDACTED}@mail.example.com:587 refused`,
    );
  });
});

describe('derived forms', () => {
  const pk = 'pk-lf-1234';
  const sk = 'sk-lf-s3cr3t/+=&?';
  const pair = `${pk}:${sk}`;
  const redact = createRedactor(credentialPair(pk, sk));

  it('hides a key pair as a Basic header carries it, whatever the base64 alphabet or padding', () => {
    const base64 = Buffer.from(pair).toString('base64');
    for (const form of [pair, base64, base64.replace(/=+$/, ''), Buffer.from(pair).toString('base64url')]) {
      expect(redact(`echo: ${form} end`)).toBe(`echo: ${REDACTED} end`);
    }
  });

  it('hides every secret percent-encoded, upper- or lower-case, and form-encoded', () => {
    const encoded = encodeURIComponent(sk);
    for (const form of [encoded, encoded.toLowerCase(), new URLSearchParams({ k: pair }).toString().slice(2), encodeURIComponent(pair)]) {
      expect(redact(`?key=${form}&x=1`)).toBe(`?key=${REDACTED}&x=1`);
    }
  });

  it("hides any Authorization header's credentials, known or not, and leaves the words alone", () => {
    const redactNothing = createRedactor([]);
    expect(redactNothing('authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe(`authorization: Basic ${REDACTED}`);
    expect(redactNothing('Authorization: Bearer xoxb-1234-abcd')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactNothing('Basic authentication failed; Bearer tokens expected')).toBe('Basic authentication failed; Bearer tokens expected');
  });

  it('fingerprints a secret one way, stably', () => {
    expect(fingerprint(pk)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(pk)).toBe(fingerprint(pk));
    expect(fingerprint(pk)).not.toBe(fingerprint(sk));
  });
});

describe('safeUrl', () => {
  it('keeps scheme and host only', () => {
    expect(safeUrl('https://hooks.slack.com/services/T/B/X')).toBe('https://hooks.slack.com/…');
    expect(safeUrl('https://example.com?token=1')).toBe('https://example.com/…');
    expect(safeUrl('smtp://user:pass@mail.example.com:587')).toBe('smtp://mail.example.com:587');
    expect(safeUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(safeUrl('not a url')).toBe('(invalid URL)');
  });
});
