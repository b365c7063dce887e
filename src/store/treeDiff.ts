import type { ObjectStore } from './objectStore.ts';

/** One path whose blob differs between two trees (null: absent on that side). */
export interface PathChange {
  path: string;
  oldOid: string | null;
  newOid: string | null;
  /** The new entry's mode (`100644`, `100755`, `120000`…), when there is one. */
  mode?: string;
}

const TREE_MODE = Buffer.from('40000 ');

/** Start offsets of every entry of a raw tree, plus the end (cached per tree by the caller). */
function boundaries(buf: Buffer): Int32Array {
  const out: number[] = [];
  let i = 0;
  while (i < buf.length) {
    out.push(i);
    i = buf.indexOf(0, i) + 21;
  }
  out.push(buf.length);
  return Int32Array.from(out);
}

interface RawTree {
  buf: Buffer;
  at: Int32Array;
}

/**
 * Compares two trees entry by entry on their raw bytes, descending only into sub-trees whose ids
 * differ, and returns the changed blob paths under `prefix`. Strings are made only for entries
 * that differ: the flows folder can hold 10,000 entries and the history walk diffs it once per
 * commit.
 */
export class TreeDiffer {
  private readonly raw = new Map<string, RawTree>();

  constructor(private readonly objects: ObjectStore) {}

  private load(oid: string): RawTree {
    let t = this.raw.get(oid);
    if (!t) {
      const buf = this.objects.readTyped(oid, 'tree');
      t = { buf, at: boundaries(buf) };
      if (this.raw.size >= 8) this.raw.delete(this.raw.keys().next().value as string);
      this.raw.set(oid, t);
    }
    return t;
  }

  /** The changed blob paths between two trees (either may be null: all added or all removed). */
  diff(oldTree: string | null, newTree: string | null, prefix: string): PathChange[] {
    const out: PathChange[] = [];
    this.walk(oldTree, newTree, prefix, out);
    return out;
  }

  private walk(oldTree: string | null, newTree: string | null, prefix: string, out: PathChange[]): void {
    if (oldTree === newTree) return;
    const a = oldTree ? this.load(oldTree) : null;
    const b = newTree ? this.load(newTree) : null;
    let i = 0;
    let j = 0;
    const na = a ? a.at.length - 1 : 0;
    const nb = b ? b.at.length - 1 : 0;
    while (i < na || j < nb) {
      if (i < na && j < nb && a && b) {
        const as = a.at[i] as number;
        const ae = a.at[i + 1] as number;
        const bs = b.at[j] as number;
        const be = b.at[j + 1] as number;
        if (ae - as === be - bs && a.buf.compare(b.buf, bs, be, as, ae) === 0) {
          i++;
          j++;
          continue;
        }
        const an = entryName(a.buf, as);
        const bn = entryName(b.buf, bs);
        const c = compareNames(an, bn);
        if (c === 0) {
          this.emit(prefix, a.buf, as, b.buf, bs, out);
          i++;
          j++;
        } else if (c < 0) {
          this.emit(prefix, a.buf, as, null, 0, out);
          i++;
        } else {
          this.emit(prefix, null, 0, b.buf, bs, out);
          j++;
        }
      } else if (i < na && a) {
        this.emit(prefix, a.buf, a.at[i] as number, null, 0, out);
        i++;
      } else if (b) {
        this.emit(prefix, null, 0, b.buf, b.at[j] as number, out);
        j++;
      }
    }
  }

  private emit(prefix: string, abuf: Buffer | null, as: number, bbuf: Buffer | null, bs: number, out: PathChange[]): void {
    const ea = abuf ? readEntry(abuf, as) : null;
    const eb = bbuf ? readEntry(bbuf, bs) : null;
    const name = (ea ?? eb)?.name as string;
    const path = prefix ? `${prefix}/${name}` : name;
    const aTree = ea?.tree ? ea.oid : null;
    const bTree = eb?.tree ? eb.oid : null;
    if (aTree || bTree) this.walk(aTree, bTree, path, out);
    const aBlob = ea && !ea.tree ? ea.oid : null;
    const bBlob = eb && !eb.tree ? eb.oid : null;
    if (aBlob !== bBlob || (ea && eb && !ea.tree && !eb.tree && ea.mode !== eb.mode)) out.push({ path, oldOid: aBlob, newOid: bBlob, ...(eb && !eb.tree ? { mode: eb.mode } : {}) });
  }

  /** The blob or tree id at `path` inside `tree`, or null. */
  lookup(tree: string | null, path: string): string | null {
    let cur = tree;
    for (const part of path.split('/')) {
      if (!cur) return null;
      const t = this.load(cur);
      cur = null;
      for (let k = 0; k < t.at.length - 1; k++) {
        const e = readEntry(t.buf, t.at[k] as number);
        if (e.name === part) {
          cur = e.oid;
          break;
        }
      }
    }
    return cur;
  }
}

function entryName(buf: Buffer, at: number): Buffer {
  const sp = buf.indexOf(0x20, at);
  const nul = buf.indexOf(0, sp);
  const isTree = buf.compare(TREE_MODE, 0, TREE_MODE.length, at, at + TREE_MODE.length) === 0;
  // git orders a folder as if its name ended with "/"
  return isTree ? Buffer.concat([buf.subarray(sp + 1, nul), Buffer.from('/')]) : buf.subarray(sp + 1, nul);
}

function compareNames(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

function readEntry(buf: Buffer, at: number): { name: string; oid: string; tree: boolean; mode: string } {
  const sp = buf.indexOf(0x20, at);
  const nul = buf.indexOf(0, sp);
  return {
    mode: buf.toString('latin1', at, sp),
    name: buf.toString('utf8', sp + 1, nul),
    oid: buf.toString('hex', nul + 1, nul + 21),
    tree: buf.compare(TREE_MODE, 0, TREE_MODE.length, at, at + TREE_MODE.length) === 0,
  };
}
