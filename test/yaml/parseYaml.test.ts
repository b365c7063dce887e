import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { yamlText } from '../../src/core/formatFlow.ts';
import { parseYaml } from '../../src/core/parseYaml.ts';
import type { Json, JsonObject } from '../../src/core/types.ts';
import { ATOMS, Rng, randomJson, randomObject, randomString, randomText } from './randomJson.ts';

/** What the `yaml` package itself makes of `text`, or undefined when it reports an error. */
function reference(text: string): Json | undefined {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) return undefined;
  return doc.toJS({ maxAliasCount: 100 }) as Json;
}

/** Fails with the seed and text when the parse of `text` is not `expected`. */
function expectSame(actual: Json | undefined, expected: Json | undefined, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    expect.fail(`${what}\nactual:   ${JSON.stringify(actual)}\nexpected: ${JSON.stringify(expected)}`);
  }
}

describe('parseYaml findings', () => {
  it('reports a duplicate key with its line and column', () => {
    const r = parseYaml('a: 1\nb:\n  c: 1\n  c: 2\n');
    expect(r.value).toBeUndefined();
    expect(r.fast).toBe(false);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'YAML_DUPLICATE_KEY', severity: 'error', line: 4, col: 3, path: '' });
    expect(r.findings[0]?.message).toBe('Map keys must be unique');
  });

  it('reports a syntax error with its line and column', () => {
    const r = parseYaml('name: x\na: b: c\n');
    expect(r.value).toBeUndefined();
    expect(r.findings[0]).toMatchObject({ code: 'YAML_SYNTAX', severity: 'error', line: 2, col: 4 });
    expect(r.findings[0]?.message).toBe('Nested mappings are not allowed in compact mappings');
    expect(parseYaml('a: 1\nb: "open\n').findings[0]).toMatchObject({ code: 'YAML_SYNTAX', line: 3, col: 1, message: 'Missing closing "quote' });
  });

  it('reports a bad indentation with its position', () => {
    const r = parseYaml('a:\n  b: 1\n c: 2\n');
    expect(r.findings.map((f) => [f.code, f.line])).toContainEqual(['YAML_SYNTAX', 3]);
  });

  it('reports a document that is not one mapping as YAML_NOT_MAPPING with path ""', () => {
    for (const [text, found] of [
      ['- a\n- b\n', 'a sequence'],
      ['just text\n', 'a scalar'],
      ['', 'an empty document'],
      ['# only a comment\n', 'an empty document'],
    ] as const) {
      const r = parseYaml(text);
      expect(r.value, text).toBeUndefined();
      expect(r.findings, text).toEqual([
        { code: 'YAML_NOT_MAPPING', severity: 'error', path: '', file: '', line: 1, col: 1, message: `a flow file must be one YAML mapping, found ${found}` },
      ]);
    }
    const multi = parseYaml('a: 1\n---\nb: 2\n');
    expect(multi.value).toBeUndefined();
    expect(multi.findings.map((f) => f.code)).toEqual(['YAML_NOT_MAPPING']);
  });

  it('refuses values that are not JSON, with their path and position', () => {
    const r = parseYaml('a:\n  b: [1, .inf]\n');
    expect(r.value).toBeUndefined();
    expect(r.findings).toEqual([
      { code: 'YAML_SYNTAX', severity: 'error', path: '/a/b/1', file: '', line: 2, col: 10, message: '.inf is not a JSON value (flow files hold JSON values only)' },
    ]);
  });

  it('refuses tagged collections and binary scalars, which are not JSON', () => {
    expect(parseYaml('a: !!set {x}\n').findings).toMatchObject([{ code: 'YAML_SYNTAX', path: '/a', line: 1, col: 10 }]);
    expect(parseYaml('a:\n  - !!omap [x: 1]\n').findings).toMatchObject([{ code: 'YAML_SYNTAX', path: '/a/0', line: 2, col: 12 }]);
    expect(parseYaml('a: !!binary aGVsbG8=\n').findings).toMatchObject([{ code: 'YAML_SYNTAX', path: '/a' }]);
    expect(parseYaml('a: !!str 1\nb: !!map {}\n').value).toEqual({ a: '1', b: {} });
  });

  it('keeps the value but warns about an unknown tag', () => {
    const r = parseYaml('a: !foo x\n');
    expect(r.value).toEqual({ a: 'x' });
    expect(r.findings).toEqual([{ code: 'YAML_WARNING', severity: 'warning', path: '', file: '', line: 1, col: 4, message: 'Unresolved tag: !foo' }]);
  });

  it('refuses keys that collide once read as strings', () => {
    const r = parseYaml('1: a\n"1": b\n');
    expect(r.value).toBeUndefined();
    expect(r.findings[0]).toMatchObject({ code: 'YAML_SYNTAX', path: '/1', line: 2, col: 1 });
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', ''].join('\n');
    const r = parseYaml(bomb);
    expect(r.value).toBeUndefined();
    expect(r.findings[0]?.code).toBe('YAML_SYNTAX');
  });

  it('names the file in every finding when given one', () => {
    const r = parseYaml('a: 1\na: 2\n', 'flows/x.yaml');
    expect(r.findings[0]?.file).toBe('flows/x.yaml');
  });

  it('never throws, whatever the text', () => {
    const r = new Rng(7);
    for (let i = 0; i < 300; i++) {
      const text = Array.from({ length: r.int(1, 12) }, () => r.pick(ATOMS) + randomString(r, 2)).join(r.pick(['\n', ' ', ': ', '\n  ']));
      expect(() => parseYaml(text)).not.toThrow();
    }
  });
});

