import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { FlowregError } from '../errors/index.ts';

/** One entry of git's index (stage 0 unless a merge left conflicts). */
export interface IndexEntry {
  path: string;
  oid: string;
  mode: number;
  stage: number;
  ctimeSec: number;
  ctimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  dev: number;
  ino: number;
  uid: number;
  gid: number;
  size: number;
  /** Flag bits other than stage and name length (assume-valid, extended) and v3 extended flags. */
  flags: number;
  extFlags: number;
  /** The entry's bytes as read (versions 2 and 3): written back as they are while unchanged. */
  raw?: Buffer;
}

interface CacheTreeNode {
  name: string;
  count: number;
  oid: string | null;
  children: CacheTreeNode[];
}

/** git's index, parsed: entries sorted by path and stage, plus the extensions flowreg keeps. */
export interface GitIndex {
  version: number;
  entries: IndexEntry[];
  cacheTree: CacheTreeNode | null;
  /** Optional extensions kept verbatim (signature → data); entry-dependent ones are dropped. */
  extra: Array<[string, Buffer]>;
}

// optional extensions whose content does not depend on the entries flowreg changes
const KEEP_VERBATIM = new Set(['REUC']);

const EMPTY = Buffer.alloc(0);

/** Parses the bytes of `.git/index` (versions 2, 3 and 4). */
export function parseIndex(buf: Buffer): GitIndex {
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DIRC') throw new FlowregError('INTERNAL', 'the git index is not a DIRC file');
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) throw new FlowregError('INTERNAL', `git index version ${version} is not supported`);
  const count = buf.readUInt32BE(8);
  const end = buf.length - 20;
  const entries: IndexEntry[] = [];
  let i = 12;
  let prevPath = '';
  for (let n = 0; n < count; n++) {
    const start = i;
    const flags = buf.readUInt16BE(i + 60);
    let p = i + 62;
    let extFlags = 0;
    if (flags & 0x4000) {
      extFlags = buf.readUInt16BE(p);
      p += 2;
    }
    let path: string;
    if (version === 4) {
      // prefix compression: how many bytes of the previous path to drop, then the new suffix
      let drop = 0;
      let byte = buf[p++] as number;
      drop = byte & 0x7f;
      while (byte & 0x80) {
        byte = buf[p++] as number;
        drop = ((drop + 1) << 7) | (byte & 0x7f);
      }
      const nul = buf.indexOf(0, p);
      const prev = Buffer.from(prevPath);
      path = Buffer.concat([prev.subarray(0, prev.length - drop), buf.subarray(p, nul)]).toString('utf8');
      i = nul + 1;
    } else {
      const nul = buf.indexOf(0, p);
      path = buf.toString('utf8', p, nul);
      const len = nul - start + 1;
      i = start + Math.ceil(len / 8) * 8;
    }
    prevPath = path;
    entries.push({
      path,
      ctimeSec: buf.readUInt32BE(start),
      ctimeNsec: buf.readUInt32BE(start + 4),
      mtimeSec: buf.readUInt32BE(start + 8),
      mtimeNsec: buf.readUInt32BE(start + 12),
      dev: buf.readUInt32BE(start + 16),
      ino: buf.readUInt32BE(start + 20),
      mode: buf.readUInt32BE(start + 24),
      uid: buf.readUInt32BE(start + 28),
      gid: buf.readUInt32BE(start + 32),
      size: buf.readUInt32BE(start + 36),
      oid: buf.toString('hex', start + 40, start + 60),
      stage: (flags >> 12) & 0x3,
      flags: flags & 0xc000,
      extFlags,
      ...(version === 4 ? {} : { raw: buf.subarray(start, i) }),
    });
  }
  let cacheTree: CacheTreeNode | null = null;
  const extra: Array<[string, Buffer]> = [];
  while (i + 8 <= end) {
    const sig = buf.toString('latin1', i, i + 4);
    const size = buf.readUInt32BE(i + 4);
    const data = buf.subarray(i + 8, i + 8 + size);
    if (sig === 'TREE') cacheTree = parseCacheTree(data);
    else if (KEEP_VERBATIM.has(sig)) extra.push([sig, Buffer.from(data)]);
    else if (!/^[A-Z]/.test(sig)) {
      throw new FlowregError('INTERNAL', `the git index uses the "${sig}" extension (split or sparse index), which flowreg cannot update`);
    }
    i += 8 + size;
  }
  return { version, entries, cacheTree, extra };
}

