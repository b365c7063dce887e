import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import schemaJson from '../../schemas/flow.schema.json' with { type: 'json' };
import type { FindingCode } from './findingCodes.ts';
import { FINDING_CODES } from './findingCodes.ts';
import { compileFlowSchema } from './flowSchemaCompiler.ts';
import { isObject } from './jsonAccess.ts';
import { DERIVED_KEYS, type Finding } from './types.ts';

/** The `$id` of the flow file schema; the modeline of every flow file names the schema file. */
export const FLOW_SCHEMA_ID = 'https://flowreg.dev/schemas/flow.schema.json';

type SchemaNode = { [key: string]: unknown };

/**
 * Keys DB-GPT ignores must be warnings, not errors, so the published schema leaves objects open.
 * The compiled copy closes every model (an object schema with `properties`) and the translation
 * below turns the resulting `additionalProperties` errors into SCHEMA_UNKNOWN_KEY warnings.
 */
function closeModels(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeModels);
  if (node === null || typeof node !== 'object') return node;
  const out: SchemaNode = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' || k === '$defs' ? mapValues(v, closeModels) : closeModels(v);
  const type = out.type;
  const isObjectSchema = type === 'object' || (Array.isArray(type) && type.includes('object'));
  if (isObjectSchema && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function mapValues(v: unknown, f: (x: unknown) => unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)]));
}

let compiled: ValidateFunction | undefined;

/** The schema ajv compiles: the published one with every model closed (closeModels). */
export function closedFlowSchema(): SchemaNode {
  return closeModels(schemaJson) as SchemaNode;
}

/** The ajv validator of the (closed) flow schema, compiled once per process and shared by every caller. */
function validator(): ValidateFunction {
  if (compiled === undefined) {
    compiled = compileFlowSchema(closedFlowSchema());
  }
  return compiled;
}

/** The flow file schema (the published JSON) and the schema stage of the pipeline. */
export const flowSchema = {
  /** The published schema, as served and as written to schemas/flow.schema.json. */
  json: schemaJson as SchemaNode,
  /**
   * The schema stage: ajv over the closed schema, then DB-GPT's model validators that JSON Schema
   * cannot say. Never throws; findings have `file: ''` and no position.
   */
  check(value: unknown): Finding[] {
    const validate = validator();
    const findings: Finding[] = [];
    if (!validate(value)) findings.push(...translateErrors(validate.errors ?? []));
    if (isObject(value)) {
      for (const key of [...DERIVED_KEYS, 'flow_dag']) {
        if (Object.hasOwn(value, key)) {
          findings.push(finding('SCHEMA_DERIVED_KEY', `/${key}`, `${key} is derived at read time and never stored in a flow file; its value is ignored`));
        }
      }
      // A value the schema already rejected is not judged twice by the model validators.
      const rejected = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.path));
      findings.push(...modelRules(value).filter((f) => !rejected.has(f.path)));
    }
    return findings;
  },
};

function finding(code: FindingCode, path: string, message: string): Finding {
  return { code, severity: FINDING_CODES[code].severity, path, file: '', line: 0, col: 0, message };
}

// ---------------------------------------------------------------------------------------------
// ajv errors → findings

function translateErrors(errors: ErrorObject[]): Finding[] {
  const dropped = new Set<ErrorObject>();
  const within = (e: ErrorObject, outer: ErrorObject, branchPrefix: string): boolean =>
    e !== outer &&
    e.schemaPath.startsWith(branchPrefix) &&
    (e.instancePath === outer.instancePath || e.instancePath.startsWith(`${outer.instancePath}/`));
  // Outermost anyOf first, so a nullable wrapper is unwrapped before the lax scalar inside it.
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const a of anyOfs) {
    if (dropped.has(a)) continue;
    const branches = (a.schema as unknown[]) ?? [];
    const nullIndex = branches.findIndex((b) => isObject(b) && b.type === 'null' && Object.keys(b).length === 1);
    if (nullIndex >= 0 && a.data !== null) {
      // `X or null` with a non-null value: only X's own errors say what is wrong.
      dropped.add(a);
      for (const e of errors) if (within(e, a, `${a.schemaPath}/${nullIndex}/`)) dropped.add(e);
    } else {
      for (const e of errors) if (within(e, a, `${a.schemaPath}/`)) dropped.add(e);
    }
  }
  const out: Finding[] = [];
  for (const e of errors) {
    if (dropped.has(e) || e.keyword === 'if') continue;
    out.push(translateError(e));
  }
  return out;
}

