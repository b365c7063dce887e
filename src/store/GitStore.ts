import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, promises as fsp, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync, writeSync, type BigIntStats } from 'node:fs';
import * as fs from 'node:fs';
import { join, posix } from 'node:path';
import git from 'isomorphic-git';
import { formatFlow } from '../core/formatFlow.ts';
import { parseYaml } from '../core/parseYaml.ts';
import { schemaRefFor } from '../core/schemaRef.ts';
import type { Finding, FlowFile } from '../core/types.ts';
import { FlowregError } from '../errors/index.ts';
import { emptyIndex, getEntry, parseIndex, serializeIndex, setEntry, type GitIndex } from './gitIndex.ts';
import { hashObject, serializeCommit, writeObject, type TreeEntry } from './gitObjects.ts';
import { HistoryIndex, isFlowPath, type CommitRecord } from './historyIndex.ts';
import { inspectFlow } from './inspectFlow.ts';
import { DEFAULT_PACK_LIMIT, needsGc, repack } from './maintenance.ts';
import { ObjectStore } from './objectStore.ts';
import { readHead, updateRef, writeRefFile } from './refs.ts';
import { Remote, type RemoteOptions } from './Remote.ts';
import { TreeDiffer } from './treeDiff.ts';
import { editableTree, editTree, emptyTree, type EditableTree, type TreeEdit } from './treeEdit.ts';
import { LruCache } from '../core/LruCache.ts';
import { acquireRepoLock, hasStaleLock, releaseRepoLock, type HeldLock } from './repoLock.ts';
import { checkFlowName, checkFlowUid, flowPath } from './safePath.ts';
import { SummaryCache, type FlowSummary } from './summaryCache.ts';
import { WriteQueue } from './writeQueue.ts';

/** A person who writes: the author of a commit, or the daemon as committer. */
export interface Identity {
  name: string;
  email: string;
}

/** Options of a store. */
export interface StoreOptions {
  /** The repository's working tree. */
  dir: string;
  /** The folder of flow files, relative to `dir` (default `flows`). */
  flowsDir?: string;
  /** Who commits (default `flowreg <flowreg@localhost>`); authors come with each write. */
  committer?: Identity;
  /** Flush objects, index and ref to disk before a write is acknowledged (default true). */
  durable?: boolean;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
  /** Sync with a remote: clone on first start, push every write, fast-forward on fetch. */
  remote?: RemoteOptions;
  /** `direct` (default): writes go to the branch; `branch`: each write goes to a new branch for review. */
  writeMode?: 'direct' | 'branch';
  /** Repack (native git) when there are more packs than this (default 50, git's own; 0: never). */
  packLimit?: number;
}

/** One flow file of the working tree, as the store sees it. */
export interface FlowRecord {
  /** Repository-relative path, e.g. `flows/chat.yaml`. */
  path: string;
  /** Blob id of the working-tree content. */
  blob: string;
  /** Blob id at HEAD, null when the file is not committed. */
  headBlob: string | null;
  /** The flow's top-level fields (no flow_data), null when the file does not parse to a mapping. */
  summary: FlowSummary | null;
  /** What the validator found in this file alone (repository-wide rules are the caller's). */
  findings: Finding[];
  /** Node ids of the flow without their instance suffix (DB-GPT's origin ids), for the node catalogue. */
  nodes: string[];
  /** Last modification time of the file, milliseconds since the epoch. */
  mtimeMs: number;
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

/** One write: the store takes the lock, reads the current flow, applies `apply`, commits. */
export interface WriteOp {
  verb: 'create' | 'update' | 'delete' | 'revert';
  /** The flow's uid (for a create: the new flow's uid). */
  uid: string;
  author: Identity;
  /** The version (commit id) the caller's change was based on; a different current version is a VERSION_CONFLICT. */
  baseVersion?: string;
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
  /**
   * Paths the write brought in from the remote besides its own: a rejected push was rebuilt on
   * the remote's new head, so the local branch moved through those commits too.
   */
  pulled: string[];
}

/** One file a branch move changes: its blob before and after (null: absent), and its new mode. */
interface FileChange {
  path: string;
  oldBlob: string | null;
  newBlob: string | null;
  mode?: string;
}

interface Journal {
  ref: string;
  oldHead: string | null;
  newHead: string;
  files: FileChange[];
}

/** Sync facts for the status endpoint: when the last fetch and push happened and how they ended. */
export interface SyncEvent {
  time: number;
  error: string | null;
}

/** The store's view of its branch and remote (design §5, sync status). */
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
  /** The last repack flowreg ran to pack what fetches and writes left (see maintain()). */
  lastGc: SyncEvent | null;
  /** Why the last fast-forward could not happen, if it could not. */
  blocked: string | null;
}

const DEFAULT_COMMITTER: Identity = { name: 'flowreg', email: 'flowreg@localhost' };
const OID = /^[0-9a-f]{40}$/;

/**
 * The flows of one git repository: reads them from the working tree and HEAD, and writes each
 * change as exactly one commit through one serialized path that holds git's own index lock.
 */
export class GitStore {
  readonly dir: string;
  readonly gitdir: string;
  readonly flowsDir: string;
  private readonly committer: Identity;
  private readonly durable: boolean;
  private readonly now: () => number;
  private readonly objects: ObjectStore;
  private readonly history: HistoryIndex;
  private readonly summaries: SummaryCache;
  private readonly queue = new WriteQueue();
  private readonly remote: Remote | null;
  private readonly writeMode: 'direct' | 'branch';
  private readonly syncState: { lastFetch: SyncEvent | null; lastPush: SyncEvent | null; blocked: string | null; lastGc: SyncEvent | null } = { lastFetch: null, lastPush: null, blocked: null, lastGc: null };
  private readonly packLimit: number;
  private records = new Map<string, FlowRecord & { stat: StatKey; seenNs: bigint }>();
  private headBlobs = new Map<string, string>();
  private headOid: string | null = null;
  private headRef: string | null = null;
  private indexCache: { key: string; index: GitIndex; mtimeNs: bigint } | null = null;
  private readonly editableTrees = new LruCache<string, EditableTree>(8);
  private readonly uidIndex = new Map<string, Set<string>>();
  private readonly nameIndex = new Map<string, Set<string>>();

