import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor, safeUrl } from '../../src/util/redact.js';

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

describe('safeUrl', () => {
  it('keeps scheme and host only', () => {
    expect(safeUrl('https://hooks.slack.com/services/T/B/X')).toBe('https://hooks.slack.com/…');
    expect(safeUrl('https://example.com?token=1')).toBe('https://example.com/…');
    expect(safeUrl('smtp://user:pass@mail.example.com:587')).toBe('smtp://mail.example.com:587');
    expect(safeUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(safeUrl('not a url')).toBe('(invalid URL)');
  });
});