function translateError(e: ErrorObject): Finding {
  const where = readablePath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const key = String(params.missingProperty);
      const path = `${e.instancePath}/${escapePointer(key)}`;
      return finding('SCHEMA_REQUIRED', path, `${readablePath(path)} is required but missing`);
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const path = `${e.instancePath}/${escapePointer(key)}`;
      return finding('SCHEMA_UNKNOWN_KEY', path, `${readablePath(path)} is not a key DB-GPT knows; it is ignored`);
    }
    case 'type':
      return finding('SCHEMA_TYPE', e.instancePath, `${where} must be ${typeNames(String(params.type))}, found ${describe(e.data)}`);
    case 'enum':
      return finding('SCHEMA_ENUM', e.instancePath, `${where} must be one of ${listValues(params.allowedValues)}, found ${describe(e.data)}`);
    case 'const':
      return finding('SCHEMA_ENUM', e.instancePath, `${where} must be ${JSON.stringify(params.allowedValue)}, found ${describe(e.data)}`);
    case 'pattern':
      return finding('SCHEMA_PATTERN', e.instancePath, `${where} must match ${String(params.pattern)}, found ${describe(e.data)}`);
    case 'anyOf': {
      const parent = (e.parentSchema ?? {}) as SchemaNode;
      const first = Array.isArray(parent.anyOf) ? (parent.anyOf[0] as unknown) : undefined;
      const firstRequired = isObject(first) && Array.isArray(first.required) && Object.keys(first).length === 1 ? first.required[0] : undefined;
      if (typeof firstRequired === 'string') {
        // "K, or something K can be derived from" (edge orders): K is what is missing.
        const path = `${e.instancePath}/${escapePointer(firstRequired)}`;
        const why = typeof parent.description === 'string' ? `: ${where} needs ${uncapitalize(parent.description.replace(/\.$/, ''))}` : '';
        return finding('SCHEMA_REQUIRED', path, `${readablePath(path)} is required but missing${why}`);
      }
      const expected = typeof parent.title === 'string' ? parent.title : 'one of the allowed forms';
      return finding('SCHEMA_TYPE', e.instancePath, `${where} must be ${expected}, found ${describe(e.data)}`);
    }
    case 'not': {
      // `not: {pattern, description}`: a form the value must not have, said by the description
      const negated = (e.schema ?? {}) as SchemaNode;
      if (typeof negated.pattern === 'string') {
        const why = typeof negated.description === 'string' ? negated.description : `must not match ${negated.pattern}`;
        return finding('SCHEMA_PATTERN', e.instancePath, `${where} ${why}, found ${describe(e.data)}`);
      }
      return finding('SCHEMA_CONSTRAINT', e.instancePath, `${where} ${e.message ?? 'is not valid'}, found ${describe(e.data)}`);
    }
    case 'minLength':
      if (params.limit === 1) return finding('SCHEMA_CONSTRAINT', e.instancePath, `${where} must not be empty`);
      return finding('SCHEMA_CONSTRAINT', e.instancePath, `${where} ${e.message ?? 'is not valid'}, found ${describe(e.data)}`);
    default:
      return finding('SCHEMA_CONSTRAINT', e.instancePath, `${where} ${e.message ?? 'is not valid'}, found ${describe(e.data)}`);
  }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `/flow_data/nodes/0/width` → `flow_data.nodes[0].width`, the form pydantic users read. */
export function readablePath(pointer: string): string {
  if (pointer === '') return 'the flow';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = unescapePointer(raw);
    if (/^(0|[1-9][0-9]*)$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function uncapitalize(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function typeNames(types: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'an integer',
    boolean: 'a boolean',
    object: 'a mapping',
    array: 'a list',
    null: 'null',
  };
  return types
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

function listValues(values: unknown): string {
  if (!Array.isArray(values)) return String(values);
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/** A short description of a found value for messages: its kind and, for scalars, the value. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (typeof v === 'number') return `number ${Number.isFinite(v) ? String(v) : v > 0 ? '.inf' : v < 0 ? '-.inf' : '.nan'}`;
  return `${typeof v} ${String(v)}`;
}

// ---------------------------------------------------------------------------------------------
// pydantic's lax conversions, shared with the graph rules (which read orders the way DB-GPT does)

const LAX_BOOL_TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const LAX_BOOL_FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** A value read as DB-GPT's pydantic reads a `bool` field; undefined when it would reject it. */
export function laxBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (LAX_BOOL_TRUE.has(s)) return true;
    if (LAX_BOOL_FALSE.has(s)) return false;
  }
  return undefined;
}

const LAX_INT_RE = /^\s*([+-]?[0-9](?:_?[0-9])*)(?:\.0+)?\s*$/;

/** A value read as DB-GPT's pydantic reads an `int` field; undefined when it would reject it. */
export function laxInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string') {
    const m = LAX_INT_RE.exec(v);
    if (m !== null) return Number((m[1] as string).replace(/_/g, ''));
  }
  return undefined;
}

