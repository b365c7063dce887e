import { randomUUID } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { dbgptFlowFromFile, dagIdFor, type DerivedFields } from '../core/dbgptFlow.ts';
import { diffFlows } from '../core/diffFlows.ts';
import { flowCategoryOf } from '../core/flowCategory.ts';
import { parseYaml } from '../core/parseYaml.ts';
import { FLOW_FILE_KEYS, type DbgptFlow, type Finding, type FlowData, type FlowFile, type Json, type JsonObject } from '../core/types.ts';
import { validateFlowValue } from '../core/validateFlow.ts';
import { FlowregError } from '../errors/index.ts';
import { GitStore, type CurrentFlow, type FlowRecord, type Identity, type WriteResult } from '../store/GitStore.ts';
import type { RemoteOptions } from '../store/Remote.ts';
import { WriteQueue } from '../store/writeQueue.ts';
import type { Caller, FlowFilter, FlowServiceApi, FlowVersionEntry, Page, ServedFlow, WriteOutcome, WritePreconditions } from './FlowServiceApi.ts';
import { formatTime } from './formatTime.ts';
import { LruCache } from '../core/LruCache.ts';

/** Options of FlowService.open. */
export interface FlowServiceOptions {
  /** The repository's working tree (initialised when it has no repository). */
  repo: string;
  /** Folder of flow files inside the repository (default `flows`). */
  flowsDir?: string;
  /** Folder of template flows (DB-GPT export JSON or flow YAML files); default `<repo>/templates`. */
  templatesDir?: string;
  /** The daemon's identity as committer. */
  committer?: Identity;
  /** Flush every write to disk before acknowledging it (default true). */
  durable?: boolean;
  /** Sync with a remote (clone on first start, push each write). */
  remote?: RemoteOptions;
  /** `direct` (default) or `branch`: each write goes to a new branch for review. */
  writeMode?: 'direct' | 'branch';
  now?: () => number;
}

/** One flow as served: its file, and its last valid content when the file is broken (design §5). */
interface Served {
  uid: string;
  /** The file that declares the flow now. */
  path: string;
  /** Blob of the content served: the file's, or the last valid one while the file is quarantined. */
  blob: string | null;
  /** Path of the content served (the blob's file). */
  blobPath: string;
  summary: JsonObject;
  /** Errors of the current file (non-empty = quarantined, state load_failed). */
  errors: Finding[];
  nodes: string[];
  modified: number;
}

const OID = /^[0-9a-f]{40}$/;
const STORED = new Set<string>(FLOW_FILE_KEYS);

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finding(path: string, message: string): Finding {
  return { code: 'SCHEMA_REQUIRED', severity: 'error', path, file: '', line: 0, col: 0, message };
}

