/**
 * The canonical YAML text of a flow file, written by hand so that every scalar style is chosen on
 * purpose and parseYaml's fast path can read back exactly the subset written here.
 */
import { FlowregError } from '../errors/index.ts';
import { canonicalFlow } from './canonicalFlow.ts';
import { modeline } from './schemaRef.ts';
import type { FlowFile, JsonObject } from './types.ts';

// Characters YAML cannot carry raw (C0/C1 controls, DEL, NEL, BOM, non-characters) or that some
// readers treat as line breaks (U+2028/2029), and lone surrogates. Tab and LF are handled apart.
const UNSAFE_CHAR = '[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufeff\\ufffe\\uffff]|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';

/** Matches any character that must not appear raw in a canonical file (tab and LF excepted). */
export const UNSAFE_CHAR_RE = new RegExp(UNSAFE_CHAR);

// Words that resolve to a boolean or null in YAML 1.1 or 1.2; every other plain-safe text is a string.
const RESERVED_RE = /^(?:[yYnN]|[Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF|[Nn]ull|NULL)$/;

// JSON.stringify escapes C0 controls, quotes, backslashes and lone surrogates; YAML readers also
// need these escaped.
const DQ_EXTRA_RE = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g;

// Literal blocks cannot carry the unsafe characters nor CR (a line break to YAML).
const LITERAL_BAD_RE = new RegExp(`${UNSAFE_CHAR}|\\r`);

// Implicit keys end within 1024 characters of their start (YAML 1.2 §7.4); longer keys use `? `.
const MAX_IMPLICIT_KEY = 1000;

/**
 * True when `s` can be written as a plain (unquoted) YAML scalar and reads back as the same string.
 * It starts with a letter, `_`, `/`, `$`, `(` or a non-ASCII character, so it can never be a YAML
 * indicator, a number, a date, `.inf`, `~`, `<<` or `=`; it holds no `: `, no ` #`, no tab, line
 * break, control or lone surrogate; it does not end with a space or `:`; and it is not a word that
 * YAML 1.1 or 1.2 reads as a boolean or null. (A loop, not a regular expression: the fast path
 * calls this on every scalar.)
 */
export function isPlainSafe(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  const c0 = s.charCodeAt(0);
  const letter = (c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90);
  if (!letter && c0 !== 95 && c0 !== 47 && c0 !== 36 && c0 !== 40 && c0 < 0xa0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 32 && c < 127) {
      if (c === 58) {
        const next = s.charCodeAt(i + 1); // NaN at the end
        if (!(next > 32)) return false;
      }
    } else if (c === 32) {
      const next = s.charCodeAt(i + 1);
      if (!(next > 0) || next === 35) return false;
    } else if (c < 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0xfffe || c === 0xffff) {
      return false;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return n > 5 || !RESERVED_RE.test(s);
}

/** `s` as a JSON-compatible YAML double-quoted scalar on one line. */
export function doubleQuoted(s: string): string {
  const json = JSON.stringify(s);
  DQ_EXTRA_RE.lastIndex = 0;
  return DQ_EXTRA_RE.test(json) ? json.replace(DQ_EXTRA_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** The shortest text that reads back as `n` in YAML 1.2 (core schema): integers stay integers. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new FlowregError('INVALID_INPUT', `${n} is not a JSON number`);
  return Object.is(n, -0) ? '-0' : String(n);
}

// A line of only spaces or tabs: YAML readers disagree whether it is content or an empty line.
const BLANK_LINE_RE = /(?:^|\n)[ \t]+(?:\n|$)/;

function literalSafe(s: string): boolean {
  // Needs a line break to be worth it, and a non-space character so the block has a content line.
  return s.includes('\n') && /[^ \n]/.test(s) && !LITERAL_BAD_RE.test(s) && !BLANK_LINE_RE.test(s);
}

const PADS: string[] = [''];
function pad(n: number): string {
  while (PADS.length <= n) PADS.push(' '.repeat(PADS.length));
  return PADS[n] as string;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return typeof value;
}

/** Writes YAML in the canonical subset; each method appends full lines. */
class Writer {
  out = '';

  /** Entries of a non-empty mapping whose keys sit at column `k`; `compact` = first line already started. */
  mapping(obj: object, k: number, compact: boolean): void {
    const indent = pad(k);
    let first = compact;
    const rec = obj as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const value = rec[key];
      if (value === undefined) continue; // an optional field left unset, as JSON.stringify does
      if (!first) this.out += indent;
      first = false;
      const keyText = isPlainSafe(key) ? key : doubleQuoted(key);
      if (keyText.length > MAX_IMPLICIT_KEY) {
        this.out += `? ${keyText}\n${indent}:`;
        this.item(value, k);
      } else {
        this.out += `${keyText}:`;
        this.value(value, k);
      }
    }
  }

  /** Items of a non-empty sequence whose dashes sit at column `k`. */
  sequence(arr: readonly unknown[], k: number, compact: boolean): void {
    const indent = pad(k);
    let first = compact;
    for (const value of arr) {
      if (value === undefined) throw new FlowregError('INVALID_INPUT', 'an array holds undefined, which is not a JSON value');
      if (!first) this.out += indent;
      first = false;
      this.out += '-';
      this.item(value, k);
    }
  }

  /** The value after `key:`, for a key at column `k`. */
  value(value: unknown, k: number): void {
    if (Array.isArray(value) && value.length > 0) {
      this.out += '\n';
      this.sequence(value, k + 2, false);
    } else if (this.isNonEmptyObject(value)) {
      this.out += '\n';
      this.mapping(value, k + 2, false);
    } else {
      this.out += ' ';
      this.scalar(value, k);
    }
  }

  /** The value after `-` (or an explicit `:`) at column `k`; nested collections start on the same line. */
  item(value: unknown, k: number): void {
    this.out += ' ';
    if (Array.isArray(value) && value.length > 0) this.sequence(value, k + 2, true);
    else if (this.isNonEmptyObject(value)) this.mapping(value, k + 2, true);
    else this.scalar(value, k);
  }

  isNonEmptyObject(value: unknown): value is object {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    if (!isPlainObject(value)) throw new FlowregError('INVALID_INPUT', `${describe(value)} is not a JSON value`);
    for (const key in value) if (Object.hasOwn(value, key) && (value as Record<string, unknown>)[key] !== undefined) return true;
    return false;
  }

  /** A scalar or empty collection, with its line end; `k` is the column of its key or dash. */
  scalar(value: unknown, k: number): void {
    switch (typeof value) {
      case 'string':
        if (isPlainSafe(value)) this.out += `${value}\n`;
        else if (literalSafe(value)) this.literal(value, k);
        else this.out += `${doubleQuoted(value)}\n`;
        return;
      case 'number':
        this.out += `${formatNumber(value)}\n`;
        return;
      case 'boolean':
        this.out += value ? 'true\n' : 'false\n';
        return;
      case 'object':
        if (value === null) this.out += 'null\n';
        else this.out += Array.isArray(value) ? '[]\n' : '{}\n';
        return;
      default:
        throw new FlowregError('INVALID_INPUT', `${describe(value)} is not a JSON value`);
    }
  }

  /** A literal block scalar; content lines sit two columns right of the key or dash at `k`. */
  literal(s: string, k: number): void {
    const lines = s.split('\n');
    let chomp = '-';
    if (s.endsWith('\n')) {
      lines.pop(); // the empty piece after the final line break
      chomp = s.endsWith('\n\n') ? '+' : '';
    }
    // Auto-detection takes the indentation of the first non-empty line, so a leading space needs
    // the explicit indicator.
    const indicator = /^\n* /.test(s) ? '2' : '';
    const indent = pad(k + 2);
    let out = `|${indicator}${chomp}\n`;
    for (const line of lines) out += line === '' ? '\n' : `${indent}${line}\n`;
    this.out += out;
  }
}

/**
 * The canonical YAML text of a mapping, without reordering its keys: two-space indent, sequences
 * indented under their key, plain scalars only when provably read back as the same string, else
 * literal blocks for multi-line text or JSON-style double quotes; no line folding. Keys whose value
 * is `undefined` are left out; other non-JSON values are an INVALID_INPUT error.
 */
export function yamlText(value: JsonObject | FlowFile): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FlowregError('INVALID_INPUT', `a flow file holds one mapping, not ${Array.isArray(value) ? 'an array' : describe(value)}`);
  }
  const w = new Writer();
  if (w.isNonEmptyObject(value)) w.mapping(value, 0, false);
  else w.out = '{}\n';
  return w.out;
}

/** A flow file's full canonical text: the modeline pointing at `schemaRef`, then canonicalFlow(value) as YAML. */
export function formatFlow(value: JsonObject | FlowFile, options: { schemaRef: string }): string {
  return `${modeline(options.schemaRef)}\n${yamlText(canonicalFlow(value))}`;
}
