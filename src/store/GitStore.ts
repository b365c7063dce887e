import { existsSync, promises as fsp } from 'node:fs';
import * as fs from 'node:fs';
import { join, posix, resolve } from 'node:path';
import git from 'isomorphic-git';
import { flowNotFound, invalidFlow } from '../core/flowFromBody.ts';
import { isFlowFileName } from '../core/flowPaths.ts';
import { formatFlow } from '../core/formatFlow.ts';
import { parseYaml } from '../core/parseYaml.ts';
import { schemaRefFor } from '../core/schemaRef.ts';
import type { ServedEntry } from '../core/servedEntry.ts';
import type { FlowFile } from '../core/types.ts';
import { validateFlowValue } from '../core/validateFlow.ts';
import { FlowregError } from '../errors/index.ts';
import { CommitTransaction } from './CommitTransaction.ts';
import { FlowHistory } from './FlowHistory.ts';
import { FlowIndex } from './FlowIndex.ts';
import { getEntry, type GitIndex } from './gitIndex.ts';
import { hashObject } from './gitObjects.ts';
import type { TextInspection } from './inspectFlow.ts';
import { DEFAULT_PACK_LIMIT, needsGc, repack } from './maintenance.ts';
import { ObjectStore } from './objectStore.ts';
import { composeFlowChanges, treeStamp, waitForNativeIndexLock } from './nativeGit.ts';
import { readHead, writeRefFile } from './refs.ts';
import { Remote, type RemoteOptions } from './Remote.ts';
import { RemoteSync, mergeChanges } from './RemoteSync.ts';
import { acquireRepoLock, hasStaleLock, releaseRepoLock } from './repoLock.ts';
import { checkFlowName, checkFlowUid, flowPath } from './safePath.ts';
import type { ChangeBatch, ChangeSource, CurrentFlow, FileChange, FlowChange, FlowFileState, FlowVersion, Identity, PendingChange, SyncEvent, SyncStatus, VersionInfo, WriteOp, WriteResult } from './types.ts';
import { WorkingTree } from './WorkingTree.ts';
import { WriteQueue } from './writeQueue.ts';
import { isObject } from '../core/jsonAccess.ts';

/** Options of a store. */
export interface StoreOptions {
  /** The repository's working tree. */
  dir: string;
  /** The folder of flow files, relative to `dir` (default `flows`). */
  flowsDir?: string;
  /** Folder of template flows (DB-GPT export JSON or flow YAML); default `<dir>/templates`. */
  templatesDir?: string;
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
  /** Where a subscriber's error goes (it never fails the write or scan that published the batch). */
  onListenerError?: (err: unknown) => void;
}

/** Listens to the store's changes (see subscribe). */
export type ChangeListener = (batch: ChangeBatch) => void;

const DEFAULT_COMMITTER: Identity = { name: 'flowreg', email: 'flowreg@localhost' };

/** flowreg's built-in templates (`templates/` of the package: DB-GPT's English templates), for a repository without its own. */
export const BUILTIN_TEMPLATES_DIR = resolve(import.meta.dirname, '../../templates');

/**
 * The flows of one git repository. It owns the one flow index and feeds it one stream of changes
 * from every source (REST writes, edits on disk, checkouts and merges, fast-forwards from the
 * remote), validating each content once; subscribers see the same stream. Every write becomes
 * exactly one commit through one serialized path that holds git's own index lock. The jobs are
 * split by owner: WorkingTree (files and git's index), CommitTransaction (commits and the
 * journal), RemoteSync (fetch and push), FlowHistory (versions), FlowIndex (what is served).
 */
export class GitStore {
  readonly dir: string;
  readonly flowsDir: string;
  private readonly gitdir: string;
  private readonly templatesDir: string;
  private readonly now: () => number;
  private readonly objects: ObjectStore;
  private readonly history: FlowHistory;
  private readonly tree: WorkingTree;
  private readonly tx: CommitTransaction;
  private readonly index = new FlowIndex();
  private readonly sync: RemoteSync | null;
  private readonly queue = new WriteQueue();
  private readonly listeners = new Set<ChangeListener>();
  private readonly writeMode: 'direct' | 'branch';
  /** Branch write mode: the branches proposed by this process, newest last (status lists the unmerged). */
  private readonly proposals: PendingChange[] = [];
  private readonly packLimit: number;
  private readonly durable: boolean;
  private lastGc: SyncEvent | null = null;
  /** An index whose cached tree is not HEAD's that a write already waited for (`<tree>:<head>`). */
  private indexAheadOfHead: string | null = null;
  private readonly onListenerError: (err: unknown) => void;