  private constructor(opts: StoreOptions) {
    this.dir = opts.dir;
    this.gitdir = join(opts.dir, '.git');
    this.flowsDir = posix.normalize(opts.flowsDir ?? 'flows').replace(/\/$/, '');
    this.committer = opts.committer ?? DEFAULT_COMMITTER;
    this.durable = opts.durable ?? true;
    this.now = opts.now ?? Date.now;
    this.objects = new ObjectStore(this.gitdir);
    const cacheDir = join(this.gitdir, 'flowreg');
    this.history = new HistoryIndex(this.objects, join(cacheDir, 'history.json'), this.flowsDir);
    this.summaries = new SummaryCache(join(cacheDir, 'flows.json'));
    this.remote = opts.remote ? new Remote(opts.dir, opts.remote) : null;
    this.writeMode = opts.writeMode ?? 'direct';
    this.packLimit = opts.packLimit ?? DEFAULT_PACK_LIMIT;
  }

  /**
   * Opens the repository at `opts.dir` (initialising one on branch `main` when the folder has
   * none), recovers from a write interrupted by a crash, and loads the flows, the history index
   * and the parsed-flow cache.
   */
  static async open(opts: StoreOptions): Promise<GitStore> {
    if (!existsSync(join(opts.dir, '.git'))) {
      await fsp.mkdir(opts.dir, { recursive: true });
      if (opts.remote) await new Remote(opts.dir, opts.remote).clone();
      else await git.init({ fs, dir: opts.dir, defaultBranch: 'main' });
    }
    const store = new GitStore(opts);
    store.remote?.repair((oid) => store.objects.has(oid));
    await store.remote?.configure();
    if (hasStaleLock(store.gitdir)) {
      // a flowreg process died mid-write: take the lock (which recovers) and give it back
      const lock = await acquireRepoLock(store.gitdir, () => store.recover());
      releaseRepoLock(store.gitdir, lock, false);
    }
    store.history.load();
    store.summaries.load();
    await store.refresh();
    return store;
  }

  /** Writes the history index and the parsed-flow cache to disk. */
  async persist(): Promise<void> {
    await this.queue.run(async () => {
      await this.history.persist();
      // only the contents on disk now: an entry per past edit would grow the file for ever
      await this.summaries.persist(new Set([...this.records.values()].map((r) => SummaryCache.key(r.blob, r.path))));
    });
  }

  /** Waits for queued writes, persists the caches and releases files. */
  async close(): Promise<void> {
    await this.persist();
    this.objects.close();
  }

  /** HEAD as it is on disk now (not as last loaded): for cheap change detection. */
  currentHead(): { oid: string | null; ref: string | null } {
    const h = readHead(this.gitdir);
    return { oid: h.oid, ref: h.ref };
  }

  /** The current HEAD commit (null before the first commit) and branch. */
  head(): { oid: string | null; ref: string | null } {
    return { oid: this.headOid, ref: this.headRef };
  }

  /**
   * Re-reads HEAD (updating the history index when it moved outside flowreg) and re-checks the
   * given repository-relative paths, or the whole flows folder. Returns the paths whose record
   * changed (added, changed or removed).
   */
  async refresh(paths?: string[]): Promise<string[]> {
    return this.queue.run(() => this.refreshUnlocked(paths));
  }

  private async refreshUnlocked(paths?: string[]): Promise<string[]> {
    const changed = new Set<string>();
    const head = readHead(this.gitdir);
    this.headRef = head.ref;
    if (head.oid !== this.headOid || this.headBlobs.size === 0) {
      const before = this.headBlobs;
      this.headOid = head.oid;
      this.headBlobs = this.readHeadBlobs(head.oid);
      this.history.update(head.oid);
      for (const [p, b] of this.headBlobs) if (before.get(p) !== b) changed.add(p);
      for (const p of before.keys()) if (!this.headBlobs.has(p)) changed.add(p);
      for (const p of changed) {
        const r = this.records.get(p);
        if (r) r.headBlob = this.headBlobs.get(p) ?? null;
      }
    }
    const index = this.readIndex();
    const targets = new Set(paths ?? (await this.listFlowFiles()));
    if (!paths) for (const p of this.records.keys()) targets.add(p);
    // files whose committed content changed were rewritten by git: read them again whatever their stat says
    const moved = new Set(changed);
    for (const p of moved) targets.add(p);
    for (const p of targets) if (await this.recheck(p, index, moved.has(p))) changed.add(p);
    return [...changed];
  }

  /** All flow files of the working tree. */
  list(): FlowRecord[] {
    return [...this.records.values()];
  }

  /** The flow file at a repository-relative path. */
  record(path: string): FlowRecord | undefined {
    return this.records.get(path);
  }

  /** The flow files declaring `uid` (more than one is a repository finding). */
  byUid(uid: string): FlowRecord[] {
    return [...(this.uidIndex.get(uid) ?? [])].sort().map((p) => this.records.get(p) as FlowRecord);
  }

  /** Reads and parses the working-tree content of a flow file. */
  async readFile(path: string): Promise<FlowFile> {
    const text = readFileSync(join(this.dir, path), 'utf8');
    const v = parseYaml(text).value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FlowregError('FLOW_INVALID', `${path} does not hold a flow mapping`, { path });
    return v as FlowFile;
  }

  /** Reads and parses a flow blob from the object database (or from the working tree while it is uncommitted there). */
  async readBlob(blob: string, path?: string): Promise<FlowFile> {
    let text: string;
    if (this.objects.has(blob)) text = this.objects.readTyped(blob, 'blob').toString('utf8');
    else if (path && this.records.get(path)?.blob === blob) text = await fsp.readFile(join(this.dir, path), 'utf8');
    else throw new FlowregError('VERSION_NOT_FOUND', `flow content ${blob} is no longer available`, { blob });
    const v = parseYaml(text).value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FlowregError('FLOW_INVALID', `blob ${blob} does not hold a flow mapping`, { blob });
    return v as FlowFile;
  }

