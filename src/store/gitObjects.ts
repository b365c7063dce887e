import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { workCounters } from '../core/workCounters.ts';
import { FlowregError } from '../errors/index.ts';
import { storageError, writeAll } from './fsWrite.ts';

/** Object types flowreg reads and writes. */
export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

/** One entry of a tree object. */
export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

/** The SHA-1 id git gives `content` as an object of `type`. */
export function hashObject(type: ObjectType, content: Uint8Array): string {
  if (type === 'blob') workCounters.blobHashes++;
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/**
 * Writes a loose object (whose id the caller may already know) the way git does: to a temporary file in the object's folder, flushed,
 * then linked into place, so a crash never leaves a truncated object under its final name. Every
 * byte is written or the write fails (a full disk answers STORAGE_FULL), and a failed write leaves
 * no temporary file behind.
 * Returns the object id; an object that already exists whole is not written again, one that
 * exists but cannot be read back (torn by a crash or a full disk before flowreg checked its
 * writes) is replaced. Synchronous: it runs inside the write lock, where thread-pool round trips
 * cost more than the work.
 */
export function writeObject(gitdir: string, type: ObjectType, content: Uint8Array, durable: boolean, oid = hashObject(type, content)): string {
  const dir = join(gitdir, 'objects', oid.slice(0, 2));
  const final = join(dir, oid.slice(2));
  const header = Buffer.from(`${type} ${content.length}\0`);
  const existing = looseState(final, header.length + content.length);
  if (existing === 'whole') return oid;
  let tmp: string | null = null;
  try {
    mkdirSync(dir, { recursive: true });
    tmp = join(dir, `tmp_obj_${randomBytes(6).toString('hex')}`);
    const data = deflateSync(Buffer.concat([header, content]), { level: 1 });
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o444);
    try {
      writeAll(fd, data, `git object ${oid}`);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (existing === 'corrupt') renameSync(tmp, final);
    else {
      try {
        linkSync(tmp, final);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } catch (err) {
    throw storageError(err, `git object ${oid}`);
  } finally {
    if (tmp !== null) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone (renamed into place, or never created)
      }
    }
  }
  return oid;
}

/**
 * Whether a loose object file is absent, whole (it inflates to `size` bytes), or corrupt. Read
 * only when it exists, which the write path meets rarely (an unchanged tree, a blob the watcher
 * kept): the check costs one small read and inflate.
 */
function looseState(path: string, size: number): 'absent' | 'whole' | 'corrupt' {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    return 'absent';
  }
  try {
    return inflateSync(raw).length === size ? 'whole' : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** Parses a raw tree object into its entries, in stored order. */
export function parseTree(buf: Uint8Array): TreeEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    const nul = b.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > b.length) throw new FlowregError('INTERNAL', 'corrupt tree object');
    out.push({ mode: b.toString('latin1', i, sp), name: b.toString('utf8', sp + 1, nul), oid: b.toString('hex', nul + 1, nul + 21) });
    i = nul + 21;
  }
  return out;
}

/** git's tree order: names compared bytewise, a folder as if its name ended with "/". */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const an = a.mode === '40000' ? `${a.name}/` : a.name;
  const bn = b.mode === '40000' ? `${b.name}/` : b.name;
  // UTF-16 order equals UTF-8 byte order below the surrogate range, so ASCII-only names compare as strings
  if (/^[\x00-\x7f]*$/.test(an) && /^[\x00-\x7f]*$/.test(bn)) return an < bn ? -1 : an > bn ? 1 : 0;
  return Buffer.compare(Buffer.from(an), Buffer.from(bn));
}

/** Serializes tree entries, which must be in git's order (see compareTreeEntries), into a raw tree object. */
export function serializeTree(entries: TreeEntry[]): Buffer {
  let size = 0;
  for (const e of entries) size += e.mode.length + Buffer.byteLength(e.name) + 22;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const e of entries) {
    o += out.write(e.mode, o, 'latin1');
    out[o++] = 0x20;
    o += out.write(e.name, o, 'utf8');
    out[o++] = 0;
    o += out.write(e.oid, o, 'hex');
  }
  return out;
}

/** A person line of a commit: name, email, seconds since epoch and offset in minutes. */
export interface Signature {
  name: string;
  email: string;
  timestamp: number;
  timezoneOffset: number;
}

/** The parts of a commit object flowreg writes and reads. */
export interface CommitData {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

function formatSignature(s: Signature): string {
  // git stores the offset as +HHMM east of UTC; timezoneOffset here is minutes east of UTC
  const sign = s.timezoneOffset < 0 ? '-' : '+';
  const abs = Math.abs(s.timezoneOffset);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${clean(s.name)} <${clean(s.email)}> ${s.timestamp} ${tz}`;
}

// a name or email may not hold the characters that delimit a signature line
function clean(s: string): string {
  return s.replace(/[<>\n\r\0]/g, '').trim() || 'unknown';
}

/** Serializes a commit object. */
export function serializeCommit(c: CommitData): Buffer {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`), `author ${formatSignature(c.author)}`, `committer ${formatSignature(c.committer)}`];
  return Buffer.from(`${lines.join('\n')}\n\n${c.message.endsWith('\n') ? c.message : `${c.message}\n`}`);
}

const SIG = /^(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$/;

function parseSignature(line: string): Signature {
  const m = SIG.exec(line);
  if (!m) return { name: line, email: '', timestamp: 0, timezoneOffset: 0 };
  const offset = Number(m[5]) * 60 + Number(m[6]);
  return { name: m[1] as string, email: m[2] as string, timestamp: Number(m[3]), timezoneOffset: m[4] === '-' ? -offset : offset };
}

/** Parses a raw commit object (headers we do not know, such as gpgsig, are skipped). */
export function parseCommit(buf: Uint8Array): CommitData {
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? '' : text.slice(split + 2);
  const c: CommitData = { tree: '', parents: [], author: parseSignature(''), committer: parseSignature(''), message };
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) c.tree = line.slice(5);
    else if (line.startsWith('parent ')) c.parents.push(line.slice(7));
    else if (line.startsWith('author ')) c.author = parseSignature(line.slice(7));
    else if (line.startsWith('committer ')) c.committer = parseSignature(line.slice(10));
  }
  return c;
}
