import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOW_SCHEMA_ID, flowSchema, laxBool, laxInt, readablePath } from '../../src/core/flowSchema.ts';
import { isWindowsReservedName } from '../../src/core/flowPaths.ts';
import { validateFlowText, validateFlowValue } from '../../src/core/validateFlow.ts';
import type { Finding, JsonObject } from '../../src/core/types.ts';
import { baseFlow, dataOf, type TestFlow } from './flows.ts';

/** `CODE path` of every finding, the shape most assertions below compare. */
const brief = (fs: Finding[]): string[] => fs.map((f) => `${f.code} ${f.path}`);

function nodes(flow: TestFlow): JsonObject[] {
  return flow.flow_data.nodes;
}

function paramsOf(node: JsonObject | undefined): JsonObject[] {
  const ps = dataOf(node).parameters;
  if (!Array.isArray(ps)) throw new Error('no parameters');
  return ps as JsonObject[];
}

describe('schemas/flow.schema.json', () => {
  const text = readFileSync(resolve(import.meta.dirname, '../../schemas/flow.schema.json'), 'utf8');
  const schema = JSON.parse(text) as JsonObject;

  it('is draft 2020-12 with the flowreg $id, and is what flowSchema.json serves', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(FLOW_SCHEMA_ID);
    expect(flowSchema.json).toEqual(schema);
  });

  it('requires uid, name and label and declares every stored field of docs/flow-files.md', () => {
    expect(schema.required).toEqual(['uid', 'name', 'label']);
    const props = Object.keys(schema.properties as JsonObject);
    for (const key of ['uid', 'name', 'label', 'description', 'flow_category', 'state', 'editable', 'define_type', 'source', 'source_url', 'user_name', 'sys_code', 'dag_id', 'authors', 'variables', 'flow_data']) {
      expect(props).toContain(key);
    }
  });

  it('leaves objects open (DB-GPT ignores extra keys), so editors do not flag them as errors', () => {
    expect(text).not.toContain('"additionalProperties": false');
  });

  it('carries DB-GPT field descriptions for editors', () => {
    const defs = schema.$defs as Record<string, JsonObject>;
    const node = defs.FlowNodeData?.properties as Record<string, JsonObject>;
    expect(node.width?.description).toBe('Width of the node.');
    const param = defs.Parameter?.properties as Record<string, JsonObject>;
    expect(param.optional?.description).toBe('Whether the parameter is optional.');
  });
});

