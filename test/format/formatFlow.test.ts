import { isDeepStrictEqual } from 'node:util';
import { parse as yamlParse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { canonicalFlow, putKey } from '../../src/core/canonicalFlow.ts';
import { doubleQuoted, formatFlow, formatNumber, isPlainSafe, yamlText } from '../../src/core/formatFlow.ts';
import { parseYaml } from '../../src/core/parseYaml.ts';
import { schemaRefFor } from '../../src/core/schemaRef.ts';
import { DERIVED_KEYS, FLOW_FILE_KEYS, type Json, type JsonObject } from '../../src/core/types.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { Rng, randomJson, randomObject, randomString } from '../yaml/randomJson.ts';

const REF = '../schemas/flow.schema.json';

describe('schemaRefFor', () => {
  it('points from the file to the repository root', () => {
    expect(schemaRefFor('flows/x.yaml')).toBe('../schemas/flow.schema.json');
    expect(schemaRefFor('flows/team-a/x.yaml')).toBe('../../schemas/flow.schema.json');
    expect(schemaRefFor('x.yaml')).toBe('schemas/flow.schema.json');
    expect(schemaRefFor('./flows//x.yaml')).toBe('../schemas/flow.schema.json');
    expect(schemaRefFor('flows\\team-a\\x.yaml')).toBe('../../schemas/flow.schema.json');
    expect(schemaRefFor('flows/a/../x.yaml')).toBe('../schemas/flow.schema.json');
  });
});

describe('canonicalFlow', () => {
  it('orders top-level keys, drops derived keys and nulls, sorts unknown keys before flow_data', () => {
    const out = canonicalFlow({
      flow_data: { viewport: { zoom: 1, y: 2, x: 3 }, extra: 1, edges: [], nodes: [] },
      zeta: 1,
      version: '0.1.1',
      gmt_created: '2025-01-01 00:00:00',
      gmt_modified: null,
      error_message: '',
      metadata: { triggers: [] },
      alpha: 'a',
      description: null,
      label: 'L',
      name: 'n',
      uid: 'u',
      editable: false,
      nothing: null,
    });
    expect(Object.keys(out)).toEqual(['uid', 'name', 'label', 'editable', 'alpha', 'zeta', 'flow_data']);
    const fd = out.flow_data as JsonObject;
    expect(Object.keys(fd)).toEqual(['nodes', 'edges', 'viewport', 'extra']);
    expect(Object.keys(fd.viewport as JsonObject)).toEqual(['x', 'y', 'zoom']);
  });

  it('orders nodes, positions, edges, node data, parameters, IO fields and options; unknown keys keep their order after', () => {
    const out = canonicalFlow({
      uid: 'u',
      name: 'n',
      label: 'l',
      variables: [{ value: 1, zz: 0, key: 'k', category: 'common', label: 'K', scope: 'global' }],
      flow_data: {
        edges: [{ type: 'buttonedge', zz: 1, target_handle: 'b|inputs|0', target: 'b', source: 'a', id: 'a|b', aa: 2, source_order: 0 }],
        nodes: [
          {
            data: {
              parameters: [{ ui: null, value: 1, options: [{ children: null, value: 1, name: 'o', label: 'O', z: 0 }], name: 'p', type_name: 'int', extra: 0 }],
              outputs: [{ mappers: null, name: 'o', type_cls: 'builtins.str', zz: 0 }],
              inputs: [],
              z_unknown: 1,
              id: 'a',
              label: 'A',
              a_unknown: 2,
              flow_type: 'operator',
            },
            position_absolute: { zoom: 0, y: 1, x: 2, extra: 3 },
            position: { y: 1, x: 2 },
            width: 1,
            height: 2,
            mystery: null,
            id: 'a',
            type: 'customNode',
          },
        ],
        viewport: { x: 0, y: 0, zoom: 1 },
      },
    });
    const fd = out.flow_data as { nodes: JsonObject[]; edges: JsonObject[] };
    const node = fd.nodes[0] as JsonObject;
    expect(Object.keys(node)).toEqual(['id', 'type', 'width', 'height', 'position', 'position_absolute', 'data', 'mystery']);
    expect(node.mystery).toBeNull(); // values inside flow_data are kept, nulls too
    expect(Object.keys(node.position as JsonObject)).toEqual(['x', 'y']);
    expect(Object.keys(node.position_absolute as JsonObject)).toEqual(['x', 'y', 'zoom', 'extra']);
    const data = node.data as JsonObject;
    expect(Object.keys(data)).toEqual(['label', 'flow_type', 'id', 'inputs', 'outputs', 'parameters', 'z_unknown', 'a_unknown']);
    const param = (data.parameters as JsonObject[])[0] as JsonObject;
    expect(Object.keys(param)).toEqual(['type_name', 'name', 'options', 'value', 'ui', 'extra']);
    expect(Object.keys((param.options as JsonObject[])[0] as JsonObject)).toEqual(['label', 'name', 'value', 'children', 'z']);
    expect(Object.keys((data.outputs as JsonObject[])[0] as JsonObject)).toEqual(['type_cls', 'name', 'mappers', 'zz']);
    expect(Object.keys(fd.edges[0] as JsonObject)).toEqual(['id', 'source', 'source_order', 'target', 'target_handle', 'type', 'zz', 'aa']);
    expect(Object.keys((out.variables as JsonObject[])[0] as JsonObject)).toEqual(['key', 'label', 'category', 'scope', 'value', 'zz']);
  });

  it('leaves values of unexpected types alone', () => {
    const value = { uid: 'u', flow_data: { nodes: 'not a list', edges: [1, null, 'x'], viewport: null } };
    expect(canonicalFlow(value)).toEqual(value);
  });

  it('keeps a __proto__ key as data, not as a prototype', () => {
    const value = JSON.parse('{"uid":"u","__proto__":{"polluted":true},"flow_data":{"nodes":[{"__proto__":1,"id":"a"}]}}') as JsonObject;
    const out = canonicalFlow(value);
    expect(Object.keys(out)).toEqual(['uid', '__proto__', 'flow_data']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const text = formatFlow(value, { schemaRef: REF });
    expect(text).toContain('\n__proto__:\n  polluted: true\n');
    expect(isDeepStrictEqual(parseYaml(text).value, out)).toBe(true);
  });
});

describe('formatFlow', () => {
  it('writes the canonical text of a small flow', () => {
    const text = formatFlow(
      {
        version: '0.1.1',
        flow_data: {
          viewport: { x: -1.5, y: 20, zoom: 0.75 },
          edges: [{ target: 'b_0', source: 'a_0', id: 'a_0|b_0', source_handle: 'a_0|outputs|0', target_handle: 'b_0|inputs|0', source_order: 0, target_order: 0, type: 'buttonedge' }],
          nodes: [{ id: 'a_0', type: 'customNode', width: 320, height: 200, position: { x: 1, y: 2, zoom: 0 }, position_absolute: { x: 1, y: 2, zoom: 0 }, data: { label: 'A', tags: {}, parameters: [], description: null } }],
        },
        description: 'Two lines\nof text',
        label: 'My flow',
        name: 'my_flow',
        uid: '0b3c',
        state: 'initializing',
        editable: true,
        dag_id: null,
      },
      { schemaRef: REF },
    );
    expect(text).toBe(
      [
        '# yaml-language-server: $schema=../schemas/flow.schema.json',
        'uid: "0b3c"',
        'name: my_flow',
        'label: My flow',
        'description: |-',
        '  Two lines',
        '  of text',
        'state: initializing',
        'editable: true',
        'flow_data:',
        '  nodes:',
        '    - id: a_0',
        '      type: customNode',
        '      width: 320',
        '      height: 200',
        '      position:',
        '        x: 1',
        '        "y": 2',
        '        zoom: 0',
        '      position_absolute:',
        '        x: 1',
        '        "y": 2',
        '        zoom: 0',
        '      data:',
        '        label: A',
        '        description: null',
        '        tags: {}',
        '        parameters: []',
        '  edges:',
        '    - id: a_0|b_0',
        '      source: a_0',
        '      source_order: 0',
        '      source_handle: a_0|outputs|0',
        '      target: b_0',
        '      target_order: 0',
        '      target_handle: b_0|inputs|0',
        '      type: buttonedge',
        '  viewport:',
        '    x: -1.5',
        '    "y": 20',
        '    zoom: 0.75',
        '',
      ].join('\n'),
    );
  });

  it('writes an empty flow as {}', () => {
    expect(formatFlow({ version: 'x', description: null }, { schemaRef: 'schemas/flow.schema.json' })).toBe('# yaml-language-server: $schema=schemas/flow.schema.json\n{}\n');
  });

  it('quotes every string a YAML 1.1 or 1.2 reader would take for something else', () => {
    const tricky = ['yes', 'No', 'ON', 'off', 'y', 'N', 'null', 'Null', '~', 'true', 'False', '', '2024-01-01', '12:30', '0x1F', '0o17', '1e3', '1_000', '.inf', '-.inf', '.nan', '-', '-1', '+1', '01', '.5', '<<', '=', ': x', 'a: b', 'a #b', 'a:', ' lead', 'trail ', 'tab\there', '#x', '&a', '*a', '!t', '%x', '@x', '`x', '|', '>', '[x', '{x', '"x', "'x", '?x', ',x', '\u2028', '\ufeff'];
    for (const s of tricky) {
      expect(isPlainSafe(s), s).toBe(false);
      expect(yamlText({ k: s }), s).toBe(`k: ${doubleQuoted(s)}\n`);
    }
    const plain = ['abc', 'Hello world', 'dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpTrigger', 'http://x.y/z?a=b#c', 'a|b|outputs|0', '${var}', '/api/v1', '_x', '中文', 'é', '😀 smile', 'yesterday', 'nullable', 'a#b', 'a:b', "it's"];
    for (const s of plain) {
      expect(isPlainSafe(s), s).toBe(true);
      expect(yamlText({ k: s }), s).toBe(`k: ${s}\n`);
    }
  });

  it('escapes controls, NEL, line and paragraph separators, BOM and lone surrogates in double quotes', () => {
    expect(doubleQuoted('a\u0000\u0007\t\r\n\u007f\u0085\u00a0\u2028\u2029\ufeff\ud800x\udc00"\\')).toBe(
      '"a\\u0000\\u0007\\t\\r\\n\\u007f\\u0085\u00a0\\u2028\\u2029\\ufeff\\ud800x\\udc00\\"\\\\"',
    );
    expect(doubleQuoted('😀')).toBe('"😀"');
  });

  it('uses literal block scalars for multi-line text, with chomping and indentation indicators', () => {
    expect(yamlText({ k: 'a\nb' })).toBe('k: |-\n  a\n  b\n');
    expect(yamlText({ k: 'a\nb\n' })).toBe('k: |\n  a\n  b\n');
    expect(yamlText({ k: 'a\n\nb\n\n\n' })).toBe('k: |+\n  a\n\n  b\n\n\n');
    expect(yamlText({ k: '  indented\nb' })).toBe('k: |2-\n    indented\n  b\n');
    expect(yamlText({ k: '\n\n x' })).toBe('k: |2-\n\n\n   x\n');
    expect(yamlText({ k: ['a\nb'] })).toBe('k:\n  - |-\n    a\n    b\n');
    expect(yamlText({ k: [{ m: 'a\n' }] })).toBe('k:\n  - m: |\n      a\n');
    // Not safe as a block: a CR, a whitespace-only line, nothing but spaces.
    expect(yamlText({ k: 'a\r\nb' })).toBe('k: "a\\r\\nb"\n');
    expect(yamlText({ k: 'a\n  \nb' })).toBe('k: "a\\n  \\nb"\n');
    expect(yamlText({ k: ' \n' })).toBe('k: " \\n"\n');
  });

  it('writes numbers in their shortest round-trip form; integers stay integers', () => {
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(-0)).toBe('-0');
    expect(formatNumber(0.1)).toBe('0.1');
    expect(formatNumber(1e21)).toBe('1e+21');
    expect(formatNumber(5e-324)).toBe('5e-324');
    expect(formatNumber(1116.3972338038218)).toBe('1116.3972338038218');
    expect(formatNumber(2 ** 53 + 2)).toBe('9007199254740994');
    expect(() => formatNumber(Number.NaN)).toThrow();
    expect(yamlText({ a: 1e21, b: -0, c: 1.5 })).toBe('a: 1e+21\nb: -0\nc: 1.5\n');
  });

  it('nests sequences and mappings compactly, with [] and {} for empty ones', () => {
    expect(yamlText({ a: [[1, [2]], [], {}, { b: { c: [] } }, null] })).toBe('a:\n  - - 1\n    - - 2\n  - []\n  - {}\n  - b:\n      c: []\n  - null\n');
  });

  it('refuses values that are not JSON', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1n, () => 1, Symbol('x'), new Date(0), new Map()]) {
      let err: unknown;
      try {
        yamlText({ k: bad } as unknown as JsonObject);
      } catch (e) {
        err = e;
      }
      expect(isFlowregError(err, 'INVALID_INPUT'), String(bad)).toBe(true);
    }
    expect(() => yamlText({ k: [undefined] } as unknown as JsonObject)).toThrow(/undefined/);
    expect(() => yamlText([1] as unknown as JsonObject)).toThrow(/not an array/);
    expect(() => formatFlow(null as unknown as JsonObject, { schemaRef: REF })).toThrow('a flow file holds one mapping, not null');
    expect(yamlText({ a: undefined, b: 1 } as unknown as JsonObject)).toBe('b: 1\n');
  });
});

