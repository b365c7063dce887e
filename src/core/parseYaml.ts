/**
 * YAML text → JSON value, with findings instead of exceptions. A hand-written reader takes the
 * canonical subset formatFlow writes (fast); anything else goes to the `yaml` package (slow, full
 * YAML 1.2, positions for every error).
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { putKey } from './canonicalFlow.ts';
import { UNSAFE_CHAR_RE, isPlainSafe } from './formatFlow.ts';
import type { Finding, Json, JsonObject } from './types.ts';

/** The outcome of parsing one YAML text: the value when it parsed, and YAML findings otherwise. */
export interface YamlParseResult {
  value?: Json;
  findings: Finding[];
  /** True when the canonical fast path read the text (the `yaml` package was not needed). */
  fast: boolean;
}

// --- fast path -------------------------------------------------------------------------------

/** Thrown inside the fast reader at the first thing outside the canonical subset. */
const NOT_CANONICAL = Symbol('not canonical');

// Same limit formatFlow uses before it switches to explicit `? ` keys.
const MAX_IMPLICIT_KEY = 1000;

const LITERAL_HEADERS: Record<string, { indicator: boolean; chomp: '' | '-' | '+' }> = {
  '|': { indicator: false, chomp: '' },
  '|-': { indicator: false, chomp: '-' },
  '|+': { indicator: false, chomp: '+' },
  '|2': { indicator: true, chomp: '' },
  '|2-': { indicator: true, chomp: '-' },
  '|2+': { indicator: true, chomp: '+' },
};

const NUMBER_RE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e[+-][0-9]+)?$/;
const SPACE = 32;
const DASH = 45;
const QUOTE = 34;
const BACKSLASH = 92;

