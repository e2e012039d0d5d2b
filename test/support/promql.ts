// The metric names a PromQL expression reads, and the names a Prometheus text exposition offers:
// enough PromQL to check example dashboards and rules against /metrics, not a parser.

/** Words that are PromQL rather than metric names: aggregations, which may be followed by `by (…)` rather than `(`, operators, modifiers. */
const KEYWORDS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  'and', 'or', 'unless', 'atan2', 'bool', 'offset', 'inf', 'nan',
]);
/** Followed by a list of label names in parentheses (`group_left` and `group_right` optionally). */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENTIFIER_START = /[A-Za-z_:]/;
const IDENTIFIER_PART = /[A-Za-z0-9_:]/;

/**
 * Metric names in `expr`, in order, repeated as often as they occur. Skips strings, comments,
 * `{…}` label matchers, `[…]` ranges, numbers and durations, Grafana variables (`$model`,
 * `${model}`, `$__range`), function calls' names, keywords, and the label lists of `by`,
 * `without`, `on`, `ignoring`, `group_left` and `group_right`.
 */
export function metricNames(expr: string): string[] {
  const names: string[] = [];
  let i = 0;
  const skipString = (): void => {
    const quote = expr[i]!;
    i += 1;
    while (i < expr.length && expr[i] !== quote) i += quote !== '`' && expr[i] === '\\' ? 2 : 1;
    i += 1;
  };
  const skipPast = (close: string): void => {
    while (i < expr.length && expr[i] !== close) {
      if (/["'`]/.test(expr[i]!)) skipString();
      else i += 1;
    }
    i += 1;
  };
  const nextNonSpace = (from: number): number => {
    let at = from;
    while (at < expr.length && /\s/.test(expr[at]!)) at += 1;
    return at;
  };
  while (i < expr.length) {
    const char = expr[i]!;
    if (/["'`]/.test(char)) skipString();
    else if (char === '#') skipPast('\n');
    else if (char === '{') skipPast('}');
    else if (char === '[') skipPast(']');
    else if (char === '$') {
      i += 1;
      if (expr[i] === '{') skipPast('}');
      else while (i < expr.length && /\w/.test(expr[i]!)) i += 1;
    } else if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(expr[i + 1] ?? ''))) {
      // numbers, and durations such as 1h30m
      while (i < expr.length && /[\w.]/.test(expr[i]!)) i += 1;
    } else if (IDENTIFIER_START.test(char)) {
      const start = i;
      while (i < expr.length && IDENTIFIER_PART.test(expr[i]!)) i += 1;
      const word = expr.slice(start, i);
      const after = nextNonSpace(i);
      if (LABEL_LIST_KEYWORDS.has(word)) {
        if (expr[after] === '(') {
          i = after + 1;
          skipPast(')');
        }
      } else if (expr[after] !== '(' && !KEYWORDS.has(word.toLowerCase())) {
        names.push(word);
      }
    } else {
      i += 1;
    }
  }
  return names;
}

const SERIES_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * The series names a Prometheus text exposition offers, from its `# TYPE name kind` lines (they
 * list a metric even before it has a sample), with the series of histograms and summaries.
 */
export function exposedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match === null) continue;
    const [, name, kind] = match as unknown as [string, string, string];
    names.add(name);
    for (const suffix of SERIES_SUFFIXES[kind] ?? []) names.add(`${name}${suffix}`);
  }
  return names;
}
