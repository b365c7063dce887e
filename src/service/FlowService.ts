import { randomUUID } from 'node:crypto';
import { dbgptFlowFromFile, type DerivedFields } from '../core/dbgptFlow.ts';
import { diffFlows } from '../core/diffFlows.ts';
import { bodyFinding, bodyObject, bodyUid, checkEditable, checkPreconditions, describeKind, fileFromBody, invalidFlow } from '../core/flowFromBody.ts';
import { isObject } from '../core/jsonAccess.ts';
import { LruCache } from '../core/LruCache.ts';
import type { ServedEntry } from '../core/servedEntry.ts';
import type { DbgptFlow, Finding, FlowFile, Json, JsonObject } from '../core/types.ts';
import { validateFlowValue } from '../core/validateFlow.ts';
import { FlowregError } from '../errors/index.ts';
import type { GitStore, WriteResult } from '../store/GitStore.ts';
import type { BrowsePage, BrowseQuery, Caller, FlowFilter, FlowServiceApi, FlowsChanged, FlowSummary, FlowVersionEntry, Page, ServedFlow, WriteOutcome, WritePreconditions } from './FlowServiceApi.ts';
import { formatTime } from './formatTime.ts';

const OID = /^[0-9a-f]{40}$/;

/** What the runtimes say of the flows, as served answers show it (the reconciler keeps it). */
export interface RuntimeView {
  /** Changes whenever any flow's overlay changes. */
  readonly generation: number;
  /** Changes whenever this flow's overlay changes. */
  stamp(uid: string): number;
  /** null: nothing to show (no runtime has a word on this flow). */
  overlay(uid: string): { metadata: Json; state?: string; error_message?: string } | null;
}

