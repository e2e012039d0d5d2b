// models: in alerts.yaml: located errors (exit 2), defaults, and the models priced at 0 that every
// unpriced alert then ignores.
import { describe, expect, it } from 'vitest';
import { configError, loadFixture } from './helpers.js';

describe('models configuration', () => {
  it('refuses a bad pattern, a duplicate name, both kinds of price, no price, an unknown unit, a negative price, a date without time, a missing name — each located', async () => {
    const error = await configError(loadFixture('models-checks.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path, issue.message])).toEqual([
      [14, 'models[1].modelName', 'duplicate model name "in-house" (models[0] has it too); names must be unique'],
      [15, 'models[1].matchPattern', 'is not a valid regular expression: Invalid regular expression: /[unclosed/: Unterminated character class'],
      [20, 'models[2].totalPrice', 'totalPrice prices input and output together: give it or inputPrice, not both'],
      [21, 'models[3]', 'needs a price: inputPrice and outputPrice, or totalPrice (USD per unit; 0 for free)'],
      [25, 'models[4].unit', expect.stringMatching(/^must be one of TOKENS, CHARACTERS, MILLISECONDS, SECONDS, REQUESTS, IMAGES, not the text "WORDS"/)],
      [26, 'models[4].totalPrice', 'must be at least 0'],
      [27, 'models[4].startDate', 'must be an ISO 8601 date and time, such as 2026-12-01T00:00:00Z, not the text "2026-12-01"'],
      [28, 'models[5]', 'missing required key "modelName"'],
    ]);
  });

  it('defaults unit to TOKENS and models to none; a leading (?i) is accepted', async () => {
    const { config } = await loadFixture('models-free.yaml');
    expect(config.models[0]).toEqual({ modelName: 'acme-free', matchPattern: '(?i)^(acme-free)$', unit: 'TOKENS', inputPrice: 0, outputPrice: 0 });
    expect(config.models[2]).toMatchObject({ unit: 'TOKENS', startDate: '2026-12-01T00:00:00+01:00', tokenizerId: 'openai' });
    expect((await loadFixture('minimal.yaml')).config.models).toEqual([]);
  });

  it('every unpriced alert ignores the models priced at 0 (every price given 0), besides its own ignore list', async () => {
    const { config } = await loadFixture('models-free.yaml');
    expect(config.alerts[0]!.unpriced!.ignore).toEqual(['already-ignored', 'acme-free', 'acme-total-free']);
    expect(config.alerts[1]!.unpriced).toBeUndefined();
  });
});
