import { createHash } from 'node:crypto';
import type { DbgptFlow, Json, JsonObject } from '../core/types.ts';

/** `source` of every flow flowreg puts on a runtime: the mark of what it may touch. */
export const FLOWREG_SOURCE = 'flowreg';

/** The fields of a flow that make up its content on a runtime; times, state, ids and provenance are not content. */
const CONTENT_KEYS = ['name', 'label', 'description', 'flow_category', 'flow_data', 'define_type', 'editable', 'variables'] as const;

/** Flow states whose flows are live on every runtime; the others are on none (docs/runtimes.md). */
export const LIVE_STATES: ReadonlySet<string> = new Set(['deployed', 'running']);

/** Where a flow on a runtime came from, as flowreg wrote it into `source_url`. */
export interface Provenance {
  /** The repository (the registry's owner id) that deployed it. */
  owner: string;
  /** The flow file's path in that repository. */
  path: string;
  /** The flow's version deployed: a commit id, `<commit>-dirty` (a working-tree edit) or `uncommitted`. */
  commit: string;
  /** Digest of the content deployed (contentDigest). */
  digest: string;
}

function canonicalJson(v: Json | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    // a key whose value is null is a key left out, at any depth: DB-GPT answers every optional
    // field of a node's parameters (ui, alias…) as null where the file in git has none
    const keys = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A digest of a flow's content (CONTENT_KEYS, key order and absent-vs-null ignored at every depth): equal for the
 * flow flowreg sent and the flow DB-GPT answers back, different after any edit on either side.
 */
export function contentDigest(flow: JsonObject): string {
  const picked: JsonObject = {};
  for (const k of CONTENT_KEYS) {
    const v = flow[k];
    // DB-GPT answers an absent editable as true, an absent define_type as json
    if (k === 'editable') picked[k] = v !== false;
    else if (k === 'define_type') picked[k] = v ?? 'json';
    else picked[k] = v ?? null;
  }
  return createHash('sha256').update(canonicalJson(picked)).digest('hex').slice(0, 24);
}

/** `source_url` for a deployed flow: `flowreg://<owner>/<path>?commit=<sha>&digest=<hex>` (owner and path URI-encoded). */
export function sourceUrl(p: Provenance): string {
  return `flowreg://${encodeURIComponent(p.owner)}/${p.path.split('/').map(encodeURIComponent).join('/')}?commit=${p.commit}&digest=${p.digest}`;
}

/** The provenance of a runtime's flow, or null when flowreg did not put it there (any owner). */
export function parseProvenance(flow: JsonObject): Provenance | null {
  if (flow.source !== FLOWREG_SOURCE || typeof flow.source_url !== 'string') return null;
  const m = /^flowreg:\/\/([^/?]+)\/([^?]+)\?commit=([0-9a-f]{4,64}(?:-dirty)?|uncommitted)&digest=([0-9a-f]{8,64})$/.exec(flow.source_url);
  if (!m) return null;
  try {
    return { owner: decodeURIComponent(m[1]!), path: m[2]!.split('/').map(decodeURIComponent).join('/'), commit: m[3]!, digest: m[4]! };
  } catch {
    return null;
  }
}

/**
 * The body flowreg creates or updates a flow with on a runtime: the served flow's content with
 * `state: deployed` (DB-GPT registers the DAG), the provenance in `source`/`source_url`, the
 * commit's first 12 hex digits as `version` (DB-GPT's column holds 32 characters), and no
 * dag_id, times or metadata (DB-GPT derives them).
 */
export function deployBody(flow: DbgptFlow, p: Provenance): JsonObject {
  const body: JsonObject = {};
  for (const [k, v] of Object.entries(flow)) {
    if (k === 'dag_id' || k === 'gmt_created' || k === 'gmt_modified' || k === 'metadata' || k === 'error_message') continue;
    body[k] = v as Json;
  }
  body.state = 'deployed';
  body.source = FLOWREG_SOURCE;
  body.source_url = sourceUrl(p);
  body.version = p.commit.replace(/^([0-9a-f]{12})[0-9a-f]*/, '$1');
  return body;
}
