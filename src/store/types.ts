/** The store's public types: identities, the change stream, writes and their outcome, versions, sync status. */
import type { FlowFileFacts } from '../core/servedEntry.ts';
import type { FlowFile, Finding, JsonObject } from '../core/types.ts';

/** A person who writes: the author of a commit, or the daemon as committer. */
export interface Identity {
  name: string;
  email: string;
}

/** What validating one content found (cached by blob id, so each content is validated once). */
export interface Inspection {
  /** The top-level fields without flow_data; null when the content does not parse to a mapping. */
  summary: JsonObject | null;
  /** What the validator found in this content alone (repository-wide rules are the index's). */
  findings: Finding[];
  /** Node ids without their instance suffix, for the node catalogue. */
  nodes: string[];
}

/** One flow file of the working tree: its content's id, its id at HEAD, and what its content is. */
export interface FlowFileState extends FlowFileFacts {
  /** Blob id at HEAD, null when the file is not committed. */
  headBlob: string | null;
}

/** Where a batch of changes came from. */
export type ChangeSource = 'write' | 'scan' | 'fetch';

/**
 * One change of one flow file, from any source (a REST write, an edit on disk, a checkout or
 * merge, a fast-forward from the remote): its state before and after (null: absent). A change is
 * emitted when the content or the committed content of the path changed.
 */
export interface FlowChange {
  path: string;
  before: FlowFileState | null;
  after: FlowFileState | null;
}

/** A batch of changes, as subscribers of the store see it: the changes and the served uids they changed. */
export interface ChangeBatch {
  source: ChangeSource;
  changes: FlowChange[];
  /** The flows whose served answer changed (uids, or `file:<path>` for a file without one). */
  uids: string[];
}

/** The version facts of a flow, from the history index. */
export interface VersionInfo {
  /** `version` as served: a commit id, `<commit>-dirty`, or `uncommitted`. */
  version: string;
  /** The last commit that changed the flow (null: never committed). */
  commit: string | null;
  /** Committer time of the first and the last commit, seconds since the epoch. */
  created: number | null;
  modified: number | null;
  /** Number of commits that changed the flow. */
  commits: number;
  /** True when the working tree holds uncommitted changes of the flow. */
  dirty: boolean;
}

/** One entry of a flow's history. */
export interface FlowVersion {
  version: string;
  time: number;
  timezoneOffset: number;
  author: Identity;
  authorTime: number;
  message: string;
}

/** The flow a write starts from. */
export interface CurrentFlow {
  path: string;
  file: FlowFile;
  version: string;
}

/**
 * One write: the store takes the lock, reads the current flow, applies `apply`, validates the
 * result once and commits it. `create` refuses an existing flow (FLOW_EXISTS); `update` and
 * `delete` refuse a missing one (FLOW_NOT_FOUND); `revert` takes either.
 */
export interface WriteOp {
  verb: 'create' | 'update' | 'delete' | 'revert';
  /** The flow's uid (for a create: the new flow's uid). */
  uid: string;
  author: Identity;
  /** Pure transform from the current flow (null: none) to the new content (null: delete). May throw FlowregError. */
  apply: (current: CurrentFlow | null) => FlowFile | null;
}

/** The outcome of a write. */
export interface WriteResult {
  /** The new commit, null when nothing changed. */
  commit: string | null;
  /** The flow's path after the write (null after a delete). */
  path: string | null;
  file: FlowFile | null;
  previous: CurrentFlow | null;
  /** In branch write mode: the branch the change was pushed to. */
  branch?: string;
  /** Every flow file the write changed locally: its own, and those a rebuilt push brought in from the remote. */
  changes: FlowChange[];
}

/** Sync facts for the status endpoint: when the last fetch and push happened and how they ended. */
export interface SyncEvent {
  time: number;
  error: string | null;
}

/** The store's view of its branch and remote (docs/sync.md, sync status). */
export interface SyncStatus {
  branch: string | null;
  head: string | null;
  remote: string | null;
  remoteHead: string | null;
  ahead: number;
  behind: number;
  diverged: boolean;
  writeMode: 'direct' | 'branch';
  lastFetch: SyncEvent | null;
  lastPush: SyncEvent | null;
  /** The last repack flowreg ran to pack what fetches and writes left. */
  lastGc: SyncEvent | null;
  /** Why the last fast-forward could not happen, if it could not. */
  blocked: string | null;
  /** Branch write mode: the branches this daemon proposed that the branch does not contain yet (newest first, at most 50). */
  pending: PendingChange[];
}

/** One write proposed on a branch of its own (branch write mode), not merged yet. */
export interface PendingChange {
  branch: string;
  commit: string;
  uid: string;
  name: string;
  /** Milliseconds since the epoch. */
  time: number;
}

/** One file a branch move changes: its blob before and after (null: absent), and its new mode. */
export interface FileChange {
  path: string;
  oldBlob: string | null;
  newBlob: string | null;
  mode?: string;
}
