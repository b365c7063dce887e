import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, promises as fsp, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync, type BigIntStats } from 'node:fs';
import * as fs from 'node:fs';
import { join, posix } from 'node:path';
import git from 'isomorphic-git';
import { formatFlow } from '../core/formatFlow.ts';
import { parseYaml } from '../core/parseYaml.ts';
import { schemaRefFor } from '../core/schemaRef.ts';
import type { Finding, FlowFile } from '../core/types.ts';
import { FlowregError } from '../errors/index.ts';
import { emptyIndex, getEntry, parseIndex, serializeIndex, setEntry, type GitIndex } from './gitIndex.ts';
import { compareTreeEntries, hashObject, serializeCommit, serializeTree, writeObject, type Signature, type TreeEntry } from './gitObjects.ts';
import { HistoryIndex, isFlowPath, type CommitRecord } from './historyIndex.ts';
import { inspectFlow } from './inspectFlow.ts';
import { ObjectStore } from './objectStore.ts';
import { readHead, updateRef } from './refs.ts';
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
}

interface Journal {
  ref: string;
  oldHead: string | null;
  newHead: string;
  files: Array<{ path: string; oldBlob: string | null; newBlob: string | null }>;
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
  private records = new Map<string, FlowRecord & { stat: StatKey }>();
  private headBlobs = new Map<string, string>();
  private headOid: string | null = null;
  private headRef: string | null = null;
  private indexCache: { key: string; index: GitIndex; mtimeNs: bigint } | null = null;

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
  }

  /**
   * Opens the repository at `opts.dir` (initialising one on branch `main` when the folder has
   * none), recovers from a write interrupted by a crash, and loads the flows, the history index
   * and the parsed-flow cache.
   */
  static async open(opts: StoreOptions): Promise<GitStore> {
    if (!existsSync(join(opts.dir, '.git'))) {
      await fsp.mkdir(opts.dir, { recursive: true });
      await git.init({ fs, dir: opts.dir, defaultBranch: 'main' });
    }
    const store = new GitStore(opts);
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
      await this.summaries.persist();
    });
  }

  /** Waits for queued writes, persists the caches and releases files. */
  async close(): Promise<void> {
    await this.persist();
    this.objects.close();
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
    const targets = paths ?? (await this.listFlowFiles());
    if (!paths) for (const p of this.records.keys()) if (!targets.includes(p)) targets.push(p);
    for (const p of targets) if (await this.recheck(p, index)) changed.add(p);
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
    return this.list().filter((r) => r.summary?.uid === uid);
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

  /** Serializes `op` with every other write and runs it (see WriteOp). */
  write(op: WriteOp): Promise<WriteResult> {
    return this.queue.run(() => this.writeUnlocked(op));
  }

  private async writeUnlocked(op: WriteOp): Promise<WriteResult> {
    checkFlowUid(op.uid);
    this.checkRepoState();
    const lock = await acquireRepoLock(this.gitdir, () => this.recover());
    let commitIndex = false;
    try {
      if (lock.recoveredStale) this.indexCache = null;
      // HEAD, the index and the flow's own file may have changed outside flowreg
      await this.refreshUnlockedHead();
      const headState = readHead(this.gitdir);
      if (!headState.ref) throw new FlowregError('REPO_BUSY', 'HEAD is detached; check out a branch before writing', {});
      const index = this.readIndex();
      const matches = this.byUid(op.uid);
      for (const r of matches) await this.recheck(r.path, index);
      const currentRecs = this.byUid(op.uid);
      if (currentRecs.length > 1) {
        throw new FlowregError('FLOW_EXISTS', `uid ${op.uid} is declared by ${currentRecs.length} files (${currentRecs.map((r) => r.path).join(', ')}); fix the repository first`, { uid: op.uid });
      }
      const rec = currentRecs[0] ?? null;
      let current: CurrentFlow | null = null;
      if (rec) {
        const info = this.versionOf(op.uid, rec);
        const indexBlob = getEntry(index, rec.path)?.oid ?? null;
        if (rec.blob !== rec.headBlob || indexBlob !== rec.headBlob) {
          throw new FlowregError('FILE_MODIFIED', `${rec.path} has uncommitted changes; commit or discard them before writing through flowreg`, { path: rec.path });
        }
        current = { path: rec.path, file: await this.readFile(rec.path), version: info.version };
      }
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

      const changes: Journal['files'] = [];
      let newPath: string | null = null;
      let text: string | null = null;
      if (next) {
        if (next.uid !== op.uid) throw new FlowregError('INVALID_INPUT', `a write may not change a flow's uid (${op.uid} → ${String(next.uid)})`);
        const name = checkFlowName(next.name);
        const folder = current ? posix.relative(this.flowsDir, posix.dirname(current.path)) : '';
        newPath = flowPath(this.flowsDir, folder, name);
        this.checkNameFree(name, newPath, rec?.path ?? null);
        text = formatFlow(next, { schemaRef: schemaRefFor(newPath) });
        const blob = hashObject('blob', Buffer.from(text));
        if (current && newPath === current.path && blob === rec?.headBlob) {
          return { commit: null, path: newPath, file: next, previous: current };
        }
        if (current && current.path !== newPath) changes.push({ path: current.path, oldBlob: rec?.headBlob ?? null, newBlob: null });
        changes.push({ path: newPath, oldBlob: current && current.path === newPath ? (rec?.headBlob ?? null) : (this.headBlobs.get(newPath) ?? null), newBlob: blob });
      } else if (current) {
        changes.push({ path: current.path, oldBlob: rec?.headBlob ?? null, newBlob: null });
      }

      // 1. objects: blob, trees, commit (unreferenced until the ref moves)
      if (text !== null) writeObject(this.gitdir, 'blob', Buffer.from(text), this.durable);
      const rootTree = this.headOid ? this.objects.commit(this.headOid).tree : null;
      const newRoot = this.writeTreeWith(rootTree, changes);
      const nowMs = this.now();
      const when = (): Signature => ({ name: '', email: '', timestamp: Math.floor(nowMs / 1000), timezoneOffset: -new Date(nowMs).getTimezoneOffset() });
      const name = (next ?? current?.file)?.name as string;
      const message = `${op.verb} flow ${name} (${op.uid})\n\nFlow-Uid: ${op.uid}\n`;
      const commit = serializeCommit({
        tree: newRoot,
        parents: this.headOid ? [this.headOid] : [],
        author: { ...when(), name: op.author.name, email: op.author.email },
        committer: { ...when(), name: this.committer.name, email: this.committer.email },
        message,
      });
      const commitOid = writeObject(this.gitdir, 'commit', commit, this.durable);

      // 2. the journal: what to roll forward or back if the process dies from here on
      const journal: Journal = { ref: headState.ref, oldHead: this.headOid, newHead: commitOid, files: changes };
      this.writeJournal(journal);

      // 3. the working tree and the new index (written into the index lock we hold)
      for (const ch of changes) {
        if (ch.newBlob === null) unlinkQuiet(join(this.dir, ch.path));
        else this.writeWorkingFile(ch.path, text as string);
        const stat = ch.newBlob === null ? null : statSync(join(this.dir, ch.path), { bigint: true });
        setEntry(index, ch.path, ch.newBlob, stat);
      }
      const indexBytes = serializeIndex(index);
      writeSync(lock.indexLock, indexBytes, 0, indexBytes.length, 0);
      ftruncateSync(lock.indexLock, indexBytes.length);
      if (this.durable) fsyncSync(lock.indexLock);

      // 4. the commit point: the branch moves (compare-and-swap against the HEAD we built on)
      updateRef(this.gitdir, headState.ref, this.headOid, commitOid, { who: sigLine(this.committer, nowMs), message: `commit: ${message}` }, this.durable);
      commitIndex = true;
      closeSync(lock.indexLock);
      renameSync(join(this.gitdir, 'index.lock'), join(this.gitdir, 'index'));
      this.rememberIndex(index);
      this.removeJournal();

      // 5. in-memory state follows
      const rec2: CommitRecord = {
        p: this.headOid ? [this.headOid] : [],
        t: Math.floor(nowMs / 1000),
        tz: -new Date(nowMs).getTimezoneOffset(),
        an: op.author.name,
        ae: op.author.email,
        at: Math.floor(nowMs / 1000),
        s: message.split('\n')[0] as string,
        u: [op.uid],
      };
      for (const ch of changes) {
        if (ch.newBlob) {
          this.history.noteBlob(ch.newBlob, op.uid);
          this.headBlobs.set(ch.path, ch.newBlob);
        } else this.headBlobs.delete(ch.path);
      }
      this.history.addOwnCommit(commitOid, rec2);
      this.headOid = commitOid;
      for (const ch of changes) await this.recheck(ch.path, null);
      return { commit: commitOid, path: newPath, file: next, previous: current };
    } finally {
      if (commitIndex) unlinkQuiet(join(this.gitdir, 'flowreg.lock'));
      else releaseRepoLock(this.gitdir, lock, false);
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
    const lower = name.toLowerCase();
    for (const r of this.records.values()) {
      if (r.path === ownPath) continue;
      const other = r.summary?.name;
      if ((typeof other === 'string' && other.toLowerCase() === lower) || r.path.toLowerCase() === path.toLowerCase()) {
        throw new FlowregError('NAME_TAKEN', `a flow named ${JSON.stringify(other ?? name)} already exists (${r.path})`, { name, path: r.path });
      }
    }
    if (path !== ownPath && this.headBlobs.has(path)) {
      throw new FlowregError('NAME_TAKEN', `${path} already exists at HEAD`, { name, path });
    }
  }

  /** Writes new trees for `changes` on top of `rootTree` and returns the new root tree id. */
  private writeTreeWith(rootTree: string | null, changes: Journal['files']): string {
    const byDir = new Map<string, Array<{ name: string; blob: string | null }>>();
    for (const ch of changes) {
      const dir = posix.dirname(ch.path);
      const list = byDir.get(dir) ?? [];
      list.push({ name: posix.basename(ch.path), blob: ch.newBlob });
      byDir.set(dir, list);
    }
    const rewrite = (treeOid: string | null, prefix: string): string | null => {
      const entries: TreeEntry[] = treeOid ? [...this.objects.tree(treeOid)] : [];
      // entries stay in git's order: changes replace in place, additions are inserted by binary search
      const place = (entry: TreeEntry | null, name: string, isTree: boolean): void => {
        const probe: TreeEntry = entry ?? { mode: isTree ? '40000' : '100644', name, oid: '' };
        let lo = 0;
        let hi = entries.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (compareTreeEntries(entries[mid] as TreeEntry, probe) < 0) lo = mid + 1;
          else hi = mid;
        }
        const hit = entries[lo];
        const same = hit !== undefined && hit.name === name;
        if (entry === null) {
          if (same) entries.splice(lo, 1);
        } else if (same) entries[lo] = entry;
        else entries.splice(lo, 0, entry);
      };
      for (const { name, blob } of byDir.get(prefix === '' ? '.' : prefix) ?? []) {
        place(blob === null ? null : { mode: '100644', name, oid: blob }, name, false);
      }
      // sub-folders on the way to a changed path
      const subdirs = new Set<string>();
      for (const dir of byDir.keys()) {
        if (dir === '.' || (prefix !== '' && !dir.startsWith(`${prefix}/`))) continue;
        const rest = prefix === '' ? dir : dir.slice(prefix.length + 1);
        subdirs.add(rest.split('/')[0] as string);
      }
      for (const sub of subdirs) {
        const existing = entries.find((e) => e.name === sub && e.mode === '40000')?.oid ?? null;
        const child = rewrite(existing, prefix === '' ? sub : `${prefix}/${sub}`);
        place(child === null ? null : { mode: '40000', name: sub, oid: child }, sub, true);
      }
      if (entries.length === 0 && prefix !== '') return null;
      const oid = writeObject(this.gitdir, 'tree', serializeTree(entries), this.durable);
      this.objects.rememberTree(oid, entries);
      return oid;
    };
    return rewrite(rootTree, '') as string;
  }

  private writeWorkingFile(path: string, text: string): void {
    const full = join(this.dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    const tmp = join(full, '..', `.${posix.basename(path)}.flowreg-${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, text);
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
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
  private async recheck(path: string, index: GitIndex | null): Promise<boolean> {
    const full = join(this.dir, path);
    let st: BigIntStats;
    try {
      st = statSync(full, { bigint: true });
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      return this.records.delete(path);
    }
    const key: StatKey = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const old = this.records.get(path);
    const headBlob = this.headBlobs.get(path) ?? null;
    if (old && old.stat === key) {
      old.headBlob = headBlob;
      return false;
    }
    let blob: string | null = null;
    let text: string | null = null;
    const entry = index ? getEntry(index, path) : undefined;
    if (entry && this.indexCache?.index === index && statMatches(entry, st, this.indexCache.mtimeNs)) blob = entry.oid;
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
    };
    this.records.set(path, rec);
    if (typeof rec.summary?.uid === 'string') this.history.noteBlob(blob, rec.summary.uid);
    return !old || old.blob !== blob || old.headBlob !== headBlob;
  }
}

type StatKey = string;

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
