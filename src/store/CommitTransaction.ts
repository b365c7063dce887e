import { closeSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, promises as fsp, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join, posix } from 'node:path';
import { LruCache } from '../core/LruCache.ts';
import { emptyIndex, parseIndex, serializeIndex, setEntry, type GitIndex } from './gitIndex.ts';
import { storageError, writeAll } from './fsWrite.ts';
import { serializeCommit, writeObject } from './gitObjects.ts';
import type { ObjectStore } from './objectStore.ts';
import { readHead, updateRef } from './refs.ts';
import { releaseRepoLock, type HeldLock } from './repoLock.ts';
import { editableTree, editTree, emptyTree, type EditableTree, type TreeEdit } from './treeEdit.ts';
import type { FileChange, Identity } from './types.ts';
import type { WorkingTree } from './WorkingTree.ts';

/** What a write in progress has promised to finish: read back by recover() after a crash. */
interface Journal {
  ref: string;
  oldHead: string | null;
  newHead: string;
  files: FileChange[];
}

/**
 * The commit transaction (docs/storage.md): writes the trees and the commit of a change, then
 * moves the branch, the working tree and git's index to it as one journaled step, and finishes or
 * undoes such a step that a dead process left half done. Runs only inside the repository lock.
 */
export class CommitTransaction {
  /** Trees ready for editing by byte splicing: the last ones written stay cached. */
  private readonly trees = new LruCache<string, EditableTree>(8);

  constructor(
    private readonly dir: string,
    private readonly gitdir: string,
    private readonly objects: ObjectStore,
    private readonly tree: WorkingTree,
    private readonly committer: Identity,
    private readonly durable: boolean,
  ) {}

  /** Writes the trees and the commit of `changes` on top of `parent`; returns the commit id. */
  buildCommit(parent: string | null, changes: FileChange[], author: Identity, message: string, nowMs: number): string {
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

  /** Writes a blob whose id is already known (the write path hashed it once). */
  writeBlob(content: Uint8Array, oid: string): void {
    writeObject(this.gitdir, 'blob', content, this.durable, oid);
  }

  /**
   * Moves the branch from `oldHead` to `newHead` in the working tree, the index and the ref, as
   * one journaled step: files first, the new index into the lock we hold, then the ref
   * (compare-and-swap), then the index is renamed into place, which releases git's lock. Returns
   * the stat of every file it wrote (the working tree takes them as they are, without reading).
   */
  apply(lock: HeldLock, ref: string, oldHead: string | null, newHead: string, files: FileChange[], index: GitIndex, reflog: string, nowMs: number): Map<string, BigIntStats> {
    const stats = new Map<string, BigIntStats>();
    // the files already replaced or removed: only those are put back when the step fails
    const touched: FileChange[] = [];
    try {
      // never write through a linked folder of the flows folder (a link itself is replaced, not followed)
      for (const ch of files) this.tree.checkFolders(ch.path);
    } catch (err) {
      releaseRepoLock(this.gitdir, lock, false);
      throw err;
    }
    try {
      this.writeJournal({ ref, oldHead, newHead, files });
      for (const ch of files) {
        const full = join(this.dir, ch.path);
        touched.push(ch);
        if (ch.newBlob === null) unlinkQuiet(full);
        else this.writeWorkingFile(ch.path, this.objects.readTyped(ch.newBlob, 'blob'), ch.mode);
        const st = ch.newBlob === null ? null : lstatSync(full, { bigint: true });
        if (st) stats.set(ch.path, st);
        setEntry(index, ch.path, ch.newBlob, st, ch.mode === undefined ? 0o100644 : Number.parseInt(ch.mode, 8));
      }
      const indexBytes = serializeIndex(index);
      try {
        writeAll(lock.indexLock, indexBytes, 'the index (.git/index.lock)', 0);
        ftruncateSync(lock.indexLock, indexBytes.length);
        if (this.durable) fsyncSync(lock.indexLock);
      } catch (err) {
        throw storageError(err, 'the index (.git/index.lock)');
      }
      updateRef(this.gitdir, ref, oldHead, newHead, { who: sigLine(this.committer, nowMs), message: reflog }, this.durable);
    } catch (err) {
      // nothing moved: put the files back as they were and give up the lock. On a full disk the
      // putting back must fit: the index written so far is dropped first, a file still holding its
      // old content is left alone, and a replaced one is removed before its old content is written
      // again. A file that still cannot be put back keeps the journal (the next recovery uses it).
      let restored = true;
      try {
        ftruncateSync(lock.indexLock, 0);
      } catch {
        // the lock is released below anyway
      }
      for (const ch of touched) {
        try {
          const full = join(this.dir, ch.path);
          if (ch.oldBlob !== null && lstatExists(full) && this.tree.blobOnDisk(ch.path, index) === ch.oldBlob) continue;
          unlinkQuiet(full);
          if (ch.oldBlob !== null) this.writeWorkingFile(ch.path, this.objects.readTyped(ch.oldBlob, 'blob'));
        } catch {
          restored = false;
        }
      }
      if (restored) this.removeJournal();
      releaseRepoLock(this.gitdir, lock, false);
      // the index object was edited in place for the new files: the one on disk is the old one
      this.tree.forgetIndex();
      throw err;
    }
    closeSync(lock.indexLock);
    renameSync(join(this.gitdir, 'index.lock'), join(this.gitdir, 'index'));
    this.tree.rememberIndex(index);
    this.removeJournal();
    unlinkQuiet(join(this.gitdir, 'flowreg.lock'));
    return stats;
  }

  /**
   * Finishes or undoes the write of a dead flowreg process, from its journal: when its branch
   * already points at the new commit, the working tree and index are brought to it; otherwise the
   * files it may have written are put back. Runs while the stale lock is still in place.
   */
  async recover(): Promise<void> {
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
    this.tree.forgetIndex();
    this.removeJournal();
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
      const base = this.treeForEdit(treeOid);
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
      this.trees.set(oid, next);
      return oid;
    };
    return rewrite(rootTree, '') as string;
  }

  /** Tree `oid` ready for editing by byte splicing (the empty tree for null). */
  private treeForEdit(oid: string | null): EditableTree {
    if (!oid) return emptyTree();
    let t = this.trees.get(oid);
    if (!t) {
      t = editableTree(this.objects.readTyped(oid, 'tree'), [...this.objects.tree(oid)]);
      this.trees.set(oid, t);
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
      try {
        const fd = openSync(tmp, 'w', mode === '100755' ? 0o755 : 0o644);
        try {
          writeAll(fd, content, path);
          if (this.durable) fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        // a partly written file never takes the real one's place
        unlinkQuiet(tmp);
        throw storageError(err, path);
      }
    }
    renameSync(tmp, full);
  }

  private journalPath(): string {
    return join(this.gitdir, 'flowreg', 'journal.json');
  }

  private writeJournal(j: Journal): void {
    try {
      mkdirSync(join(this.gitdir, 'flowreg'), { recursive: true });
      const fd = openSync(this.journalPath(), 'w');
      try {
        writeAll(fd, JSON.stringify(j), 'the journal (.git/flowreg/journal.json)');
        if (this.durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw storageError(err, 'the journal (.git/flowreg/journal.json)');
    }
  }

  private removeJournal(): void {
    unlinkQuiet(this.journalPath());
  }
}

/** True when something (a file, a link) is at `path`. */
function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes a file that may already be gone. */
export function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function sigLine(who: Identity, ms: number): string {
  const off = -new Date(ms).getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${who.name} <${who.email}> ${Math.floor(ms / 1000)} ${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}