describe('flowSchema.check', () => {
  it('accepts the base flow with no finding', () => {
    expect(flowSchema.check(baseFlow())).toEqual([]);
  });

  it('reports a missing required key with its own path and a readable message', () => {
    const flow = baseFlow();
    delete nodes(flow)[1]?.width;
    const [f] = flowSchema.check(flow);
    expect(f).toMatchObject({ code: 'SCHEMA_REQUIRED', severity: 'error', path: '/flow_data/nodes/1/width', message: 'flow_data.nodes[1].width is required but missing' });
  });

  it('reports a wrong type with what was expected and what was found', () => {
    const flow = baseFlow();
    flow.description = 42;
    expect(flowSchema.check(flow)).toEqual([
      { code: 'SCHEMA_TYPE', severity: 'error', path: '/description', file: '', line: 0, col: 0, message: 'description must be a string or null, found number 42' },
    ]);
  });

  it('reports an enum value with the allowed list', () => {
    const flow = baseFlow();
    flow.flow_category = 'chat';
    const [f] = flowSchema.check(flow);
    expect(f?.code).toBe('SCHEMA_ENUM');
    expect(f?.message).toBe('flow_category must be one of common, chat_flow, chat_agent, null, found string "chat"');
  });

  it('enforces the name pattern and a non-empty label', () => {
    const flow = baseFlow();
    flow.name = 'my flow';
    flow.label = '';
    expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_PATTERN /name', 'SCHEMA_CONSTRAINT /label']);
  });

  it('refuses the device names Windows reserves as flow names, in any case, with a message that says why', () => {
    for (const name of ['CON', 'con', 'nul', 'NUL', 'Aux', 'PRN', 'COM1', 'com0', 'lpt9', 'LpT3']) {
      const flow = baseFlow();
      flow.name = name;
      const fs = flowSchema.check(flow);
      expect(brief(fs)).toEqual(['SCHEMA_PATTERN /name']);
      expect(fs[0]?.message).toBe(
        `name must not be a device name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, in any case): the file <name>.yaml could not be checked out on Windows, found string "${name}"`,
      );
      expect(isWindowsReservedName(name)).toBe(true);
      expect(isWindowsReservedName(`${name}.yaml`)).toBe(true);
    }
    // a name with a dot already breaks the name pattern: one finding, not two
    const dotted = baseFlow();
    dotted.name = 'CON.txt';
    expect(brief(flowSchema.check(dotted))).toEqual(['SCHEMA_PATTERN /name']);
    // names that only start or end like one are fine
    for (const name of ['CONSOLE', 'icon', 'nul_flow', 'com10', 'LPT', 'auxiliary', 'com-1']) {
      const flow = baseFlow();
      flow.name = name;
      expect(flowSchema.check(flow)).toEqual([]);
      expect(isWindowsReservedName(name)).toBe(false);
    }
  });

  it('places the reserved-name finding of a file at the name, with line and column', () => {
    const text = ['uid: u-1', 'name: lpt9', 'label: printer', 'define_type: python', ''].join('\n');
    const { value, findings } = validateFlowText(text, { file: 'flows/lpt9.yaml' });
    expect(value).toBeUndefined();
    expect(findings.map((f) => `${f.code} ${f.line}:${f.col}`)).toEqual(['SCHEMA_PATTERN 2:7']);
  });

  it('requires flow_data when define_type is json or absent, not for python flows', () => {
    const { flow_data: _graph, ...flow } = baseFlow();
    expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_REQUIRED /flow_data']);
    expect(brief(flowSchema.check({ ...flow, define_type: 'json' }))).toEqual(['SCHEMA_REQUIRED /flow_data']);
    expect(brief(flowSchema.check({ ...flow, define_type: 'json', flow_data: null }))).toEqual(['SCHEMA_TYPE /flow_data']);
    expect(flowSchema.check({ ...flow, define_type: 'python' })).toEqual([]);
  });

  it('reports errors inside a nullable object, not "object or null"', () => {
    const flow = baseFlow();
    paramsOf(nodes(flow)[1])[1] = { ...paramsOf(nodes(flow)[1])[1], ui: { ui_type: 'knob' } };
    expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_ENUM /flow_data/nodes/1/data/parameters/1/ui/ui_type']);
  });

  it('turns keys DB-GPT ignores into warnings at the key, and derived keys into their own warning', () => {
    const flow = baseFlow();
    nodes(flow)[0]!.selected = true;
    dataOf(nodes(flow)[0]).color = 'red';
    flow.version = '0.1.1';
    flow.gmt_created = '2024-01-01 00:00:00';
    const fs = flowSchema.check(flow);
    expect(brief(fs)).toEqual([
      'SCHEMA_UNKNOWN_KEY /flow_data/nodes/0/selected',
      'SCHEMA_UNKNOWN_KEY /flow_data/nodes/0/data/color',
      'SCHEMA_DERIVED_KEY /version',
      'SCHEMA_DERIVED_KEY /gmt_created',
    ]);
    expect(fs.every((f) => f.severity === 'warning')).toBe(true);
  });

  it('keeps the UI-component keys DB-GPT does not validate out of the warnings', () => {
    const flow = baseFlow();
    paramsOf(nodes(flow)[1])[1]!.ui = { ui_type: 'text_area', size: 'large', attr: { disabled: false, auto_size: { min_rows: 2 } }, editor: { width: 800, height: 400 } };
    expect(flowSchema.check(flow)).toEqual([]);
  });

  describe('pydantic lax values: accepted where DB-GPT converts them', () => {
    it.each([
      ['width "320"', (f: TestFlow) => (nodes(f)[0]!.width = '320')],
      ['width 320.0 and " 7 "', (f: TestFlow) => Object.assign(nodes(f)[0]!, { width: 320.0, height: ' 7 ' })],
      ['zoom "1e3"', (f: TestFlow) => (f.flow_data.viewport.zoom = '1e3')],
      ['optional "OFF"', (f: TestFlow) => (paramsOf(nodes(f)[1])[1]!.optional = 'OFF')],
      ['source_order "0"', (f: TestFlow) => (f.flow_data.edges[0]!.source_order = '0')],
    ])('%s', (_label, mutate) => {
      const flow = baseFlow();
      mutate(flow);
      expect(flowSchema.check(flow)).toEqual([]);
    });

    it.each([
      ['width 320.5', (f: TestFlow) => (nodes(f)[0]!.width = 320.5), 'flow_data.nodes[0].width must be an integer, found number 320.5'],
      ['width "1e3"', (f: TestFlow) => (nodes(f)[0]!.width = '1e3'), 'flow_data.nodes[0].width must be an integer, found string "1e3"'],
      ['editable 2', (f: TestFlow) => (f.editable = 2), 'editable must be a boolean, found number 2'],
      // editable is strict, unlike DB-GPT: the REST API's write guard reads it (flowFromBody.checkEditable)
      ['editable "yes"', (f: TestFlow) => (f.editable = 'yes'), 'editable must be a boolean, found string "yes"'],
      ['editable "false"', (f: TestFlow) => (f.editable = 'false'), 'editable must be a boolean, found string "false"'],
      ['editable "no"', (f: TestFlow) => (f.editable = 'no'), 'editable must be a boolean, found string "no"'],
      ['editable "off"', (f: TestFlow) => (f.editable = 'off'), 'editable must be a boolean, found string "off"'],
      ['editable 0', (f: TestFlow) => (f.editable = 0), 'editable must be a boolean, found number 0'],
      ['editable null', (f: TestFlow) => (f.editable = null), 'editable must be a boolean, found null'],
      ['zoom "wide"', (f: TestFlow) => (f.flow_data.viewport.zoom = 'wide'), 'flow_data.viewport.zoom must be a number, found string "wide"'],
    ])('%s is rejected with one SCHEMA_TYPE finding', (_label, mutate, message) => {
      const flow = baseFlow();
      mutate(flow);
      const fs = flowSchema.check(flow);
      expect(fs).toHaveLength(1);
      expect(fs[0]).toMatchObject({ code: 'SCHEMA_TYPE', message });
    });
  });

  describe('node data', () => {
    it('picks the model from flow_type and rejects anything else', () => {
      const flow = baseFlow();
      dataOf(nodes(flow)[0]).flow_type = 'widget';
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_ENUM /flow_data/nodes/0/data/flow_type']);
      delete dataOf(nodes(flow)[0]).flow_type;
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_REQUIRED /flow_data/nodes/0/data/flow_type']);
    });

    it('requires resource fields on resources only', () => {
      const flow = baseFlow();
      delete dataOf(nodes(flow)[2]).type_cls;
      delete dataOf(nodes(flow)[0]).type_cls;
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_REQUIRED /flow_data/nodes/2/data/type_cls']);
    });

    it('takes a category of the other kind only when category_label is given', () => {
      const flow = baseFlow();
      dataOf(nodes(flow)[0]).category = 'llm_client';
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_ENUM /flow_data/nodes/0/data/category']);
      dataOf(nodes(flow)[0]).category_label = 'LLM Client';
      expect(flowSchema.check(flow)).toEqual([]);
    });

    it('rejects full_text for a resource without category_label (DB-GPT has no label for it)', () => {
      const flow = baseFlow();
      dataOf(nodes(flow)[2]).category = 'full_text';
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_ENUM /flow_data/nodes/2/data/category']);
      dataOf(nodes(flow)[2]).category_label = 'Full Text';
      expect(flowSchema.check(flow)).toEqual([]);
    });

    it('checks tag values are strings and parent_cls is a list', () => {
      const flow = baseFlow();
      dataOf(nodes(flow)[0]).tags = { order: 1 };
      dataOf(nodes(flow)[2]).parent_cls = null;
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_TYPE /flow_data/nodes/0/data/tags/order', 'SCHEMA_TYPE /flow_data/nodes/2/data/parent_cls']);
    });
  });

  describe('edges: orders are required unless the handle gives them', () => {
    it('derives a missing order from the handle', () => {
      const flow = baseFlow();
      delete flow.flow_data.edges[0]!.source_order;
      delete flow.flow_data.edges[0]!.target_order;
      expect(flowSchema.check(flow)).toEqual([]);
    });

    it('reports the order as missing when there is no usable handle', () => {
      const flow = baseFlow();
      const e = flow.flow_data.edges[0]!;
      delete e.source_order;
      e.source_handle = 'a|outputs|first';
      delete e.target_order;
      delete e.target_handle;
      const fs = flowSchema.check(flow);
      expect(brief(fs)).toEqual(['SCHEMA_REQUIRED /flow_data/edges/0/source_order', 'SCHEMA_REQUIRED /flow_data/edges/0/target_order']);
      expect(fs[0]?.message).toBe(
        'flow_data.edges[0].source_order is required but missing: flow_data.edges[0] needs source_order, or a source_handle whose last `|` segment is an integer to derive it from',
      );
    });
  });

  describe("DB-GPT's model validators", () => {
    it('a dynamic parameter must be a list with a non-negative minimum', () => {
      const flow = baseFlow();
      const p = paramsOf(nodes(flow)[1])[1]!;
      p.dynamic = true;
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_DYNAMIC_PARAMETER /flow_data/nodes/1/data/parameters/1/dynamic']);
      p.is_list = 'true';
      p.dynamic_minimum = -1;
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_DYNAMIC_PARAMETER /flow_data/nodes/1/data/parameters/1/dynamic_minimum']);
      p.dynamic_minimum = 0;
      expect(flowSchema.check(flow)).toEqual([]);
    });

    it('only the last output may be dynamic, and only one', () => {
      const flow = baseFlow();
      const outputs = dataOf(nodes(flow)[1]).outputs as JsonObject[];
      outputs.push({ ...outputs[0], name: 'out_1', dynamic: true });
      expect(flowSchema.check(flow)).toEqual([]);
      outputs[0]!.dynamic = 'yes';
      const [f] = flowSchema.check(flow);
      expect(f).toMatchObject({ code: 'SCHEMA_DYNAMIC_OUTPUT', path: '/flow_data/nodes/1/data/outputs/1/dynamic' });
      outputs[1]!.dynamic = false;
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_DYNAMIC_OUTPUT /flow_data/nodes/1/data/outputs/0/dynamic']);
    });

    it('inputs may not have mappers; an empty list is no mapper', () => {
      const flow = baseFlow();
      const input = (dataOf(nodes(flow)[1]).inputs as JsonObject[])[0]!;
      input.mappers = [];
      expect(flowSchema.check(flow)).toEqual([]);
      input.mappers = ['example.Mapper'];
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_INPUT_MAPPERS /flow_data/nodes/1/data/inputs/0/mappers']);
    });

    it.each([
      ['builtins.int', false, ' 12 ', true],
      ['builtins.int', false, '1_000', true],
      ['builtins.int', false, 1.5, true],
      ['builtins.int', false, true, true],
      ['builtins.int', false, 'ten', false],
      ['builtins.int', false, '1.0', false],
      ['builtins.int', false, ['1'], false],
      ['builtins.int', false, '', true],
      ['builtins.float', false, '1e-3', true],
      ['builtins.float', false, 'Infinity', true],
      ['builtins.float', false, 'one', false],
      ['builtins.str', false, { a: 1 }, true],
      ['builtins.bool', false, 'whatever', true],
      ['builtins.int', true, ['1', 2], true],
      ['builtins.int', true, ['1', 'x'], false],
      ['builtins.str', true, 'a', false],
    ])('%s value (is_list %s) %j converts: %s', (typeCls, isList, value, ok) => {
      const flow = baseFlow();
      Object.assign(paramsOf(nodes(flow)[1])[1]!, { type_cls: typeCls, is_list: isList, value });
      expect(flowSchema.check(flow).map((f) => f.code)).toEqual(ok ? [] : ['SCHEMA_VALUE_TYPE']);
    });

    it('a list parameter cannot have a non-empty default; a scalar default is checked like a value', () => {
      const flow = baseFlow();
      const p = paramsOf(nodes(flow)[1])[1]!;
      Object.assign(p, { is_list: true, default: 'a' });
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_VALUE_TYPE /flow_data/nodes/1/data/parameters/1/default']);
      Object.assign(p, { is_list: false, type_cls: 'builtins.float', default: 'warm' });
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_VALUE_TYPE /flow_data/nodes/1/data/parameters/1/default']);
      Object.assign(p, { default: { a: 1 } });
      expect(brief(flowSchema.check(flow))).toEqual(['SCHEMA_TYPE /flow_data/nodes/1/data/parameters/1/default']);
    });

    it.each([
      ['${key@global}', []],
      ['${key:name@flow_priv:scope_key#sys%user}', []],
      ['${key\\@x@global}', []],
      ['${key}', ['SCHEMA_VARIABLE_REF /variables/0/value']],
      ['${@global}', ['SCHEMA_VARIABLE_REF /variables/0/value']],
      ['${}', ['SCHEMA_VARIABLE_REF /variables/0/value']],
      ['plain text', []],
    ])('variable value %s', (value, expected) => {
      const flow = baseFlow();
      flow.variables = [{ key: 'k', label: 'K', category: 'common', scope: 'global', value }];
      expect(brief(flowSchema.check(flow))).toEqual(expected);
    });

    it('trusts parsed_variables when the file carries them', () => {
      const flow = baseFlow();
      flow.variables = [{ key: 'k', label: 'K', category: 'common', scope: 'global', value: '${key}', parsed_variables: { key: 'key', scope: 'global' } }];
      expect(flowSchema.check(flow)).toEqual([]);
    });
  });

  it('never throws on values that are not flows', () => {
    for (const v of [null, 1, 'flow', [], [{}], {}, { flow_data: [] }, { uid: 'u', name: 'n', label: 'l', flow_data: { nodes: 'x', edges: {}, viewport: 1 } }]) {
      const fs = flowSchema.check(v);
      expect(fs.length).toBeGreaterThan(0);
      expect(fs.every((f) => f.severity === 'error' && f.code.startsWith('SCHEMA_'))).toBe(true);
    }
  });
});