/** A random object shaped like a flow file: declared, derived and unknown keys, nodes, edges, noise. */
function randomFlow(r: Rng): JsonObject {
  const shuffled = <T>(items: T[]): T[] => r.shuffle([...items]);
  const obj = (keys: string[]): JsonObject => {
    const o: JsonObject = {};
    for (const k of shuffled(keys)) if (r.chance(0.8)) o[k] = randomJson(r, 1);
    if (r.chance(0.3)) putKey(o, randomString(r, 2).slice(0, 50), randomJson(r, 1));
    return o;
  };
  const pos = (): JsonObject => {
    const p = obj(['zoom', 'y']);
    putKey(p, 'x', r.next() * 2000 - 1000);
    return p;
  };
  const flow: JsonObject = {};
  for (const k of shuffled([...FLOW_FILE_KEYS, ...DERIVED_KEYS, 'zzz', 'aaa', randomString(r, 2).slice(0, 40)])) {
    if (r.chance(0.75)) putKey(flow, k, r.chance(0.2) ? null : randomJson(r, 2));
  }
  if (r.chance(0.9)) {
    const nodes = Array.from({ length: r.int(0, 3) }, () => {
      const data = obj(['label', 'name', 'id', 'flow_type', 'description', 'category', 'tags', 'version', 'type_cls']);
      data.parameters = Array.from({ length: r.int(0, 2) }, () => obj(['name', 'value', 'default', 'type_cls', 'optional', 'ui', 'options']));
      data.inputs = Array.from({ length: r.int(0, 2) }, () => obj(['name', 'type_cls', 'label', 'mappers']));
      const node = obj(['id', 'type', 'width', 'height']);
      putKey(node, 'position', pos());
      putKey(node, 'position_absolute', pos());
      putKey(node, 'data', data);
      return node;
    });
    const edges = Array.from({ length: r.int(0, 3) }, () => obj(['id', 'source', 'target', 'source_handle', 'target_handle', 'source_order', 'target_order', 'type']));
    const fd: JsonObject = {};
    for (const [k, v] of shuffled<[string, Json]>([['nodes', nodes], ['edges', edges], ['viewport', pos()], ['extra', randomJson(r, 1)]])) if (r.chance(0.9)) putKey(fd, k, v);
    flow.flow_data = fd;
  }
  return flow;
}

