/** The canonical form of a flow file's value: fixed key order, derived keys and null top-level keys gone. */
import { FlowregError } from '../errors/index.ts';
import { isObject } from './jsonAccess.ts';
import { DERIVED_KEYS, FLOW_DATA_KEYS, FLOW_FILE_KEYS, type FlowFile, type Json, type JsonObject } from './types.ts';

// Key orders follow DB-GPT's pydantic models (flow_factory.py, base.py), so a canonical file reads
// like DB-GPT's own output. Keys not listed keep their relative order after the listed ones.
const NODE_KEYS = ['id', 'type', 'width', 'height', 'position', 'position_absolute', 'data'];
const POSITION_KEYS = ['x', 'y', 'zoom'];
const EDGE_KEYS = ['id', 'source', 'source_order', 'source_handle', 'target', 'target_order', 'target_handle', 'type'];
const NODE_DATA_KEYS = [
  'label',
  'custom_label',
  'name',
  'description',
  'category',
  'category_label',
  'flow_type',
  'icon',
  'documentation_url',
  'id',
  'tags',
  'operator_type',
  'inputs',
  'outputs',
  'version',
  'type_name',
  'type_cls',
  'resource_type',
  'parent_cls',
  'parameters',
];
// Pydantic field order of `Parameter`; DB-GPT's to_dict() moves `value` before `options`, which is
// why the templates disagree among themselves.
const PARAMETER_KEYS = [
  'type_name',
  'type_cls',
  'dynamic',
  'dynamic_minimum',
  'label',
  'name',
  'is_list',
  'category',
  'resource_type',
  'optional',
  'default',
  'placeholder',
  'description',
  'options',
  'value',
  'alias',
  'ui',
];
const IO_KEYS = ['type_name', 'type_cls', 'label', 'custom_label', 'name', 'description', 'dynamic', 'dynamic_minimum', 'is_list', 'mappers'];
const OPTION_KEYS = ['label', 'name', 'value', 'children'];
const VARIABLE_KEYS = ['key', 'label', 'description', 'value_type', 'category', 'scope', 'scope_key', 'name', 'value', 'parsed_variables'];

const DECLARED = new Set<string>(FLOW_FILE_KEYS);
const DERIVED = new Set<string>(DERIVED_KEYS);

type Transform = (value: Json) => Json;

/** Sets `key` as an own enumerable property, also for `__proto__`, which plain assignment would eat. */
export function putKey(obj: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** A copy of `obj` with `keys` first (in that order), then its other keys in their own order. */
function ordered(obj: JsonObject, keys: readonly string[], children: Record<string, Transform> = {}): JsonObject {
  const out: JsonObject = {};
  const known = new Set(keys);
  const take = (key: string): void => {
    const value = obj[key] as Json;
    const child = Object.hasOwn(children, key) ? children[key] : undefined;
    putKey(out, key, child === undefined ? value : child(value));
  };
  for (const key of keys) if (Object.hasOwn(obj, key)) take(key);
  for (const key of Object.keys(obj)) if (!known.has(key)) take(key);
  return out;
}

function objectWith(keys: readonly string[], children?: Record<string, Transform>): Transform {
  return (value) => (isObject(value) ? ordered(value, keys, children) : value);
}

function each(item: Transform): Transform {
  return (value) => (Array.isArray(value) ? value.map(item) : value);
}

const position = objectWith(POSITION_KEYS);
const option: Transform = objectWith(OPTION_KEYS, { children: (v) => each(option)(v) });
const parameter = objectWith(PARAMETER_KEYS, { options: each(option) });
const ioField = objectWith(IO_KEYS);
const nodeData = objectWith(NODE_DATA_KEYS, { inputs: each(ioField), outputs: each(ioField), parameters: each(parameter) });
const node = objectWith(NODE_KEYS, { position, position_absolute: position, data: nodeData });
const edge = objectWith(EDGE_KEYS);
const flowData = objectWith(FLOW_DATA_KEYS, { nodes: each(node), edges: each(edge), viewport: position });
const variable = objectWith(VARIABLE_KEYS);

/**
 * The canonical form of a flow file's value (docs/flow-files.md): declared keys in
 * FLOW_FILE_KEYS order, unknown top-level keys sorted before `flow_data`, derived keys and
 * top-level nulls dropped (an absent key reads as null), and fixed key orders inside `flow_data`
 * and `variables`. Only key order changes below the top level: every value inside `flow_data` is
 * kept, nulls included.
 * A value that is not an object is an INVALID_INPUT error.
 */
export function canonicalFlow(value: JsonObject | FlowFile): JsonObject {
  if (!isObject(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new FlowregError('INVALID_INPUT', `a flow file holds one mapping, not ${found}`);
  }
  const src = value as JsonObject;
  const out: JsonObject = {};
  const keep = (key: string): boolean => Object.hasOwn(src, key) && src[key] !== null && src[key] !== undefined;
  for (const key of FLOW_FILE_KEYS) {
    if (key === 'flow_data' || !keep(key)) continue;
    const v = src[key] as Json;
    putKey(out, key, key === 'variables' ? each(variable)(v) : v);
  }
  const unknown = Object.keys(src)
    .filter((key) => !DECLARED.has(key) && !DERIVED.has(key) && keep(key))
    .sort();
  for (const key of unknown) putKey(out, key, src[key] as Json);
  if (keep('flow_data')) putKey(out, 'flow_data', flowData(src.flow_data as Json));
  return out;
}