describe('lax conversions and paths', () => {
  it('laxInt reads ints as pydantic does', () => {
    expect([7, 7.0, true, '12', ' -3 ', '1_000', '4.00', '+5'].map(laxInt)).toEqual([7, 7, 1, 12, -3, 1000, 4, 5]);
    expect([7.5, '1e3', '', '1__0', 'x', null, [1]].map(laxInt)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('laxBool reads bools as pydantic does', () => {
    expect([true, 0, 1, 'YES', 'off', 't', 'N'].map(laxBool)).toEqual([true, false, true, true, false, true, false]);
    expect([2, 'maybe', '', null, 0.5].map(laxBool)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('readablePath turns pointers into dotted paths', () => {
    expect(readablePath('')).toBe('the flow');
    expect(readablePath('/flow_data/nodes/0/data/a~1b')).toBe('flow_data.nodes[0].data.a/b');
  });
});

describe('validateFlowValue', () => {
  it('runs schema, graph and file rules without positions', () => {
    const flow = baseFlow('rest');
    flow.flow_data.edges[0]!.target = 'nowhere';
    expect(validateFlowValue(flow, { file: 'flows/other.yaml' })).toEqual([
      {
        code: 'EDGE_TARGET_MISSING',
        severity: 'error',
        path: '/flow_data/edges/0/target',
        file: 'flows/other.yaml',
        line: 0,
        col: 0,
        message: 'edge "a|b" points at node "nowhere", which does not exist',
      },
    ]);
  });

  it('checks the file name only when given one, and secrets always', () => {
    const flow = baseFlow('rest');
    flow.variables = [{ key: 'api_key', label: 'API key', category: 'secret', scope: 'global', value: 'sk-123' }];
    expect(brief(validateFlowValue(flow))).toEqual(['SECRET_LITERAL /variables/0/value']);
    expect(brief(validateFlowValue(flow, { file: 'flows/x.yaml' }))).toEqual(['FILE_NAME_MISMATCH /name', 'SECRET_LITERAL /variables/0/value']);
    flow.variables = [{ key: 'api_key', label: 'API key', category: 'secret', scope: 'global', value: '${api_key:openai@global}' }];
    expect(validateFlowValue(flow, { file: 'flows/rest.yaml' })).toEqual([]);
  });

  it('stops after a schema error: no graph finding on a malformed flow', () => {
    const flow = baseFlow();
    flow.flow_data.edges[0]!.target = 'nowhere';
    flow.state = 'on';
    expect(brief(validateFlowValue(flow))).toEqual(['SCHEMA_ENUM /state']);
  });
});