/** Index of the double quote closing the one at `start`, or -1. */
function closingQuote(line: string, start: number): number {
  let e = line.indexOf('"', start + 1);
  while (e !== -1) {
    let slashes = 0;
    while (line.charCodeAt(e - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return e;
    e = line.indexOf('"', e + 1);
  }
  return -1;
}

/** A double-quoted scalar: with only JSON escapes and no raw controls, YAML and JSON read it alike. */
function quoted(token: string): string {
  // Without escapes or tabs the text between the quotes is the value (controls were screened out).
  if (token.indexOf('\\') === -1 && token.indexOf('\t') === -1) return token.slice(1, -1);
  try {
    return JSON.parse(token) as string;
  } catch {
    throw NOT_CANONICAL;
  }
}

/** A plain scalar as formatFlow writes it: null, a boolean, a number in shortest form, or a safe string. */
function plain(token: string): Json {
  switch (token) {
    case 'null':
      return null;
    case 'true':
      return true;
    case 'false':
      return false;
    case '-0':
      return -0;
  }
  const c = token.charCodeAt(0);
  if (c === DASH || (c >= 48 && c <= 57)) {
    // Only the shortest round-trip form, which every YAML reader turns into this same double.
    if (NUMBER_RE.test(token)) {
      const n = Number(token);
      if (String(n) === token) return n;
    }
    throw NOT_CANONICAL;
  }
  if (isPlainSafe(token)) return token;
  throw NOT_CANONICAL;
}

/** Reads the canonical subset line by line; throws NOT_CANONICAL at the first surprise. */
class FastReader {
  i = 0;
  constructor(readonly lines: string[]) {}

  /** True when line `i` is indented by exactly `k` spaces (and holds more than that). */
  at(k: number): boolean {
    const line = this.lines[this.i] as string;
    if (line.length <= k) return false;
    for (let j = 0; j < k; j++) if (line.charCodeAt(j) !== SPACE) return false;
    return line.charCodeAt(k) !== SPACE;
  }

  /** Where the collection at column `k` ends: true when line `i` is less indented than `k`. */
  ended(k: number): boolean {
    if (this.i >= this.lines.length) return true;
    if (this.at(k)) return false;
    const line = this.lines[this.i] as string;
    let j = 0;
    while (j < line.length && line.charCodeAt(j) === SPACE) j++;
    if (j < k && j < line.length) return true;
    throw NOT_CANONICAL; // blank, over-indented or whitespace-only line
  }

  /** A block node starting on line `i` at column `k`, after a `key:` line. */
  nested(k: number): Json {
    if (this.i >= this.lines.length || !this.at(k)) throw NOT_CANONICAL;
    const line = this.lines[this.i] as string;
    return line.charCodeAt(k) === DASH && line.charCodeAt(k + 1) === SPACE ? this.sequence(k, false) : this.mapping(k, false);
  }

  /** A block mapping with keys at column `k`; `compact` = its first key follows `- ` on line `i`. */
  mapping(k: number, compact: boolean): JsonObject {
    const obj: JsonObject = {};
    for (let first = compact; first || !this.ended(k); first = false) {
      const line = this.lines[this.i] as string;
      let key: string;
      let colon: number;
      if (line.charCodeAt(k) === QUOTE) {
        const e = closingQuote(line, k);
        if (e === -1 || line.charCodeAt(e + 1) !== 58) throw NOT_CANONICAL;
        key = quoted(line.slice(k, e + 1));
        colon = e + 1;
      } else {
        colon = line.indexOf(': ', k);
        if (colon === -1) {
          if (line.charCodeAt(line.length - 1) !== 58) throw NOT_CANONICAL;
          colon = line.length - 1;
        }
        key = line.slice(k, colon);
        if (!isPlainSafe(key)) throw NOT_CANONICAL;
      }
      if (colon - k > MAX_IMPLICIT_KEY || Object.hasOwn(obj, key)) throw NOT_CANONICAL;
      let value: Json;
      if (colon === line.length - 1) {
        this.i++;
        value = this.nested(k + 2);
      } else if (line.charCodeAt(colon + 1) === SPACE) {
        value = this.inline(line, colon + 2, k);
      } else {
        throw NOT_CANONICAL;
      }
      putKey(obj, key, value);
    }
    return obj;
  }

  /** A block sequence with dashes at column `k`; `compact` = its first dash follows `- ` on line `i`. */
  sequence(k: number, compact: boolean): Json[] {
    const arr: Json[] = [];
    for (let first = compact; first || !this.ended(k); first = false) {
      const line = this.lines[this.i] as string;
      if (line.charCodeAt(k) !== DASH || line.charCodeAt(k + 1) !== SPACE) throw NOT_CANONICAL;
      const c = k + 2;
      const ch = line.charCodeAt(c);
      if (ch === DASH && line.charCodeAt(c + 1) === SPACE) {
        arr.push(this.sequence(c, true));
      } else if (ch === QUOTE) {
        const e = closingQuote(line, c);
        if (e === line.length - 1) arr.push(this.inline(line, c, k));
        else if (e !== -1 && line.charCodeAt(e + 1) === 58) arr.push(this.mapping(c, true));
        else throw NOT_CANONICAL;
      } else if (line.indexOf(': ', c) !== -1 || line.charCodeAt(line.length - 1) === 58) {
        // A plain scalar never holds `: ` nor ends with `:`, so this is a mapping's first key.
        arr.push(this.mapping(c, true));
      } else {
        arr.push(this.inline(line, c, k));
      }
    }
    return arr;
  }

  /** The scalar or empty collection from `start` to the end of line `i`; `k` = column of its key or dash. */
  inline(line: string, start: number, k: number): Json {
    const ch = line.charCodeAt(start);
    if (ch === QUOTE) {
      if (closingQuote(line, start) !== line.length - 1) throw NOT_CANONICAL;
      this.i++;
      return quoted(line.slice(start));
    }
    const token = start === 0 ? line : line.slice(start);
    if (ch === 124) return this.literal(token, k);
    this.i++;
    if (token === '[]') return [];
    if (token === '{}') return {};
    return plain(token);
  }

  /** A literal block scalar whose header is `header`; its content lines sit at column `k + 2`. */
  literal(header: string, k: number): string {
    const spec = LITERAL_HEADERS[header];
    if (spec === undefined) throw NOT_CANONICAL;
    const ci = k + 2;
    const parts: string[] = [];
    let content = false;
    for (this.i++; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i] as string;
      if (line === '') {
        parts.push('');
        continue;
      }
      let j = 0;
      while (j < ci && line.charCodeAt(j) === SPACE) j++;
      if (j < ci) {
        if (j === line.length) throw NOT_CANONICAL; // a whitespace-only line less indented than the content
        break;
      }
      // A line of only spaces or tabs: readers disagree whether it is content or empty.
      let w = ci;
      while (w < line.length && (line.charCodeAt(w) === SPACE || line.charCodeAt(w) === 9)) w++;
      if (w === line.length) throw NOT_CANONICAL;
      // Without an indicator the reader detects the indentation from the first non-empty line.
      if (!content && !spec.indicator && line.charCodeAt(ci) === SPACE) throw NOT_CANONICAL;
      content = true;
      parts.push(line.slice(ci));
    }
    let trailing = 0;
    while (parts.length > 0 && parts[parts.length - 1] === '') {
      parts.pop();
      trailing++;
    }
    const body = parts.join('\n');
    if (!/[^ \n]/.test(body)) throw NOT_CANONICAL;
    if (spec.chomp === '-') return body;
    if (spec.chomp === '') return `${body}\n`;
    return `${body}\n${'\n'.repeat(trailing)}`;
  }
}

// A cheap screen first; surrogates are fine in pairs, so only texts that hold any get the exact test.
const FAST_SCREEN_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\r\ud800-\udfff]/;
const FAST_BAD_RE = new RegExp(`${UNSAFE_CHAR_RE.source}|\\r`);

/** The value of `text` when it is in the canonical subset, else undefined. */
export function fastParse(text: string): JsonObject | undefined {
  if (text.charCodeAt(text.length - 1) !== 10) return undefined;
  if (FAST_SCREEN_RE.test(text) && FAST_BAD_RE.test(text)) return undefined;
  const lines = text.split('\n');
  lines.pop();
  let i = 0;
  while (i < lines.length && (lines[i] as string).charCodeAt(0) === 35) i++; // leading `#` comments
  if (i >= lines.length) return undefined;
  if (lines[i] === '{}') return i === lines.length - 1 ? {} : undefined;
  const reader = new FastReader(lines);
  reader.i = i;
  try {
    if (!reader.at(0)) return undefined;
    const value = reader.mapping(0, false);
    return reader.i === lines.length ? value : undefined;
  } catch (err) {
    if (err === NOT_CANONICAL) return undefined;
    throw err;
  }
}

