import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { basename, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { FlowregError, isFlowregError } from '../errors/index.ts';
import { parseCommit, parseTree, type CommitData, type ObjectType, type TreeEntry } from './gitObjects.ts';

/** A git object's type and content. */
export interface GitObject {
  type: ObjectType;
  content: Buffer;
}

const PACK_TYPES: Record<number, ObjectType | 'ofs_delta' | 'ref_delta'> = {
  1: 'commit',
  2: 'tree',
  3: 'blob',
  4: 'tag',
  6: 'ofs_delta',
  7: 'ref_delta',
};

class PackFile {
  private readonly fd: number;
  private readonly size: number;
  private readonly fanout: Uint32Array;
  private readonly count: number;
  private readonly idx: Buffer;
  private readonly offsetsAt: number;
  private readonly largeAt: number;

  constructor(
    readonly idxPath: string,
    packPath: string,
  ) {
    this.idx = readFileSync(idxPath);
    if (this.idx.readUInt32BE(0) !== 0xff744f63 || this.idx.readUInt32BE(4) !== 2) {
      throw new FlowregError('INTERNAL', `pack index ${idxPath} is not version 2`);
    }
    this.fanout = new Uint32Array(256);
    for (let i = 0; i < 256; i++) this.fanout[i] = this.idx.readUInt32BE(8 + i * 4);
    this.count = this.fanout[255] as number;
    this.offsetsAt = 8 + 1024 + this.count * 24;
    this.largeAt = this.offsetsAt + this.count * 4;
    this.fd = openSync(packPath, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** The offset of `oid` in the pack, or -1. */
  find(oid: Buffer): number {
    const first = oid[0] as number;
    let lo = first === 0 ? 0 : (this.fanout[first - 1] as number);
    let hi = (this.fanout[first] as number) - 1;
    const shaAt = 8 + 1024;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.idx.compare(oid, 0, 20, shaAt + mid * 20, shaAt + mid * 20 + 20);
      if (c === 0) return this.offsetOf(mid);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private offsetOf(i: number): number {
    const off = this.idx.readUInt32BE(this.offsetsAt + i * 4);
    if (off & 0x80000000) return Number(this.idx.readBigUInt64BE(this.largeAt + (off & 0x7fffffff) * 8));
    return off;
  }

  /** Reads `len` bytes at `pos` (fewer at the end of the file). */
  read(pos: number, len: number): Buffer {
    const n = Math.max(0, Math.min(len, this.size - pos));
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Reads git objects, loose and packed, with a byte-bounded cache of resolved packed objects
 * (delta bases are shared by many objects). Written for flowreg's bulk history walk:
 * isomorphic-git's reader hands the rest of the pack to the inflater for every object and caches
 * every resolved object without bound, which ran out of memory on large histories.
 */
export class ObjectStore {
  private packs: PackFile[] = [];
  private packNames = new Set<string>();
  private readonly cache = new Map<string, GitObject>();
  private cacheBytes = 0;
  private readonly trees = new Map<string, TreeEntry[]>();

  constructor(
    private readonly gitdir: string,
    private readonly cacheLimit = 64 * 1024 * 1024,
  ) {
    this.scanPacks();
  }

  /** Reads an object; throws VERSION_NOT_FOUND when the repository does not have it. */
  read(oid: string): GitObject {
    const hit = this.cache.get(oid);
    if (hit) {
      // refresh its place in the LRU order
      this.cache.delete(oid);
      this.cache.set(ownKey(oid), hit);
      return hit;
    }
    // packs first: their lookup is in memory, while a missing loose file costs a failed open
    const obj = this.readPacked(oid) ?? this.readLoose(oid) ?? (this.scanPacks() ? this.readPacked(oid) : undefined);
    if (!obj) throw new FlowregError('VERSION_NOT_FOUND', `git object ${oid} not found`, { oid });
    this.remember(ownKey(oid), obj);
    return obj;
  }

  /** Reads an object and checks its type. */
  readTyped(oid: string, type: ObjectType): Buffer {
    let obj: GitObject;
    try {
      obj = this.read(oid);
    } catch (err) {
      if (isFlowregError(err, 'REPO_CORRUPT')) throw new FlowregError('REPO_CORRUPT', err.message.replace(`git object ${oid}`, `${type} ${oid}`), err.data, { cause: err.cause });
      throw err;
    }
    if (obj.type !== type) throw new FlowregError('VERSION_NOT_FOUND', `git object ${oid} is a ${obj.type}, not a ${type}`, { oid });
    return obj.content;
  }

  /** The entries of a tree (parsed trees are cached; callers must not mutate the array). */
  tree(oid: string): TreeEntry[] {
    let t = this.trees.get(oid);
    if (!t) {
      t = parseTree(this.readTyped(oid, 'tree'));
      this.rememberTree(oid, t);
    }
    return t;
  }

  /** A parsed commit. */
  commit(oid: string): CommitData {
    return parseCommit(this.readTyped(oid, 'commit'));
  }

  /** Records a tree flowreg just wrote, so the next write does not parse it back. */
  rememberTree(oid: string, entries: TreeEntry[]): void {
    if (this.trees.size >= 16) this.trees.delete(this.trees.keys().next().value as string);
    this.trees.set(oid, entries);
  }

  /** True when the repository has the object. */
  has(oid: string): boolean {
    try {
      this.read(oid);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the pack files. */
  close(): void {
    for (const p of this.packs) p.close();
    this.packs = [];
    this.packNames.clear();
    this.cache.clear();
    this.trees.clear();
    this.cacheBytes = 0;
  }

  private remember(oid: string, obj: GitObject): void {
    if (obj.content.length > this.cacheLimit / 4) return;
    this.cache.set(oid, obj);
    this.cacheBytes += obj.content.length;
    while (this.cacheBytes > this.cacheLimit) {
      const [k, v] = this.cache.entries().next().value as [string, GitObject];
      this.cache.delete(k);
      this.cacheBytes -= v.content.length;
    }
  }

  /** Number of pack files it reads from. */
  get packCount(): number {
    return this.packs.length;
  }

  /**
   * Closes the packs whose index is gone (a native `git gc` or repack replaced them): their
   * objects are in the new packs, which the next miss picks up.
   */
  forgetGonePacks(): void {
    const kept: PackFile[] = [];
    for (const p of this.packs) {
      if (existsSync(p.idxPath)) kept.push(p);
      else {
        p.close();
        this.packNames.delete(basename(p.idxPath));
      }
    }
    this.packs = kept;
    this.scanPacks();
  }

  /** Picks up pack files that appeared since the last scan; true when there were any. */
  private scanPacks(): boolean {
    let names: string[];
    try {
      names = readdirSync(join(this.gitdir, 'objects', 'pack')).filter((n) => n.endsWith('.idx'));
    } catch {
      return false;
    }
    let added = false;
    for (const n of names) {
      if (this.packNames.has(n)) continue;
      const pack = join(this.gitdir, 'objects', 'pack', n.replace(/\.idx$/, '.pack'));
      try {
        this.packs.push(new PackFile(join(this.gitdir, 'objects', 'pack', n), pack));
        this.packNames.add(n);
        added = true;
      } catch {
        // a pack still being written by git: picked up on a later scan
      }
    }
    return added;
  }

  private readLoose(oid: string): GitObject | undefined {
    let raw: Buffer;
    try {
      raw = readFileSync(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)));
    } catch {
      return undefined;
    }
    let data: Buffer;
    try {
      data = inflateSync(raw);
    } catch (err) {
      // torn by a crash or a full disk: an object that is there but cannot be read is damage, not absence
      throw new FlowregError('REPO_CORRUPT', `the repository is corrupt: git object ${oid} cannot be read (${(err as Error).message}); run git fsck`, { oid }, { cause: err });
    }
    const sp = data.indexOf(0x20);
    const nul = data.indexOf(0, sp);
    return { type: data.toString('latin1', 0, sp) as ObjectType, content: data.subarray(nul + 1) };
  }

  private readPacked(oid: string): GitObject | undefined {
    const key = Buffer.from(oid, 'hex');
    for (const pack of this.packs) {
      const off = pack.find(key);
      if (off >= 0) return this.readAt(pack, off);
    }
    return undefined;
  }

  /** Parses a packed object's header: its kind, size, where its data starts, and its delta base. */
  private header(pack: PackFile, offset: number): { kind: ObjectType | 'ofs_delta' | 'ref_delta'; size: number; dataAt: number; baseOffset?: number; baseOid?: string } {
    const head = pack.read(offset, 64);
    let byte = head[0] as number;
    const typeNum = (byte >> 4) & 7;
    let size = byte & 15;
    let shift = 4;
    let i = 1;
    while (byte & 0x80) {
      byte = head[i++] as number;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    const kind = PACK_TYPES[typeNum];
    if (!kind) throw new FlowregError('INTERNAL', `unknown packed object type ${typeNum}`);
    if (kind === 'ofs_delta') {
      byte = head[i++] as number;
      let rel = byte & 0x7f;
      while (byte & 0x80) {
        byte = head[i++] as number;
        rel = (rel + 1) * 128 + (byte & 0x7f);
      }
      return { kind, size, dataAt: offset + i, baseOffset: offset - rel };
    }
    if (kind === 'ref_delta') return { kind, size, dataAt: offset + i + 20, baseOid: head.toString('hex', i, i + 20) };
    return { kind, size, dataAt: offset + i };
  }

  /** Inflates a whole zlib stream at `at` whose output is `size` bytes (the compressed length is not stored). */
  private inflateAt(pack: PackFile, at: number, size: number): Buffer {
    for (let want = Math.max(256, size + 1024); ; want *= 4) {
      const chunk = pack.read(at, want);
      try {
        return inflateSync(chunk);
      } catch (err) {
        if (chunk.length < want) throw err;
      }
    }
  }

  private readAt(pack: PackFile, offset: number): GitObject {
    const cacheKey = `${pack.idxPath}:${offset}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const h = this.header(pack, offset);
    const base = h.baseOffset !== undefined ? this.readAt(pack, h.baseOffset) : h.baseOid !== undefined ? this.read(h.baseOid) : undefined;
    const data = this.inflateAt(pack, h.dataAt, h.size);
    const obj: GitObject = base ? { type: base.type, content: applyDelta(data, base.content) } : { type: h.kind as ObjectType, content: data };
    if (base || obj.type === 'tree') this.remember(cacheKey, obj);
    return obj;
  }
}

/**
 * A cache key of its own: an object id parsed from a commit or tree text is a view of that whole
 * text, which a cached entry would keep alive beyond the cache's byte budget (a history walk kept
 * each cached commit's child's text, kilobytes for a long message or a signature).
 */
function ownKey(oid: string): string {
  return Buffer.from(oid, 'utf8').toString('utf8');
}

/** Applies a git delta to its base. */
export function applyDelta(delta: Buffer, base: Buffer): Buffer {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = delta[i++] as number;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  varint(); // base size
  const outSize = varint();
  const out = Buffer.allocUnsafe(outSize);
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++] as number;
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      if (op & 1) off |= delta[i++] as number;
      if (op & 2) off |= (delta[i++] as number) << 8;
      if (op & 4) off |= (delta[i++] as number) << 16;
      if (op & 8) off += (delta[i++] as number) * 2 ** 24;
      if (op & 16) len |= delta[i++] as number;
      if (op & 32) len |= (delta[i++] as number) << 8;
      if (op & 64) len |= (delta[i++] as number) << 16;
      if (len === 0) len = 0x10000;
      // Buffer.copy costs a native call: a short run is cheaper copied byte by byte
      if (len < 64) for (let k = 0; k < len; k++) out[o + k] = base[off + k] as number;
      else base.copy(out, o, off, off + len);
      o += len;
    } else if (op > 0) {
      for (let k = 0; k < op; k++) out[o + k] = delta[i + k] as number;
      o += op;
      i += op;
    } else {
      throw new FlowregError('INTERNAL', 'corrupt delta in pack');
    }
  }
  return out;
}
