// Links into the Langfuse UI's lists: the worked examples of the shared Langfuse README ("Links
// into the Langfuse UI", taken from the web app's encodeFiltersGeneric) reproduced to the
// character, and every link read back the way the UI reads it.
import { describe, expect, it } from 'vitest';
import type { AlertFilters } from '../../src/core/alert.js';
import { filteredListUrl } from '../../src/core/langfuse-links.js';

const BASE = 'https://langfuse.example';
const PROJECT = `${BASE}/project/local-project`;
/** the README's window, 2026-12-01T09:00Z – 2026-12-02T05:00Z */
const WINDOW = { from: new Date('2026-12-01T09:00:00Z'), to: new Date('2026-12-02T05:00:00Z') };
const DATE_RANGE = 'dateRange=1796115600000-1796187600000';

/** A list's filters as Langfuse's `decodeFiltersGeneric` reads them (filterQueryEncoding.ts at 62751446149b). */
interface DecodedFilter {
  column: string;
  type: string;
  key: string;
  operator: string;
  value: string | string[];
}

function splitOnUnescapedPipe(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      current += text[i]! + text[i + 1]!;
      i++;
    } else if (text[i] === '|') {
      parts.push(current);
      current = '';
    } else {
      current += text[i]!;
    }
  }
  parts.push(current);
  return parts;
}

function unescapePipe(value: string): string {
  return value.replace(/\\\|/g, '|').replace(/\\\\/g, '\\');
}

/** The `filter` parameter of a link decoded, then split into filters as the UI does. */
function decodeLikeLangfuse(url: string): DecodedFilter[] {
  const raw = /[?&]filter=([^&]*)/.exec(url)?.[1];
  if (raw === undefined) return [];
  const query = decodeURIComponent(raw);
  // the page reads its query through URLSearchParams: the same text
  expect(new URL(url).searchParams.get('filter')).toBe(query);
  return query.split(',').map((filter) => {
    const parts = filter.split(';');
    expect(parts).toHaveLength(5);
    const [column, type, key, operator, encodedValue] = parts as [string, string, string, string, string];
    const value = decodeURIComponent(encodedValue);
    return {
      column,
      type,
      key: decodeURIComponent(key),
      operator: decodeURIComponent(operator),
      value: type === 'stringObject' ? value : splitOnUnescapedPipe(value).map(unescapePipe),
    };
  });
}

/**
 * The alert filters a link's filters stand for, each field's columns checked to agree (on
 * /observations: `tags` and `traceTags`, `model` and `providedModelName`).
 */
function filtersOf(decoded: DecodedFilter[]): AlertFilters & { metadata: Record<string, string> } {
  const columns: Record<string, keyof AlertFilters> = {
    traceName: 'traceName',
    userId: 'userId',
    environment: 'environment',
    release: 'release',
    traceTags: 'tags',
    tags: 'tags',
    model: 'model',
    providedModelName: 'model',
  };
  const filters: Record<string, string[]> = {};
  const metadata: Record<string, string> = {};
  for (const filter of decoded) {
    if (filter.column === 'metadata') {
      expect([filter.type, filter.operator]).toEqual(['stringObject', '=']);
      metadata[filter.key] = filter.value as string;
      continue;
    }
    const field = columns[filter.column]!;
    expect([filter.type, filter.key, filter.operator]).toEqual([field === 'tags' ? 'arrayOptions' : 'stringOptions', '', 'any of']);
    if (filters[field] !== undefined) expect(filter.value).toEqual(filters[field]);
    filters[field] = filter.value as string[];
  }
  return { ...filters, metadata };
}

