import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml } from '../core/parseYaml.ts';
import { isFlowPath } from '../core/flowPaths.ts';
import { storageError } from './fsWrite.ts';
import type { ObjectStore } from './objectStore.ts';
import { TreeDiffer } from './treeDiff.ts';
import { isObject } from '../core/jsonAccess.ts';

/** What the history index keeps of one commit. */
export interface CommitRecord {
  parents: string[];
  /** Committer time, seconds since epoch, and its offset in minutes east of UTC. */
  time: number;
  timezoneOffset: number;
  authorName: string;
  authorEmail: string;
  /** Author time, seconds since epoch. */
  authorTime: number;
  /** The message's first line. */
  subject: string;
  /** The uids of the flows this commit changed. */
  uids: string[];
}

interface Persisted {
  format: number;
  flowsDir: string;
  head: string | null;
  commits: Record<string, CommitRecord>;
  blobUids: Record<string, string | null>;
}

const FORMAT = 2;


const UID_LINE = /^uid: ?(?:"([^"\\\n]*)"|([A-Za-z0-9][A-Za-z0-9_.:@+-]*))[ \t]*$/m;

/**
 * A string of its own: a substring (a commit's subject, a parent id, an author parsed from the
 * commit text) is a view that keeps the whole text it was cut from alive. V8 copies substrings
 * shorter than 13 characters anyway.
 */
function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * The history of every flow, by uid and across renames: for each commit, the flows it changed;
 * for the current HEAD, each flow's commits newest first (version = the first, gmt_created = the
 * last). Built once by walking the commit graph, persisted keyed by HEAD, and brought up to date
 * by walking only the commits it has not seen.
 */
export class HistoryIndex {
  private commits = new Map<string, CommitRecord>();
  private blobUids = new Map<string, string | null>();
  private byUid = new Map<string, string[]>();
  /**
   * One string per distinct uid, author name and e-mail, shared by every record that names it: a
   * record per commit would otherwise keep its own copies (a write's uid and author arrive as new
   * strings with each request, and the persisted index reads back one string per occurrence).
   */
  private readonly shared = new Map<string, string>();
  private head: string | null = null;
  private dirty = false;
  private readonly differ: TreeDiffer;

  constructor(
    private readonly objects: ObjectStore,
    private readonly file: string,
    private readonly flowsDir: string,
  ) {
    this.differ = new TreeDiffer(objects);
  }