  private constructor(opts: StoreOptions) {
    this.dir = opts.dir;
    this.gitdir = join(opts.dir, '.git');
    this.flowsDir = posix.normalize(opts.flowsDir ?? 'flows').replace(/\/$/, '');
    this.templatesDir = opts.templatesDir ?? join(opts.dir, 'templates');
    this.now = opts.now ?? Date.now;
    this.durable = opts.durable ?? true;
    this.objects = new ObjectStore(this.gitdir);
    const cacheDir = join(this.gitdir, 'flowreg');
    this.history = new FlowHistory(this.objects, join(cacheDir, 'history.json'), this.flowsDir);
    this.tree = new WorkingTree(this.dir, this.gitdir, this.flowsDir, this.objects, join(cacheDir, 'flows.json'));
    this.tx = new CommitTransaction(this.dir, this.gitdir, this.objects, this.tree, opts.committer ?? DEFAULT_COMMITTER, this.durable);
    this.sync = opts.remote ? new RemoteSync(opts.dir, opts.remote, this.objects, this.history, this.tree, this.flowsDir, this.now) : null;
    this.writeMode = opts.writeMode ?? 'direct';
    this.packLimit = opts.packLimit ?? DEFAULT_PACK_LIMIT;
    this.onListenerError = opts.onListenerError ?? (() => undefined);
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
    store.sync?.remote.repair((oid) => store.objects.has(oid));
    await store.sync?.remote.configure();
    if (hasStaleLock(store.gitdir)) {
      // a flowreg process died mid-write: take the lock (which recovers) and give it back; while
      // another process holds index.lock, the first write recovers instead
      try {
        const lock = await acquireRepoLock(store.gitdir, () => store.tx.recover());
        releaseRepoLock(store.gitdir, lock, false);
      } catch (err) {
        if (!(err instanceof FlowregError) || err.code !== 'REPO_LOCKED') throw err;
      }
    }
    store.history.index.load();
    store.tree.load();
    await store.refresh();
    return store;
  }

  /** Writes the history index and the parsed-flow cache to disk. */
  async persist(): Promise<void> {
    await this.queue.run(async () => {
      await this.history.index.persist();
      await this.tree.persist();
    });
  }

  /** Waits for queued writes, persists the caches and releases files. */
  async close(): Promise<void> {
    await this.persist();
    this.listeners.clear();
    await this.tree.close();
    this.objects.close();
  }

  /**
   * Calls `listener` with every batch of changes, after the index applied it (reads inside the
   * listener see the new state). Returns the function that unsubscribes.
   */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** HEAD as it is on disk now (not as last loaded): for cheap change detection. */
  currentHead(): { oid: string | null; ref: string | null } {
    const h = readHead(this.gitdir);
    return { oid: h.oid, ref: h.ref };
  }

  /** The HEAD commit (null before the first commit) and branch the store stands on. */
  head(): { oid: string | null; ref: string | null } {
    return this.tree.head();
  }

  /** True when a remote is configured. */
  get hasRemote(): boolean {
    return this.sync !== null;
  }

  /**
   * Re-reads HEAD (the history follows when it moved outside flowreg) and re-checks the given
   * repository-relative paths, or the whole flows folder; the changes go through the stream.
   */
  async refresh(paths?: string[]): Promise<ChangeBatch> {
    return this.queue.run(async () => {
      // a native git command (checkout, pull, merge) holds the index lock while it rewrites files:
      // what it leaves is read once it is done, not a half-switched tree (a flow on both branches
      // would flicker out of the list)
      let changes: FlowChange[] = [];
      for (let pass = 1; ; pass++) {
        await waitForNativeIndexLock(this.gitdir);
        const stamp = treeStamp(this.gitdir);
        changes = composeFlowChanges(changes, await this.scanUnlocked(paths));
        // a native command that began while the tree was read may have been caught half-way (a
        // file it had removed and not yet written again): read again once it is done
        if (pass === MAX_SCAN_PASSES || treeStamp(this.gitdir) === stamp) break;
      }
      return { source: 'scan' as const, changes, uids: this.publish(changes, 'scan') };
    });
  }

  private async scanUnlocked(paths?: string[]): Promise<FlowChange[]> {
    const scanned = await this.tree.scan(paths);
    if (scanned.headMoved) this.history.index.update(this.tree.head().oid);
    return scanned.changes;
  }