/** DB-GPT's `loc:msg` style summary of findings for error_message and messages. */
function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}${f.line ? `:${f.line}:${f.col}` : ''} ${f.code} ${f.message}`).join('; ');
}

/**
 * The use cases of the REST API over one git repository, in DB-GPT's terms (FlowServiceApi):
 * DB-GPT's create/update/delete/list semantics minus its bugs, `version`/`gmt_*` from git, and
 * the quarantine of broken files.
 */
export class FlowService implements FlowServiceApi {
  private served = new Map<string, Served>();
  private readonly flows = new LruCache<string, FlowFile>(256);
  /** Served flows as JSON text, bounded by total length (about 256 MB: 10,000 corpus-sized flows). */
  private readonly json = new LruCache<string, string>(Number.POSITIVE_INFINITY, 256 * 1024 * 1024, (v) => v.length);
  private sorted: Served[] | null = null;
  /** Bumped whenever what is served changes: cached pages of older generations are stale. */
  private generation = 0;
  private readonly pages = new LruCache<string, { generation: number; json: string }>(256, 128 * 1024 * 1024, (v) => v.json.length);
  private readonly templatesDir: string;
  /** Updates of the served index, one at a time. */
  private readonly serving = new WriteQueue();

  private constructor(
    readonly store: GitStore,
    opts: FlowServiceOptions,
  ) {
    this.templatesDir = opts.templatesDir ?? join(opts.repo, 'templates');
  }

  /** Opens (or initialises) the repository and loads its flows. */
  static async open(opts: FlowServiceOptions): Promise<FlowService> {
    const store = await GitStore.open({ dir: opts.repo, flowsDir: opts.flowsDir, committer: opts.committer, durable: opts.durable, now: opts.now, remote: opts.remote, writeMode: opts.writeMode });
    const service = new FlowService(store, opts);
    await service.reconcile();
    return service;
  }

  /** Persists the store's caches and releases it. */
  async close(): Promise<void> {
    await this.store.close();
  }

  /**
   * Re-reads what changed on disk (the given repository-relative paths, or everything) and updates
   * the served flows; a file that became invalid keeps its last valid content served. Returns the
   * uids whose served state changed.
   */
  async refresh(paths?: string[]): Promise<string[]> {
    const moved = await this.store.refresh(paths);
    // nothing changed on disk (the watcher saw flowreg's own write, or a follow-up check)
    if (moved.length === 0) return [];
    // versions and times can change without the content (a commit by hand of an edited file)
    this.bump();
    return this.reconcile();
  }

  /** Serves what a fetch brought in: the store already moved these paths. */
  async pulled(paths: string[]): Promise<string[]> {
    if (paths.length === 0) return [];
    await this.store.refresh(paths);
    this.bump();
    return this.reconcile();
  }

  private bump(): void {
    this.sorted = null;
    this.generation++;
  }

  /**
   * Rebuilds the served index from the store's records (unchanged entries are kept as they are).
   * Runs one at a time with reconcileUid: an update of the served index that yields half-way (it
   * may read a file) must not be overwritten by an older one that finishes after it.
   */
  private reconcile(): Promise<string[]> {
    return this.serving.run(() => this.reconcileNow());
  }

  private async reconcileNow(): Promise<string[]> {
    const next = new Map<string, Served>();
    const changed: string[] = [];
    // group the files by the uid they declare; a group of more than one is a duplicate uid
    const groups = new Map<string, FlowRecord[]>();
    for (const rec of this.store.list()) {
      const key = keyOf(rec);
      const g = groups.get(key);
      if (g) g.push(rec);
      else groups.set(key, [rec]);
    }
    let byPath: Map<string, Served> | null = null;
    for (const [key, recs] of groups) {
      if (key.startsWith('file:')) byPath ??= new Map([...this.served.values()].map((x) => [x.path, x]));
      const s = await this.entryFor(key, recs, byPath);
      next.set(s.uid, s);
      if (this.differs(this.served.get(s.uid), s)) changed.push(s.uid);
    }
    for (const uid of this.served.keys()) if (!next.has(uid)) changed.push(uid);
    this.served = next;
    if (changed.length > 0) this.bump();
    return changed;
  }

  /**
   * Serves the result of a write: the flow it touched, and when its push was rebuilt on the
   * remote's new head, the flows it brought in (no later fetch would show them: the local branch
   * already stands on the remote head).
   */
  private async afterWrite(uid: string, res: WriteResult): Promise<void> {
    // a full re-derivation covers the written flow too
    if (res.pulled.length > 0) await this.reconcile();
    else await this.reconcileUid(uid);
  }

  /** Re-derives the one flow a write touched (every other served flow is unchanged by it). */
  private reconcileUid(uid: string): Promise<void> {
    return this.serving.run(() => this.reconcileUidNow(uid));
  }

  private async reconcileUidNow(uid: string): Promise<void> {
    const recs = this.store.byUid(uid);
    if (recs.length === 0) this.served.delete(uid);
    else {
      const s = await this.entryFor(uid, recs, null);
      this.served.set(s.uid, s);
    }
    this.bump();
  }

  private differs(before: Served | undefined, s: Served): boolean {
    return before !== s && (!before || before.blob !== s.blob || before.path !== s.path || before.errors.length !== s.errors.length || before.modified !== s.modified);
  }

  /**
   * The served entry of the files declaring one uid (or of one file declaring none, key
   * `file:<path>`): the file's own content when it is valid, else its last valid content marked
   * load_failed (quarantine), else what of it parses. The first file by path wins a duplicate uid.
   */
  private async entryFor(key: string, recs: FlowRecord[], byPath: Map<string, Served> | null): Promise<Served> {
    if (recs.length > 1) recs.sort((a, b) => (a.path < b.path ? -1 : 1));
    const rec = recs[0] as FlowRecord;
    const uid = key.startsWith('file:') ? null : key;
    const errors = rec.findings.filter((f) => f.severity === 'error');
    // two files declare one uid: both are reported
    for (const other of recs.slice(1)) errors.push(dupFinding(other.path, rec.path, key));
    const prev = uid ? this.served.get(uid) : byPath?.get(rec.path);
    if (errors.length === 0 && uid) {
      if (prev && prev.blob === rec.blob && prev.path === rec.path && prev.errors.length === 0 && prev.modified === rec.mtimeMs) return prev;
      if (rec.blob !== rec.headBlob) await this.store.retain(rec.path);
      return { uid, path: rec.path, blob: rec.blob, blobPath: rec.path, summary: rec.summary as JsonObject, errors: [], nodes: rec.nodes, modified: rec.mtimeMs };
    }
    // quarantine: the last valid content stays served, marked load_failed
    if (prev && prev.blob) return { ...prev, path: rec.path, errors };
    const base = posix.basename(rec.path).replace(/\.ya?ml$/, '');
    const summary: JsonObject = isObject(rec.summary) ? { ...rec.summary } : {};
    summary.uid = key;
    if (typeof summary.name !== 'string' || summary.name === '') summary.name = base;
    if (typeof summary.label !== 'string' || summary.label === '') summary.label = summary.name as string;
    return { uid: key, path: rec.path, blob: null, blobPath: rec.path, summary, errors, nodes: rec.nodes, modified: rec.mtimeMs };
  }

  private entry(uid: string): Served {
    const s = typeof uid === 'string' ? this.served.get(uid) : undefined;
    if (!s) throw new FlowregError('FLOW_NOT_FOUND', `Flow ${uid} not found`, { uid });
    return s;
  }

  /** The flow file content served for an entry (parsed once per blob). */
  private async fileOf(s: Served): Promise<FlowFile | null> {
    if (!s.blob) {
      // an invalid new file: whatever of it parses
      try {
        const text = await fsp.readFile(join(this.store.dir, s.path), 'utf8');
        const v = parseYaml(text).value;
        return isObject(v) ? (v as FlowFile) : null;
      } catch {
        return null;
      }
    }
    let f = this.flows.get(s.blob);
    if (!f) {
      f = await this.store.readBlob(s.blob, s.blobPath);
      this.flows.set(s.blob, f);
    }
    return f;
  }

  private derived(s: Served): DerivedFields {
    const rec = this.store.record(s.path) ?? null;
    const v = this.store.versionOf(s.uid, rec);
    const modified = v.dirty || v.modified === null ? s.modified / 1000 : v.modified;
    const out: DerivedFields = {
      version: v.version,
      gmt_created: v.created === null ? formatTime(modified) : formatTime(v.created),
      gmt_modified: formatTime(modified),
    };
    if (s.errors.length > 0) out.error_message = describeFindings(s.errors).slice(0, 500);
    return out;
  }

  private async toWire(s: Served): Promise<ServedFlow> {
    const file = (await this.fileOf(s)) ?? (s.summary as FlowFile);
    const d = this.derived(s);
    const flow = dbgptFlowFromFile({ ...(file as object), uid: s.uid, name: file.name ?? s.summary.name, label: file.label ?? s.summary.label } as FlowFile, d);
    if (s.errors.length > 0) flow.state = 'load_failed';
    return { flow, version: d.version };
  }

  private sortKey(s: Served): number {
    const rec = this.store.record(s.path) ?? null;
    const v = this.store.versionOf(s.uid, rec);
    return v.dirty || v.modified === null ? s.modified / 1000 : v.modified;
  }

  /** Every served flow, newest gmt_modified first (kept until the served flows change). */
  private ordered(): Served[] {
    if (!this.sorted) {
      const keyed = [...this.served.values()].map((s) => [this.sortKey(s), s] as const);
      keyed.sort((a, b) => b[0] - a[0] || (a[1].uid < b[1].uid ? -1 : 1));
      this.sorted = keyed.map(([, s]) => s);
    }
    return this.sorted;
  }

  private matching(filter: FlowFilter): Served[] {
    return this.ordered().filter((s) => {
      for (const key of ['name', 'uid', 'user_name', 'sys_code'] as const) {
        const want = filter[key];
        if (want === undefined) continue;
        const have = key === 'uid' ? s.uid : s.summary[key];
        if (have !== want) return false;
      }
      if (filter.categories) {
        const cat = s.summary.flow_category;
        if (typeof cat !== 'string' || !filter.categories.includes(cat)) return false;
      }
      return true;
    });
  }

  async list(filter: FlowFilter, page: number, pageSize: number): Promise<Page<DbgptFlow>> {
    checkPaging(page, pageSize);
    const matches = this.matching(filter);
    const start = (page - 1) * pageSize;
    const items: DbgptFlow[] = [];
    for (const s of matches.slice(start, start + pageSize)) items.push((await this.toWire(s)).flow);
    return { items, total_count: matches.length, total_pages: Math.ceil(matches.length / pageSize), page, page_size: pageSize };
  }

  /**
   * The list page as JSON text, built from each flow's cached JSON: a page of 20 corpus-sized
   * flows is half a megabyte, and serializing it per request cost more than everything else.
   */
  async listJson(filter: FlowFilter, page: number, pageSize: number): Promise<string> {
    checkPaging(page, pageSize);
    const key = `${JSON.stringify(filter)}|${page}|${pageSize}`;
    const hit = this.pages.get(key);
    if (hit && hit.generation === this.generation) return hit.json;
    const generation = this.generation;
    const json = await this.listJsonUncached(filter, page, pageSize);
    if (generation === this.generation) this.pages.set(key, { generation, json });
    return json;
  }

  private async listJsonUncached(filter: FlowFilter, page: number, pageSize: number): Promise<string> {
    const matches = this.matching(filter);
    const start = (page - 1) * pageSize;
    const items: string[] = [];
    for (const s of matches.slice(start, start + pageSize)) items.push((await this.jsonOf(s)).json);
    return `{"items":[${items.join(',')}],"total_count":${matches.length},"total_pages":${Math.ceil(matches.length / pageSize)},"page":${page},"page_size":${pageSize}}`;
  }

  async get(uid: string): Promise<ServedFlow> {
    return this.toWire(this.entry(uid));
  }

  /** A flow as JSON text (DB-GPT's Flow object) and its version, cached per served content. */
  async getJson(uid: string): Promise<{ json: string; version: string }> {
    return this.jsonOf(this.entry(uid));
  }

  /** The flow file as stored (for answers in YAML), at the current or a given version. */
  async getFile(uid: string, version?: string): Promise<{ file: FlowFile; version: string }> {
    if (version !== undefined) {
      const at = await this.store.readAt(uid, version);
      if (!at) throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} was deleted in version ${version}`, { uid, version });
      return { file: at.file, version };
    }
    const s = this.entry(uid);
    const file = await this.fileOf(s);
    if (!file) throw new FlowregError('FLOW_INVALID', `${s.path} does not parse; it has no content to serve`, { uid, path: s.path });
    return { file, version: this.derived(s).version };
  }

  private async jsonOf(s: Served): Promise<{ json: string; version: string }> {
    const d = this.derived(s);
    const key = `${s.uid}\u0000${s.blob}\u0000${s.path}\u0000${d.version}\u0000${d.gmt_modified}\u0000${d.error_message ?? ''}`;
    let json = this.json.get(key);
    if (json === undefined) {
      json = JSON.stringify((await this.toWire(s)).flow);
      this.json.set(key, json);
    }
    return { json, version: d.version };
  }

  async getAt(uid: string, version: string): Promise<ServedFlow> {
    const at = await this.store.readAt(uid, version);
    if (!at) throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} was deleted in version ${version}`, { uid, version });
    const versions = this.store.versions(uid);
    const me = versions.find((v) => v.version === version);
    const first = versions[versions.length - 1];
    const flow = dbgptFlowFromFile(at.file, {
      version,
      gmt_created: first ? formatTime(first.time) : null,
      gmt_modified: me ? formatTime(me.time) : null,
    });
    return { flow, version };
  }

  check(body: unknown): Finding[] {
    if (!isObject(body)) return [finding('', `the body must be a JSON object (a DB-GPT Flow), found ${describeKind(body)}`)];
    const { file, findings } = this.fileFromBody(body, null, typeof body.uid === 'string' && body.uid !== '' ? body.uid : 'check');
    return findings.length > 0 ? findings : validateFlowValue(file, { file: `flows/${String(file.name)}.yaml` });
  }

  /**
   * A flow file from a DB-GPT Flow body, merged over `base` for an update (present keys replace,
   * null clears, absent keeps), with DB-GPT's label/name filling and flow_category recomputed.
   */
  private fileFromBody(body: JsonObject, base: FlowFile | null, uid: string): { file: FlowFile; findings: Finding[] } {
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
    if (out.label === undefined || out.label === '') findings.push(finding('/label', 'Field required'));
    if (out.name === undefined || out.name === '') findings.push(finding('/name', 'Field required'));
    if (Array.isArray(out.variables) && out.variables.length === 0) delete out.variables;
    if (isObject(out.flow_data)) out.flow_category = flowCategoryOf(out.flow_data as unknown as FlowData);
    if (out.flow_category === null) delete out.flow_category;
    if (typeof out.dag_id !== 'string' || out.dag_id === '') {
      const given = body.dag_id;
      out.dag_id = typeof given === 'string' && given !== '' ? given : dagIdFor(String(out.name), uid);
    }
    return { file: out as unknown as FlowFile, findings };
  }

  private validate(file: FlowFile, findings: Finding[]): void {
    const all = findings.length > 0 ? findings : validateFlowValue(file, { file: `flows/${String(file.name)}.yaml` });
    const errors = all.filter((f) => f.severity === 'error');
    if (errors.length > 0) {
      throw new FlowregError('FLOW_INVALID', `the flow is not valid: ${errors.map((f) => `${f.path || '/'}: ${f.message}`).join('; ')}`, { findings: errors });
    }
  }

  async create(body: unknown, caller: Caller): Promise<WriteOutcome> {
    if (!isObject(body)) throw new FlowregError('INVALID_INPUT', `the body must be a JSON object (a DB-GPT Flow), found ${describeKind(body)}`);
    checkUidType(body);
    const uid = typeof body.uid === 'string' && body.uid !== '' ? body.uid : randomUUID();
    const { file: next, findings } = this.fileFromBody(body, null, uid);
    this.validate(next, findings);
    if (next.editable === undefined) next.editable = true;
    const res = await this.store.write({
      verb: 'create',
      uid,
      author: caller,
      apply: (cur) => {
        if (cur) throw new FlowregError('FLOW_EXISTS', `a flow with uid ${uid} already exists (${cur.path})`, { uid });
        return next;
      },
    });
    return this.outcome(uid, res);
  }

  /** What a write answers: the flow as now served, or in branch mode the proposed flow and its branch. */
  private async outcome(uid: string, res: WriteResult): Promise<WriteOutcome> {
    if (res.branch && res.commit) {
      const when = formatTime(Math.floor(Date.now() / 1000));
      const flow = dbgptFlowFromFile(res.file ?? (res.previous?.file as FlowFile), { version: res.commit, gmt_created: when, gmt_modified: when });
      return { flow, version: res.commit, commit: res.commit, branch: res.branch };
    }
    await this.afterWrite(uid, res);
    // the written flow is in hand: no need to read and parse its new blob back
    const s = this.served.get(uid);
    if (s?.blob && res.file && s.errors.length === 0) this.flows.set(s.blob, res.file);
    if (res.file === null) return { ...(await this.snapshot(uid, res)), commit: res.commit };
    return { ...(await this.get(uid)), commit: res.commit };
  }

  private async snapshot(uid: string, res: WriteResult): Promise<ServedFlow> {
    const prev = res.previous;
    const flow = dbgptFlowFromFile((prev?.file ?? { uid }) as FlowFile, { version: prev?.version ?? 'uncommitted', gmt_created: null, gmt_modified: null });
    return { flow, version: flow.version as string };
  }

  async update(pathUid: string, body: unknown, caller: Caller, pre: WritePreconditions = {}): Promise<WriteOutcome> {
    if (!isObject(body)) throw new FlowregError('INVALID_INPUT', `the body must be a JSON object (a DB-GPT Flow), found ${describeKind(body)}`);
    checkUidType(body);
    // DB-GPT updates the flow the body names; the path uid only when the body has none
    const uid = typeof body.uid === 'string' && body.uid !== '' ? body.uid : pathUid;
    this.entry(uid);
    const bodyVersion = typeof body.version === 'string' && OID.test(body.version) ? body.version : undefined;
    const res = await this.store.write({
      verb: 'update',
      uid,
      author: caller,
      apply: (cur) => {
        if (!cur) throw new FlowregError('FLOW_NOT_FOUND', `Flow ${uid} not found`, { uid });
        checkPreconditions(uid, cur, pre, bodyVersion);
        if (cur.file.editable === false) throw new FlowregError('FLOW_NOT_EDITABLE', `Flow ${uid} is not editable`, { uid });
        const { file, findings } = this.fileFromBody(body, cur.file, uid);
        this.validate(file, findings);
        return file;
      },
    });
    return this.outcome(uid, res);
  }

  async delete(uid: string, caller: Caller, pre: WritePreconditions = {}): Promise<WriteOutcome> {
    const before = await this.get(uid);
    const res = await this.store.write({
      verb: 'delete',
      uid,
      author: caller,
      apply: (cur) => {
        if (!cur) throw new FlowregError('FLOW_NOT_FOUND', `Flow ${uid} not found`, { uid });
        checkPreconditions(uid, cur, pre, undefined);
        return null;
      },
    });
    if (res.branch) return { ...before, version: res.commit as string, commit: res.commit, branch: res.branch };
    await this.afterWrite(uid, res);
    return { ...before, commit: res.commit };
  }

  async versions(uid: string, page: number, pageSize: number): Promise<Page<FlowVersionEntry>> {
    checkPaging(page, pageSize);
    const all = this.store.versions(uid);
    if (all.length === 0) this.entry(uid);
    const items = all.slice((page - 1) * pageSize, page * pageSize).map((v) => ({
      version: v.version,
      gmt_created: formatTime(v.time),
      author: v.author.name,
      author_email: v.author.email,
      message: v.message,
    }));
    return { items, total_count: all.length, total_pages: Math.ceil(all.length / pageSize), page, page_size: pageSize };
  }

  async revert(uid: string, version: string, caller: Caller): Promise<WriteOutcome> {
    if (typeof version !== 'string' || !OID.test(version)) throw new FlowregError('INVALID_INPUT', `version must be a commit id (40 hex characters), found ${JSON.stringify(version)}`);
    const at = await this.store.readAt(uid, version);
    if (!at) throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} was deleted in version ${version}; revert to an earlier version`, { uid, version });
    const res = await this.store.write({
      verb: 'revert',
      uid,
      author: caller,
      apply: (cur) => {
        if (cur && cur.file.editable === false) throw new FlowregError('FLOW_NOT_EDITABLE', `Flow ${uid} is not editable`, { uid });
        return at.file;
      },
    });
    return this.outcome(uid, res);
  }

  async diff(uid: string, from?: string, to?: string): Promise<JsonObject> {
    const fileAt = async (version: string | undefined): Promise<FlowFile | null> => {
      if (version === undefined || version === 'current') {
        const s = this.served.get(uid);
        return s ? this.fileOf(s) : null;
      }
      const at = await this.store.readAt(uid, version);
      return at ? at.file : null;
    };
    let fromV = from;
    if (fromV === undefined) {
      const versions = this.store.versions(uid).map((v) => v.version);
      if (versions.length === 0) this.entry(uid);
      const toIndex = to === undefined ? (this.store.versionOf(uid, this.store.record(this.served.get(uid)?.path ?? '') ?? null).dirty ? -1 : 0) : versions.indexOf(to);
      fromV = versions[toIndex + 1];
    }
    const before = fromV === undefined ? null : await fileAt(fromV);
    const after = await fileAt(to);
    return diffFlows(before, after) as unknown as JsonObject;
  }

  async exportFlow(uid: string): Promise<{ flow: DbgptFlow }> {
    return { flow: (await this.get(uid)).flow };
  }

  async importFlow(json: unknown, save: boolean, caller: Caller): Promise<DbgptFlow> {
    if (!isObject(json) || !isObject(json.flow)) throw new FlowregError('INVALID_INPUT', 'the file must hold a DB-GPT export: a JSON object with a "flow" object');
    const flow = json.flow;
    if (!Object.hasOwn(flow, 'uid')) throw new FlowregError('INVALID_INPUT', 'the exported flow has no "uid" key');
    // as DB-GPT: an imported flow is a new, not yet deployed flow
    const parsed: JsonObject = { ...flow, uid: randomUUID(), editable: false, state: 'initializing', dag_id: null };
    if (save) return (await this.create(parsed, caller)).flow;
    const { file, findings } = this.fileFromBody(parsed, null, parsed.uid as string);
    this.validate(file, findings);
    // DB-GPT answers an unsaved import without a dag id
    return dbgptFlowFromFile({ ...(file as object), dag_id: null } as FlowFile, { version: 'uncommitted', gmt_created: null, gmt_modified: null });
  }

  async templates(page: number, pageSize: number): Promise<Page<DbgptFlow>> {
    checkPaging(page, pageSize);
    const all: DbgptFlow[] = [];
    if (existsSync(this.templatesDir)) {
      const names = (await fsp.readdir(this.templatesDir)).filter((n) => /\.(json|ya?ml)$/.test(n)).sort();
      for (const n of names) {
        const text = await fsp.readFile(join(this.templatesDir, n), 'utf8');
        let v: unknown;
        try {
          v = n.endsWith('.json') ? JSON.parse(text) : parseYaml(text).value;
        } catch {
          continue;
        }
        const flow = isObject(v) && isObject(v.flow) ? v.flow : v;
        if (!isObject(flow)) continue;
        // as DB-GPT: fresh uids on every call, not editable, not deployed, no dag yet
        const t = dbgptFlowFromFile({ ...(flow as object), uid: randomUUID(), editable: false, state: 'initializing', dag_id: null } as FlowFile, {
          version: typeof flow.version === 'string' ? flow.version : '0.1.1',
          gmt_created: null,
          gmt_modified: null,
        });
        all.push(t);
      }
    }
    // DB-GPT's build_from_all clamps the page into [1, total_pages]
    const totalPages = Math.ceil(all.length / pageSize);
    const p = totalPages === 0 ? 0 : Math.min(Math.max(page, 1), totalPages);
    return { items: p === 0 ? [] : all.slice((p - 1) * pageSize, p * pageSize), total_count: all.length, total_pages: totalPages, page: p, page_size: pageSize };
  }

  async nodes(tags?: Record<string, string>): Promise<JsonObject[]> {
    const out = new Map<string, JsonObject>();
    for (const s of this.served.values()) {
      if (!s.blob || !s.nodes.some((id) => !out.has(id))) continue;
      const file = await this.fileOf(s);
      for (const n of file?.flow_data?.nodes ?? []) {
        if (!isObject(n) || typeof n.id !== 'string' || !isObject(n.data)) continue;
        const id = originOf(n.id);
        if (out.has(id)) continue;
        out.set(id, catalogueEntry(n.data, id));
      }
    }
    const list = [...out.values()].sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    if (!tags || Object.keys(tags).length === 0) return list;
    return list.filter((m) => {
      const t = isObject(m.tags) ? m.tags : {};
      return Object.entries(tags).every(([k, v]) => t[k] === v);
    });
  }

  async node(id: string, flowType?: string, typeCls?: string): Promise<JsonObject> {
    const all = await this.nodes();
    const want = originOf(id);
    const hit = all.find((m) => m.id === id || m.id === want) ?? all.find((m) => typeCls !== undefined && m.type_cls === typeCls && (flowType === undefined || m.flow_type === flowType));
    if (!hit) throw new FlowregError('FLOW_NOT_FOUND', `no flow in the repository uses node ${id}`, { id });
    return hit;
  }

  stats(): { flows: number; invalid: number } {
    let invalid = 0;
    for (const s of this.served.values()) if (s.errors.length > 0) invalid++;
    return { flows: this.served.size, invalid };
  }

  /** Sync status (design §5): branch, heads, ahead/behind, last fetch and push, and the invalid flows. */
  syncStatus(): JsonObject {
    const st = this.store.status();
    return {
      ...(st as unknown as JsonObject),
      invalid_flows: this.invalidFlows().map((f) => ({ uid: f.uid, path: f.path, findings: f.findings as unknown as Json })),
    };
  }

  /** The findings of every flow file that is quarantined or invalid, by uid. */
  invalidFlows(): Array<{ uid: string; path: string; findings: Finding[] }> {
    return [...this.served.values()].filter((s) => s.errors.length > 0).map((s) => ({ uid: s.uid, path: s.path, findings: s.errors }));
  }
}

