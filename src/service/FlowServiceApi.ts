import type { DbgptFlow, Finding, FlowFile, JsonObject } from '../core/types.ts';

/** Who is writing: becomes the commit author. */
export interface Caller {
  name: string;
  email: string;
}

/** DB-GPT's PaginationResult. */
export interface Page<T> {
  items: T[];
  total_count: number;
  total_pages: number;
  page: number;
  page_size: number;
}

/** Exact-equality filters of DB-GPT's list (an absent key does not filter). */
export interface FlowFilter {
  name?: string;
  uid?: string;
  user_name?: string;
  sys_code?: string;
  /** Only flows whose flow_category is one of these (used by /chat/flows). */
  categories?: string[];
}

/** A flow as served: DB-GPT's Flow object and its version (the ETag). */
export interface ServedFlow {
  flow: DbgptFlow;
  version: string;
}

/** Concurrency preconditions of a write: `If-Match` (→ PRECONDITION_FAILED) and body version (→ VERSION_CONFLICT). */
export interface WritePreconditions {
  ifMatch?: string;
}

/** One entry of a flow's history (extension). */
export interface FlowVersionEntry {
  version: string;
  gmt_created: string;
  author: string;
  author_email: string;
  message: string;
}

/** What a write reports beyond the flow (branch write mode names its branch). */
export interface WriteOutcome extends ServedFlow {
  commit: string | null;
  branch?: string;
}

/**
 * The use cases behind the REST API, in DB-GPT's terms. Every method either returns or throws a
 * FlowregError (codes in src/errors/codes.ts; FLOW_INVALID carries `data.findings: Finding[]`).
 */
export interface FlowServiceApi {
  list(filter: FlowFilter, page: number, pageSize: number): Promise<Page<DbgptFlow>>;
  get(uid: string): Promise<ServedFlow>;
  /** `get` as JSON text of the Flow object, cached per content and version (the hot read path). */
  getJson(uid: string): Promise<{ json: string; version: string }>;
  /** `list` as JSON text of the PaginationResult, built from cached flow JSON. */
  listJson(filter: FlowFilter, page: number, pageSize: number): Promise<string>;
  /** The flow file as stored (answers in YAML), now or at a version. */
  getFile(uid: string, version?: string): Promise<{ file: FlowFile; version: string }>;
  /** The flow at one of its versions (a commit id). */
  getAt(uid: string, version: string): Promise<ServedFlow>;
  create(body: unknown, caller: Caller): Promise<WriteOutcome>;
  /** `uid` is the path uid; DB-GPT uses the body's uid when it has one. */
  update(uid: string, body: unknown, caller: Caller, pre?: WritePreconditions): Promise<WriteOutcome>;
  delete(uid: string, caller: Caller, pre?: WritePreconditions): Promise<WriteOutcome>;
  versions(uid: string, page: number, pageSize: number): Promise<Page<FlowVersionEntry>>;
  /** `pre.ifMatch`: the version the revert is based on (PRECONDITION_FAILED when the flow moved on). */
  revert(uid: string, version: string, caller: Caller, pre?: WritePreconditions): Promise<WriteOutcome>;
  /** Semantic diff between two versions (defaults: `to` = current, `from` = the version before `to`). */
  diff(uid: string, from?: string, to?: string): Promise<JsonObject>;
  /** DB-GPT's export file content `{"flow": …}`. */
  exportFlow(uid: string): Promise<{ flow: DbgptFlow }>;
  /** DB-GPT's import: parse an export file's JSON; `save` creates it. */
  importFlow(json: unknown, save: boolean, caller: Caller): Promise<DbgptFlow>;
  /** The templates folder's flows, with fresh uids as DB-GPT does. */
  templates(page: number, pageSize: number): Promise<Page<DbgptFlow>>;
  /** Operator and resource node metadata found in the repository's flows, filtered by tags. */
  nodes(tags?: Record<string, string>): Promise<JsonObject[]>;
  /** Stored metadata of one node (for /nodes/refresh). */
  node(id: string, flowType?: string, typeCls?: string): Promise<JsonObject>;
  /** Validation findings of a body, without writing (also used for E0001 answers). */
  check(body: unknown): Finding[];
  /** Counts for /metrics. */
  stats(): { flows: number; invalid: number };
  /** The web app's flow list: search, filters, one page of summaries (absent: the web app's list is unavailable). */
  browse?(query: BrowseQuery): Promise<BrowsePage>;
  /** Follows every change of the served flows (the store's one change stream); returns the unsubscribe. */
  subscribe?(listener: (event: FlowsChanged) => void): () => void;
}

/** The web app's list query: `q` is a case-insensitive substring of uid, name, label or description. */
export interface BrowseQuery {
  q?: string;
  category?: string;
  state?: string;
  /** true: only quarantined (load_failed) flows; false: only the others. */
  quarantined?: boolean;
  page: number;
  pageSize: number;
}

/** One row of the web app's list. */
export interface FlowSummary {
  uid: string;
  name: string | null;
  label: string | null;
  description: string | null;
  flow_category: string | null;
  state: string | null;
  path: string;
  version: string;
  gmt_modified: string;
  /** The findings of a quarantined file (empty otherwise), with file:line:col. */
  findings: Array<{ code: string; file: string; line: number; col: number; message: string }>;
  /** The last commit that changed the flow (null: never committed). */
  last_commit: { version: string; author: string; time: string; message: string } | null;
}

/** A page of the web app's list, with the categories and states found for the filters. */
export interface BrowsePage extends Page<FlowSummary> {
  categories: string[];
  states: string[];
  quarantined_count: number;
}

/** What a subscriber of the flow changes is told: the served flows that changed, and where from. */
export interface FlowsChanged {
  uids: string[];
  source: string;
}

/** Sync with a remote, as the server needs it: the status, and a fetch now (the webhook). */
export interface SyncApi {
  /** Branch, heads, ahead/behind, last fetch and push, invalid flows (docs/sync.md). */
  status(): JsonObject;
  /** Fetches and fast-forwards now; resolves with the paths that changed. */
  fetchNow(): Promise<string[]>;
  /** The branch a push event must name to trigger a fetch. */
  branch: string;
  /** True when a remote is configured. */
  hasRemote: boolean;
  /** The webhook's HMAC secret; null: the webhook refuses every call. */
  webhookSecret: string | null;
  /** The runtimes' status and drift (docs/runtimes.md); absent: no runtime configured. */
  runtimes?: () => JsonObject;
  /** Reconciles every runtime now; absent: no runtime configured. */
  reconcileNow?: () => Promise<void>;
  /** Calls the listener with a runtime's name when its status changed; returns the unsubscriber. Absent: no runtime configured. */
  runtimeEvents?: (listener: (runtime: string) => void) => () => void;
}
