/**
 * Semantic diff of two sets of flow files (two revisions of a repository's `flows/`): pairs the
 * files by uid so that a renamed or moved flow shows as renamed, then diffs each pair.
 */
import { diffFlows, type DiffFlowsOptions, type FlowDiff } from './diffFlows.ts';
import { flowNameOfPath } from './flowPaths.ts';
import { parseYaml } from './parseYaml.ts';
import type { FlowFile } from './types.ts';

/**
 * One flow file at one side of the diff: its text, or its value when the caller has parsed it
 * already (the store's cache). `path` is relative to the repository root.
 */
export type FlowText = { path: string; text: string } | { path: string; flow: FlowFile };

/** What happened to one flow file; `invalid` when a side could not be read as a flow. */
export type FlowFileStatus = FlowDiff['status'] | 'invalid';

/** The diff of one flow, with where it lives on each side. */
export interface FlowFileDiff extends Omit<FlowDiff, 'status'> {
  status: FlowFileStatus;
  beforePath: string | null;
  afterPath: string | null;
  /** Why a side could not be read (YAML error, not a mapping), as `path:line:col: message`. */
  errors: string[];
}

/** The diff of every changed flow between two revisions, ordered by path. */
export interface FlowSetDiff {
  /** What the before side is (a revision as the user named it, and its commit); free text. */
  base: string | null;
  /** What the after side is; null = the working tree. */
  head: string | null;
  flows: FlowFileDiff[];
}

/** Options of diffFlowSets. */
export interface DiffFlowSetsOptions extends DiffFlowsOptions {
  base?: string | null;
  head?: string | null;
}

interface Side {
  path: string;
  flow: FlowFile | null;
  uid: string | null;
  errors: string[];
}

/**
 * Diffs two sets of flow files. Files pair by path when the uid agrees, then by uid (a rename or
 * move), then unreadable files by path; what is left is added or deleted. Flows that did not
 * change (same path, no semantic and no layout change) are left out.
 */
export function diffFlowSets(before: FlowText[], after: FlowText[], opts: DiffFlowSetsOptions = {}): FlowSetDiff {
  const bs = before.map(readSide);
  const as = after.map(readSide);
  const pairs: Array<[Side | null, Side | null]> = [];
  const take = (list: Side[], match: (s: Side) => boolean): Side | null => {
    const i = list.findIndex(match);
    return i < 0 ? null : (list.splice(i, 1)[0] ?? null);
  };
  // 1. Same path and same uid (or both without one): the common case, cheap and unambiguous.
  for (const b of [...bs]) {
    const a = take(as, (x) => x.path === b.path && x.uid === b.uid);
    if (a !== null) pairs.push([take(bs, (x) => x === b), a]);
  }
  // 2. Same uid elsewhere: renamed or moved.
  for (const b of [...bs]) {
    if (b.uid === null) continue;
    const a = take(as, (x) => x.uid === b.uid);
    if (a !== null) pairs.push([take(bs, (x) => x === b), a]);
  }
  // 3. Same path, one side unreadable or the uid changed in place: still the same file to a reviewer.
  for (const b of [...bs]) {
    const a = take(as, (x) => x.path === b.path);
    if (a !== null) pairs.push([take(bs, (x) => x === b), a]);
  }
  for (const b of bs) pairs.push([b, null]);
  for (const a of as) pairs.push([null, a]);

  const flows = pairs.map(([b, a]) => diffPair(b, a, opts)).filter((d) => d.status !== 'unchanged' || d.layoutChanged || d.beforePath !== d.afterPath);
  flows.sort((x, y) => cmp(x.afterPath ?? x.beforePath ?? '', y.afterPath ?? y.beforePath ?? '') || cmp(x.beforePath ?? '', y.beforePath ?? ''));
  return { base: opts.base ?? null, head: opts.head ?? null, flows };
}

function diffPair(b: Side | null, a: Side | null, opts: DiffFlowsOptions): FlowFileDiff {
  const errors = [...(b?.errors ?? []), ...(a?.errors ?? [])];
  const paths = { beforePath: b?.path ?? null, afterPath: a?.path ?? null };
  const unreadable = (b !== null && b.flow === null) || (a !== null && a.flow === null);
  if (unreadable) {
    // Half a diff would mislead (every node "removed"); say the file cannot be read instead.
    const readable = a?.flow ?? b?.flow ?? null;
    const d = diffFlows(readable, readable, opts);
    return { ...d, ...paths, status: 'invalid', errors, uid: a?.uid ?? b?.uid ?? null, name: d.name ?? flowNameOfPath((a ?? b)?.path ?? '') };
  }
  const d = diffFlows(b?.flow ?? null, a?.flow ?? null, opts);
  const moved = b !== null && a !== null && b.path !== a.path;
  const status = moved && (d.status === 'modified' || d.status === 'unchanged') ? 'renamed' : d.status;
  return { ...d, ...paths, status, errors };
}

function readSide(t: FlowText): Side {
  if ('flow' in t) return { path: t.path, flow: t.flow, uid: typeof t.flow.uid === 'string' ? t.flow.uid : null, errors: [] };
  const parsed = parseYaml(t.text);
  if (parsed.value === undefined) {
    return { path: t.path, flow: null, uid: null, errors: parsed.findings.map((f) => `${t.path}:${f.line}:${f.col}: ${f.message}`) };
  }
  const v = parsed.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { path: t.path, flow: null, uid: null, errors: [`${t.path}:1:1: a flow file must be a YAML mapping`] };
  }
  const uid = typeof v['uid'] === 'string' ? v['uid'] : null;
  return { path: t.path, flow: v as FlowFile, uid, errors: [] };
}

/** Code-point order, so the output does not depend on the locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