function checkPreconditions(uid: string, cur: CurrentFlow, pre: WritePreconditions, bodyVersion: string | undefined): void {
  if (pre.ifMatch !== undefined) {
    const tags = pre.ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
    if (!tags.includes('*') && !tags.includes(cur.version)) {
      throw new FlowregError('PRECONDITION_FAILED', `If-Match ${pre.ifMatch} does not match flow ${uid}'s current version ${cur.version}`, { uid, current: cur.version });
    }
  }
  if (bodyVersion !== undefined && bodyVersion !== cur.version) {
    throw new FlowregError('VERSION_CONFLICT', `flow ${uid} is at version ${cur.version}, not ${bodyVersion}: it changed since it was read`, {
      uid,
      expected: bodyVersion,
      current: cur.version,
    });
  }
}

/** A uid that is there but not a string is refused, as DB-GPT's model does (E0001). */
function checkUidType(body: JsonObject): void {
  const uid = body.uid;
  if (uid !== undefined && uid !== null && typeof uid !== 'string') {
    const f = finding('/uid', `Input should be a valid string, found ${describeKind(uid)}`);
    f.code = 'SCHEMA_TYPE';
    throw new FlowregError('FLOW_INVALID', `the flow is not valid: /uid: ${f.message}`, { findings: [f] });
  }
}