  /** Applies changes to the index and hands them to the subscribers; returns the served keys that changed. */
  private publish(changes: FlowChange[], source: ChangeSource): string[] {
    if (changes.length === 0) return [];
    for (const ch of changes) {
      const uid = ch.after?.summary?.uid;
      if (ch.after && typeof uid === 'string') this.history.index.noteBlob(ch.after.blob, uid);
    }
    const uids = this.index.apply(changes);
    for (const listener of this.listeners) {
      try {
        listener({ source, changes, uids });
      } catch (err) {
        // the batch is already committed and indexed: a subscriber's failure is its own
        this.onListenerError(err);
      }
    }
    return uids;
  }

  // ---- reads: the flow index and history -------------------------------------------------

  /** The served flow `uid` (FLOW_NOT_FOUND when there is none). */
  flow(uid: string): ServedEntry {
    return this.index.get(uid);
  }

  /** The served flow `uid`, if there is one. */
  findFlow(uid: string): ServedEntry | undefined {
    return this.index.find(uid);
  }

  /** Every served flow. */
  flows(): IterableIterator<ServedEntry> {
    return this.index.all();
  }

  /** Number of served flows. */
  get flowCount(): number {
    return this.index.size;
  }

  /** Bumped by every batch of changes: what was derived from an older generation is stale. */
  get generation(): number {
    return this.index.generation;
  }

  /** The flow file at a repository-relative path. */
  file(path: string): FlowFileState | undefined {
    return this.index.file(path);
  }

  /** Every flow file of the working tree. */
  files(): FlowFileState[] {
    return [...this.index.allFiles()];
  }

  /** The flow files declaring `uid` (more than one is a repository finding). */
  filesOf(uid: string): FlowFileState[] {
    return this.index.filesOf(uid);
  }

  /** Version facts of flow `uid` whose file is at `path` now (docs/storage.md). */
  versionOf(uid: string, path: string): VersionInfo {
    return this.history.versionOf(uid, this.index.file(path));
  }

  /** The history of flow `uid`, newest first. */
  versions(uid: string): FlowVersion[] {
    return this.history.versions(uid);
  }

  /** Committer time of a commit, seconds since the epoch (null: unknown). */
  timeOf(oid: string): number | null {
    return this.history.timeOf(oid);
  }

  /** Flow `uid` as it was at `version` (one of its commits); null when that commit deleted it. */
  async readAt(uid: string, version: string): Promise<{ path: string; file: FlowFile } | null> {
    return this.history.readAt(uid, version);
  }

  /** Reads and parses a flow blob (from the object database, or from the working tree while it is uncommitted there). */
  async readBlob(blob: string, path?: string): Promise<FlowFile> {
    let text: string;
    if (this.objects.has(blob)) text = this.objects.readTyped(blob, 'blob').toString('utf8');
    else if (path && this.tree.state(path)?.blob === blob) text = await this.tree.readText(path);
    else throw new FlowregError('VERSION_NOT_FOUND', `flow content ${blob} is no longer available`, { blob });
    // a large hand-written file is parsed off the event loop
    return asFlowFile(await this.tree.parseText(text), `blob ${blob}`);
  }

  /** What of a working-tree file parses to a mapping (an invalid file's content), or null. */
  async readWorking(path: string): Promise<FlowFile | null> {
    try {
      return asFlowFile(parseYaml(await this.tree.readText(path)).value, path);
    } catch {
      return null;
    }
  }

  /**
   * The template files (DB-GPT export JSON or flow YAML) of the templates folder, parsed, by file
   * name; unreadable files are skipped. A repository without a templates folder offers flowreg's
   * built-in ones (BUILTIN_TEMPLATES_DIR, DB-GPT's English templates); its own folder replaces
   * them entirely (an empty folder: no templates).
   */
  async templates(): Promise<unknown[]> {
    const dir = existsSync(this.templatesDir) ? this.templatesDir : BUILTIN_TEMPLATES_DIR;
    if (!existsSync(dir)) return [];
    const names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.json') || isFlowFileName(n)).sort();
    const out: unknown[] = [];
    for (const n of names) {
      const text = await fsp.readFile(join(dir, n), 'utf8');
      try {
        out.push(n.endsWith('.json') ? JSON.parse(text) : parseYaml(text).value);
      } catch {
        // not a template
      }
    }
    return out;
  }

  // ---- sync with the remote -------------------------------------------------------------