  /**
   * Keeps the current working-tree content of `path` readable by blob id after the file changes
   * (written as a loose object, unreferenced): the service serves a flow's last valid content
   * while its file is broken, and an uncommitted valid edit has no object yet.
   */
  async retain(path: string): Promise<void> {
    const rec = this.records.get(path);
    if (!rec || this.objects.has(rec.blob)) return;
    const buf = await fsp.readFile(join(this.dir, path));
    if (hashObject('blob', buf) === rec.blob) await writeObject(this.gitdir, 'blob', buf, false);
  }

  /** Version facts of flow `uid` at the record `rec` (design §3). */
  versionOf(uid: string, rec: FlowRecord | null): VersionInfo {
    const commits = this.history.commitsOf(uid);
    const last = commits[0] ?? null;
    const first = commits[commits.length - 1] ?? null;
    const dirty = rec ? rec.blob !== rec.headBlob : false;
    return {
      version: last === null ? 'uncommitted' : dirty ? `${last}-dirty` : last,
      commit: last,
      created: first ? (this.history.commit(first)?.t ?? null) : null,
      modified: last ? (this.history.commit(last)?.t ?? null) : null,
      commits: commits.length,
      dirty,
    };
  }

  /** The history of flow `uid`, newest first. */
  versions(uid: string): FlowVersion[] {
    return this.history.commitsOf(uid).map((oid) => {
      const c = this.history.commit(oid) as CommitRecord;
      return { version: oid, time: c.t, timezoneOffset: c.tz, author: { name: c.an, email: c.ae }, authorTime: c.at, message: c.s };
    });
  }