describe('the README’s worked examples', () => {
  const examples: [string, AlertFilters, string][] = [
    [
      'trace name',
      { traceName: 'research_agent' },
      `/project/local-project/traces?filter=traceName%3BstringOptions%3B%3Bany%20of%3Bresearch_agent&${DATE_RANGE}`,
    ],
    ['user', { userId: 'u-dave' }, `/project/local-project/traces?filter=userId%3BstringOptions%3B%3Bany%20of%3Bu-dave&${DATE_RANGE}`],
    [
      'environments (two values)',
      { environment: ['production', 'staging'] },
      `/project/local-project/traces?filter=environment%3BstringOptions%3B%3Bany%20of%3Bproduction%257Cstaging&${DATE_RANGE}`,
    ],
    ['tag', { tags: ['team-a'] }, `/project/local-project/traces?filter=traceTags%3BarrayOptions%3B%3Bany%20of%3Bteam-a&${DATE_RANGE}`],
    [
      'metadata',
      { metadata: { agent_type: 'researcher' } },
      `/project/local-project/traces?filter=metadata%3BstringObject%3Bagent_type%3B%3D%3Bresearcher&${DATE_RANGE}`,
    ],
    [
      'model',
      { model: 'gpt-4o' },
      `/project/local-project/observations?filter=model%3BstringOptions%3B%3Bany%20of%3Bgpt-4o%2CprovidedModelName%3BstringOptions%3B%3Bany%20of%3Bgpt-4o&${DATE_RANGE}`,
    ],
    [
      'awkward values',
      { traceName: ['it\'s "quoted"', 'a|b'] },
      `/project/local-project/traces?filter=traceName%3BstringOptions%3B%3Bany%20of%3Bit's%2520%2522quoted%2522%257Ca%255C%257Cb&${DATE_RANGE}`,
    ],
  ];

  it.each(examples)('%s', (_name, filters, path) => {
    expect(filteredListUrl(PROJECT, filters, WINDOW)).toBe(`${BASE}${path}`);
  });
});

describe('filteredListUrl', () => {
  it('joins several values of a field with |', () => {
    const url = filteredListUrl(PROJECT, { traceName: ['a', 'b', 'c'], userId: ['u-1', 'u-2'], tags: ['x', 'y'] }, WINDOW);
    expect(url).toBe(
      `${PROJECT}/traces?filter=` +
        'traceName%3BstringOptions%3B%3Bany%20of%3Ba%257Cb%257Cc%2C' +
        'userId%3BstringOptions%3B%3Bany%20of%3Bu-1%257Cu-2%2C' +
        `traceTags%3BarrayOptions%3B%3Bany%20of%3Bx%257Cy&${DATE_RANGE}`,
    );
  });

  it('filters release by its column on the traces and events tables', () => {
    expect(filteredListUrl(PROJECT, { release: 'v1.2' }, WINDOW)).toBe(
      `${PROJECT}/traces?filter=release%3BstringOptions%3B%3Bany%20of%3Bv1.2&${DATE_RANGE}`,
    );
    expect(decodeLikeLangfuse(filteredListUrl(PROJECT, { release: ['v1', 'v2'] }, WINDOW)!)).toEqual([
      { column: 'release', type: 'stringOptions', key: '', operator: 'any of', value: ['v1', 'v2'] },
    ]);
  });

  it('sends a model to the observations list, with tags by both tables’ names', () => {
    const url = filteredListUrl(PROJECT, { model: ['gpt-4o', 'gpt-4o-mini'], tags: ['team-a'] }, WINDOW)!;
    expect(url.startsWith(`${PROJECT}/observations?filter=`)).toBe(true);
    expect(decodeLikeLangfuse(url).map((f) => [f.column, f.value])).toEqual([
      ['tags', ['team-a']],
      ['traceTags', ['team-a']],
      ['model', ['gpt-4o', 'gpt-4o-mini']],
      ['providedModelName', ['gpt-4o', 'gpt-4o-mini']],
    ]);
  });

  it('lists the filters in a fixed order, metadata by key, whatever the order configured', () => {
    const filters: AlertFilters = {
      model: 'm',
      metadata: { zeta: '1', alpha: '2', Beta: '3' },
      tags: ['t'],
      release: 'r',
      environment: 'e',
      userId: 'u',
      traceName: 'n',
    };
    const columns = decodeLikeLangfuse(filteredListUrl(PROJECT, filters, WINDOW)!).map((f) => (f.key ? `${f.column}.${f.key}` : f.column));
    expect(columns).toEqual([
      'traceName',
      'userId',
      'environment',
      'release',
      'tags',
      'traceTags',
      'metadata.Beta',
      'metadata.alpha',
      'metadata.zeta',
      'model',
      'providedModelName',
    ]);
  });

  it('encodes awkward metadata keys and values so that they read back whole', () => {
    const metadata = { 'a;b,c': 'x;y,z', '100%': '50%', 'k=v': '=', 'sp ace': 'it\'s "q" | \\', 'm%3Bn': '%2C' };
    const url = filteredListUrl(PROJECT, { metadata }, WINDOW)!;
    expect(url).toContain('metadata%3BstringObject%3Ba%253Bb%252Cc%3B%3D%3Bx%253By%252Cz');
    expect(decodeLikeLangfuse(url)).toHaveLength(5);
    expect(filtersOf(decodeLikeLangfuse(url))).toEqual({ metadata });
  });

  it('has only the dateRange without filters', () => {
    expect(filteredListUrl(PROJECT, {}, WINDOW)).toBe(`${PROJECT}/traces?${DATE_RANGE}`);
    expect(filteredListUrl(PROJECT, { traceName: [], tags: [], metadata: {} }, WINDOW)).toBe(`${PROJECT}/traces?${DATE_RANGE}`);
  });

  it('takes the range as Dates or ISO 8601 strings, any offset', () => {
    const fromStrings = filteredListUrl(PROJECT, { userId: 'u' }, { from: '2026-12-01T09:00:00Z', to: '2026-12-02T06:00:00+01:00' });
    expect(fromStrings).toBe(filteredListUrl(PROJECT, { userId: 'u' }, WINDOW));
    expect(fromStrings!.endsWith(`&${DATE_RANGE}`)).toBe(true);
    expect(filteredListUrl(PROJECT, {}, { from: '2026-12-01T09:00:00.123Z', to: '2026-12-01T09:00:00.123Z' })).toBe(
      `${PROJECT}/traces?dateRange=1796115600123-1796115600123`,
    );
  });

  it('refuses a range that is no range', () => {
    expect(() => filteredListUrl(PROJECT, {}, { from: 'yesterday', to: WINDOW.to })).toThrow(RangeError);
    expect(() => filteredListUrl(PROJECT, {}, { from: WINDOW.to, to: WINDOW.from })).toThrow(RangeError);
  });

  it('is null without a project link', () => {
    for (const langfuseUrl of [BASE, `${BASE}/`, `${PROJECT}/`, `${PROJECT}/traces`, `${BASE}/project/`, '']) {
      expect(filteredListUrl(langfuseUrl, { userId: 'u' }, WINDOW)).toBeNull();
    }
  });

  it('is null when a value has a lone surrogate, which no URL can carry', () => {
    expect(filteredListUrl(PROJECT, { traceName: 'half \ud83d' }, WINDOW)).toBeNull();
    expect(filteredListUrl(PROJECT, { metadata: { '\udc00': 'v' } }, WINDOW)).toBeNull();
    expect(filteredListUrl(PROJECT, { traceName: 'whole 😀' }, WINDOW)).not.toBeNull();
  });
});

