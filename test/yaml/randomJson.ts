/** Seeded random JSON values and nasty strings for the YAML property tests. */
import type { Json, JsonObject } from '../../src/core/types.ts';

/** A small seeded PRNG (mulberry32), so a failing case can be replayed from its seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

/** Pieces of text that YAML readers treat specially somewhere. */
export const ATOMS = [
  'yes', 'no', 'on', 'off', 'Yes', 'NO', 'On', 'OFF', 'y', 'Y', 'n', 'N', 'null', 'Null', 'NULL', '~',
  'true', 'True', 'TRUE', 'false', 'FALSE', '2024-01-01', '2024-01-01 10:00:00', '2001-12-14t21:59:43.10-05:00',
  '12:30:45', '190:20:30', '0x1F', '0o17', '0b101', '1e3', '1E3', '1e+21', '.inf', '-.inf', '+.INF', '.nan', '.NaN',
  '-', '- ', '--', '---', '...', ': ', ':', ' :', ' #', '#', '# ', '|', '|-', '|+', '|2', '>', '>-', '&a', '*a', '!tag',
  '!!str', '!!binary', '%YAML', '%', '@', '`', "'", '"', '\\', '\\n', '\\u0041', '[', ']', '{', '}', '[]', '{}', ',',
  '?', '? ', '<<', '=', '1_000', '+1', '-1', '-0', '0', '00', '0.', '.5', '01', '1.0', '3.14', '42', '1:2', ' ', '  ',
  '\t', '\n', '\n\n', '\n ', ' \n', '\r\n', '\r', '\0', '\x01', '\x08', '\x1b', '\x7f', '\x85', '\x9f', '\xa0',
  '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\ud800', '\udc00', '\ud83d\ude00', '\ud834\udd1e', 'é', '中文',
  '\u0301', '\u3000', '\u200b', 'a', 'b', 'key', 'x y', 'http://x.y/z?a=b#c', '${a}', '(x)', '/p', '_u', '$', '(', 'A',
  '__proto__', 'constructor', 'toString',
];

function randomChar(r: Rng): string {
  const k = r.int(0, 99);
  if (k < 55) return String.fromCharCode(r.int(0x20, 0x7e));
  if (k < 62) return String.fromCharCode(r.int(0, 0x1f));
  if (k < 66) return String.fromCharCode(r.int(0x7f, 0xa0));
  if (k < 80) return String.fromCharCode(r.int(0xa1, 0xd7ff));
  if (k < 86) return String.fromCharCode(r.int(0xe000, 0xffff));
  if (k < 93) return String.fromCodePoint(r.int(0x10000, 0x10ffff));
  return String.fromCharCode(r.int(0xd800, 0xdfff)); // a lone surrogate
}

/** A random string built from YAML-special atoms and random characters of every range. */
export function randomString(r: Rng, maxParts = 6): string {
  if (r.chance(0.01)) {
    // a very long line, or a very long multi-line text
    const unit = r.chance(0.5) ? 'abc def ' : 'line with: colon\n  indented\n';
    return unit.repeat(r.int(100, 700)) + (r.chance(0.5) ? r.pick(ATOMS) : '');
  }
  const parts = r.int(0, maxParts);
  let s = '';
  for (let i = 0; i < parts; i++) s += r.chance(0.45) ? r.pick(ATOMS) : randomChar(r);
  return s;
}

/** A string that is mostly readable text with line breaks and indentation (block scalar candidates). */
export function randomText(r: Rng): string {
  const lines: string[] = [];
  const n = r.int(1, 6);
  for (let i = 0; i < n; i++) {
    const lead = r.pick(['', '', '', ' ', '  ', '    ', '\t', ' \t']);
    const body = r.pick(['', '', 'hello', 'a: b', '- item', '# not a comment', '"q"', 'x  ', 'end ', '   ', '\t', 'ü😀', '---', '...', '|', 'k: |']);
    lines.push(lead + body);
  }
  return lines.join('\n') + '\n'.repeat(r.int(0, 3));
}

const NUMBERS = [0, -0, 1, -1, 42, 0.1, -0.5, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, -(2 ** 53), 123456789012345680000, 0.1 + 0.2, 1e100, -1e-300, 1116.3972338038218];

/** A random finite number: small integers, random doubles and edge values. */
export function randomNumber(r: Rng): number {
  const k = r.int(0, 3);
  if (k === 0) return r.pick(NUMBERS);
  if (k === 1) return r.int(-1000, 1000);
  if (k === 2) return (r.next() - 0.5) * 10 ** r.int(-10, 25);
  return new Float64Array(new Uint32Array([r.int(0, 0xffffffff), r.int(0, 0x7fefffff)]).buffer)[0] as number;
}

/** A random JSON value, nested at most `depth` levels. */
export function randomJson(r: Rng, depth: number): Json {
  const k = r.int(0, depth > 0 ? 9 : 5);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return randomNumber(r);
    case 3:
      return randomString(r);
    case 4:
      return r.chance(0.5) ? randomText(r) : randomString(r, 2);
    case 5:
      return r.pick(ATOMS);
    case 6:
    case 7: {
      const n = r.int(0, 4);
      return Array.from({ length: n }, () => randomJson(r, depth - 1));
    }
    default:
      return randomObject(r, depth - 1);
  }
}

/** A random JSON object with nasty keys. */
export function randomObject(r: Rng, depth: number, maxKeys = 4): JsonObject {
  const obj: JsonObject = {};
  const n = r.int(0, maxKeys);
  for (let i = 0; i < n; i++) {
    const key = r.chance(0.3) ? r.pick(ATOMS) : r.chance(0.5) ? randomString(r, 3) : r.pick(['id', 'name', 'x', 'y', 'data', 'value']);
    if (key.length > 900) continue; // long keys have their own test
    const value = randomJson(r, depth);
    if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    else obj[key] = value;
  }
  return obj;
}