function parseCacheTree(data: Buffer): CacheTreeNode | null {
  let i = 0;
  const read = (): CacheTreeNode => {
    const nul = data.indexOf(0, i);
    const name = data.toString('utf8', i, nul);
    const lf = data.indexOf(0x0a, nul);
    const [countText, subText] = data.toString('latin1', nul + 1, lf).split(' ');
    const count = Number(countText);
    const sub = Number(subText);
    i = lf + 1;
    let oid: string | null = null;
    if (count >= 0) {
      oid = data.toString('hex', i, i + 20);
      i += 20;
    }
    const children: CacheTreeNode[] = [];
    for (let k = 0; k < sub; k++) children.push(read());
    return { name, count, oid, children };
  };
  return data.length > 0 ? read() : null;
}

function serializeCacheTree(node: CacheTreeNode, out: Buffer[]): void {
  out.push(Buffer.from(`${node.name}\0${node.oid ? node.count : -1} ${node.children.length}\n`));
  if (node.oid) out.push(Buffer.from(node.oid, 'hex'));
  for (const c of node.children) serializeCacheTree(c, out);
}

/** Marks the cached trees that contain `path` as invalid, as git does when an entry changes. */
function invalidateCacheTree(node: CacheTreeNode | null, path: string): void {
  let cur = node;
  const parts = path.split('/');
  parts.pop();
  while (cur) {
    cur.oid = null;
    cur.count = -1;
    const next = parts.shift();
    if (next === undefined) break;
    cur = cur.children.find((c) => c.name === next) ?? null;
  }
}

function comparePaths(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The position of `path` (stage 0) in the sorted entries, or where it would be inserted (as -(pos+1)). */
function findEntry(entries: IndexEntry[], path: string): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = comparePaths((entries[mid] as IndexEntry).path, path);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo + 1);
}

/** The stage-0 entry for `path`, if any. */
export function getEntry(index: GitIndex, path: string): IndexEntry | undefined {
  const at = findEntry(index.entries, path);
  return at >= 0 ? index.entries[at] : undefined;
}

/** Sets (or, with `stat` null, removes) the entry for `path`; the index is changed in place. */
export function setEntry(index: GitIndex, path: string, oid: string | null, stat: BigIntStats | null, mode = 0o100644): void {
  invalidateCacheTree(index.cacheTree, path);
  const at = findEntry(index.entries, path);
  if (oid === null || stat === null) {
    if (at >= 0) index.entries.splice(at, 1);
    return;
  }
  const u32 = (v: bigint): number => Number(v & 0xffffffffn);
  const entry: IndexEntry = {
    path,
    oid,
    mode,
    stage: 0,
    ctimeSec: u32(stat.ctimeNs / 1_000_000_000n),
    ctimeNsec: u32(stat.ctimeNs % 1_000_000_000n),
    mtimeSec: u32(stat.mtimeNs / 1_000_000_000n),
    mtimeNsec: u32(stat.mtimeNs % 1_000_000_000n),
    dev: u32(stat.dev),
    ino: u32(stat.ino),
    uid: u32(stat.uid),
    gid: u32(stat.gid),
    size: u32(stat.size),
    flags: 0,
    extFlags: 0,
  };
  if (at >= 0) index.entries[at] = entry;
  else index.entries.splice(-(at + 1), 0, entry);
}