describe('a link read back as the UI reads it', () => {
  const hostile = [',', ';', '|', '\\', '%', '%25', '%7C', '\\|', 'a\\', '|b|', '"double"', "'single'", 'né 😀 ß', '<!here> & @channel', ' ', ''];

  it('gives the filters back, hostile values and all', () => {
    const filters = {
      traceName: hostile,
      userId: ['u;1', 'u,2'],
      environment: ['prod|eu', 'a\\|b'],
      release: ['1.0%', '2,0'],
      tags: ['t|1', 't;2', 't,3', '\\'],
      metadata: { 'k;,|\\%"\'😀': 'v;,|\\%"\'😀', plain: 'x' },
      model: ['gpt|4', 'claude;3', '%20'],
    };
    const url = filteredListUrl(PROJECT, filters, WINDOW)!;
    expect(filtersOf(decodeLikeLangfuse(url))).toEqual(filters);
  });

  it('gives one value back as a list of one, on the traces list', () => {
    const url = filteredListUrl(PROJECT, { traceName: '|', userId: '\\', environment: ',', release: ';' }, WINDOW)!;
    expect(url.startsWith(`${PROJECT}/traces?`)).toBe(true);
    expect(filtersOf(decodeLikeLangfuse(url))).toEqual({ traceName: ['|'], userId: ['\\'], environment: [','], release: [';'], metadata: {} });
  });

  it('carries no character a message or a page would read as markup', () => {
    const url = filteredListUrl(PROJECT, { traceName: hostile, metadata: { '<b>': '>' } }, WINDOW)!;
    const query = url.slice(PROJECT.length);
    expect(query).toMatch(/^\/traces\?filter=[A-Za-z0-9%\-_.!~*'()]+&dateRange=[0-9]+-[0-9]+$/);
  });
});