/** Python's truthiness, which DB-GPT's `pre_fill` validators test on raw values. */
function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true; // non-zero numbers (NaN included, as in Python) and non-empty strings
}

// Python's int() and float() on strings (Parameter._covert_to_real_type), any Unicode digits.
const DIGITS = String.raw`\p{Nd}(?:_?\p{Nd})*`;
const PY_INT_RE = new RegExp(String.raw`^\s*[+-]?${DIGITS}\s*$`, 'u');
const PY_FLOAT_RE = new RegExp(String.raw`^\s*[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:e[+-]?${DIGITS})?|inf(?:inity)?|nan)\s*$`, 'iu');

/** Whether DB-GPT's conversion of one value to `type_cls` succeeds (str() and bool() never fail). */
function convertsTo(typeCls: unknown, v: unknown): boolean {
  if (typeCls === 'builtins.int') {
    if (typeof v === 'boolean') return true;
    if (typeof v === 'number') return Number.isFinite(v);
    return typeof v === 'string' && PY_INT_RE.test(v);
  }
  if (typeCls === 'builtins.float') {
    if (typeof v === 'boolean' || typeof v === 'number') return true;
    return typeof v === 'string' && PY_FLOAT_RE.test(v);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// DB-GPT's model validators that JSON Schema cannot express

function modelRules(flow: Record<string, unknown>): Finding[] {
  const out: Finding[] = [];
  const fd = flow.flow_data;
  if (isObject(fd) && Array.isArray(fd.nodes)) {
    fd.nodes.forEach((node, i) => {
      if (!isObject(node) || !isObject(node.data)) return;
      const data = node.data;
      const base = `/flow_data/nodes/${i}/data`;
      if (Array.isArray(data.parameters)) {
        data.parameters.forEach((p, j) => {
          if (isObject(p)) out.push(...parameterRules(p, `${base}/parameters/${j}`));
        });
      }
      if (data.flow_type === 'operator') out.push(...operatorRules(data, base));
    });
  }
  if (Array.isArray(flow.variables)) {
    flow.variables.forEach((v, i) => {
      if (isObject(v)) out.push(...variableRules(v, `/variables/${i}`));
    });
  }
  return out;
}

function paramName(p: Record<string, unknown>): string {
  return typeof p.name === 'string' ? `parameter "${p.name}"` : 'this parameter';
}

function parameterRules(p: Record<string, unknown>, path: string): Finding[] {
  const out: Finding[] = [];
  // Parameter.check_parameters (after validation, on converted values)
  const dynamic = laxBool(p.dynamic ?? false);
  const isList = laxBool(p.is_list ?? false);
  const minimum = laxInt(p.dynamic_minimum ?? 0);
  if (dynamic === true && isList === false) {
    out.push(finding('SCHEMA_DYNAMIC_PARAMETER', `${path}/dynamic`, `${paramName(p)} is dynamic, so is_list must be true; found ${describe(p.is_list ?? false)}`));
  } else if (dynamic === true && minimum !== undefined && minimum < 0) {
    out.push(finding('SCHEMA_DYNAMIC_PARAMETER', `${path}/dynamic_minimum`, `${paramName(p)} is dynamic, so dynamic_minimum must be 0 or more; found ${describe(p.dynamic_minimum)}`));
  }
  // Parameter.pre_fill converts truthy value/default to type_cls, reading is_list raw.
  const typeCls = p.type_cls;
  if (!pyTruthy(typeCls)) return out;
  const rawList = pyTruthy(p.is_list);
  for (const key of ['value', 'default'] as const) {
    const v = p[key];
    if (!pyTruthy(v)) continue;
    if (rawList) {
      if (key === 'default') {
        out.push(finding('SCHEMA_VALUE_TYPE', `${path}/default`, `${paramName(p)} is a list (is_list), and DB-GPT cannot keep a non-empty default for it; found ${describe(v)}`));
      } else if (!Array.isArray(v)) {
        out.push(finding('SCHEMA_VALUE_TYPE', `${path}/value`, `${paramName(p)} is a list (is_list), so its value must be a list; found ${describe(v)}`));
      } else {
        const bad = v.findIndex((x) => !convertsTo(typeCls, x));
        if (bad >= 0) {
          out.push(finding('SCHEMA_VALUE_TYPE', `${path}/value/${bad}`, `${paramName(p)} has type ${String(typeCls)}, but list item ${bad} does not convert to it; found ${describe(v[bad])}`));
        }
      }
    } else if (!convertsTo(typeCls, v)) {
      out.push(finding('SCHEMA_VALUE_TYPE', `${path}/${key}`, `${paramName(p)} has type ${String(typeCls)}, but its ${key} does not convert to it; found ${describe(v)}`));
    }
  }
  return out;
}

function operatorRules(data: Record<string, unknown>, base: string): Finding[] {
  const out: Finding[] = [];
  const who = typeof data.name === 'string' ? `operator "${data.name}"` : 'this operator';
  if (Array.isArray(data.inputs)) {
    data.inputs.forEach((input, i) => {
      if (isObject(input) && Array.isArray(input.mappers) && input.mappers.length > 0) {
        out.push(finding('SCHEMA_INPUT_MAPPERS', `${base}/inputs/${i}/mappers`, `${who}: input ${i} has mappers, which DB-GPT allows only on outputs`));
      }
    });
  }
  if (Array.isArray(data.outputs)) {
    // ViewMetadata.check_metadata: a dynamic output must be the last one, and only one may be dynamic.
    const dynamic = data.outputs.map((o) => (isObject(o) ? laxBool(o.dynamic ?? false) === true : false));
    const dynIdx = dynamic.flatMap((d, i) => (d ? [i] : []));
    const last = data.outputs.length - 1;
    if (dynIdx.length > 1) {
      const second = dynIdx[1] as number;
      out.push(finding('SCHEMA_DYNAMIC_OUTPUT', `${base}/outputs/${second}/dynamic`, `${who} has more than one dynamic output (outputs ${dynIdx.join(', ')}); at most one, the last, may be dynamic`));
    } else if (dynIdx.length === 1 && dynIdx[0] !== last) {
      out.push(finding('SCHEMA_DYNAMIC_OUTPUT', `${base}/outputs/${dynIdx[0]}/dynamic`, `${who}: output ${dynIdx[0]} is dynamic but is not the last output (${last})`));
    }
  }
  return out;
}

function variableRules(v: Record<string, unknown>, path: string): Finding[] {
  // FlowVariables.pre_fill parses a `${...}` value into ParsedFlowVariables, whose key and scope are required.
  const value = v.value;
  if (Object.hasOwn(v, 'parsed_variables') || typeof value !== 'string' || !value.startsWith('${') || !value.endsWith('}')) return [];
  const { key, scope } = parseVariableRef(value);
  const missing = [key ? '' : 'key', scope ? '' : 'scope'].filter((s) => s !== '');
  if (missing.length === 0) return [];
  return [
    finding(
      'SCHEMA_VARIABLE_REF',
      `${path}/value`,
      `variable value ${JSON.stringify(value)} is a reference without a ${missing.join(' or ')}; DB-GPT needs \${key@scope} (for example \${${key || 'my.key'}@global})`,
    ),
  ];
}

/** The key and scope of a `${key:name@scope:scope_key#sys_code%user_name}` reference, as DB-GPT's parse_variable splits it. */
function parseVariableRef(ref: string): { key: string; scope: string } {
  // Escaped separators stand for themselves; a placeholder keeps them out of the split.
  const content = ref.slice(2, -1).replace(/\\[@#%:]/g, '\u0000');
  const parts = content.split('@');
  const keyName = (parts[0] as string).split('#')[0]?.split('%')[0] ?? '';
  const key = keyName.split(':')[0] ?? '';
  const scopePart = parts.length > 1 ? ((parts[1] as string).split('#')[0]?.split('%')[0] ?? '') : '';
  const scope = scopePart.split(':')[0] ?? '';
  return { key, scope };
}