  /**
   * Fetches the remote branch and fast-forwards the local branch, working tree and index to it.
   * A local branch with commits the remote lacks, or local edits in the way, are never
   * overwritten: the reason is kept for status() and nothing moves. Returns the changes served.
   */
  async fetch(): Promise<ChangeBatch> {
    if (!this.sync) return { source: 'fetch', changes: [], uids: [] };
    await this.sync.fetch();
    let batch: ChangeBatch;
    try {
      batch = await this.queue.run(() => this.fastForwardUnlocked());
    } catch (err) {
      this.sync.fetched(err);
      throw err;
    }
    this.sync.fetched(null);
    await this.maintain();
    return batch;
  }

  private async fastForwardUnlocked(): Promise<ChangeBatch> {
    const sync = this.sync as RemoteSync;
    const none: ChangeBatch = { source: 'fetch', changes: [], uids: [] };
    const head = readHead(this.gitdir);
    const remoteHead = sync.remote.trackedHead();
    if (!remoteHead || !head.ref || head.oid === remoteHead) {
      sync.blocked = null;
      return none;
    }
    this.checkRepoState();
    const lock = await acquireRepoLock(this.gitdir, () => this.tx.recover());
    let released = false;
    try {
      // as for a write: never between the two halves of a native checkout
      await this.waitForHeadToFollowIndex();
      const changes: FlowChange[] = [];
      if (readHead(this.gitdir).oid !== this.tree.head().oid) changes.push(...(await this.scanUnlocked([])));
      this.publish(changes, 'scan');
      if (this.tree.head().oid !== head.oid) return none;
      const index = this.tree.readIndex();
      const plan = sync.planFastForward(head.oid, index);
      if (!plan) return none;
      // a pull's large files are parsed off the event loop before they are moved in
      await this.tree.preinspectBlobs(plan.files);
      released = true;
      const stats = this.tx.apply(lock, head.ref, head.oid, plan.remoteHead, plan.files, index, `fast-forward: ${sync.remote.url}`, this.now());
      this.history.index.update(plan.remoteHead);
      const moved = this.tree.moved(plan.remoteHead, plan.files, stats, new Map());
      return { source: 'fetch', changes: moved, uids: this.publish(moved, 'fetch') };
    } finally {
      if (!released) releaseRepoLock(this.gitdir, lock, false);
    }
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
      const error = this.sync ? await this.sync.remote.exclusive(run) : await run();
      this.objects.forgetGonePacks();
      this.lastGc = { time: this.now(), error };
    });
  }

  /** Branch, heads, ahead/behind and the last fetch and push (docs/sync.md). */
  status(): SyncStatus {
    const head = readHead(this.gitdir);
    const remoteHead = this.sync?.remote.trackedHead() ?? null;
    const ahead = this.sync ? this.history.countBetween(head.oid, remoteHead) : 0;
    const behind = this.sync ? this.history.countBetween(remoteHead, head.oid) : 0;
    return {
      branch: head.branch,
      head: head.oid,
      remote: this.sync?.remote.url ?? null,
      remoteHead,
      ahead,
      behind,
      diverged: ahead > 0 && behind > 0,
      writeMode: this.writeMode,
      lastFetch: this.sync?.lastFetch ?? null,
      lastPush: this.sync?.lastPush ?? null,
      lastGc: this.lastGc,
      blocked: this.sync?.blocked ?? null,
      pending: this.proposals.filter((p) => this.history.countBetween(p.commit, head.oid) > 0).reverse(),
    };
  }

  // ---- the one write path ---------------------------------------------------------------

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
    const lock = await acquireRepoLock(this.gitdir, () => this.tx.recover());
    let released = false;
    try {
      if (lock.recoveredStale) this.tree.forgetIndex();
      await this.waitForHeadToFollowIndex();
      // HEAD, the index and the flow's own file may have changed outside flowreg
      if (readHead(this.gitdir).oid !== this.tree.head().oid) this.publish(await this.scanUnlocked([]), 'scan');
      const headState = readHead(this.gitdir);
      if (!headState.ref) throw new FlowregError('REPO_BUSY', 'HEAD is detached; check out a branch before writing', {});
      const index = this.tree.readIndex();
      if (this.sync && this.writeMode === 'direct') await this.sync.checkNotAhead(this.tree.head().oid);
      const current = await this.currentOf(op.uid, index);
      if (current === null && (op.verb === 'update' || op.verb === 'delete')) throw flowNotFound(op.uid);
      if (current !== null && op.verb === 'create') throw new FlowregError('FLOW_EXISTS', `a flow with uid ${op.uid} already exists (${current.path})`, { uid: op.uid });
      const next = op.apply(current);
      const prepared = this.prepare(op, current, next);
      const noChange: WriteResult = { commit: null, path: prepared.newPath, file: next, previous: current, changes: [] };
      if (prepared.changes.length === 0) return noChange;
      if (prepared.blob) this.tx.writeBlob(prepared.blob.content, prepared.blob.oid);
      const nowMs = this.now();
      const name = (next ?? current?.file)?.name as string;
      const message = `${op.verb} flow ${name} (${op.uid})\n\nFlow-Uid: ${op.uid}\n`;

      if (this.writeMode === 'branch') {
        // the main branch stays as it is: the change goes to a branch of its own, for review
        const base = (this.sync ? await this.sync.remote.fetch() : null) ?? this.tree.head().oid;
        const commit = this.tx.buildCommit(base, prepared.changes, op.author, message, nowMs);
        const branch = `flowreg/${name}-${commit.slice(0, 7)}`;
        writeRefFile(this.gitdir, `refs/heads/${branch}`, commit);
        if (this.sync && (await this.sync.remote.push(commit, branch)) !== 'ok') {
          throw new FlowregError('PUSH_REJECTED', `the remote refused the new branch ${branch}`, { branch });
        }
        this.proposals.push({ branch, commit, uid: op.uid, name, time: nowMs });
        if (this.proposals.length > 50) this.proposals.shift();
        return { ...noChange, commit, branch };
      }

      const localHead = this.tree.head().oid;
      const write = { base: localHead, changes: prepared.changes, uid: op.uid, author: op.author, message, nowMs };
      // acknowledged only once the remote has it: push first, then move the local branch
      const pushed = this.sync ? await this.sync.push(write, this.tx, index) : { commit: this.tx.buildCommit(localHead, prepared.changes, op.author, message, nowMs), base: localHead, pulled: [] };

      // the commit point: the local branch moves from its old head to the new commit
      const files = mergeChanges(pushed.pulled, prepared.changes);
      released = true;
      const stats = this.tx.apply(lock, headState.ref, localHead, pushed.commit, files, index, `commit: ${message}`, nowMs);
      if (pushed.pulled.length === 0) {
        this.history.index.addOwnCommit(pushed.commit, {
          parents: pushed.base ? [pushed.base] : [],
          time: Math.floor(nowMs / 1000),
          timezoneOffset: -new Date(nowMs).getTimezoneOffset(),
          authorName: op.author.name,
          authorEmail: op.author.email,
          authorTime: Math.floor(nowMs / 1000),
          subject: message.split('\n')[0] as string,
          uids: [op.uid],
        });
      } else this.history.index.update(pushed.commit);
      const written = new Map<string, TextInspection>();
      if (prepared.newPath && next) written.set(prepared.newPath, { value: next, findings: prepared.findings });
      const changes = this.tree.moved(pushed.commit, files, stats, written);
      this.publish(changes, 'write');
      return { ...noChange, commit: pushed.commit, changes };
    } finally {
      if (!released) releaseRepoLock(this.gitdir, lock, false);
    }
  }

  /**
   * A native `git checkout` writes the new branch's index (and releases its lock) before it moves
   * HEAD: a write that took the lock in between would commit onto the old branch and leave its
   * change staged on the new one. Such an index names, as its root cached tree, a tree other than
   * HEAD's: wait (up to HEAD_FOLLOW_WAIT_MS) for HEAD to follow. An index that stays so is the
   * user's own staged state (after `git reset --soft`): it is waited for once, not at every write.
   */
  private async waitForHeadToFollowIndex(): Promise<void> {
    const end = Date.now() + HEAD_FOLLOW_WAIT_MS;
    for (;;) {
      const root = this.tree.readIndex().cacheTree;
      const head = readHead(this.gitdir).oid;
      if (root === null || root.oid === null || head === null) return;
      const key = `${root.oid}:${head}`;
      if (key === this.indexAheadOfHead || this.objects.commit(head).tree === root.oid) return;
      if (Date.now() >= end) {
        this.indexAheadOfHead = key;
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The current content of flow `uid`, refusing a flow whose file has uncommitted changes. */
  private async currentOf(uid: string, index: GitIndex): Promise<CurrentFlow | null> {
    const scanned = await this.tree.scan(this.index.filesOf(uid).map((f) => f.path));
    this.publish(scanned.changes, 'scan');
    const files = this.index.filesOf(uid);
    if (files.length > 1) {
      throw new FlowregError('FLOW_EXISTS', `uid ${uid} is declared by ${files.length} files (${files.map((r) => r.path).join(', ')}); fix the repository first`, { uid });
    }
    const file = files[0];
    // a flow whose file became a symbolic link is still served (quarantined) but never written through
    const served = this.index.find(uid);
    if (!file && served) this.tree.checkRegular(served.path);
    if (!file) return null;
    this.tree.checkRegular(file.path);
    const indexBlob = getEntry(index, file.path)?.oid ?? null;
    if (file.blob !== file.headBlob || indexBlob !== file.headBlob) {
      throw new FlowregError('FILE_MODIFIED', `${file.path} has uncommitted changes; commit or discard them before writing through flowreg`, { path: file.path });
    }
    const content = asFlowFile(parseYaml(await this.tree.readText(file.path)).value, file.path);
    return { path: file.path, file: content, version: this.history.versionOf(uid, file).version };
  }

  /**
   * The file changes of a write: the flow's new path, its content validated (once) and hashed
   * (once), and the blobs that change.
   */
  private prepare(op: WriteOp, current: CurrentFlow | null, next: FlowFile | null): { changes: FileChange[]; newPath: string | null; blob: { content: Buffer; oid: string } | null; findings: TextInspection['findings'] } {
    const changes: FileChange[] = [];
    const headBlob = current ? this.tree.headBlob(current.path) : null;
    if (!next) {
      if (current) changes.push({ path: current.path, oldBlob: headBlob, newBlob: null });
      return { changes, newPath: null, blob: null, findings: [] };
    }
    if (next.uid !== op.uid) throw new FlowregError('INVALID_INPUT', `a write may not change a flow's uid (${op.uid} → ${String(next.uid)})`);
    const folder = current ? posix.relative(this.flowsDir, posix.dirname(current.path)) : '';
    // validated before the name becomes a path (the safe-path check below still guards that step)
    const findings = validateFlowValue(next, { file: `${this.flowsDir}/${folder === '' ? '' : `${folder}/`}${String(next.name)}.yaml` });
    if (findings.some((f) => f.severity === 'error')) throw invalidFlow(findings);
    const name = checkFlowName(next.name);
    const newPath = flowPath(this.flowsDir, folder, name);
    this.tree.checkRegular(newPath);
    this.checkNameFree(name, newPath, current?.path ?? null);
    const content = Buffer.from(formatFlow(next, { schemaRef: schemaRefFor(newPath) }));
    const oid = hashObject('blob', content);
    if (current && newPath === current.path && oid === headBlob) return { changes, newPath, blob: null, findings };
    if (current && current.path !== newPath) changes.push({ path: current.path, oldBlob: headBlob, newBlob: null });
    changes.push({ path: newPath, oldBlob: current && current.path === newPath ? headBlob : this.tree.headBlob(newPath), newBlob: oid });
    return { changes, newPath, blob: { content, oid }, findings };
  }

  /** Names are unique across the repository, compared without case (files must coexist on any file system). */
  private checkNameFree(name: string, path: string, ownPath: string | null): void {
    for (const p of this.index.nameClashes(name, path)) {
      if (p === ownPath) continue;
      const other = this.index.file(p)?.summary?.name;
      throw new FlowregError('NAME_TAKEN', `a flow named ${JSON.stringify(typeof other === 'string' ? other : name)} already exists (${p})`, { name, path: p });
    }
    if (path !== ownPath && this.tree.headBlob(path) !== null) throw new FlowregError('NAME_TAKEN', `${path} already exists at HEAD`, { name, path });
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
}

/** A parsed value as a flow file, or FLOW_INVALID naming `where`. */
function asFlowFile(v: unknown, where: string): FlowFile {
  if (!isObject(v)) throw new FlowregError('FLOW_INVALID', `${where} does not hold a flow mapping`, { where });
  return v as FlowFile;
}

export type { ChangeBatch, CurrentFlow, FlowChange, FlowFileState, FlowVersion, Identity, SyncStatus, VersionInfo, WriteOp, WriteResult } from './types.ts';

/** How long a write waits for HEAD to follow an index a native checkout wrote (see waitForHeadToFollowIndex). */
const HEAD_FOLLOW_WAIT_MS = 300;

/** How often a scan reads the tree again while native git commands keep changing it under the scan. */
const MAX_SCAN_PASSES = 4;
