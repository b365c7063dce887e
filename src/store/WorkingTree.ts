import { InspectPool, LARGE_TEXT } from './inspectPool.ts';
import { fastParse, parseYaml } from '../core/parseYaml.ts';
import type { Json } from '../core/types.ts';
import { constants, lstatSync, promises as fsp, readFileSync, readlinkSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { isFlowPath } from '../core/flowPaths.ts';
import { FlowregError } from '../errors/index.ts';
import { emptyIndex, getEntry, parseIndex, type GitIndex } from './gitIndex.ts';
import { hashObject, writeObject, type TreeEntry } from './gitObjects.ts';
import { inspectFlow, type TextInspection } from './inspectFlow.ts';
import type { ObjectStore } from './objectStore.ts';
import { readHead } from './refs.ts';
import { SummaryCache } from './summaryCache.ts';
import type { FileChange, FlowChange, FlowFileState, Inspection } from './types.ts';

/** How a path looked when it was last read: its stat data, and when it was read. */
interface Seen {
  stat: string;
  seenNs: bigint;
  state: FlowFileState;
}

/** The finding of a flow path that is a symbolic link: flowreg never reads or writes through one (docs/sync.md). */
export const SYMLINK_FINDING_CODE = 'NOT_REGULAR_FILE';

/** The message of that finding, also used when a write is refused. */
export function symlinkMessage(path: string): string {
  return `${path} is a symbolic link; flowreg reads only regular files (the file it points at is not read or served)`;
}

/** Coarser than any file system's timestamp tick: a file modified this close to a read is read again. */
const RACY_NS = 50_000_000n;

/**
 * The working tree and git's index, as far as flow files go: which content each flow file holds
 * now and at HEAD, found the way `git status` finds it (stat data first, hashing only what
 * changed), and what validating each content found (cached by blob id, persisted). It turns what
 * it finds into changes; it never decides what is served.
 */
export class WorkingTree {
  private readonly seen = new Map<string, Seen>();
  private headBlobs = new Map<string, string>();
  private headOid: string | null = null;
  private headRef: string | null = null;
  private indexCache: { key: string; index: GitIndex; mtimeNs: bigint } | null = null;
  private readonly summaries: SummaryCache;

  /** Large files are parsed and validated off the event loop. */
  private readonly pool = new InspectPool();

  constructor(
    private readonly dir: string,
    private readonly gitdir: string,
    private readonly flowsDir: string,
    private readonly objects: ObjectStore,
    cacheFile: string,
  ) {
    this.summaries = new SummaryCache(cacheFile);
  }

  /** Stops the inspection worker. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Loads the persisted inspections. */
  load(): void {
    this.summaries.load();
  }

  /** Writes the inspections of the contents on disk now (older ones are dropped). */
  async persist(): Promise<void> {
    await this.summaries.persist(new Set([...this.seen.values()].map((s) => SummaryCache.key(s.state.blob, s.state.path))));
  }

  /** The HEAD commit and branch the tree was last brought to. */
  head(): { oid: string | null; ref: string | null } {
    return { oid: this.headOid, ref: this.headRef };
  }

  /** The blob of `path` at HEAD, if it is there. */
  headBlob(path: string): string | null {
    return this.headBlobs.get(path) ?? null;
  }

  /** How many contents' inspections are cached (one per flow file on disk, not one per past edit). */
  get inspectionCount(): number {
    return this.summaries.size;
  }

  /** The current state of a flow file. */
  state(path: string): FlowFileState | undefined {
    return this.seen.get(path)?.state;
  }

  /**
   * Inspects the large files among `paths` that changed since they were last seen in the worker
   * thread (inspectPool.ts), so that the scan that follows finds their inspection cached and the
   * event loop never parses them itself.
   */
  private async preinspect(paths: Iterable<string>): Promise<void> {
    for (const p of paths) {
      const full = join(this.dir, p);
      let st: BigIntStats;
      try {
        st = lstatSync(full, { bigint: true });
      } catch {
        continue;
      }
      if (!st.isFile() || st.size < BigInt(LARGE_TEXT) || this.seen.get(p)?.stat === statKey(st)) continue;
      let buf: Buffer;
      try {
        buf = readFileSync(full);
      } catch {
        continue;
      }
      const blob = hashObject('blob', buf);
      if (this.summaries.get(blob, p)) continue;
      const found = await this.pool.inspect(buf.toString('utf8'), p);
      if (found) this.summaries.put(blob, p, found);
    }
  }

  /**
   * The value of a flow file's text: a large one that is not in the canonical form (which reads
   * fast anywhere) is parsed in the worker thread; undefined when it does not parse.
   */
  async parseText(text: string): Promise<Json | undefined> {
    if (text.length >= LARGE_TEXT) {
      const fast = fastParse(text);
      if (fast !== undefined) return fast;
      const off = await this.pool.parse(text);
      if (off !== null) return off.value;
    }
    return parseYaml(text).value;
  }

  /** Inspects the large new blobs of `files` (a pull's) in the worker thread, before they are moved in. */
  async preinspectBlobs(files: FileChange[]): Promise<void> {
    for (const ch of files) {
      if (ch.newBlob === null || !isFlowPath(ch.path, this.flowsDir) || this.summaries.get(ch.newBlob, ch.path) || !this.objects.has(ch.newBlob)) continue;
      const buf = this.objects.readTyped(ch.newBlob, 'blob');
      if (buf.length < LARGE_TEXT) continue;
      const found = await this.pool.inspect(buf.toString('utf8'), ch.path);
      if (found) this.summaries.put(ch.newBlob, ch.path, found);
    }
  }

  /**
   * Re-reads HEAD and re-checks the given repository-relative paths (or every flow file) and
   * those HEAD's move changed. Returns the changes, and whether HEAD moved (so history must follow).
   */
  async scan(paths?: string[]): Promise<{ changes: FlowChange[]; headMoved: boolean }> {
    const changes = new Map<string, FlowChange>();
    const head = readHead(this.gitdir);
    this.headRef = head.ref;
    const moved = new Set<string>();
    const headMoved = head.oid !== this.headOid;
    if (headMoved || this.headBlobs.size === 0) {
      const before = this.headBlobs;
      // read first: a HEAD commit that cannot be read (REPO_CORRUPT) must not leave the new HEAD
      // recorded with the old commit's blobs, which later writes would take for local changes
      const blobs = this.readHeadBlobs(head.oid);
      this.headOid = head.oid;
      this.headBlobs = blobs;
      for (const [p, b] of this.headBlobs) if (before.get(p) !== b) moved.add(p);
      for (const p of before.keys()) if (!this.headBlobs.has(p)) moved.add(p);
    }
    const index = this.readIndex();
    const targets = new Set(paths ?? (await this.listFlowFiles()));
    if (!paths) for (const p of this.seen.keys()) targets.add(p);
    // files whose committed content changed were rewritten by git: read them again whatever their stat says
    for (const p of moved) targets.add(p);
    await this.preinspect(targets);
    for (const p of targets) {
      const ch = this.recheck(p, index, moved.has(p));
      if (ch) changes.set(p, ch);
    }
    return { changes: [...changes.values()], headMoved };
  }

  /**
   * The state after the branch moved to `head` through `files` (a commit or a fast-forward, whose
   * files were just written): the blobs are known, so nothing is hashed again; `written` holds
   * what validating flowreg's own new content found, so it is not validated again either.
   */
  moved(head: string, files: FileChange[], stats: Map<string, BigIntStats>, written: Map<string, TextInspection>): FlowChange[] {
    const out: FlowChange[] = [];
    this.headOid = head;
    for (const ch of files) {
      if (!isFlowPath(ch.path, this.flowsDir)) continue;
      if (ch.newBlob) this.headBlobs.set(ch.path, ch.newBlob);
      else this.headBlobs.delete(ch.path);
      const before = this.seen.get(ch.path)?.state ?? null;
      if (ch.newBlob === null) {
        this.forget(ch.path);
        if (before) out.push({ path: ch.path, before, after: null });
        continue;
      }
      const st = stats.get(ch.path) ?? lstatSync(join(this.dir, ch.path), { bigint: true });
      const known = written.get(ch.path);
      const blob = ch.newBlob;
      if (st.isSymbolicLink()) {
        // a symbolic link a pull brought: its target is never read
        out.push({ path: ch.path, before, after: this.stateOf(ch.path, blob, symlinkInspection(ch.path), st) });
        continue;
      }
      const inspection = known ? this.summaries.put(blob, ch.path, known) : this.inspection(blob, ch.path, () => this.objects.readTyped(blob, 'blob').toString('utf8'));
      const after = this.stateOf(ch.path, blob, inspection, st);
      out.push({ path: ch.path, before, after });
    }
    return out;
  }

  /** The working-tree text of a flow file (never read through a symbolic link: UNSAFE_PATH). */
  async readText(path: string): Promise<string> {
    this.checkRegular(path);
    return fsp.readFile(join(this.dir, path), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  }

  /**
   * Refuses (UNSAFE_PATH) a flow path that is a symbolic link or lies in a folder of the flows
   * folder that is one: flowreg never reads or writes through a symbolic link. An absent path passes.
   */
  checkRegular(path: string): void {
    if (this.inLinkedFolder(path)) {
      throw new FlowregError('UNSAFE_PATH', `${path} lies in a folder of ${this.flowsDir}/ that is a symbolic link; flowreg does not follow it`, { path });
    }
    let link = false;
    try {
      link = lstatSync(join(this.dir, path)).isSymbolicLink();
    } catch {
      // absent
    }
    if (link) throw new FlowregError('UNSAFE_PATH', `${symlinkMessage(path)}; replace it with a regular file before writing through flowreg`, { path });
  }

  /** Refuses (UNSAFE_PATH) a path in a folder of the flows folder that is a symbolic link: nothing is written through it. */
  checkFolders(path: string): void {
    if (this.inLinkedFolder(path)) {
      throw new FlowregError('UNSAFE_PATH', `${path} lies in a folder of ${this.flowsDir}/ that is a symbolic link; flowreg does not write through it`, { path });
    }
  }

  /** True when a folder between the flows folder and `path` is a symbolic link (it is not followed). */
  private inLinkedFolder(path: string): boolean {
    const prefix = `${this.flowsDir}/`;
    if (!path.startsWith(prefix)) return false;
    const parts = path.slice(prefix.length).split('/').slice(0, -1);
    let rel = this.flowsDir;
    for (const part of parts) {
      rel = `${rel}/${part}`;
      try {
        if (lstatSync(join(this.dir, rel)).isSymbolicLink()) return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  /** git's index, parsed once per version of the file on disk. */
  readIndex(): GitIndex {
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

  /** Keeps the index flowreg just wrote, keyed by the renamed file's stat, so the next write does not parse it again. */
  rememberIndex(index: GitIndex): void {
    try {
      const st = statSync(join(this.gitdir, 'index'), { bigint: true });
      this.indexCache = { key: `${st.ino}:${st.size}:${st.mtimeNs}`, index, mtimeNs: st.mtimeNs };
    } catch {
      this.indexCache = null;
    }
  }

  /** Forgets the cached index (a recovery rewrote it). */
  forgetIndex(): void {
    this.indexCache = null;
  }

  /** The blob id a working-tree file holds now (from the index's stat data when it matches), null when absent. */
  blobOnDisk(path: string, index: GitIndex): string | null {
    const full = join(this.dir, path);
    try {
      const st = lstatSync(full, { bigint: true });
      const entry = getEntry(index, path);
      if (entry && this.indexCache?.index === index && statMatches(entry, st, this.indexCache.mtimeNs)) return entry.oid;
      return st.isSymbolicLink() ? hashObject('blob', Buffer.from(readlinkSync(full))) : hashObject('blob', readFileSync(full));
    } catch {
      return null;
    }
  }

  /** Refuses to move files over local changes: each file must hold its old content (or be absent). */
  checkClean(files: FileChange[], index: GitIndex): void {
    for (const ch of files) {
      if (this.blobOnDisk(ch.path, index) !== ch.oldBlob) {
        throw new FlowregError('FILE_MODIFIED', `${ch.path} has local changes that the remote's changes would overwrite; commit or discard them`, { path: ch.path });
      }
    }
  }

  /** What validating a content found, from the cache or by validating it now (once per content). */
  private inspection(blob: string, path: string, text: () => string): Inspection {
    return this.summaries.get(blob, path) ?? this.summaries.put(blob, path, inspectFlow(text(), path));
  }

  /**
   * Forgets a path. Its content's inspection goes too: the cache keeps what is on disk, not an
   * entry per past edit (a daemon that wrote 20,000 times grew by about 1 kB a write).
   */
  private forget(path: string): void {
    const old = this.seen.get(path);
    if (old) this.summaries.delete(old.state.blob, path);
    this.seen.delete(path);
  }

  private stateOf(path: string, blob: string, inspection: Inspection, st: BigIntStats): FlowFileState {
    const prev = this.seen.get(path);
    if (prev && prev.state.blob !== blob) this.summaries.delete(prev.state.blob, path);
    const state: FlowFileState = {
      path,
      blob,
      headBlob: this.headBlobs.get(path) ?? null,
      summary: inspection.summary,
      findings: inspection.findings.map((f) => ({ ...f, file: path })),
      nodes: inspection.nodes,
      mtimeMs: Number(st.mtimeNs / 1_000_000n),
    };
    this.seen.set(path, { stat: statKey(st), seenNs: BigInt(Date.now()) * 1_000_000n, state });
    return state;
  }

  /**
   * Re-reads one path if its stat changed; the blob id comes from the git index when the index's
   * stat data matches (as git status does), else from hashing the file. Returns the change, if any.
   */
  private recheck(path: string, index: GitIndex, force: boolean): FlowChange | null {
    const full = join(this.dir, path);
    const old = this.seen.get(path);
    const before = old?.state ?? null;
    const headBlob = this.headBlobs.get(path) ?? null;
    let st: BigIntStats;
    try {
      // lstat: a symbolic link is never followed, nor a linked folder on the way
      if (this.inLinkedFolder(path)) throw new Error('in a linked folder');
      st = lstatSync(full, { bigint: true });
      if (!st.isFile() && !st.isSymbolicLink()) throw new Error('not a file');
    } catch {
      if (!old) return null;
      this.forget(path);
      return { path, before, after: null };
    }
    // "racily clean", as git says: a file changed within the file system's timestamp granularity
    // of when it was last read can keep its stat data, so it is read again
    const racy = old !== undefined && st.mtimeNs + RACY_NS >= old.seenNs;
    if (old && old.stat === statKey(st) && !force && !racy) {
      if (old.state.headBlob === headBlob) return null;
      const after = { ...old.state, headBlob };
      old.state = after;
      return { path, before, after };
    }
    if (st.isSymbolicLink()) {
      // reported, never read: the blob is the link's own (as git stores it, mode 120000)
      let target: Buffer;
      try {
        target = readlinkSync(full, { encoding: 'buffer' });
      } catch {
        if (!old) return null;
        this.forget(path);
        return { path, before, after: null };
      }
      const after = this.stateOf(path, hashObject('blob', target), symlinkInspection(path), st);
      if (before && before.blob === after.blob && before.headBlob === after.headBlob && before.findings[0]?.message === after.findings[0]?.message) return null;
      return { path, before, after };
    }
    let blob: string | null = null;
    let buf: Buffer | null = null;
    const entry = getEntry(index, path);
    if (entry && !force && this.indexCache?.index === index && statMatches(entry, st, this.indexCache.mtimeNs)) blob = entry.oid;
    if (blob === null) {
      buf = readFileSync(full);
      blob = hashObject('blob', buf);
    }
    const content = buf;
    const inspection = this.inspection(blob, path, () => (content ?? readFileSync(full)).toString('utf8'));
    // a valid content that is not committed stays readable by its id once the file changes again:
    // a broken file keeps its last valid content served (quarantine)
    if (content && blob !== headBlob && !inspection.findings.some((f) => f.severity === 'error') && !this.objects.has(blob)) {
      writeObject(this.gitdir, 'blob', content, false, blob);
    }
    const after = this.stateOf(path, blob, inspection, st);
    if (before && before.blob === after.blob && before.headBlob === after.headBlob) return null;
    return { path, before, after };
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
    let tree: string | null = this.objects.commit(commit).tree;
    for (const part of this.flowsDir.split('/')) {
      const e: TreeEntry | undefined = tree ? this.objects.tree(tree).find((x) => x.name === part && x.mode === '40000') : undefined;
      tree = e ? e.oid : null;
    }
    if (tree) walk(tree, this.flowsDir);
    return out;
  }

  private async listFlowFiles(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fsp.readdir(join(this.dir, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // hidden files, editor and flowreg temp files
        const p = `${rel}/${e.name}`;
        // a linked folder is not followed; a linked flow file is listed, to be reported (never read)
        if (e.isDirectory()) await walk(p);
        else if ((e.isFile() || e.isSymbolicLink()) && isFlowPath(p, this.flowsDir)) out.push(p);
      }
    };
    await walk(this.flowsDir);
    return out;
  }
}

/** What is reported for a flow path that is a symbolic link: nothing of its target, one error. */
function symlinkInspection(path: string): Inspection {
  return {
    summary: null,
    findings: [{ code: SYMLINK_FINDING_CODE, severity: 'error', path: '', file: path, line: 0, col: 0, message: symlinkMessage(path) }],
    nodes: [],
  };
}

function statKey(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
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