  /** Flow `uid` as it was at `version` (one of its commits); null when that commit deleted it. */
  async readAt(uid: string, version: string): Promise<{ path: string; file: FlowFile } | null> {
    if (!OID.test(version) || !this.history.commitsOf(uid).includes(version)) {
      throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} has no version ${version}`, { uid, version });
    }
    const c = this.objects.commit(version);
    const found = this.findUidInTree(c.tree, uid);
    if (!found) return null;
    const text = this.objects.readTyped(found.blob, 'blob').toString('utf8');
    const v = parseYaml(text).value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FlowregError('FLOW_INVALID', `${found.path} at ${version} does not hold a flow mapping`);
    return { path: found.path, file: v as FlowFile };
  }

  /**
   * Fetches the remote branch and fast-forwards the local branch, working tree and index to it.
   * A local branch with commits the remote lacks, or local edits in the way, are never
   * overwritten: the reason is kept for status() and nothing moves. Returns the paths that changed.
   */
  async sync(): Promise<string[]> {
    if (!this.remote) return [];
    try {
      await this.remote.fetch();
      this.syncState.lastFetch = { time: this.now(), error: null };
    } catch (err) {
      this.syncState.lastFetch = { time: this.now(), error: err instanceof Error ? err.message : String(err) };
      throw err;
    }
    const moved = await this.queue.run(() => this.fastForwardUnlocked());
    await this.maintain();
    return moved;
  }

  /**
   * Packs what fetches and writes left loose or in many small packs, past git's own `gc.auto`
   * thresholds (native `git repack --geometric`, see maintenance.ts), with every write and network
   * operation held off, then lets go of the replaced packs. Never fails: the outcome is in
   * status().lastGc.
   */
  async maintain(): Promise<void> {
    if (this.packLimit <= 0 || !needsGc(this.gitdir, this.packLimit)) return;
    await this.queue.run(async () => {
      const run = (): Promise<string | null> => repack(this.dir);
      const error = this.remote ? await this.remote.exclusive(run) : await run();
      this.objects.forgetGonePacks();
      this.syncState.lastGc = { time: this.now(), error };
    });
  }

  private async fastForwardUnlocked(): Promise<string[]> {
    const remoteHead = this.remote?.trackedHead() ?? null;
    const head = readHead(this.gitdir);
    if (!remoteHead || !head.ref || head.oid === remoteHead) {
      this.syncState.blocked = null;
      return [];
    }
    if (head.oid && this.isAncestor(remoteHead, head.oid)) return []; // local is ahead: the next push carries it
    if (head.oid && !this.isAncestor(head.oid, remoteHead)) {
      this.syncState.blocked = `the local branch has diverged from ${this.remote?.url}: it has commits the remote does not; resolve by hand`;
      return [];
    }
    this.checkRepoState();
    const lock = await acquireRepoLock(this.gitdir, () => this.recover());
    let released = false;
    try {
      await this.refreshUnlockedHead();
      if (this.headOid !== head.oid) return [];
      const index = this.readIndex();
      const files = this.diffCommits(head.oid, remoteHead);
      try {
        this.checkClean(files, index);
      } catch (err) {
        this.syncState.blocked = err instanceof Error ? err.message : String(err);
        return [];
      }
      released = true;
      this.applyLocally(lock, head.ref, head.oid, remoteHead, files, index, `fast-forward: ${this.remote?.url}`, this.now());
      this.history.update(remoteHead);
      await this.afterMove(remoteHead, files);
      this.syncState.blocked = null;
      return files.map((f) => f.path);
    } finally {
      if (!released) releaseRepoLock(this.gitdir, lock, false);
    }
  }

  /** Branch, heads, ahead/behind and the last fetch and push (design §5). */
  status(): SyncStatus {
    const head = readHead(this.gitdir);
    const remoteHead = this.remote?.trackedHead() ?? null;
    const count = (from: string | null, exclude: string | null): number => {
      if (!from) return 0;
      const stop = new Set<string>();
      if (exclude) {
        const stack = [exclude];
        while (stack.length > 0 && stop.size < 100_000) {
          const o = stack.pop() as string;
          if (stop.has(o)) continue;
          stop.add(o);
          stack.push(...(this.history.commit(o)?.p ?? safeParents(this.objects, o)));
        }
      }
      let n = 0;
      const seen = new Set<string>();
      const stack = [from];
      while (stack.length > 0 && n < 100_000) {
        const o = stack.pop() as string;
        if (seen.has(o) || stop.has(o)) continue;
        seen.add(o);
        n++;
        stack.push(...(this.history.commit(o)?.p ?? safeParents(this.objects, o)));
      }
      return n;
    };
    const ahead = this.remote ? count(head.oid, remoteHead) : 0;
    const behind = this.remote ? count(remoteHead, head.oid) : 0;
    return {
      branch: head.branch,
      head: head.oid,
      remote: this.remote?.url ?? null,
      remoteHead,
      ahead,
      behind,
      diverged: ahead > 0 && behind > 0,
      writeMode: this.writeMode,
      lastFetch: this.syncState.lastFetch,
      lastPush: this.syncState.lastPush,
      lastGc: this.syncState.lastGc,
      blocked: this.syncState.blocked,
    };
  }

  /** Serializes `op` with every other write and runs it (see WriteOp). */
  async write(op: WriteOp): Promise<WriteResult> {
    const res = await this.queue.run(() => this.writeUnlocked(op));
    // each commit leaves loose objects: packed once there are as many as git would allow
    if (res.commit !== null) void this.maintain().catch(() => undefined);
    return res;
  }

  private async writeUnlocked(op: WriteOp): Promise<WriteResult> {
    checkFlowUid(op.uid);
    this.checkRepoState();
    const lock = await acquireRepoLock(this.gitdir, () => this.recover());
    let released = false;
    try {
      if (lock.recoveredStale) this.indexCache = null;
      // HEAD, the index and the flow's own file may have changed outside flowreg
      await this.refreshUnlockedHead();
      const headState = readHead(this.gitdir);
      if (!headState.ref) throw new FlowregError('REPO_BUSY', 'HEAD is detached; check out a branch before writing', {});
      const index = this.readIndex();
      if (this.remote && this.writeMode === 'direct') await this.checkNotAhead();
      const { rec, current } = await this.currentOf(op.uid, index);
      if (op.baseVersion !== undefined && OID.test(op.baseVersion)) {
        const now = current ? current.version : null;
        if (now !== op.baseVersion) {
          throw new FlowregError('VERSION_CONFLICT', `flow ${op.uid} is at version ${now ?? '(deleted)'}, not ${op.baseVersion}: it changed since it was read`, {
            uid: op.uid,
            expected: op.baseVersion,
            current: now,
          });
        }
      }
      const next = op.apply(current);
      if (next === null && current === null) throw new FlowregError('FLOW_NOT_FOUND', `Flow ${op.uid} not found`, { uid: op.uid });
      const prepared = this.prepare(op, rec, current, next);
      if (prepared.changes.length === 0) return { commit: null, path: prepared.newPath, file: next, previous: current, pulled: [] };
      if (prepared.text !== null) writeObject(this.gitdir, 'blob', Buffer.from(prepared.text), this.durable);
      const nowMs = this.now();
      const name = (next ?? current?.file)?.name as string;
      const message = `${op.verb} flow ${name} (${op.uid})\n\nFlow-Uid: ${op.uid}\n`;

      if (this.writeMode === 'branch') {
        // the main branch stays as it is: the change goes to a branch of its own, for review
        const base = (this.remote ? await this.remote.fetch() : null) ?? this.headOid;
        const commitOid = this.buildCommit(base, prepared.changes, op.author, message, nowMs);
        const branch = `flowreg/${name}-${commitOid.slice(0, 7)}`;
        writeRefFile(this.gitdir, `refs/heads/${branch}`, commitOid);
        if (this.remote && (await this.remote.push(commitOid, branch)) !== 'ok') {
          throw new FlowregError('PUSH_REJECTED', `the remote refused the new branch ${branch}`, { branch });
        }
        return { commit: commitOid, path: prepared.newPath, file: next, previous: current, branch, pulled: [] };
      }

      const localHead = this.headOid;
      let base = localHead;
      let commitOid = this.buildCommit(base, prepared.changes, op.author, message, nowMs);
      let pulled: FileChange[] = [];
      if (this.remote) {
        // acknowledged only once the remote has it: push first, then move the local branch
        for (let attempt = 0; ; attempt++) {
          const pushed = await this.remote.push(commitOid);
          this.syncState.lastPush = { time: this.now(), error: null };
          if (pushed === 'ok') break;
          const remoteHead = await this.remote.fetch();
          this.syncState.lastFetch = { time: this.now(), error: null };
          if (attempt >= 8 || !remoteHead) throw new FlowregError('PUSH_REJECTED', `the remote kept rejecting the push of flow ${op.uid}; try again`, { uid: op.uid });
          if (base && !this.isAncestor(base, remoteHead)) {
            throw new FlowregError('BRANCH_DIVERGED', `the local branch and ${this.remote.url} have diverged; resolve it by hand before writing`, {});
          }
          const remoteChanges = this.diffCommits(base, remoteHead);
          if (this.touchesFlow(remoteChanges, prepared.changes, op.uid)) {
            throw new FlowregError('PUSH_REJECTED', `flow ${op.uid} changed on the remote since it was read; read it again and retry`, { uid: op.uid });
          }
          pulled = this.mergeChanges(pulled, remoteChanges);
          this.checkClean(pulled, index);
          base = remoteHead;
          commitOid = this.buildCommit(base, prepared.changes, op.author, message, nowMs);
        }
      }

      // the commit point: the local branch moves from its old head to the new commit
      const files = this.mergeChanges(pulled, prepared.changes);
      released = true;
      this.applyLocally(lock, headState.ref, localHead, commitOid, files, index, `commit: ${message}`, nowMs);
      for (const ch of prepared.changes) if (ch.newBlob) this.history.noteBlob(ch.newBlob, op.uid);
      if (pulled.length === 0) {
        this.history.addOwnCommit(commitOid, {
          p: base ? [base] : [],
          t: Math.floor(nowMs / 1000),
          tz: -new Date(nowMs).getTimezoneOffset(),
          an: op.author.name,
          ae: op.author.email,
          at: Math.floor(nowMs / 1000),
          s: message.split('\n')[0] as string,
          u: [op.uid],
        });
      } else this.history.update(commitOid);
      await this.afterMove(commitOid, files);
      const own = new Set(prepared.changes.map((c) => c.path));
      return { commit: commitOid, path: prepared.newPath, file: next, previous: current, pulled: pulled.map((c) => c.path).filter((p) => !own.has(p)) };
    } finally {
      if (!released) releaseRepoLock(this.gitdir, lock, false);
    }
  }

  /** The record and content of flow `uid`, refusing a flow whose file has uncommitted changes. */
  private async currentOf(uid: string, index: GitIndex): Promise<{ rec: FlowRecord | null; current: CurrentFlow | null }> {
    for (const r of this.byUid(uid)) await this.recheck(r.path, index);
    const recs = this.byUid(uid);
    if (recs.length > 1) {
      throw new FlowregError('FLOW_EXISTS', `uid ${uid} is declared by ${recs.length} files (${recs.map((r) => r.path).join(', ')}); fix the repository first`, { uid });
    }
    const rec = recs[0] ?? null;
    if (!rec) return { rec: null, current: null };
    const indexBlob = getEntry(index, rec.path)?.oid ?? null;
    if (rec.blob !== rec.headBlob || indexBlob !== rec.headBlob) {
      throw new FlowregError('FILE_MODIFIED', `${rec.path} has uncommitted changes; commit or discard them before writing through flowreg`, { path: rec.path });
    }
    return { rec, current: { path: rec.path, file: await this.readFile(rec.path), version: this.versionOf(uid, rec).version } };
  }

  /** The file changes of a write: the flow's new path and text, and the blobs that change. */
  private prepare(op: WriteOp, rec: FlowRecord | null, current: CurrentFlow | null, next: FlowFile | null): { changes: FileChange[]; newPath: string | null; text: string | null } {
    const changes: FileChange[] = [];
    if (!next) {
      if (current) changes.push({ path: current.path, oldBlob: rec?.headBlob ?? null, newBlob: null });
      return { changes, newPath: null, text: null };
    }
    if (next.uid !== op.uid) throw new FlowregError('INVALID_INPUT', `a write may not change a flow's uid (${op.uid} → ${String(next.uid)})`);
    const name = checkFlowName(next.name);
    const folder = current ? posix.relative(this.flowsDir, posix.dirname(current.path)) : '';
    const newPath = flowPath(this.flowsDir, folder, name);
    this.checkNameFree(name, newPath, rec?.path ?? null);
    const text = formatFlow(next, { schemaRef: schemaRefFor(newPath) });
    const blob = hashObject('blob', Buffer.from(text));
    if (current && newPath === current.path && blob === rec?.headBlob) return { changes, newPath, text };
    if (current && current.path !== newPath) changes.push({ path: current.path, oldBlob: rec?.headBlob ?? null, newBlob: null });
    changes.push({ path: newPath, oldBlob: current && current.path === newPath ? (rec?.headBlob ?? null) : (this.headBlobs.get(newPath) ?? null), newBlob: blob });
    return { changes, newPath, text };
  }