  /** Loads the persisted index if it was built for the same flows folder (a corrupt file is ignored). */
  load(): void {
    let data: Persisted;
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8')) as Persisted;
    } catch {
      return;
    }
    if (data.format !== FORMAT || data.flowsDir !== this.flowsDir) return;
    const entries = Object.entries(data.commits);
    // each parent id as the same string as that commit's key
    const ids = new Map<string, string>(entries.map(([oid]) => [oid, oid]));
    this.commits = new Map(entries.map(([oid, rec]) => [oid, this.compact(rec, (p) => ids.get(p) ?? p)]));
    this.blobUids = new Map(Object.entries(data.blobUids).map(([blob, uid]) => [blob, uid === null ? null : this.share(uid)]));
    this.head = null;
  }

  /** The one string kept for a uid, author name or e-mail. */
  private share(s: string): string {
    let kept = this.shared.get(s);
    if (kept === undefined) {
      kept = own(s);
      this.shared.set(kept, kept);
    }
    return kept;
  }

  /**
   * What is kept of a commit: its strings of their own, and uids and authors shared with the other
   * records (about 350 bytes a commit instead of about 575 for the records a write made).
   * `parent` gives the string kept for a parent id (best the parent's own key string).
   */
  private compact(rec: CommitRecord, parent: (oid: string) => string): CommitRecord {
    return {
      parents: rec.parents.map(parent),
      time: rec.time,
      timezoneOffset: rec.timezoneOffset,
      authorName: this.share(rec.authorName),
      authorEmail: this.share(rec.authorEmail),
      authorTime: rec.authorTime,
      subject: own(rec.subject),
      uids: rec.uids.map((u) => this.share(u)),
    };
  }

  /** Writes the index next to the repository (temporary file + rename). */
  async persist(): Promise<void> {
    if (!this.dirty) return;
    const data: Persisted = {
      format: FORMAT,
      flowsDir: this.flowsDir,
      head: this.head,
      commits: Object.fromEntries(this.commits),
      blobUids: Object.fromEntries(this.blobUids),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    await fsp.mkdir(join(this.file, '..'), { recursive: true });
    try {
      await fsp.writeFile(tmp, JSON.stringify(data));
      await fsp.rename(tmp, this.file);
    } catch (err) {
      // a full disk leaves the old index whole, and no partial temporary file beside it
      await fsp.rm(tmp, { force: true });
      throw storageError(err, this.file);
    }
    this.dirty = false;
  }

  /** The HEAD the per-flow lists were computed for. */
  get currentHead(): string | null {
    return this.head;
  }

  /**
   * Brings the index to `head`: records every commit reachable from it that it has not seen, then
   * recomputes each flow's commit list. Returns the number of commits newly recorded.
   */
  update(head: string | null): number {
    let added = 0;
    if (head) {
      // ids of their own (a parent id is cut from its child's commit text): a walked commit's key
      // is the same string as its child's parent entry
      const stack = [own(head)];
      const seen = new Set<string>();
      while (stack.length > 0) {
        const oid = stack.pop() as string;
        if (seen.has(oid) || this.commits.has(oid)) continue;
        seen.add(oid);
        const rec = this.compact(this.record(oid), own);
        this.commits.set(oid, rec);
        added++;
        for (const p of rec.parents) if (!this.commits.has(p)) stack.push(p);
      }
    }
    if (added > 0 || head !== this.head) {
      this.dirty = true;
      this.aggregate(head);
    }
    return added;
  }

  /** Records a commit flowreg just made, whose changed flows it already knows. */
  addOwnCommit(oid: string, given: CommitRecord): void {
    // its parent is the HEAD flowreg committed last, whose id is already the key of that record
    const rec = this.compact(given, (p) => p);
    this.commits.set(oid, rec);
    this.dirty = true;
    if (rec.parents.length === 1 && rec.parents[0] === this.head) {
      // the common case: a new commit on top of the indexed HEAD
      for (const uid of rec.uids) this.byUid.set(uid, [oid, ...(this.byUid.get(uid) ?? [])]);
      this.head = oid;
    } else {
      this.aggregate(oid);
    }
  }

  /** Notes that `blob` holds flow `uid` (flowreg knows it when it writes the blob). */
  noteBlob(blob: string, uid: string): void {
    if (!this.blobUids.has(blob)) {
      this.blobUids.set(blob, this.share(uid));
      this.dirty = true;
    }
  }

  /** The commits that changed flow `uid`, newest first (empty when it was never committed). */
  commitsOf(uid: string): readonly string[] {
    return this.byUid.get(uid) ?? [];
  }

  /** The record of a commit the index has seen. */
  commit(oid: string): CommitRecord | undefined {
    return this.commits.get(oid);
  }

  /** Every uid with committed history at the current HEAD. */
  uids(): IterableIterator<string> {
    return this.byUid.keys();
  }

  private record(oid: string): CommitRecord {
    const c = this.objects.commit(oid);
    const tree = this.flowsTree(c.tree);
    const changes = new Map<string, true>();
    const parents = c.parents;
    const firstParentTree = parents[0] ? this.flowsTree(this.objects.commit(parents[0]).tree) : null;
    for (const ch of this.differ.diff(firstParentTree, tree, this.flowsDir)) {
      if (!isFlowPath(ch.path, this.flowsDir)) continue;
      if (parents.length > 1) {
        // a merge changes a flow only where its result differs from every parent (as git log's
        // history simplification sees it): otherwise the change belongs to the merged branch
        const same = parents.slice(1).some((p) => this.differ.lookup(this.flowsTree(this.objects.commit(p).tree), ch.path.slice(this.flowsDir.length + 1)) === ch.newOid);
        if (same) continue;
      }
      if (ch.oldOid && ch.newOid && !this.blobUids.has(ch.oldOid)) {
        // an edit in place keeps the flow: the older content takes the uid of the newer one, read
        // from a newer commit already walked (or from the working tree), so blobs are read only
        // where a file appears or disappears (creates, deletes, renames)
        const uid = this.uidOfBlob(ch.newOid);
        this.blobUids.set(ch.oldOid, uid);
        if (uid) changes.set(uid, true);
        continue;
      }
      for (const blob of [ch.oldOid, ch.newOid]) {
        const uid = blob ? this.uidOfBlob(blob) : null;
        if (uid) changes.set(uid, true);
      }
    }
    return {
      parents,
      time: c.committer.timestamp,
      timezoneOffset: c.committer.timezoneOffset,
      authorName: c.author.name,
      authorEmail: c.author.email,
      authorTime: c.author.timestamp,
      subject: c.message.split('\n')[0] ?? '',
      uids: [...changes.keys()],
    };
  }

  private flowsTree(root: string): string | null {
    return this.differ.lookup(root, this.flowsDir);
  }

  /** The uid a flow blob declares, or null (read once per blob, then remembered). */
  uidOfBlob(blob: string): string | null {
    const known = this.blobUids.get(blob);
    if (known !== undefined) return known;
    // the uid of a canonical file is on its second line: read only the top of the blob
    let uid: string | null = null;
    const content = this.objects.readTyped(blob, 'blob');
    // the top of the file, in whole lines (a cut line could read as a shorter uid)
    const top = content.length <= 4096 ? content.toString('utf8') : content.toString('utf8', 0, content.lastIndexOf(0x0a, 4096) + 1);
    const m = UID_LINE.exec(top);
    if (m) uid = (m[1] ?? m[2]) as string;
    else {
      const v = parseYaml(content.toString('utf8')).value;
      if (isObject(v) && typeof v.uid === 'string') uid = v.uid;
    }
    // a matched substring keeps the whole text it came from alive: keep a copy of its own, one per uid
    if (uid !== null) uid = this.share(uid);
    this.blobUids.set(blob, uid);
    return uid;
  }

  /** Recomputes every flow's commit list for `head`, visiting commits in git log's order. */
  private aggregate(head: string | null): void {
    this.head = head;
    const byUid = new Map<string, string[]>();
    if (head) {
      // newest committer time first; a commit is reached only through one of its children
      const heap: Array<[number, string]> = [];
      const seen = new Set<string>([head]);
      push(heap, [this.commits.get(head)?.time ?? 0, head]);
      while (heap.length > 0) {
        const [, oid] = pop(heap);
        const rec = this.commits.get(oid);
        if (!rec) continue;
        for (const uid of rec.uids) {
          let list = byUid.get(uid);
          if (!list) byUid.set(uid, (list = []));
          list.push(oid);
        }
        for (const p of rec.parents) {
          if (seen.has(p)) continue;
          seen.add(p);
          push(heap, [this.commits.get(p)?.time ?? 0, p]);
        }
      }
    }
    this.byUid = byUid;
  }
}

// a max-heap on commit time (ties: larger id first, for a stable order)
function push(heap: Array<[number, string]>, item: [number, string]): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!greater(heap[i] as [number, string], heap[parent] as [number, string])) break;
    [heap[i], heap[parent]] = [heap[parent] as [number, string], heap[i] as [number, string]];
    i = parent;
  }
}

function pop(heap: Array<[number, string]>): [number, string] {
  const top = heap[0] as [number, string];
  const last = heap.pop() as [number, string];
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && greater(heap[l] as [number, string], heap[m] as [number, string])) m = l;
      if (r < heap.length && greater(heap[r] as [number, string], heap[m] as [number, string])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as [number, string], heap[i] as [number, string]];
      i = m;
    }
  }
  return top;
}

function greater(a: [number, string], b: [number, string]): boolean {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}