describe('formatFlow property: canonical text reads back as canonicalFlow, fast, and is stable', () => {
  it('holds for random flow-like values', () => {
    const r = new Rng(31337);
    for (let i = 0; i < 800; i++) {
      const value = randomFlow(r);
      const canonical = canonicalFlow(value);
      const text = formatFlow(value, { schemaRef: REF });
      const parsed = parseYaml(text);
      const what = `case ${i}:\n${text}`;
      expect(parsed.fast, what).toBe(true);
      expect(isDeepStrictEqual(parsed.value, canonical), what).toBe(true);
      // same key order too (JSON.stringify keeps insertion order)
      expect(JSON.stringify(parsed.value), what).toBe(JSON.stringify(canonical));
      expect(isDeepStrictEqual(yamlParse(text, { uniqueKeys: true }), canonical), what).toBe(true);
      if (Object.hasOwn(value, 'flow_data') && value.flow_data !== null) {
        expect(isDeepStrictEqual(canonical.flow_data, value.flow_data), what).toBe(true);
      }
      expect(formatFlow(parsed.value as JsonObject, { schemaRef: REF }), what).toBe(text);
    }
  });

  it('holds for random objects with nasty keys and values', () => {
    const r = new Rng(8);
    for (let i = 0; i < 500; i++) {
      const value = randomObject(r, 3, 6);
      const text = formatFlow(value, { schemaRef: REF });
      const parsed = parseYaml(text);
      expect(parsed.fast).toBe(true);
      expect(isDeepStrictEqual(parsed.value, canonicalFlow(value)), text).toBe(true);
      expect(formatFlow(parsed.value as JsonObject, { schemaRef: REF })).toBe(text);
    }
  });
});
