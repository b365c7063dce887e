/**
 * The DB-GPT Flow body → flow file mapping of the REST writes, and the checks a write makes before
 * it commits: pure functions of values (the store calls them inside its write lock).
 */
import { FlowregError } from '../errors/index.ts';
import { dagIdFor } from './dbgptFlow.ts';
import { flowCategoryOf } from './flowCategory.ts';
import { isObject } from './jsonAccess.ts';
import { FLOW_FILE_KEYS, type Finding, type FlowData, type FlowFile, type Json, type JsonObject } from './types.ts';

const STORED = new Set<string>(FLOW_FILE_KEYS);
const OID = /^[0-9a-f]{40}$/;

/** A finding about a request body (no file position). */
export function bodyFinding(path: string, message: string, code: Finding['code'] = 'SCHEMA_REQUIRED'): Finding {
  return { code, severity: 'error', path, file: '', line: 0, col: 0, message };
}

/** What kind of JSON value `v` is, for messages ("a string", "an array", "no body"). */
export function describeKind(v: unknown): string {
  if (v === undefined) return 'no body';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** The body of a write as a JSON object, or INVALID_INPUT naming what it was instead. */
export function bodyObject(body: unknown): JsonObject {
  if (!isObject(body)) throw new FlowregError('INVALID_INPUT', `the body must be a JSON object (a DB-GPT Flow), found ${describeKind(body)}`);
  const uid = body.uid;
  // a uid that is there but not a string is refused, as DB-GPT's model does (E0001)
  if (uid !== undefined && uid !== null && typeof uid !== 'string') {
    throw invalidFlow([bodyFinding('/uid', `Input should be a valid string, found ${describeKind(uid)}`, 'SCHEMA_TYPE')]);
  }
  return body;
}

/** The uid a body names, when it names one. */
export function bodyUid(body: JsonObject): string | undefined {
  return typeof body.uid === 'string' && body.uid !== '' ? body.uid : undefined;
}

/** FLOW_INVALID carrying the error findings, with DB-GPT's `loc: msg` text. */
export function invalidFlow(findings: Finding[]): FlowregError {
  const errors = findings.filter((f) => f.severity === 'error');
  return new FlowregError('FLOW_INVALID', `the flow is not valid: ${errors.map((f) => `${f.path || '/'}: ${f.message}`).join('; ')}`, { findings: errors });
}

/** The one "no such flow" error, for reads and writes alike. */
export function flowNotFound(uid: string): FlowregError {
  return new FlowregError('FLOW_NOT_FOUND', `Flow ${uid} not found`, { uid });
}

/**
 * A flow file from a DB-GPT Flow body, merged over `base` for an update (present keys replace,
 * null clears, absent keeps), with DB-GPT's label/name filling and flow_category recomputed.
 * `findings` holds what the body itself lacks (label, name); the validator runs on the result.
 */
export function fileFromBody(body: JsonObject, base: FlowFile | null, uid: string): { file: FlowFile; findings: Finding[] } {
  const out: JsonObject = base ? { ...(base as unknown as JsonObject) } : {};
  out.uid = uid;
  for (const [k, v] of Object.entries(body)) {
    if (!STORED.has(k) || k === 'uid' || k === 'dag_id' || v === undefined) continue;
    if (v === null) delete out[k];
    else out[k] = v as Json;
  }
  const findings: Finding[] = [];
  // DB-GPT's pre-validator: a missing label is the name; a missing name comes from the label
  // (a value of the wrong type is left for the schema to report, as DB-GPT's model does)
  const missing = (v: unknown): boolean => v === undefined || v === null || v === '';
  if (missing(out.label) && typeof out.name === 'string' && out.name !== '') out.label = out.name;
  if (missing(out.name) && typeof out.label === 'string' && out.label !== '') out.name = out.label.trim().replace(/\s+/g, '_');
  if (out.label === undefined || out.label === '') findings.push(bodyFinding('/label', 'Field required'));
  if (out.name === undefined || out.name === '') findings.push(bodyFinding('/name', 'Field required'));
  if (Array.isArray(out.variables) && out.variables.length === 0) delete out.variables;
  if (isObject(out.flow_data)) out.flow_category = flowCategoryOf(out.flow_data as unknown as FlowData);
  if (out.flow_category === null) delete out.flow_category;
  if (typeof out.dag_id !== 'string' || out.dag_id === '') {
    const given = body.dag_id;
    out.dag_id = typeof given === 'string' && given !== '' ? given : dagIdFor(String(out.name), uid);
  }
  return { file: out as unknown as FlowFile, findings };
}

/** The concurrency preconditions of a write: `If-Match` and the version a body was read at. */
export interface WritePreconditions {
  /** The `If-Match` header (→ PRECONDITION_FAILED). */
  ifMatch?: string;
  /** The `version` of the body (→ VERSION_CONFLICT); a value that is not a commit id is ignored, as DB-GPT's `"0.1.1"`. */
  bodyVersion?: unknown;
}

/**
 * The one optimistic-lock check: the flow's current version must match what the caller read
 * (If-Match, or the commit id in the body's `version`).
 */
export function checkPreconditions(uid: string, currentVersion: string, pre: WritePreconditions): void {
  if (pre.ifMatch !== undefined) {
    const tags = pre.ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
    if (!tags.includes('*') && !tags.includes(currentVersion)) {
      throw new FlowregError('PRECONDITION_FAILED', `If-Match ${pre.ifMatch} does not match flow ${uid}'s current version ${currentVersion}`, { uid, current: currentVersion });
    }
  }
  const expected = pre.bodyVersion;
  if (typeof expected === 'string' && OID.test(expected) && expected !== currentVersion) {
    throw new FlowregError('VERSION_CONFLICT', `flow ${uid} is at version ${currentVersion}, not ${expected}: it changed since it was read`, { uid, expected, current: currentVersion });
  }
}

/**
 * FLOW_NOT_EDITABLE unless the stored file says `editable: true` or leaves it out (DB-GPT's
 * default). Anything else is refused, not guessed at: `false`, and also a value that is not a
 * boolean (`"false"`, `"no"`, `0`, null), which the validator reports and a hand edit may still
 * have committed (the flow is then quarantined, and its file is what the write would replace).
 */
export function checkEditable(uid: string, file: FlowFile): void {
  const stored: unknown = (file as unknown as JsonObject).editable;
  if (stored === undefined || stored === true) return;
  if (stored === false) throw new FlowregError('FLOW_NOT_EDITABLE', `Flow ${uid} is not editable`, { uid });
  throw new FlowregError(
    'FLOW_NOT_EDITABLE',
    `Flow ${uid} is not editable: its file stores editable as ${JSON.stringify(stored)}, which is not a boolean; set editable: true or false in the file`,
    { uid, editable: stored as Json },
  );
}