/** DB-GPT's `loc:msg` style summary of findings for error_message and messages. */
function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}${f.line ? `:${f.line}:${f.col}` : ''} ${f.code} ${f.message}`).join('; ');
}

/**
 * The use cases of the REST API over one git repository, in DB-GPT's terms (FlowServiceApi):
 * DB-GPT's create/update/delete/list semantics minus its bugs, `version`/`gmt_*` from git, and
 * the quarantine of broken files. It reads the store's one flow index and keeps only caches of
 * answers derived from it, which the store's change stream invalidates.
 */
export class FlowService implements FlowServiceApi {
  private readonly flows = new LruCache<string, FlowFile>(256);
  /** Served flows as JSON text, bounded by total length (about 256 MB: 10,000 corpus-sized flows). */
  private readonly json = new LruCache<string, string>(Number.POSITIVE_INFINITY, 256 * 1024 * 1024, (v) => v.length);
  private sorted: ServedEntry[] | null = null;
  /** What the runtimes say of each flow, shown in served answers (null: no runtime configured). */
  private runtimeView: RuntimeView | null = null;
  private readonly pages = new LruCache<string, { generation: string; json: string }>(256, 128 * 1024 * 1024, (v) => v.json.length);
  private readonly unsubscribe: () => void;

  constructor(private readonly store: GitStore) {
    // versions and times can change without the content (a commit by hand of an edited file)
    this.unsubscribe = store.subscribe(() => {
      this.sorted = null;
    });
  }

  /** Stops following the store (the store itself is closed by its owner). */
  close(): void {
    this.unsubscribe();
  }

  /** The flow file content served for an entry (parsed once per blob). */
  private async fileOf(s: ServedEntry): Promise<FlowFile | null> {
    // an invalid new file: whatever of it parses
    if (!s.blob) return this.store.readWorking(s.path);
    let f = this.flows.get(s.blob);
    if (!f) {
      f = await this.store.readBlob(s.blob, s.blobPath);
      this.flows.set(s.blob, f);
    }
    return f;
  }

  private derived(s: ServedEntry): DerivedFields {
    const v = this.store.versionOf(s.uid, s.path);
    const modified = v.dirty || v.modified === null ? s.modified / 1000 : v.modified;
    const out: DerivedFields = {
      version: v.version,
      gmt_created: v.created === null ? formatTime(modified) : formatTime(v.created),
      gmt_modified: formatTime(modified),
    };
    if (s.errors.length > 0) out.error_message = describeFindings(s.errors).slice(0, 500);
    return out;
  }

  private async toWire(s: ServedEntry): Promise<ServedFlow> {
    const file = (await this.fileOf(s)) ?? (s.summary as FlowFile);
    const d = this.derived(s);
    const flow = dbgptFlowFromFile({ ...(file as object), uid: s.uid, name: file.name ?? s.summary.name, label: file.label ?? s.summary.label } as FlowFile, d);
    if (s.errors.length > 0) flow.state = 'load_failed';
    const seen = this.runtimeView?.overlay(s.uid);
    if (seen) {
      // as DB-GPT shows its own flows: a live one running with its metadata, a refused one load_failed with the error
      flow.metadata = seen.metadata;
      if (s.errors.length === 0 && seen.state !== undefined) flow.state = seen.state;
      if (seen.error_message !== undefined) flow.error_message = s.errors.length > 0 ? `${String(flow.error_message)}; ${seen.error_message}`.slice(0, 500) : seen.error_message;
    }
    return { flow, version: d.version };
  }

  /**
   * Shows what the runtimes say of each flow in the served answers (metadata, state, error);
   * `view.stamp(uid)` changes whenever that flow's overlay does, and `view.generation` whenever any does.
   */
  setRuntimeView(view: RuntimeView | null): void {
    this.runtimeView = view;
  }

  /**
   * What a runtime should run for a flow: its served content (a quarantined file's last good
   * content, with the state that content declares), the file's path and its version; null when the
   * flow has no valid content at all.
   */
  async deploySpec(uid: string): Promise<{ flow: DbgptFlow; path: string; version: string } | null> {
    const s = this.store.findFlow(uid);
    if (!s || !s.blob) return null;
    const file = await this.fileOf(s);
    if (!file) return null;
    const d = this.derived(s);
    const flow = dbgptFlowFromFile({ ...(file as object), uid: s.uid } as FlowFile, d);
    // a quarantined file serves its last good content, not the broken edit the version's -dirty is about
    return { flow, path: s.path, version: s.errors.length > 0 ? d.version.replace(/-dirty$/, '') : d.version };
  }

  /** The uids of every served flow (for a full reconcile). */
  servedUids(): string[] {
    return [...this.store.flows()].map((s) => s.uid);
  }

  private sortKey(s: ServedEntry): number {
    const v = this.store.versionOf(s.uid, s.path);
    return v.dirty || v.modified === null ? s.modified / 1000 : v.modified;
  }

  /** Every served flow, newest gmt_modified first (kept until the store reports a change). */
  private ordered(): ServedEntry[] {
    if (!this.sorted) {
      const keyed = [...this.store.flows()].map((s) => [this.sortKey(s), s] as const);
      keyed.sort((a, b) => b[0] - a[0] || (a[1].uid < b[1].uid ? -1 : 1));
      this.sorted = keyed.map(([, s]) => s);
    }
    return this.sorted;
  }

  private matching(filter: FlowFilter): ServedEntry[] {
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
    const generation = this.pageGeneration();
    if (hit && hit.generation === generation) return hit.json;
    const json = await this.listJsonUncached(filter, page, pageSize);
    if (generation === this.pageGeneration()) this.pages.set(key, { generation, json });
    return json;
  }

  /** What a cached page was built from: the store's index and the runtimes' overlay. */
  private pageGeneration(): string {
    return `${this.store.generation}:${this.runtimeView?.generation ?? 0}`;
  }

  private async listJsonUncached(filter: FlowFilter, page: number, pageSize: number): Promise<string> {
    const matches = this.matching(filter);
    const start = (page - 1) * pageSize;
    const items: string[] = [];
    for (const s of matches.slice(start, start + pageSize)) items.push((await this.jsonOf(s)).json);
    return `{"items":[${items.join(',')}],"total_count":${matches.length},"total_pages":${Math.ceil(matches.length / pageSize)},"page":${page},"page_size":${pageSize}}`;
  }

  async get(uid: string): Promise<ServedFlow> {
    return this.toWire(this.store.flow(uid));
  }

  /** A flow as JSON text (DB-GPT's Flow object) and its version, cached per served content. */
  async getJson(uid: string): Promise<{ json: string; version: string }> {
    return this.jsonOf(this.store.flow(uid));
  }

  /** The flow file as stored (for answers in YAML), at the current or a given version. */
  async getFile(uid: string, version?: string): Promise<{ file: FlowFile; version: string }> {
    if (version !== undefined) {
      const at = await this.store.readAt(uid, version);
      if (!at) throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} was deleted in version ${version}`, { uid, version });
      return { file: at.file, version };
    }
    const s = this.store.flow(uid);
    const file = await this.fileOf(s);
    if (!file) throw new FlowregError('FLOW_INVALID', `${s.path} does not parse; it has no content to serve`, { uid, path: s.path });
    return { file, version: this.derived(s).version };
  }

  private async jsonOf(s: ServedEntry): Promise<{ json: string; version: string }> {
    const d = this.derived(s);
    const key = `${s.uid}\u0000${s.blob}\u0000${s.path}\u0000${d.version}\u0000${d.gmt_modified}\u0000${d.error_message ?? ''}\u0000${this.runtimeView?.stamp(s.uid) ?? ''}`;
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
    if (!isObject(body)) return [bodyFinding('', `the body must be a JSON object (a DB-GPT Flow), found ${describeKind(body)}`)];
    const { file, findings } = fileFromBody(body, null, bodyUid(body) ?? 'check');
    return findings.length > 0 ? findings : validateFlowValue(file, { file: `flows/${String(file.name)}.yaml` });
  }

  async create(body: unknown, caller: Caller): Promise<WriteOutcome> {
    const b = bodyObject(body);
    const uid = bodyUid(b) ?? randomUUID();
    const res = await this.store.write({
      verb: 'create',
      uid,
      author: caller,
      apply: () => {
        const { file, findings } = fileFromBody(b, null, uid);
        if (findings.length > 0) throw invalidFlow(findings);
        if (file.editable === undefined) file.editable = true;
        return file;
      },
    });
    return this.outcome(uid, res);
  }

  async update(pathUid: string, body: unknown, caller: Caller, pre: WritePreconditions = {}): Promise<WriteOutcome> {
    const b = bodyObject(body);
    // DB-GPT updates the flow the body names; the path uid only when the body has none
    const uid = bodyUid(b) ?? pathUid;
    const res = await this.store.write({
      verb: 'update',
      uid,
      author: caller,
      apply: (cur) => {
        const current = cur as NonNullable<typeof cur>;
        checkPreconditions(uid, current.version, { ...pre, bodyVersion: b.version });
        checkEditable(uid, current.file);
        const { file, findings } = fileFromBody(b, current.file, uid);
        if (findings.length > 0) throw invalidFlow(findings);
        return file;
      },
    });
    return this.outcome(uid, res);
  }

  async delete(uid: string, caller: Caller, pre: WritePreconditions = {}): Promise<WriteOutcome> {
    const res = await this.store.write({
      verb: 'delete',
      uid,
      author: caller,
      apply: (cur) => {
        checkPreconditions(uid, (cur as NonNullable<typeof cur>).version, pre);
        return null;
      },
    });
    return this.outcome(uid, res);
  }

  async revert(uid: string, version: string, caller: Caller, pre: WritePreconditions = {}): Promise<WriteOutcome> {
    if (typeof version !== 'string' || !OID.test(version)) throw new FlowregError('INVALID_INPUT', `version must be a commit id (40 hex characters), found ${JSON.stringify(version)}`);
    const at = await this.store.readAt(uid, version);
    if (!at) throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} was deleted in version ${version}; revert to an earlier version`, { uid, version });
    const res = await this.store.write({
      verb: 'revert',
      uid,
      author: caller,
      apply: (cur) => {
        if (cur) {
          checkPreconditions(uid, cur.version, pre);
          checkEditable(uid, cur.file);
        }
        return at.file;
      },
    });
    return this.outcome(uid, res);
  }

  /**
   * What a write answers: the flow as now served (the store's index already applied the write),
   * the flow as it was for a delete, or in branch write mode the proposed flow and its branch.
   */
  private async outcome(uid: string, res: WriteResult): Promise<WriteOutcome> {
    if (res.file === null) {
      // a delete: the flow as it was served before
      const prev = res.previous as NonNullable<WriteResult['previous']>;
      const created = this.store.versions(uid).at(-1)?.time ?? null;
      const modified = OID.test(prev.version) ? this.store.timeOf(prev.version) : null;
      const flow = dbgptFlowFromFile(prev.file, { version: prev.version, gmt_created: created === null ? null : formatTime(created), gmt_modified: modified === null ? null : formatTime(modified) });
      return { flow, version: res.branch && res.commit ? res.commit : prev.version, commit: res.commit, ...(res.branch ? { branch: res.branch } : {}) };
    }
    if (res.branch && res.commit) {
      const when = formatTime(Math.floor(Date.now() / 1000));
      const flow = dbgptFlowFromFile(res.file, { version: res.commit, gmt_created: when, gmt_modified: when });
      return { flow, version: res.commit, commit: res.commit, branch: res.branch };
    }
    // the written flow is in hand: no need to read and parse its new blob back
    const s = this.store.findFlow(uid);
    if (s?.blob && s.errors.length === 0) this.flows.set(s.blob, res.file);
    const served = s ? await this.get(uid) : null;
    if (served !== null && (res.commit === null || served.version === res.commit)) return { ...served, commit: res.commit };
    // the tree moved right after the commit (a native checkout or pull): answer the write itself, at its own commit
    const at = res.commit as string;
    const first = this.store.versions(uid).at(-1)?.time ?? null;
    const when = this.store.timeOf(at);
    const flow = dbgptFlowFromFile(res.file, { version: at, gmt_created: first === null ? (when === null ? null : formatTime(when)) : formatTime(first), gmt_modified: when === null ? null : formatTime(when) });
    return { flow, version: at, commit: at };
  }

  async versions(uid: string, page: number, pageSize: number): Promise<Page<FlowVersionEntry>> {
    checkPaging(page, pageSize);
    const all = this.store.versions(uid);
    if (all.length === 0) this.store.flow(uid);
    const items = all.slice((page - 1) * pageSize, page * pageSize).map((v) => ({
      version: v.version,
      gmt_created: formatTime(v.time),
      author: v.author.name,
      author_email: v.author.email,
      message: v.message,
    }));
    return { items, total_count: all.length, total_pages: Math.ceil(all.length / pageSize), page, page_size: pageSize };
  }

  async diff(uid: string, from?: string, to?: string): Promise<JsonObject> {
    const fileAt = async (version: string | undefined): Promise<FlowFile | null> => {
      if (version === undefined || version === 'current') {
        const s = this.store.findFlow(uid);
        return s ? this.fileOf(s) : null;
      }
      const at = await this.store.readAt(uid, version);
      return at ? at.file : null;
    };
    let fromV = from;
    if (fromV === undefined) {
      const versions = this.store.versions(uid).map((v) => v.version);
      if (versions.length === 0) this.store.flow(uid);
      const current = this.store.findFlow(uid);
      const dirty = current ? this.store.versionOf(uid, current.path).dirty : false;
      const toIndex = to === undefined ? (dirty ? -1 : 0) : versions.indexOf(to);
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
    const { file, findings } = fileFromBody(parsed, null, parsed.uid as string);
    const all = findings.length > 0 ? findings : validateFlowValue(file, { file: `flows/${String(file.name)}.yaml` });
    if (all.some((f) => f.severity === 'error')) throw invalidFlow(all);
    // DB-GPT answers an unsaved import without a dag id
    return dbgptFlowFromFile({ ...(file as object), dag_id: null } as FlowFile, { version: 'uncommitted', gmt_created: null, gmt_modified: null });
  }

  async templates(page: number, pageSize: number): Promise<Page<DbgptFlow>> {
    checkPaging(page, pageSize);
    const all: DbgptFlow[] = [];
    for (const v of await this.store.templates()) {
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
    // DB-GPT's build_from_all clamps the page into [1, total_pages]
    const totalPages = Math.ceil(all.length / pageSize);
    const p = totalPages === 0 ? 0 : Math.min(Math.max(page, 1), totalPages);
    return { items: p === 0 ? [] : all.slice((p - 1) * pageSize, p * pageSize), total_count: all.length, total_pages: totalPages, page: p, page_size: pageSize };
  }

  async nodes(tags?: Record<string, string>): Promise<JsonObject[]> {
    const out = new Map<string, JsonObject>();
    for (const s of this.store.flows()) {
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

  /** Follows the store's change stream (the web app's live updates). */
  subscribe(listener: (event: FlowsChanged) => void): () => void {
    return this.store.subscribe((batch) => listener({ uids: batch.uids, source: batch.source }));
  }

  /** The web app's list: every served flow filtered in memory (10,000 flows: a few milliseconds), one page summarized. */
  async browse(query: BrowseQuery): Promise<BrowsePage> {
    checkPaging(query.page, query.pageSize);
    const q = query.q?.trim().toLowerCase() ?? '';
    const text = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);
    const stateOf = (s: ServedEntry): string | null => {
      if (s.errors.length > 0) return 'load_failed';
      return this.runtimeView?.overlay(s.uid)?.state ?? text(s.summary.state);
    };
    const categories = new Set<string>();
    const states = new Set<string>();
    let quarantined = 0;
    const matches: ServedEntry[] = [];
    for (const s of this.ordered()) {
      const category = text(s.summary.flow_category);
      const state = stateOf(s);
      if (category !== null) categories.add(category);
      if (state !== null) states.add(state);
      if (s.errors.length > 0) quarantined++;
      if (query.category !== undefined && category !== query.category) continue;
      if (query.state !== undefined && state !== query.state) continue;
      if (query.quarantined !== undefined && (s.errors.length > 0) !== query.quarantined) continue;
      if (q !== '') {
        const hay = [s.uid, text(s.summary.name), text(s.summary.label), text(s.summary.description)];
        if (!hay.some((h) => h !== null && h.toLowerCase().includes(q))) continue;
      }
      matches.push(s);
    }
    const start = (query.page - 1) * query.pageSize;
    const items: FlowSummary[] = matches.slice(start, start + query.pageSize).map((s) => {
      const d = this.derived(s);
      const last = this.store.versions(s.uid)[0];
      return {
        uid: s.uid,
        name: text(s.summary.name),
        label: text(s.summary.label),
        description: text(s.summary.description),
        flow_category: text(s.summary.flow_category),
        state: stateOf(s),
        path: s.path,
        version: d.version,
        gmt_modified: d.gmt_modified ?? '',
        findings: s.errors.slice(0, 5).map((f) => ({ code: f.code, file: f.file, line: f.line, col: f.col, message: f.message })),
        last_commit: last === undefined ? null : { version: last.version, author: last.author.name, time: formatTime(last.time), message: last.message },
      };
    });
    return {
      items,
      total_count: matches.length,
      total_pages: Math.ceil(matches.length / query.pageSize),
      page: query.page,
      page_size: query.pageSize,
      categories: [...categories].sort(),
      states: [...states].sort(),
      quarantined_count: quarantined,
    };
  }

  stats(): { flows: number; invalid: number } {
    let invalid = 0;
    for (const s of this.store.flows()) if (s.errors.length > 0) invalid++;
    return { flows: this.store.flowCount, invalid };
  }

  /** Sync status (docs/sync.md): branch, heads, ahead/behind, last fetch and push, and the invalid flows. */
  syncStatus(): JsonObject {
    const st = this.store.status();
    return {
      ...(st as unknown as JsonObject),
      invalid_flows: this.invalidFlows().map((f) => ({ uid: f.uid, path: f.path, findings: f.findings as unknown as Json })),
    };
  }

  /** The findings of every flow file that is quarantined or invalid, by uid. */
  invalidFlows(): Array<{ uid: string; path: string; findings: Finding[] }> {
    return [...this.store.flows()].filter((s) => s.errors.length > 0).map((s) => ({ uid: s.uid, path: s.path, findings: s.errors }));
  }
}

function checkPaging(page: number, pageSize: number): void {
  if (!Number.isInteger(page) || page < 1) throw new FlowregError('INVALID_INPUT', `page must be an integer of at least 1, found ${page}`, { field: 'page' });
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new FlowregError('INVALID_INPUT', `page_size must be an integer of at least 1, found ${pageSize}`, { field: 'page_size' });
  }
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
