import { compareTreeEntries, serializeTree, type TreeEntry } from './gitObjects.ts';
import { boundaries } from './treeDiff.ts';

/** A tree kept both parsed and raw, with the byte offset of each entry (and the end). */
export interface EditableTree {
  entries: TreeEntry[];
  buf: Buffer;
  offsets: Int32Array;
}

/** One change of a tree level: `entry` replaces or adds the entry `name`; null removes it. */
export interface TreeEdit {
  name: string;
  isTree: boolean;
  entry: TreeEntry | null;
}

/** An editable tree from a raw tree object and its parsed entries. */
export function editableTree(buf: Buffer, entries: TreeEntry[]): EditableTree {
  return { entries, buf, offsets: boundaries(buf) };
}

/** The empty tree. */
export function emptyTree(): EditableTree {
  return { entries: [], buf: Buffer.alloc(0), offsets: Int32Array.of(0) };
}

/**
 * Applies edits by splicing bytes: a flows folder of 10,000 entries changes by one entry per
 * write, and re-serializing every entry cost more than the rest of the write.
 */
export function editTree(tree: EditableTree, edits: TreeEdit[]): EditableTree {
  let { entries, buf, offsets } = tree;
  entries = entries.slice();
  for (const edit of edits) {
    const probe: TreeEntry = edit.entry ?? { mode: edit.isTree ? '40000' : '100644', name: edit.name, oid: '' };
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareTreeEntries(entries[mid] as TreeEntry, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    const same = entries[lo]?.name === edit.name;
    if (!same && edit.entry === null) continue;
    const bytes = edit.entry ? serializeTree([edit.entry]) : Buffer.alloc(0);
    const start = offsets[lo] as number;
    const end = same ? (offsets[lo + 1] as number) : start;
    buf = Buffer.concat([buf.subarray(0, start), bytes, buf.subarray(end)]);
    const delta = bytes.length - (end - start);
    let next: Int32Array;
    if (same && edit.entry) {
      entries[lo] = edit.entry;
      next = offsets.slice();
      if (delta !== 0) for (let k = lo + 1; k < next.length; k++) next[k] = (offsets[k] as number) + delta;
    } else if (same) {
      entries.splice(lo, 1);
      next = new Int32Array(offsets.length - 1);
      next.set(offsets.subarray(0, lo + 1));
      for (let k = lo + 1; k < next.length; k++) next[k] = (offsets[k + 1] as number) + delta;
    } else {
      entries.splice(lo, 0, edit.entry as TreeEntry);
      next = new Int32Array(offsets.length + 1);
      next.set(offsets.subarray(0, lo + 1));
      for (let k = lo + 1; k < next.length; k++) next[k] = (offsets[k - 1] as number) + delta;
    }
    offsets = next;
  }
  return { entries, buf, offsets };
}
