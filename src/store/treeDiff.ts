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
export function boundaries(buf: Buffer): Int32Array {
  const out: number[] = [];
  let i = 0;
  while (i < buf.length) {
    out.push(i);
    i = buf.indexOf(0, i) + 21;
  }
  out.push(buf.length);
  return Int32Array.from(out);
}

/** A raw tree object and the offsets where its entries start (plus its length). */
export interface RawTree {
  buf: Buffer;
  at: Int32Array;
}

const CHUNK = 2048;

/** Length of the longest common prefix of two buffers (native compares of chunks, then bytes). */
function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i + CHUNK <= n && a.compare(b, i, i + CHUNK, i, i + CHUNK) === 0) i += CHUNK;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Length of the longest common suffix of two buffers, at most `limit`. */
function commonSuffix(a: Buffer, b: Buffer, limit: number): number {
  let k = 0;
  while (k + CHUNK <= limit && a.compare(b, b.length - k - CHUNK, b.length - k, a.length - k - CHUNK, a.length - k) === 0) k += CHUNK;
  while (k < limit && a[a.length - 1 - k] === b[b.length - 1 - k]) k++;
  return k;
}

/** Index of the last boundary at or before `pos`. */
function boundaryAtOrBefore(at: Int32Array, pos: number): number {
  let lo = 0;
  let hi = at.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((at[mid] as number) <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Entry boundaries of `buf` from those of a tree `known` that shares most of its bytes: the same
 * before the first difference, re-scanned through the changed entries until the scan meets a
 * boundary of the shared end, then the known ones shifted. Falls back to a full scan.
 */
export function deriveBoundaries(known: RawTree, buf: Buffer): Int32Array {
  const k = known.buf;
  const at = known.at;
  const pre = commonPrefix(k, buf);
  const suf = commonSuffix(k, buf, Math.min(k.length, buf.length) - pre);
  // entries wholly before the first difference start at the same offsets in both
  const i0 = boundaryAtOrBefore(at, pre);
  const shift = buf.length - k.length;
  // the first known boundary inside the shared end (the final sentinel always is)
  let s = boundaryAtOrBefore(at, k.length - suf);
  if ((at[s] as number) < k.length - suf) s++;
  const mid: number[] = [];
  let p = at[i0] as number;
  for (;;) {
    while (s < at.length - 1 && (at[s] as number) + shift < p) s++;
    if ((at[s] as number) + shift === p) {
      // in step again: from here on buf holds the known tree's bytes, so its boundaries
      const out = new Int32Array(i0 + mid.length + at.length - s);
      out.set(at.subarray(0, i0), 0);
      out.set(mid, i0);
      const base = i0 + mid.length - s;
      for (let t = s; t < at.length; t++) out[base + t] = (at[t] as number) + shift;
      return out;
    }
    if (p >= buf.length) break;
    mid.push(p);
    const nul = buf.indexOf(0, p);
    if (nul < 0) break;
    p = nul + 21;
  }
  return boundaries(buf);
}

/** The entry ranges [startA, endA) and [startB, endB) outside which two trees are byte-identical. */
function changedRange(a: RawTree, b: RawTree): [number, number, number, number] {
  const pre = commonPrefix(a.buf, b.buf);
  const suf = commonSuffix(a.buf, b.buf, Math.min(a.buf.length, b.buf.length) - pre);
  const start = boundaryAtOrBefore(a.at, pre);
  if ((b.at[start] as number) !== (a.at[start] as number)) return [0, a.at.length - 1, 0, b.at.length - 1];
  let endA = boundaryAtOrBefore(a.at, a.buf.length - suf);
  if ((a.at[endA] as number) < a.buf.length - suf) endA++;
  const target = (a.at[endA] as number) + b.buf.length - a.buf.length;
  const endB = boundaryAtOrBefore(b.at, target);
  if ((b.at[endB] as number) !== target || endA < start || endB < start) return [start, a.at.length - 1, start, b.at.length - 1];
  return [start, endA, start, endB];
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

  private load(oid: string, like?: RawTree): RawTree {
    let t = this.raw.get(oid);
    if (!t) {
      const buf = this.objects.readTyped(oid, 'tree');
      t = { buf, at: like ? deriveBoundaries(like, buf) : boundaries(buf) };
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
    // the history walk meets each tree right after a neighbouring version of it: derive the
    // entry boundaries of the new one from the known one instead of scanning 10,000 entries
    const known = (oldTree && this.raw.get(oldTree)) || (newTree && this.raw.get(newTree)) || undefined;
    const a = oldTree ? this.load(oldTree, known) : null;
    const b = newTree ? this.load(newTree, a ?? known) : null;
    let i = 0;
    let j = 0;
    let na = a ? a.at.length - 1 : 0;
    let nb = b ? b.at.length - 1 : 0;
    if (a && b) {
      // skip the entries both trees share at their start and at their end
      const [startA, endA, startB, endB] = changedRange(a, b);
      i = startA;
      j = startB;
      na = endA;
      nb = endB;
    }
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