  /** Writes the trees and the commit of `changes` on top of `parent`; returns the commit id. */
  private buildCommit(parent: string | null, changes: FileChange[], author: Identity, message: string, nowMs: number): string {
    const rootTree = parent ? this.objects.commit(parent).tree : null;
    const tree = this.writeTreeWith(rootTree, changes);
    const when = { timestamp: Math.floor(nowMs / 1000), timezoneOffset: -new Date(nowMs).getTimezoneOffset() };
    const commit = serializeCommit({
      tree,
      parents: parent ? [parent] : [],
      author: { ...when, name: author.name, email: author.email },
      committer: { ...when, name: this.committer.name, email: this.committer.email },
      message,
    });
    return writeObject(this.gitdir, 'commit', commit, this.durable);
  }

  /**
   * Moves the branch from `oldHead` to `newHead` in the working tree, the index and the ref, as
   * one journaled step: files first, the new index into the lock we hold, then the ref
   * (compare-and-swap), then the index is renamed into place, which releases git's lock.
   */
  private applyLocally(lock: HeldLock, ref: string, oldHead: string | null, newHead: string, files: FileChange[], index: GitIndex, reflog: string, nowMs: number): void {
    try {
      this.writeJournal({ ref, oldHead, newHead, files });
      for (const ch of files) {
        const full = join(this.dir, ch.path);
        if (ch.newBlob === null) unlinkQuiet(full);
        else this.writeWorkingFile(ch.path, this.objects.readTyped(ch.newBlob, 'blob'), ch.mode);
        setEntry(index, ch.path, ch.newBlob, ch.newBlob === null ? null : lstatSync(full, { bigint: true }), ch.mode === undefined ? 0o100644 : Number.parseInt(ch.mode, 8));
      }
      const indexBytes = serializeIndex(index);
      writeSync(lock.indexLock, indexBytes, 0, indexBytes.length, 0);
      ftruncateSync(lock.indexLock, indexBytes.length);
      if (this.durable) fsyncSync(lock.indexLock);
      updateRef(this.gitdir, ref, oldHead, newHead, { who: sigLine(this.committer, nowMs), message: reflog }, this.durable);
    } catch (err) {
      // nothing moved: put the files back as they were and give up the lock
      for (const ch of files) {
        const full = join(this.dir, ch.path);
        if (ch.oldBlob === null) unlinkQuiet(full);
        else this.writeWorkingFile(ch.path, this.objects.readTyped(ch.oldBlob, 'blob'));
      }
      this.removeJournal();
      releaseRepoLock(this.gitdir, lock, false);
      throw err;
    }
    closeSync(lock.indexLock);
    renameSync(join(this.gitdir, 'index.lock'), join(this.gitdir, 'index'));
    this.rememberIndex(index);
    this.removeJournal();
    unlinkQuiet(join(this.gitdir, 'flowreg.lock'));
  }

  /** In-memory state after the branch moved to `head` through `files`. */
  private async afterMove(head: string, files: FileChange[]): Promise<void> {
    for (const ch of files) {
      if (!isFlowPath(ch.path, this.flowsDir)) continue;
      if (ch.newBlob) this.headBlobs.set(ch.path, ch.newBlob);
      else this.headBlobs.delete(ch.path);
    }
    this.headOid = head;
    for (const ch of files) if (isFlowPath(ch.path, this.flowsDir)) await this.recheck(ch.path, null);
  }