/** Serializes an index in its own version, with a fresh trailing checksum (one buffer, written in place). */
export function serializeIndex(index: GitIndex): Buffer {
  // entries read from disk and not changed since are copied as they are, in runs
  const names = index.entries.map((e) => (e.raw && index.version !== 4 ? EMPTY : Buffer.from(e.path)));
  const extended = (e: IndexEntry): boolean => index.version >= 3 && (e.flags & 0x4000) !== 0;
  let size = 12;
  let prev: Buffer = Buffer.alloc(0);
  const v4: Buffer[] = [];
  index.entries.forEach((e, k) => {
    if (e.raw && index.version !== 4) {
      size += e.raw.length;
      return;
    }
    const name = names[k] as Buffer;
    const fixed = 62 + (extended(e) ? 2 : 0);
    if (index.version === 4) {
      let common = 0;
      while (common < prev.length && common < name.length && prev[common] === name[common]) common++;
      const off = encodeOffset(prev.length - common);
      v4.push(off);
      size += fixed + off.length + (name.length - common) + 1;
      prev = name;
    } else size += Math.ceil((fixed + name.length + 1) / 8) * 8;
  });
  const tree: Buffer[] = [];
  if (index.cacheTree) serializeCacheTree(index.cacheTree, tree);
  const treeData = Buffer.concat(tree);
  if (index.cacheTree) size += 8 + treeData.length;
  for (const [, data] of index.extra) size += 8 + data.length;
  const out = Buffer.alloc(size + 20);
  out.write('DIRC', 0, 'latin1');
  out.writeUInt32BE(index.version, 4);
  out.writeUInt32BE(index.entries.length, 8);
  let o = 12;
  prev = Buffer.alloc(0);
  let run: ArrayBufferLike | null = null;
  let runStart = 0;
  let runLength = 0;
  const flush = (): void => {
    if (run) out.set(new Uint8Array(run, runStart, runLength), o);
    o += runLength;
    run = null;
    runLength = 0;
  };
  // where each entry lands in `out` (v2/v3): afterwards every entry points into `out` alone
  const spans: Array<[IndexEntry, number, number]> = [];
  index.entries.forEach((e, k) => {
    if (e.raw && index.version !== 4) {
      spans.push([e, o + runLength, o + runLength + e.raw.length]);
      if (run === e.raw.buffer && runStart + runLength === e.raw.byteOffset) runLength += e.raw.length;
      else {
        flush();
        run = e.raw.buffer;
        runStart = e.raw.byteOffset;
        runLength = e.raw.length;
      }
      return;
    }
    flush();
    const name = names[k] as Buffer;
    const start = o;
    out.writeUInt32BE(e.ctimeSec >>> 0, o);
    out.writeUInt32BE(e.ctimeNsec >>> 0, o + 4);
    out.writeUInt32BE(e.mtimeSec >>> 0, o + 8);
    out.writeUInt32BE(e.mtimeNsec >>> 0, o + 12);
    out.writeUInt32BE(e.dev >>> 0, o + 16);
    out.writeUInt32BE(e.ino >>> 0, o + 20);
    out.writeUInt32BE(e.mode >>> 0, o + 24);
    out.writeUInt32BE(e.uid >>> 0, o + 28);
    out.writeUInt32BE(e.gid >>> 0, o + 32);
    out.writeUInt32BE(e.size >>> 0, o + 36);
    out.write(e.oid, o + 40, 'hex');
    const ext = extended(e);
    out.writeUInt16BE((e.flags & (ext ? 0xc000 : 0x8000)) | (e.stage << 12) | Math.min(name.length, 0xfff), o + 60);
    o += 62;
    if (ext) {
      out.writeUInt16BE(e.extFlags, o);
      o += 2;
    }
    if (index.version === 4) {
      let common = 0;
      while (common < prev.length && common < name.length && prev[common] === name[common]) common++;
      const off = v4[k] as Buffer;
      off.copy(out, o);
      o += off.length;
      name.copy(out, o, common);
      o += name.length - common + 1;
      prev = name;
    } else {
      name.copy(out, o);
      o = start + Math.ceil((o - start + name.length + 1) / 8) * 8;
      spans.push([e, start, o]);
    }
  });
  flush();
  // from now on these bytes are the entries' own, all in this one buffer: the next write copies
  // them in one run, and no older index buffer stays alive through an entry that points into it
  for (const [e, start, end] of spans) e.raw = out.subarray(start, end);
  const ext = (sig: string, data: Buffer): void => {
    out.write(sig, o, 'latin1');
    out.writeUInt32BE(data.length, o + 4);
    data.copy(out, o + 8);
    o += 8 + data.length;
  };
  if (index.cacheTree) ext('TREE', treeData);
  for (const [sig, data] of index.extra) ext(sig, data);
  createHash('sha1').update(out.subarray(0, o)).digest().copy(out, o);
  return out;
}

// git's offset encoding for index v4 path prefixes
function encodeOffset(value: number): Buffer {
  const bytes = [value & 0x7f];
  let v = value >> 7;
  while (v > 0) {
    v -= 1;
    bytes.unshift(0x80 | (v & 0x7f));
    v >>= 7;
  }
  return Buffer.from(bytes);
}

/** An empty index (version 2), for a repository that has none yet. */
export function emptyIndex(): GitIndex {
  return { version: 2, entries: [], cacheTree: null, extra: [] };
}