// --- full YAML ---------------------------------------------------------------------------------

function finding(code: string, line: number, col: number, message: string, path = '', severity: Finding['severity'] = 'error'): Finding {
  return { code, severity, path, file: '', line, col, message };
}

function pointer(path: readonly string[]): string {
  return path.map((p) => `/${p.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

const MAP_TAG = 'tag:yaml.org,2002:map';
const SEQ_TAG = 'tag:yaml.org,2002:seq';

/** Findings the `yaml` package does not give: non-JSON scalars, non-string keys, keys equal once stringified. */
function jsonFindings(doc: Document, lc: LineCounter): Finding[] {
  const out: Finding[] = [];
  const at = (node: Node | null | undefined, path: string[], message: string): void => {
    const pos = node?.range ? lc.linePos(node.range[0]) : { line: 0, col: 0 };
    out.push(finding('YAML_SYNTAX', pos.line, pos.col, message, pointer(path)));
  };
  const walk = (node: unknown, path: string[]): void => {
    if ((isMap(node) || isSeq(node)) && node.tag !== undefined && node.tag !== (isMap(node) ? MAP_TAG : SEQ_TAG)) {
      // !!set, !!omap, !!pairs and the like become Set or Map objects, not JSON.
      at(node, path, `a ${node.tag} collection is not a JSON value (flow files hold JSON values only)`);
    } else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        let name: string;
        if (key === null || (isScalar(key) && key.value === null)) name = '';
        else if (isScalar(key) && typeof key.value !== 'object') name = String(key.value);
        else {
          at(key, path, 'a mapping key must be a string, not a collection or alias');
          continue;
        }
        if (seen.has(name)) at(key, [...path, name], `the key ${JSON.stringify(name)} appears twice once keys are read as strings`);
        seen.add(name);
        walk(pair.value, [...path, name]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, String(index)]));
    } else if (isScalar(node)) {
      const v = node.value;
      const ok = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) at(node, path, `${node.source ?? String(v)} is not a JSON value (flow files hold JSON values only)`);
    } else if (!isAlias(node) && node !== null && node !== undefined) {
      at(node as Node, path, 'this node is not a JSON value');
    }
  };
  walk(doc.contents, []);
  return out;
}

/** The yaml package's message without its source excerpt and position (findings carry line and col). */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function slowParse(text: string): YamlParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: true, lineCounter: lc, version: '1.2', schema: 'core' });
  const findings: Finding[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 0, col: 0 };
    const message = firstLine(e.message);
    const code = e.code === 'DUPLICATE_KEY' ? 'YAML_DUPLICATE_KEY' : e.code === 'MULTIPLE_DOCS' ? 'YAML_NOT_MAPPING' : 'YAML_SYNTAX';
    findings.push(finding(code, pos.line, pos.col, message));
  }
  for (const w of doc.warnings) {
    const pos = w.linePos?.[0] ?? { line: 0, col: 0 };
    findings.push(finding('YAML_WARNING', pos.line, pos.col, firstLine(w.message), '', 'warning'));
  }
  if (findings.some((f) => f.severity === 'error')) return { findings, fast: false };
  if (!isMap(doc.contents)) {
    const start = doc.contents?.range?.[0];
    const pos = start === undefined ? { line: 1, col: 1 } : lc.linePos(start);
    const found = doc.contents === null ? 'an empty document' : isSeq(doc.contents) ? 'a sequence' : 'a scalar';
    findings.push(finding('YAML_NOT_MAPPING', pos.line, pos.col, `a flow file must be one YAML mapping, found ${found}`));
    return { findings, fast: false };
  }
  findings.push(...jsonFindings(doc, lc));
  if (findings.some((f) => f.severity === 'error')) return { findings, fast: false };
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) as Json, findings, fast: false };
  } catch (err) {
    // toJS refuses alias bombs ("Excessive alias count").
    findings.push(finding('YAML_SYNTAX', 0, 0, err instanceof Error ? err.message : String(err)));
    return { findings, fast: false };
  }
}

/**
 * Parses YAML text (YAML 1.2 core schema, duplicate keys refused) into a JSON value; never throws.
 * The document must be one mapping (else YAML_NOT_MAPPING) of JSON values; what the `yaml` package
 * only warns about (an unknown tag) is a YAML_WARNING finding next to the value. Findings carry 1-based
 * line and col; their `file` is `file`. `fast` tells whether the canonical fast path read the text;
 * whenever it does, the value equals what the `yaml` package returns for the same text.
 */
export function parseYaml(text: string, file = ''): YamlParseResult {
  const value = fastParse(text);
  const result = value !== undefined ? { value, findings: [], fast: true } : slowParse(text);
  if (file !== '') for (const f of result.findings) f.file = file;
  return result;
}