  /** Blob changes from commit `from` to commit `to`, over the whole tree. */
  private diffCommits(from: string | null, to: string): FileChange[] {
    const a = from ? this.objects.commit(from).tree : null;
    const b = this.objects.commit(to).tree;
    return new TreeDiffer(this.objects).diff(a, b, '').map((c) => ({ path: c.path, oldBlob: c.oldOid, newBlob: c.newOid, ...(c.mode ? { mode: c.mode } : {}) }));
  }

  /** Composes two successive change lists (first `a`, then `b`) into one. */
  private mergeChanges(a: FileChange[], b: FileChange[]): FileChange[] {
    const byPath = new Map<string, FileChange>();
    for (const ch of a) byPath.set(ch.path, ch);
    for (const ch of b) {
      const prev = byPath.get(ch.path);
      byPath.set(ch.path, prev ? { ...ch, oldBlob: prev.oldBlob } : ch);
    }
    return [...byPath.values()].filter((ch) => ch.oldBlob !== ch.newBlob || ch.mode !== undefined);
  }

  /** True when remote changes touch the files of this write or another file of the same flow. */
  private touchesFlow(remote: FileChange[], mine: FileChange[], uid: string): boolean {
    const paths = new Set(mine.map((c) => c.path));
    for (const ch of remote) {
      if (paths.has(ch.path)) return true;
      if (!isFlowPath(ch.path, this.flowsDir)) continue;
      for (const blob of [ch.oldBlob, ch.newBlob]) if (blob && this.history.uidOfBlob(blob) === uid) return true;
    }
    return false;
  }

  /** Refuses to move files over local changes: each file must hold its old content (or be absent). */
  private checkClean(files: FileChange[], index: GitIndex): void {
    for (const ch of files) {
      const full = join(this.dir, ch.path);
      let have: string | null = null;
      try {
        const st = lstatSync(full, { bigint: true });
        const entry = getEntry(index, ch.path);
        if (entry && this.indexCache?.index === index && statMatches(entry, st, this.indexCache.mtimeNs)) have = entry.oid;
        else have = st.isSymbolicLink() ? hashObject('blob', Buffer.from(readlinkSync(full))) : hashObject('blob', readFileSync(full));
      } catch {
        have = null;
      }
      if (have !== ch.oldBlob) {
        throw new FlowregError('FILE_MODIFIED', `${ch.path} has local changes that the remote's changes would overwrite; commit or discard them`, { path: ch.path });
      }
    }
  }

