// alerts.yaml as a YAML document that remembers where every node is, so that a problem found in
// the parsed data can be reported at its line and column.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigPath } from './errors.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface YamlSyntaxError extends Position {
  readonly message: string;
}

export type ParsedSource =
  | { readonly ok: true; readonly source: YamlSource }
  | { readonly ok: false; readonly errors: readonly YamlSyntaxError[] };

const QUOTE_HINT = ' (a ${…} reference inside [ ] or { } must be quoted: ["${VAR}"])';

export class YamlSource {
  private constructor(
    private readonly document: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Every syntax error at once, or the document. Messages leave out yaml's source excerpt: a value
   * written literally into a secret-bearing key must not end up in an error.
   */
  static parse(text: string): ParsedSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (document.errors.length === 0) return { ok: true, source: new YamlSource(document, lines) };
    const errors = document.errors.map((error): YamlSyntaxError => {
      const { line, col } = lines.linePos(error.pos[0]);
      const sourceLine = text.split(/\r?\n/)[line - 1] ?? '';
      const hint = /\$\{/.test(sourceLine) && /[[{]/.test(sourceLine) ? QUOTE_HINT : '';
      return { line, col, message: `YAML syntax: ${error.message}${hint}` };
    });
    return { ok: false, errors };
  }

  /** Plain data; throws yaml's error for an alias that can't be resolved (the caller reports it). */
  toData(): unknown {
    return this.document.toJS({ maxAliasCount: 100 });
  }

  /** Where the value at `path` starts, else where its nearest present ancestor does. */
  locateValue(path: ConfigPath): Position {
    return this.position(this.walk(path).value);
  }

  /** Where the key of the last segment of `path` is (for "unknown key"); falls back like locateValue. */
  locateKey(path: ConfigPath): Position {
    const found = this.walk(path);
    return this.position(found.complete ? (found.key ?? found.value) : found.value);
  }

  private walk(path: ConfigPath): { value: Node | null; key: Node | null; complete: boolean } {
    let value = (this.document.contents as Node | null) ?? null;
    let key: Node | null = null;
    for (const segment of path) {
      const container = isAlias(value) ? (value.resolve(this.document) as Node | undefined) : value;
      let next: Node | null = null;
      let nextKey: Node | null = null;
      if (isMap(container)) {
        const pair = container.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (pair) {
          nextKey = isScalar(pair.key) ? pair.key : null;
          next = (pair.value as Node | null) ?? nextKey;
        }
      } else if (isSeq(container) && typeof segment === 'number') {
        next = (container.items[segment] as Node | null | undefined) ?? null;
      }
      if (next === null) return { value, key, complete: false };
      value = next;
      key = nextKey;
    }
    return { value, key, complete: true };
  }

  private position(node: Node | null): Position {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, col: 1 };
    const { line, col } = this.lines.linePos(offset);
    return { line: Math.max(line, 1), col };
  }
}
