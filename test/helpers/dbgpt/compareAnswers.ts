/**
 * Field-by-field comparison of two HTTP answers (DB-GPT's and flowreg's to the same request), and
 * the table of known differences in docs/api.md that the differential test checks them against.
 */
import type { Answer } from './requests.ts';
import { sseData } from './requests.ts';

/** One leaf of an answer: a path (`status`, `header.content-type`, `body.data.flow_data.nodes[x].id`, `body.data#keys`…) and its value as text. */
export type Leaves = Map<string, string>;

/**
 * Array elements are keyed by the first of these fields that is a string in every element and
 * unique; else by the first that is a string in every element, a repeated value getting `~2`,
 * `~3`… in order (DB-GPT's /nodes lists a few resources twice); else by index.
 */
const ELEMENT_KEYS = ['id', 'name', 'label', 'uid', 'key'];

function elementKeys(v: unknown[], norm: (s: string) => string): string[] | null {
  const candidates = ELEMENT_KEYS.flatMap((k) => {
    const values = v.map((e) => (typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>)[k] : undefined));
    return values.every((x) => typeof x === 'string') ? [values.map((x) => norm(x as string))] : [];
  });
  const unique = candidates.find((values) => new Set(values).size === values.length);
  if (unique !== undefined) return unique;
  const first = candidates[0];
  if (first === undefined) return null;
  const seen = new Map<string, number>();
  return first.map((x) => {
    const n = (seen.get(x) ?? 0) + 1;
    seen.set(x, n);
    return n === 1 ? x : `${x}~${n}`;
  });
}

/** Headers compared (the others are per server: date, server, content-length, request ids…). */
export const COMPARED_HEADERS = ['content-type', 'content-disposition'];

/** What a value looks like in a table or a message: JSON, cut at 160 characters. */
export function show(value: string | undefined): string {
  if (value === undefined) return '(absent)';
  return value.length > 400 ? `${value.slice(0, 397)}…` : value;
}

/**
 * The leaves of an answer. `replace` maps per-server values (generated uids) to placeholders in
 * every string. A JSON body is flattened; an SSE body becomes its events (`body.events[i]…`); any
 * other body is one leaf. An array of objects is flattened by a key field (`[key]`, see
 * elementKeys) with its order as the `#order` leaf, other arrays by index with a `#length` leaf.
 * An element present on one side only is one leaf (`{…}`), so the other side reports it as
 * absent once instead of field by field. Empty objects and arrays are leaves (`{}`, `[]`). The
 * order of an object's keys is not compared: JSON objects are unordered, and DB-GPT itself orders
 * a flow's keys differently per route.
 */
export function leavesOf(answer: Answer, replace: Map<string, string>): Leaves {
  const out: Leaves = new Map();
  const norm = (s: string): string => {
    let t = s;
    for (const [from, to] of replace) t = t.split(from).join(to);
    return t;
  };
  out.set('status', String(answer.status));
  for (const h of COMPARED_HEADERS) if (answer.headers[h] !== undefined) out.set(`header.${h}`, norm(answer.headers[h]));
  const walk = (path: string, v: unknown): void => {
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out.set(path, '[]');
        return;
      }
      out.set(path, '[…]');
      const keys = elementKeys(v, norm);
      if (keys === null) {
        out.set(`${path}#length`, String(v.length));
        v.forEach((e, i) => walk(`${path}[${i}]`, e));
        return;
      }
      out.set(`${path}#order`, keys.join(', '));
      v.forEach((e, i) => walk(`${path}[${keys[i]}]`, e));
      return;
    }
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      out.set(path, entries.length === 0 ? '{}' : '{…}');
      for (const [k, e] of entries) walk(`${path}.${k}`, e);
      return;
    }
    out.set(path, norm(JSON.stringify(v) ?? 'undefined'));
  };
  const type = answer.headers['content-type'] ?? '';
  if (type.startsWith('text/event-stream')) {
    walk(
      'body.events',
      sseData(answer.text).map((d) => {
        try {
          return JSON.parse(d) as unknown;
        } catch {
          return d;
        }
      }),
    );
  } else if (answer.json !== undefined) walk('body', answer.json);
  else out.set('body', norm(JSON.stringify(answer.text)));
  return out;
}

/** One difference between the two answers to one request. */
export interface Difference {
  request: string;
  path: string;
  dbgpt: string | undefined;
  flowreg: string | undefined;
}

/**
 * The differences of two leaf sets, parents before children. Below a path whose values differ and
 * where one side is an object or array (`{…}`, `[…]`) or absent, nothing more is reported: one
 * missing flow, or an object against null, is one difference.
 */
export function diffLeaves(request: string, dbgpt: Leaves, flowreg: Leaves): Difference[] {
  const out: Difference[] = [];
  const paths = [...new Set([...dbgpt.keys(), ...flowreg.keys()])].sort();
  const cut: string[] = [];
  const container = (v: string | undefined) => v === undefined || v === '{…}' || v === '[…]';
  for (const path of paths) {
    if (cut.some((r) => path.startsWith(r) && /^[.[#]/.test(path.slice(r.length)))) continue;
    const a = dbgpt.get(path);
    const b = flowreg.get(path);
    if (a === b) continue;
    out.push({ request, path, dbgpt: a, flowreg: b });
    if (container(a) || container(b)) cut.push(path);
  }
  return out;
}

/** One row of the table of known differences. */
export interface KnownDifference {
  /** The request label, or `*` (any request). */
  request: string;
  /** The field path; `[*]` matches any element key, `*` any text within one segment, `**` anything. */
  path: string;
  /** What differs, in words. Starting with `per server:` marks a value that may or may not differ in a run (times): never reported as stale. */
  what: string;
  line: number;
}

const TABLE_HEADER = /^\|\s*request\s*\|\s*field\s*\|\s*difference\s*\|\s*$/i;

/** Splits a markdown table row into its cells, honouring `\|` and inline code. */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\' && inner[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (c === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

const unCode = (s: string): string => s.replace(/^`(.*)`$/, '$1');

/** The rows of the table `| request | field | difference |` in the markdown text. */
export function parseKnownDifferences(markdown: string): KnownDifference[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => TABLE_HEADER.test(l));
  if (start < 0) throw new Error('no table "| request | field | difference |" found');
  const rows: KnownDifference[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.trim().startsWith('|'); i++) {
    const [request, path, what] = cells(lines[i]!);
    if (request === undefined || path === undefined || what === undefined) throw new Error(`line ${i + 1}: a row needs three cells`);
    rows.push({ request: unCode(request), path: unCode(path), what, line: i + 1 });
  }
  return rows;
}

/** `[*]`: any one element key (which may hold dots); `*`: any text within one segment; `**`: anything. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith('[*]', i)) {
      re += '\\[[^\\]]*\\]';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^.[\\]]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** True when the row covers the difference. */
export function covers(row: KnownDifference, d: Difference): boolean {
  return (row.request === '*' || row.request === d.request) && globToRegExp(row.path).test(d.path);
}

/** A difference as a table row, ready to paste into docs/api.md. */
export function asRow(d: Difference): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return `| ${esc(d.request)} | \`${esc(d.path)}\` | DB-GPT ${esc(show(d.dbgpt))}; flowreg ${esc(show(d.flowreg))} |`;
}
