import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FlowregError } from '../errors/index.ts';
import { storageError, writeAll } from './fsWrite.ts';

/** What HEAD points at: a branch (and its commit, null before the first commit). */
export interface HeadState {
  branch: string | null;
  ref: string | null;
  oid: string | null;
}

/** Reads a ref's commit id from its loose file or from packed-refs; null when it does not exist. */
export function readRef(gitdir: string, ref: string): string | null {
  try {
    const text = readFileSync(join(gitdir, ref), 'utf8').trim();
    if (text.startsWith('ref: ')) return readRef(gitdir, text.slice(5));
    if (/^[0-9a-f]{40}$/.test(text)) return text;
  } catch {
    // not loose: look in packed-refs
  }
  try {
    for (const line of readFileSync(join(gitdir, 'packed-refs'), 'utf8').split('\n')) {
      if (line.endsWith(` ${ref}`) && /^[0-9a-f]{40} /.test(line)) return line.slice(0, 40);
    }
  } catch {
    // no packed-refs
  }
  return null;
}

/** Reads HEAD: the branch it names and that branch's commit. */
export function readHead(gitdir: string): HeadState {
  const text = readFileSync(join(gitdir, 'HEAD'), 'utf8').trim();
  if (text.startsWith('ref: ')) {
    const ref = text.slice(5);
    return { ref, branch: ref.replace(/^refs\/heads\//, ''), oid: readRef(gitdir, ref) };
  }
  return { ref: null, branch: null, oid: /^[0-9a-f]{40}$/.test(text) ? text : null };
}

/**
 * Moves `ref` from `expected` to `next` the way git does: takes `<ref>.lock`, checks the ref
 * still holds `expected` (compare-and-swap), writes, flushes and renames into place, then appends
 * the reflog. Fails with VERSION_CONFLICT when the ref moved, REPO_LOCKED when git holds the lock.
 */
export function updateRef(
  gitdir: string,
  ref: string,
  expected: string | null,
  next: string,
  reflog: { who: string; message: string },
  durable: boolean,
): void {
  const path = join(gitdir, ref);
  const lockPath = `${path}.lock`;
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new FlowregError('REPO_LOCKED', `cannot write: another git process holds ${ref}.lock; try again`);
    }
    throw storageError(err, ref);
  }
  try {
    const current = readRef(gitdir, ref);
    if (current !== expected) {
      throw new FlowregError('VERSION_CONFLICT', `${ref} moved from ${expected ?? '(none)'} to ${current ?? '(none)'} during the write`, {
        expected,
        current,
      });
    }
    writeAll(fd, `${next}\n`, ref);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(lockPath, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(lockPath);
    } catch {
      // not there
    }
    throw storageError(err, ref);
  }
  const line = `${expected ?? '0'.repeat(40)} ${next} ${reflog.who}\t${reflog.message.split('\n')[0]}\n`;
  const logs = [join(gitdir, 'logs', ref)];
  if (readHead(gitdir).ref === ref) logs.push(join(gitdir, 'logs', 'HEAD'));
  for (const log of logs) {
    try {
      mkdirSync(dirname(log), { recursive: true });
      appendWhole(log, line);
    } catch {
      // the reflog is a convenience; the ref itself has moved
    }
  }
}

/** Points `ref` at `oid` without a compare-and-swap (for refs only flowreg writes: tracking and scratch refs), atomically. */
export function writeRefFile(gitdir: string, ref: string, oid: string): void {
  const path = join(gitdir, ref);
  mkdirSync(dirname(path), { recursive: true });
  // the temporary file lives outside refs/: git would read a torn one there as a broken ref
  const tmpDir = join(gitdir, 'flowreg', 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `ref-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(tmp, `${oid}\n`);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not there
    }
    throw storageError(err, ref);
  }
}

/** Appends `line` to a log whole or not at all: a full disk must not leave a torn line (git reads it as a broken reflog). */
function appendWhole(path: string, line: string): void {
  const fd = openSync(path, 'a');
  try {
    const size = fstatSync(fd).size;
    try {
      writeAll(fd, line, path);
    } catch (err) {
      ftruncateSync(fd, size);
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}