describe('parseYaml reads full YAML on the slow path', () => {
  it('reads flow style, comments, quotes, anchors and folded scalars like the yaml package', () => {
    const text = [
      '# a comment',
      'a: {x: 1, y: [true, null]}  # trailing',
      "b: 'single ''quoted'''",
      'c: &anchor',
      '  k: v',
      'd: *anchor',
      'e: >',
      '  folded',
      '  text',
      'f: 0x1F',
      'g:',
      '- at the same indent',
      '',
    ].join('\n');
    const r = parseYaml(text);
    expect(r.fast).toBe(false);
    expect(r.findings).toEqual([]);
    expect(r.value).toEqual({
      a: { x: 1, y: [true, null] },
      b: "single 'quoted'",
      c: { k: 'v' },
      d: { k: 'v' },
      e: 'folded text\n',
      f: 31,
      g: ['at the same indent'],
    });
  });

  it('takes the fast path for canonical text and hands the rest to the yaml package', () => {
    expect(parseYaml('# modeline\na: 1\nb:\n  - x\n  - "y"\n').fast).toBe(true);
    expect(parseYaml('a: 1\nb:\n- x\n').fast).toBe(false); // sequence not indented under its key
    expect(parseYaml('a: 1').fast).toBe(false); // no final line break
    expect(parseYaml('a: 1\n\nb: 2\n').fast).toBe(false); // blank line
    expect(parseYaml('a: 1 # c\n').fast).toBe(false);
    expect(parseYaml('a: 1\r\n').fast).toBe(false);
    expect(parseYaml('\ufeffa: 1\n').fast).toBe(false);
    expect(parseYaml('a: 1.50\n').fast).toBe(false); // not the shortest form of the number
    expect(parseYaml('a: 1\n').value).toEqual({ a: 1 });
    expect(parseYaml('a: 1.50\n').value).toEqual({ a: 1.5 });
  });
});