  /** True when commit `a` is `b` or one of its ancestors. */
  private isAncestor(a: string, b: string): boolean {
    if (a === b) return true;
    const seen = new Set<string>([b]);
    const stack = [b];
    while (stack.length > 0) {
      const oid = stack.pop() as string;
      const parents = this.history.commit(oid)?.p ?? this.objects.commit(oid).parents;
      for (const p of parents) {
        if (p === a) return true;
        if (!seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    return false;
  }

  /** Refuses writes while the local branch holds commits the remote does not (made by hand). */
  private async checkNotAhead(): Promise<void> {
    // no remote head known (the ref was dropped as a leftover of a killed fetch): ask the remote
    if (this.headOid && this.remote && this.remote.trackedHead() === null) await this.remote.fetch();
    const remoteHead = this.remote?.trackedHead() ?? null;
    if (!this.headOid || this.headOid === remoteHead) return;
    if (remoteHead === null || !this.isAncestor(this.headOid, remoteHead)) {
      throw new FlowregError(
        'BRANCH_DIVERGED',
        `the local branch has commits that ${this.remote?.url} does not (made outside flowreg); push or reset them by hand before writing`,
        { head: this.headOid, remoteHead },
      );
    }
  }

  private async refreshUnlockedHead(): Promise<void> {
    const head = readHead(this.gitdir);
    if (head.oid !== this.headOid) await this.refreshUnlocked([]);
  }

  /** Refuses writes while git is in the middle of a merge, rebase, cherry-pick or revert. */
  private checkRepoState(): void {
    for (const marker of ['MERGE_HEAD', 'rebase-merge', 'rebase-apply', 'CHERRY_PICK_HEAD', 'REVERT_HEAD']) {
      if (existsSync(join(this.gitdir, marker))) {
        const what = marker.startsWith('rebase') ? 'rebase' : marker.replace('_HEAD', '').toLowerCase().replace('_', '-');
        throw new FlowregError('REPO_BUSY', `the repository is in the middle of a ${what}; finish or abort it before writing`, { marker });
      }
    }
  }

  /** Names are unique across the repository, compared without case (files must coexist on any file system). */
  private checkNameFree(name: string, path: string, ownPath: string | null): void {
    for (const key of [`name:${name.toLowerCase()}`, `path:${path.toLowerCase()}`]) {
      for (const p of this.nameIndex.get(key) ?? []) {
        if (p === ownPath) continue;
        const other = this.records.get(p)?.summary?.name;
        throw new FlowregError('NAME_TAKEN', `a flow named ${JSON.stringify(other ?? name)} already exists (${p})`, { name, path: p });
      }
    }
    if (path !== ownPath && this.headBlobs.has(path)) {
      throw new FlowregError('NAME_TAKEN', `${path} already exists at HEAD`, { name, path });
    }
  }

  /** Writes new trees for `changes` on top of `rootTree` and returns the new root tree id. */
  private writeTreeWith(rootTree: string | null, changes: FileChange[]): string {
    const byDir = new Map<string, Array<{ name: string; blob: string | null }>>();
    for (const ch of changes) {
      const dir = posix.dirname(ch.path);
      const list = byDir.get(dir) ?? [];
      list.push({ name: posix.basename(ch.path), blob: ch.newBlob });
      byDir.set(dir, list);
    }
    const rewrite = (treeOid: string | null, prefix: string): string | null => {
      const edits: TreeEdit[] = (byDir.get(prefix === '' ? '.' : prefix) ?? []).map(({ name, blob }) => ({
        name,
        isTree: false,
        entry: blob === null ? null : { mode: '100644', name, oid: blob },
      }));
      const base = this.editable(treeOid);
      // sub-folders on the way to a changed path
      const subdirs = new Set<string>();
      for (const dir of byDir.keys()) {
        if (dir === '.' || (prefix !== '' && !dir.startsWith(`${prefix}/`))) continue;
        const rest = prefix === '' ? dir : dir.slice(prefix.length + 1);
        subdirs.add(rest.split('/')[0] as string);
      }
      for (const sub of subdirs) {
        const existing = base.entries.find((e) => e.name === sub && e.mode === '40000')?.oid ?? null;
        const child = rewrite(existing, prefix === '' ? sub : `${prefix}/${sub}`);
        edits.push({ name: sub, isTree: true, entry: child === null ? null : { mode: '40000', name: sub, oid: child } });
      }
      const next = editTree(base, edits);
      if (next.entries.length === 0 && prefix !== '') return null;
      const oid = writeObject(this.gitdir, 'tree', next.buf, this.durable);
      this.editableTrees.set(oid, next);
      return oid;
    };
    return rewrite(rootTree, '') as string;
  }

  /** Sets or removes the record of a path, keeping the uid and name indexes in step. Returns true when one was removed. */
  private setRecord(path: string, rec: (FlowRecord & { stat: StatKey; seenNs: bigint }) | undefined): boolean {
    const old = this.records.get(path);
    const keysOf = (r: FlowRecord): { uid: string | null; names: string[] } => {
      const uid = typeof r.summary?.uid === 'string' ? r.summary.uid : null;
      const names = [`path:${r.path.toLowerCase()}`];
      if (typeof r.summary?.name === 'string') names.push(`name:${r.summary.name.toLowerCase()}`);
      return { uid, names };
    };
    const edit = (r: FlowRecord, add: boolean): void => {
      const k = keysOf(r);
      const touch = (map: Map<string, Set<string>>, key: string): void => {
        let set = map.get(key);
        if (add) {
          if (!set) map.set(key, (set = new Set()));
          set.add(r.path);
        } else if (set) {
          set.delete(r.path);
          if (set.size === 0) map.delete(key);
        }
      };
      if (k.uid !== null) touch(this.uidIndex, k.uid);
      for (const n of k.names) touch(this.nameIndex, n);
    };
    if (old) edit(old, false);
    if (rec) {
      this.records.set(path, rec);
      edit(rec, true);
      return false;
    }
    return this.records.delete(path);
  }

  /** A tree ready for editing by byte splicing (the last ones written stay cached). */
  private editable(oid: string | null): EditableTree {
    if (!oid) return emptyTree();
    let t = this.editableTrees.get(oid);
    if (!t) {
      t = editableTree(this.objects.readTyped(oid, 'tree'), [...this.objects.tree(oid)]);
      this.editableTrees.set(oid, t);
    }
    return t;
  }

  private writeWorkingFile(path: string, content: string | Uint8Array, mode?: string): void {
    const full = join(this.dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    if (mode === '160000') return; // a submodule: its folder is not flowreg's to fill
    const tmp = join(full, '..', `.${posix.basename(path)}.flowreg-${process.pid}.tmp`);
    if (mode === '120000') {
      unlinkQuiet(tmp);
      symlinkSync(Buffer.from(content).toString('utf8'), tmp);
    } else {
      const fd = openSync(tmp, 'w', mode === '100755' ? 0o755 : 0o644);
      try {
        if (typeof content === 'string') writeSync(fd, content);
        else writeSync(fd, content, 0, content.byteLength);
        if (this.durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    renameSync(tmp, full);
  }

  private journalPath(): string {
    return join(this.gitdir, 'flowreg', 'journal.json');
  }

  private writeJournal(j: Journal): void {
    mkdirSync(join(this.gitdir, 'flowreg'), { recursive: true });
    const fd = openSync(this.journalPath(), 'w');
    try {
      writeSync(fd, JSON.stringify(j));
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private removeJournal(): void {
    unlinkQuiet(this.journalPath());
  }

  /** Keeps the index flowreg just wrote, keyed by the renamed file's stat, so the next write does not parse it again. */
  private rememberIndex(index: GitIndex): void {
    try {
      const st = statSync(join(this.gitdir, 'index'), { bigint: true });
      this.indexCache = { key: `${st.ino}:${st.size}:${st.mtimeNs}`, index, mtimeNs: st.mtimeNs };
    } catch {
      this.indexCache = null;
    }
  }

  /**
   * Finishes or undoes the write of a dead flowreg process, from its journal: when its branch
   * already points at the new commit, the working tree and index are brought to it; otherwise the
   * files it may have written are put back. Runs while the stale lock is still in place.
   */
  private async recover(): Promise<void> {
    let j: Journal;
    try {
      j = JSON.parse(readFileSync(this.journalPath(), 'utf8')) as Journal;
    } catch {
      this.removeJournal();
      return;
    }
    // the dead writer may have held the branch's lock: its rename never happened, so the branch
    // still names the old commit and the write is rolled back
    unlinkQuiet(join(this.gitdir, `${j.ref}.lock`));
    const now = readHead(this.gitdir);
    const forward = now.ref === j.ref && now.oid === j.newHead;
    let index: GitIndex;
    try {
      index = parseIndex(readFileSync(join(this.gitdir, 'index')));
    } catch {
      index = emptyIndex();
    }
    for (const f of j.files) {
      const blob = forward ? f.newBlob : f.oldBlob;
      const full = join(this.dir, f.path);
      // a temporary file the dead writer had not yet renamed into place
      const folder = join(full, '..');
      const prefix = `.${posix.basename(f.path)}.flowreg-`;
      for (const n of await fsp.readdir(folder).catch(() => [] as string[])) {
        if (n.startsWith(prefix) && n.endsWith('.tmp')) unlinkQuiet(join(folder, n));
      }
      if (blob === null) unlinkQuiet(full);
      else this.writeWorkingFile(f.path, this.objects.readTyped(blob, 'blob').toString('utf8'));
      if (forward) setEntry(index, f.path, blob, blob === null ? null : statSync(full, { bigint: true }));
    }
    if (forward) {
      // the index lock is stale and will be removed: write the recovered index through a temp file
      const tmp = join(this.gitdir, `index.flowreg-${process.pid}.tmp`);
      writeFileSync(tmp, serializeIndex(index));
      renameSync(tmp, join(this.gitdir, 'index'));
    }
    this.indexCache = null;
    this.removeJournal();
  }

  /** The blob ids of every flow file at `commit`. */
  private readHeadBlobs(commit: string | null): Map<string, string> {
    const out = new Map<string, string>();
    if (!commit) return out;
    const walk = (tree: string, prefix: string): void => {
      for (const e of this.objects.tree(tree)) {
        const p = `${prefix}/${e.name}`;
        if (e.mode === '40000') walk(e.oid, p);
        else if (isFlowPath(p, this.flowsDir)) out.set(p, e.oid);
      }
    };
    const root = this.objects.commit(commit).tree;
    let tree: string | null = root;
    for (const part of this.flowsDir.split('/')) {
      const e: TreeEntry | undefined = tree ? this.objects.tree(tree).find((x) => x.name === part && x.mode === '40000') : undefined;
      tree = e ? e.oid : null;
    }
    if (tree) walk(tree, this.flowsDir);
    return out;
  }

  private findUidInTree(root: string, uid: string): { path: string; blob: string } | null {
    let tree: string | null = root;
    for (const part of this.flowsDir.split('/')) {
      const e: TreeEntry | undefined = tree ? this.objects.tree(tree).find((x) => x.name === part && x.mode === '40000') : undefined;
      tree = e ? e.oid : null;
    }
    if (!tree) return null;
    const stack: Array<[string, string]> = [[tree, this.flowsDir]];
    while (stack.length > 0) {
      const [t, prefix] = stack.pop() as [string, string];
      for (const e of this.objects.tree(t)) {
        const p = `${prefix}/${e.name}`;
        if (e.mode === '40000') stack.push([e.oid, p]);
        else if (isFlowPath(p, this.flowsDir) && this.history.uidOfBlob(e.oid) === uid) return { path: p, blob: e.oid };
      }
    }
    return null;
  }

  private readIndex(): GitIndex {
    const path = join(this.gitdir, 'index');
    let st: BigIntStats;
    try {
      st = statSync(path, { bigint: true });
    } catch {
      return emptyIndex();
    }
    const key = `${st.ino}:${st.size}:${st.mtimeNs}`;
    if (this.indexCache?.key === key) return this.indexCache.index;
    const index = parseIndex(readFileSync(path));
    this.indexCache = { key, index, mtimeNs: st.mtimeNs };
    return index;
  }

  private async listFlowFiles(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(join(this.dir, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // hidden files, editor and flowreg temp files
        const p = `${rel}/${e.name}`;
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && isFlowPath(p, this.flowsDir)) out.push(p);
      }
    };
    await walk(this.flowsDir);
    return out;
  }

  /**
   * Re-reads one path of the working tree if its stat changed; the blob id comes from the git
   * index when the index's stat data matches (as git status does), else from hashing the file.
   * Returns true when the record changed.
   */
  private async recheck(path: string, index: GitIndex | null, force = false): Promise<boolean> {
    const full = join(this.dir, path);
    let st: BigIntStats;
    try {
      st = statSync(full, { bigint: true });
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      return this.setRecord(path, undefined);
    }
    const key: StatKey = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const old = this.records.get(path);
    const headBlob = this.headBlobs.get(path) ?? null;
    // "racily clean", as git says: a file changed within the file system's timestamp granularity
    // of when it was last read can keep its stat data, so it is read again
    const racy = old !== undefined && st.mtimeNs + RACY_NS >= old.seenNs;
    if (old && old.stat === key && !force && !racy) {
      old.headBlob = headBlob;
      return false;
    }
    let blob: string | null = null;
    let text: string | null = null;
    const entry = index ? getEntry(index, path) : undefined;
    if (entry && !force && this.indexCache?.index === index && statMatches(entry, st, this.indexCache.mtimeNs)) blob = entry.oid;
    if (blob === null) {
      const buf = readFileSync(full);
      text = buf.toString('utf8');
      blob = createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
    }
    let cached = this.summaries.get(blob, path);
    if (!cached) {
      text ??= readFileSync(full, 'utf8');
      const inspected = inspectFlow(text, path);
      cached = this.summaries.put(blob, path, inspected);
    }
    const rec = {
      path,
      blob,
      headBlob,
      summary: cached.summary,
      findings: cached.findings.map((f) => ({ ...f, file: path })),
      nodes: cached.nodes,
      mtimeMs: Number(st.mtimeNs / 1_000_000n),
      stat: key,
      seenNs: BigInt(Date.now()) * 1_000_000n,
    };
    this.setRecord(path, rec);
    if (typeof rec.summary?.uid === 'string') this.history.noteBlob(blob, rec.summary.uid);
    return !old || old.blob !== blob || old.headBlob !== headBlob;
  }
}

type StatKey = string;

/** Coarser than any file system's timestamp tick: a file modified this close to a read is read again. */
const RACY_NS = 50_000_000n;

function safeParents(objects: ObjectStore, oid: string): string[] {
  try {
    return objects.commit(oid).parents;
  } catch {
    return [];
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * git's clean test: same size, mtime and inode as the index entry, and the file last modified
 * before the index was written (a file changed in the same instant is "racy" and hashed again).
 */
function statMatches(e: { size: number; mtimeSec: number; mtimeNsec: number; ino: number }, st: BigIntStats, indexMtimeNs: bigint): boolean {
  return (
    st.mtimeNs < indexMtimeNs &&
    e.size === Number(st.size & 0xffffffffn) &&
    e.mtimeSec === Number((st.mtimeNs / 1_000_000_000n) & 0xffffffffn) &&
    e.mtimeNsec === Number(st.mtimeNs % 1_000_000_000n) &&
    e.ino === Number(st.ino & 0xffffffffn)
  );
}

function sigLine(who: Identity, ms: number): string {
  const off = -new Date(ms).getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${who.name} <${who.email}> ${Math.floor(ms / 1000)} ${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}
