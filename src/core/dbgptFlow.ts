/** Conversions between DB-GPT's Flow object (wire, export files) and flowreg's flow files. */
import { FlowregError } from '../errors/index.ts';
import { canonicalFlow, putKey } from './canonicalFlow.ts';
import { isObject } from './jsonAccess.ts';
import { DERIVED_KEYS, type DbgptFlow, type FlowFile, type Json, type JsonObject } from './types.ts';

/** Every key of DB-GPT's Flow object, in the order of its GET and export answers. */
export const DBGPT_FLOW_KEYS = [
  'uid',
  'label',
  'name',
  'flow_category',
  'description',
  'state',
  'error_message',
  'source',
  'source_url',
  'version',
  'define_type',
  'editable',
  'user_name',
  'sys_code',
  'dag_id',
  'gmt_created',
  'gmt_modified',
  'metadata',
  'variables',
  'authors',
  'flow_data',
] as const;

/** The fields of a Flow that flowreg derives at read time instead of storing them. */
export interface DerivedFields {
  version: string;
  gmt_created: string | null;
  gmt_modified: string | null;
  error_message?: string | null;
}

const DERIVED = new Set<string>(DERIVED_KEYS);

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** DB-GPT's `dag_id` for a new flow: `flow_dag_<name with spaces as _>_<uid>`. */
export function dagIdFor(name: string, uid: string): string {
  return `flow_dag_${name.replaceAll(' ', '_')}_${uid}`;
}

/**
 * A flow file's value from a DB-GPT Flow: an export file's `{"flow": {...}}` or a bare Flow.
 * Derived keys are dropped; a missing label is taken from the name and a missing name from the
 * label (spaces → `_`), as DB-GPT's model and UI do (without the `<flow_category>_` name prefix
 * DB-GPT's pre-validator adds, a known bug); `dag_id` is kept or set to `flow_dag_<name>_<uid>`.
 * The result is in canonical form. Input that is not an object, has no string `uid`, or has
 * neither a name nor a label is an INVALID_INPUT error.
 */
export function flowFileFromDbgpt(flow: unknown): FlowFile {
  let src = flow;
  if (isObject(src) && !Object.hasOwn(src, 'uid') && Object.hasOwn(src, 'flow')) src = src.flow;
  if (!isObject(src)) {
    throw new FlowregError('INVALID_INPUT', `expected a DB-GPT flow (an object, or an export {"flow": {...}}), found ${kind(src)}`);
  }
  const uid = src.uid;
  if (typeof uid !== 'string' || uid === '') {
    throw new FlowregError('INVALID_INPUT', `the flow has no uid: expected a non-empty string "uid", found ${Object.hasOwn(src, 'uid') ? kind(uid) : 'no "uid" key'}`);
  }
  const out: JsonObject = {};
  for (const key of Object.keys(src)) if (!DERIVED.has(key)) putKey(out, key, src[key] as Json);
  const label = out.label;
  const name = out.name;
  if ((typeof label !== 'string' || label === '') && typeof name === 'string' && name !== '') {
    out.label = name;
    out.name = name.replaceAll(' ', '_');
  } else if ((typeof name !== 'string' || name === '') && typeof label === 'string' && label !== '') {
    out.name = label.replaceAll(' ', '_');
  }
  if (typeof out.name !== 'string' || out.name === '' || typeof out.label !== 'string') {
    throw new FlowregError('INVALID_INPUT', `flow ${uid} has neither a name nor a label (expected non-empty strings)`, { uid });
  }
  if (typeof out.dag_id !== 'string' || out.dag_id === '') out.dag_id = dagIdFor(out.name, uid);
  return canonicalFlow(out) as unknown as FlowFile;
}

/**
 * DB-GPT's Flow object for a flow file: every key of DBGPT_FLOW_KEYS in GET order, nulls explicit,
 * DB-GPT's defaults for absent keys (`state: initializing`, `source: DBGPT-WEB`, `define_type: json`,
 * `editable: true`, others null; `editable` is false unless absent or true), `metadata: null`, and the derived fields from `derived`. Keys
 * DB-GPT does not know are left out. Values are shared with `file`, not copied.
 */
export function dbgptFlowFromFile(file: FlowFile, derived: DerivedFields): DbgptFlow {
  const f = file as unknown as JsonObject;
  const get = (key: string, fallback: Json): Json => {
    const v = Object.hasOwn(f, key) ? f[key] : undefined;
    return v === undefined || v === null ? fallback : v;
  };
  const values: Record<(typeof DBGPT_FLOW_KEYS)[number], Json> = {
    uid: get('uid', null),
    label: get('label', null),
    name: get('name', null),
    flow_category: get('flow_category', null),
    description: get('description', null),
    state: get('state', 'initializing'),
    error_message: derived.error_message ?? null,
    source: get('source', 'DBGPT-WEB'),
    source_url: get('source_url', null),
    version: derived.version,
    define_type: get('define_type', 'json'),
    // always a boolean, and what the write guard (flowFromBody.checkEditable) says: true when absent
    // or true; a stored value that is not a boolean (an invalid file) is served as not editable
    editable: !Object.hasOwn(f, 'editable') || f.editable === undefined || f.editable === true,
    user_name: get('user_name', null),
    sys_code: get('sys_code', null),
    dag_id: get('dag_id', null),
    gmt_created: derived.gmt_created,
    gmt_modified: derived.gmt_modified,
    metadata: null,
    variables: get('variables', null),
    authors: get('authors', null),
    flow_data: get('flow_data', null),
  };
  const out: DbgptFlow = {};
  for (const key of DBGPT_FLOW_KEYS) out[key] = values[key];
  return out;
}

/** DB-GPT's export file content for a flow file: `{"flow": <Flow>}`. */
export function dbgptExport(file: FlowFile, derived: DerivedFields): { flow: DbgptFlow } {
  return { flow: dbgptFlowFromFile(file, derived) };
}