function checkPaging(page: number, pageSize: number): void {
  if (!Number.isInteger(page) || page < 1) throw new FlowregError('INVALID_INPUT', `page must be an integer of at least 1, found ${page}`, { field: 'page' });
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new FlowregError('INVALID_INPUT', `page_size must be an integer from 1 to 1000, found ${pageSize}`, { field: 'page_size' });
  }
}

function describeKind(v: unknown): string {
  if (v === undefined) return 'no body';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function originOf(id: string): string {
  const at = id.lastIndexOf('_');
  return at > 0 ? id.slice(0, at) : id;
}

/** A node's stored metadata as a catalogue entry: its origin id, and no per-flow parameter values. */
function catalogueEntry(data: JsonObject, id: string): JsonObject {
  const out: JsonObject = { ...data, id };
  if (Array.isArray(data.parameters)) out.parameters = data.parameters.map((p) => (isObject(p) ? { ...p, value: null } : p));
  return out;
}

/** The served key of a flow file: the uid it declares, or `file:<path>` when it declares none. */
function keyOf(rec: FlowRecord): string {
  return typeof rec.summary?.uid === 'string' && rec.summary.uid !== '' ? rec.summary.uid : `file:${rec.path}`;
}

function dupFinding(path: string, other: string, uid: string): Finding {
  return { code: 'UID_DUPLICATE', severity: 'error', path: '/uid', file: path, line: 0, col: 0, message: `uid "${uid}" is also used by ${other}; uids must be unique in the repository` };
}
