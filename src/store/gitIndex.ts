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

/** Serializes an index in its own version, with a fresh trailing checksum. */
export function serializeIndex(index: GitIndex): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.write('DIRC', 0, 'latin1');
  header.writeUInt32BE(index.version, 4);
  header.writeUInt32BE(index.entries.length, 8);
  parts.push(header);
  let prevPath = Buffer.alloc(0);
  for (const e of index.entries) {
    const name = Buffer.from(e.path);
    const extended = index.version >= 3 && (e.flags & 0x4000) !== 0;
    const fixed = Buffer.alloc(62 + (extended ? 2 : 0));
    const nums = [e.ctimeSec, e.ctimeNsec, e.mtimeSec, e.mtimeNsec, e.dev, e.ino, e.mode, e.uid, e.gid, e.size];
    nums.forEach((v, k) => fixed.writeUInt32BE(v >>> 0, k * 4));
    fixed.write(e.oid, 40, 'hex');
    fixed.writeUInt16BE((e.flags & (extended ? 0xc000 : 0x8000)) | (e.stage << 12) | Math.min(name.length, 0xfff), 60);
    if (extended) fixed.writeUInt16BE(e.extFlags, 62);
    parts.push(fixed);
    if (index.version === 4) {
      let common = 0;
      while (common < prevPath.length && common < name.length && prevPath[common] === name[common]) common++;
      parts.push(encodeOffset(prevPath.length - common), name.subarray(common), Buffer.alloc(1));
      prevPath = name;
    } else {
      const len = fixed.length + name.length + 1;
      parts.push(name, Buffer.alloc(Math.ceil(len / 8) * 8 - fixed.length - name.length));
    }
  }
  if (index.cacheTree) {
    const tree: Buffer[] = [];
    serializeCacheTree(index.cacheTree, tree);
    const data = Buffer.concat(tree);
    const head = Buffer.alloc(8);
    head.write('TREE', 0, 'latin1');
    head.writeUInt32BE(data.length, 4);
    parts.push(head, data);
  }
  for (const [sig, data] of index.extra) {
    const head = Buffer.alloc(8);
    head.write(sig, 0, 'latin1');
    head.writeUInt32BE(data.length, 4);
    parts.push(head, data);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
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
