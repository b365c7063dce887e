/**
 * Quarantine as a pure rule (docs/sync.md): which content is served for a flow, given the files
 * that declare its uid now and what was served for it before. A valid file is served as it is; a
 * file that turned invalid keeps its last valid content served, marked `load_failed` with its
 * findings; a new invalid file is served as far as it parses.
 */
import { flowNameOfPath } from './flowPaths.ts';
import { isObject } from './jsonAccess.ts';
import type { Finding, JsonObject } from './types.ts';

/** What the index knows of one flow file: its content's id and what validating that content found. */
export interface FlowFileFacts {
  /** Repository-relative path. */
  path: string;
  /** Blob id of the working-tree content. */
  blob: string;
  /** The top-level fields (no flow_data); null when the file does not parse to a mapping. */
  summary: JsonObject | null;
  /** What the validator found in this file alone. */
  findings: Finding[];
  /** Node ids without their instance suffix (DB-GPT's origin ids). */
  nodes: string[];
  /** Last modification time of the file, ms since the epoch. */
  mtimeMs: number;
}

/** One flow as served. */
export interface ServedEntry {
  uid: string;
  /** The file that declares the flow now. */
  path: string;
  /** Blob of the content served: the file's own, or its last valid one while quarantined; null: no valid content ever. */
  blob: string | null;
  /** The path the served blob was read at. */
  blobPath: string;
  summary: JsonObject;
  /** Errors of the current file (non-empty: quarantined, state load_failed). */
  errors: Finding[];
  nodes: string[];
  modified: number;
}

/** The key a file is served under: the uid it declares, or `file:<path>` when it declares none. */
export function servedKeyOf(f: Pick<FlowFileFacts, 'path' | 'summary'>): string {
  const uid = f.summary?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : `file:${f.path}`;
}

/** UID_DUPLICATE for a second file that declares a uid. */
function duplicateFinding(path: string, other: string, uid: string): Finding {
  return { code: 'UID_DUPLICATE', severity: 'error', path: '/uid', file: path, line: 0, col: 0, message: `uid "${uid}" is also used by ${other}; uids must be unique in the repository` };
}

/**
 * The served entry of the files declaring one key (sorted by path: the first wins a duplicate
 * uid, and every other is reported). `previous` is what was served for that flow before: for a
 * `file:` key, whatever was served at that path (its uid may no longer parse).
 * `repositoryFindings` are the repository-wide rules' findings about the first file (a name
 * another file also uses): errors among them quarantine it too.
 */
export function servedEntry(key: string, files: FlowFileFacts[], previous: ServedEntry | undefined, repositoryFindings: Finding[] = []): ServedEntry {
  const file = files[0] as FlowFileFacts;
  const uid = key.startsWith('file:') ? null : key;
  const errors = file.findings.filter((f) => f.severity === 'error').map((f) => ({ ...f, file: file.path }));
  for (const other of files.slice(1)) errors.push(duplicateFinding(other.path, file.path, key));
  errors.push(...repositoryFindings.filter((f) => f.severity === 'error'));
  if (errors.length === 0 && uid) {
    if (previous && previous.blob === file.blob && previous.path === file.path && previous.errors.length === 0 && previous.modified === file.mtimeMs) return previous;
    return { uid, path: file.path, blob: file.blob, blobPath: file.path, summary: file.summary as JsonObject, errors: [], nodes: file.nodes, modified: file.mtimeMs };
  }
  // quarantine: the last valid content stays served, marked load_failed
  if (previous && previous.blob) return { ...previous, path: file.path, errors };
  const summary: JsonObject = isObject(file.summary) ? { ...file.summary } : {};
  summary.uid = key;
  if (typeof summary.name !== 'string' || summary.name === '') summary.name = flowNameOfPath(file.path);
  if (typeof summary.label !== 'string' || summary.label === '') summary.label = summary.name as string;
  return { uid: key, path: file.path, blob: null, blobPath: file.path, summary, errors, nodes: file.nodes, modified: file.mtimeMs };
}

/** True when two served entries of one flow answer differently. */
export function servedDiffers(before: ServedEntry | undefined, after: ServedEntry | undefined): boolean {
  if (before === after) return false;
  if (!before || !after) return true;
  return before.blob !== after.blob || before.path !== after.path || before.errors.length !== after.errors.length || before.modified !== after.modified;
}