describe('fast path invariant: whenever it accepts a text, it agrees with the yaml package', () => {
  it('reads back everything yamlText writes, fast, equal to the value and to the yaml package', () => {
    const r = new Rng(20240101);
    for (let i = 0; i < 1500; i++) {
      const value = randomObject(r, 4, 6);
      const text = yamlText(value);
      const parsed = parseYaml(text);
      const what = `case ${i}:\n${text}`;
      expect(parsed.fast, what).toBe(true);
      expectSame(parsed.value, value, what);
      expectSame(reference(text), value, what);
    }
  });

  it('round-trips every nasty string as a key and as a value', () => {
    const r = new Rng(99);
    const strings = [...ATOMS, ...Array.from({ length: 4000 }, () => randomString(r)), ...Array.from({ length: 1000 }, () => randomText(r))];
    for (const s of strings) {
      const value: JsonObject = { k: s, list: [s, [s], { [s.length > 900 ? 'long' : s]: s }] };
      if (s.length <= 900) value[s] = 1;
      const text = yamlText(value);
      const parsed = parseYaml(text);
      const what = `string ${JSON.stringify(s)}:\n${text}`;
      expect(parsed.fast, what).toBe(true);
      expectSame(parsed.value, value, what);
      expectSame(reference(text), value, what);
    }
  });

  it('writes keys longer than an implicit key allows as explicit keys, which the yaml package reads back', () => {
    const long = 'k'.repeat(1500);
    const quotedLong = '"'.repeat(600);
    const value: JsonObject = { [long]: { a: [1, 'x\ny\n'] }, [quotedLong]: [], tail: 'x' };
    const text = yamlText(value);
    expect(text.startsWith(`? ${long}\n: a:\n    - 1\n    - |\n      x\n      y\n`)).toBe(true);
    const parsed = parseYaml(text);
    expect(parsed.fast).toBe(false);
    expectSame(parsed.value, value, text);
    // A plain key of 1001 characters is still fine for YAML, but not for the fast path's budget.
    const edge = `${'e'.repeat(1001)}: 1\n`;
    expect(parseYaml(edge).fast).toBe(false);
    expect(parseYaml(edge).value).toEqual({ ['e'.repeat(1001)]: 1 });
  });

  it('agrees with the yaml package on randomly damaged canonical texts', () => {
    const r = new Rng(4242);
    let accepted = 0;
    for (let i = 0; i < 2500; i++) {
      const base = yamlText(randomObject(r, 3, 5));
      const text = mutate(r, base);
      const parsed = parseYaml(text);
      if (!parsed.fast) continue;
      accepted++;
      const ref = reference(text);
      expect(ref, `fast path accepted a text the yaml package refuses:\n${text}`).not.toBeUndefined();
      expectSame(parsed.value, ref, `damaged text:\n${text}`);
    }
    // The fuzzing only means something when many damaged texts still take the fast path.
    expect(accepted).toBeGreaterThan(500);
  });

  it('agrees with the yaml package on random block scalars', () => {
    const r = new Rng(5);
    for (let i = 0; i < 3000; i++) {
      const header = r.pick(['|', '|-', '|+', '|2', '|2-', '|2+', '|1', '|3', '|-2', '>']);
      const lines = Array.from({ length: r.int(0, 5) }, () => r.pick(['', '  ', '   ', '    ', ' ', '\t']) + r.pick(['', 'x', ' y', '\tz', '#', '  ']));
      const indent = r.pick(['', '  ']);
      const lead = indent === '' ? 'k: ' : 'o:\n  - ';
      const text = `${lead}${header}\n${lines.map((l) => (l === '' ? '' : indent + l)).join('\n')}\n${r.pick(['', 'z: 1\n', '\n', '  \n'])}`;
      const parsed = parseYaml(text);
      if (!parsed.fast) continue;
      expectSame(parsed.value, reference(text), `block scalar:\n${text}`);
    }
  });
});

/** One to three random edits of a YAML text: characters, atoms, whole lines, indentation. */
function mutate(r: Rng, text: string): string {
  let t = text;
  const edits = r.int(1, 3);
  for (let e = 0; e < edits; e++) {
    const lines = t.split('\n');
    const li = r.int(0, Math.max(0, lines.length - 2));
    const line = lines[li] ?? '';
    const pos = r.int(0, line.length);
    switch (r.int(0, 7)) {
      case 0:
        lines[li] = line.slice(0, pos) + r.pick(ATOMS) + line.slice(pos);
        break;
      case 1:
        lines[li] = line.slice(0, pos) + line.slice(pos + r.int(1, 4));
        break;
      case 2:
        lines[li] = line.slice(0, pos) + randomString(r, 1) + line.slice(pos + 1);
        break;
      case 3:
        lines.splice(li, 0, line);
        break;
      case 4:
        lines.splice(li, 1);
        break;
      case 5:
        lines[li] = r.chance(0.5) ? `  ${line}` : line.replace(/^ {1,2}/, '');
        break;
      case 6: {
        const other = r.int(0, Math.max(0, lines.length - 2));
        [lines[li], lines[other]] = [lines[other] ?? '', line];
        break;
      }
      default:
        lines[li] = line.replace(/: .*$/, `: ${r.pick(ATOMS)}${r.chance(0.5) ? r.pick(ATOMS) : ''}`);
    }
    t = lines.join('\n');
  }
  return t;
}

void randomJson;
