// Redaction and configuration messages take a channel's secrets from its definition: a setting is
// secret because its channel type says so, not because of its key's name.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isSecretPath } from '../../src/config/schema.js';
import { configError, LANGFUSE_ENV } from '../config/helpers.js';

const document = {
  channels: {
    ops: { type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T1/B1/x', url: 'https://misplaced.example.com/hook' },
    mail: { type: 'email', smtpUrl: 'smtp://u:p@mail.example.com', from: 'alerts@example.com', to: ['a@example.com'] },
    hook: { type: 'webhook', url: 'https://automation.example.com/h', secret: 'whsec-1' },
    odd: { type: 'pager', url: 'https://pager.example.com/k', from: 'x' },
  },
};
const secret = (name: string, key: string) => isSecretPath(['channels', name, key], document);

describe('channel secrets, from the definitions', () => {
  it('are the settings each channel type names', () => {
    expect([secret('ops', 'webhookUrl'), secret('mail', 'smtpUrl'), secret('hook', 'url'), secret('hook', 'secret')]).toEqual([true, true, true, true]);
    expect([secret('ops', 'type'), secret('mail', 'from'), secret('mail', 'to')]).toEqual([false, false, false]);
  });

  it('include a setting under a type that lacks it, or under an unknown type, when any channel keeps it secret', () => {
    expect(secret('ops', 'url')).toBe(true);
    expect(secret('odd', 'url')).toBe(true);
    expect(secret('odd', 'from')).toBe(false);
  });

  it('are what the loader collects for redaction, with what was interpolated into them', async () => {
    const text = `
channels:
  ops:
    type: slack
    webhookUrl: https://hooks.slack.com/services/\${SLACK_TOKEN_PATH}
  mail:
    type: email
    smtpUrl: smtps://alerts:mail-passw0rd@mail.example.com
    from: \${MAIL_FROM}
    to: [finance@example.com]
alerts:
  - name: daily
    window: day
    threshold: 50
    channels: [ops, mail]
`;
    const env = { ...LANGFUSE_ENV, SLACK_TOKEN_PATH: 'T000/B000/slacktoken999', MAIL_FROM: 'alerts@example.com' };
    const loaded = await loadConfig({ path: 'alerts.yaml', text, env, needs: 'all' });
    expect(loaded.secrets).toEqual(
      expect.arrayContaining(['https://hooks.slack.com/services/T000/B000/slacktoken999', 'T000/B000/slacktoken999', 'mail-passw0rd']),
    );
    expect(loaded.secrets).not.toContain('alerts@example.com');
  });

  it('are never shown in a configuration message', async () => {
    const text = `
channels:
  ops:
    type: slack
    webhookUrl: not-a-url-but-a-secret-token
alerts:
  - name: daily
    window: day
    threshold: 50
    channels: [ops]
`;
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.message).toContain('channels.ops.webhookUrl');
    expect(error.message).not.toContain('not-a-url-but-a-secret-token');
  });
});
