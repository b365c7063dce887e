import { closeSync, constants, fstatSync, linkSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync, type BigIntStats } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FlowregError } from '../errors/index.ts';
import { writeAll } from './fsWrite.ts';

/** Who holds flowreg's repository lock: written to `.git/flowreg.lock`. */
interface Owner {
  pid: number;
  start: string;
  host: string;
  /**
   * The identity (device, inode, birth time) of the `.git/index.lock` this process takes, known
   * before that file exists: the only index lock a recovery may remove (docs/storage.md).
   */
  indexLock?: string | null;
}

/** A file's identity: device, inode and birth time (no other file has all three while it exists). */
function identity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.birthtimeNs}`;
}

/** The identity of the file at `path`, null when there is none. */
export function lockIdentity(path: string): string | null {
  try {
    return identity(statSync(path, { bigint: true }));
  } catch {
    return null;
  }
}

/** The kernel's start time of a process (Linux), so a reused pid is not mistaken for the owner. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 22, counted after the parenthesised command name (which may hold spaces)
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell: never steal another machine's lock
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const start = startTimeOf(owner.pid);
  return start === '' || owner.start === '' || start === owner.start;
}

/** The open lock: the index lock's file descriptor, into which the new index is written. */
export interface HeldLock {
  indexLock: number;
  /** True when this acquisition found and cleared a lock left by a dead flowreg process. */
  recoveredStale: boolean;
}

const SELF: Owner = { pid: process.pid, start: startTimeOf(process.pid), host: hostname() };

/**
 * Takes the repository lock: first `.git/flowreg.lock` (naming this process and the identity of
 * the index lock it is about to take), then `.git/index.lock`, exactly as native git takes it
 * (it must not exist), so a native `git commit` meanwhile fails cleanly instead of racing. The
 * index lock is a file made beforehand under a name of this process and hard-linked into place,
 * so its identity is on record before it exists. A lock left by a dead flowreg process is
 * recovered (`onStale` runs first, to roll its journal forward or back) only when `index.lock`
 * is absent or is the very file the dead process recorded; any other `index.lock` (native git,
 * another tool) and a lock held by a live process are waited for up to `waitMs` and then refused
 * with REPO_LOCKED, never removed.
 */
export async function acquireRepoLock(gitdir: string, onStale: () => Promise<void>, waitMs = 2000): Promise<HeldLock> {
  const ownerPath = join(gitdir, 'flowreg.lock');
  const indexPath = join(gitdir, 'index.lock');
  const deadline = Date.now() + waitMs;
  let recoveredStale = false;
  // the index lock to be, under this process's own name: its identity is known before it is linked into place
  const mine = join(gitdir, `${tempPrefix(process.pid)}${++acquisitions}.tmp`);
  unlinkQuiet(mine);
  const fd = openSync(mine, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
  const me: Owner = { ...SELF, indexLock: identity(fstatSync(fd, { bigint: true })) };
  let done = false;
  try {
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      try {
        takeOwnerFile(ownerPath, gitdir, me);
        try {
          const indexLock = takeIndexLock(mine, fd, indexPath, ownerPath);
          done = true;
          return { indexLock, recoveredStale };
        } catch (err) {
          unlinkQuiet(ownerPath);
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          reason = 'another git process holds .git/index.lock';
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = readOwner(ownerPath);
        if (owner && !isAlive(owner)) {
          const held = lockIdentity(indexPath);
          if (held === null || (typeof owner.indexLock === 'string' && held === owner.indexLock)) {
            // a flowreg process died while writing, and the index lock (if any) is provably its
            // own: finish or undo its write, then clear its locks
            await onStale();
            if (held !== null && lockIdentity(indexPath) === held) unlinkQuiet(indexPath);
            for (const n of readdirSync(gitdir)) if (n.startsWith(tempPrefix(owner.pid))) unlinkQuiet(join(gitdir, n));
            unlinkQuiet(ownerPath);
            recoveredStale = true;
            continue;
          }
          // someone else (native git) took index.lock after the dead process let go of it, or
          // the dead process is too old to have recorded its own: it is never removed
          reason = `another git process holds .git/index.lock (flowreg process ${owner.pid}, which died, left .git/flowreg.lock; its write is recovered once index.lock is released)`;
        } else {
          if (!owner) {
            // the owner file is being written right now, or is empty after a crash between
            // create and write: give it a moment, then treat an old empty file as stale
            if (fileAgeMs(ownerPath) > 5000) {
              unlinkQuiet(ownerPath);
              continue;
            }
          }
          reason = owner ? `flowreg process ${owner.pid} holds the repository lock` : 'the repository lock is being taken';
        }
      }
      if (Date.now() >= deadline) throw new FlowregError('REPO_LOCKED', `cannot write: ${reason}; try again`, { reason });
      await new Promise((r) => setTimeout(r, Math.min(50, 5 * (attempt + 1))));
    }
  } finally {
    unlinkQuiet(mine);
    if (!done) closeQuiet(fd);
  }
}

let acquisitions = 0;

/**
 * Creates `.git/flowreg.lock` with its content in one step: written whole under this process's
 * own name, then hard-linked into place (EEXIST when it is held). A process killed in between
 * leaves no empty lock that nobody could tell from one being written, only its own temporary
 * file, which the recovery of its lock removes.
 */
function takeOwnerFile(ownerPath: string, gitdir: string, me: Owner): void {
  const tmp = join(gitdir, `${tempPrefix(process.pid)}owner.tmp`);
  unlinkQuiet(tmp);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    writeAll(fd, JSON.stringify(me), '.git/flowreg.lock');
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, ownerPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // no hard links here: an exclusive create, then the content
    const ownerFd = openSync(ownerPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      writeAll(ownerFd, JSON.stringify(me), '.git/flowreg.lock');
    } finally {
      closeSync(ownerFd);
    }
  } finally {
    unlinkQuiet(tmp);
  }
}

/** How the files in which process `pid` makes its index locks before linking them into place begin. */
function tempPrefix(pid: number): string {
  return `flowreg-index-${pid}-`;
}

/**
 * Links the prepared file to `.git/index.lock` (fails with EEXIST when it exists, as git's own
 * O_EXCL create does). On a file system without hard links, creates it with O_EXCL instead and
 * records its identity afterwards.
 */
function takeIndexLock(mine: string, fd: number, indexPath: string, ownerPath: string): number {
  try {
    linkSync(mine, indexPath);
    return fd;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  const indexLock = openSync(indexPath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
  writeFileSync(ownerPath, JSON.stringify({ ...SELF, indexLock: identity(fstatSync(indexLock, { bigint: true })) }));
  closeQuiet(fd);
  return indexLock;
}

function closeQuiet(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function readOwner(path: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    return typeof o.pid === 'number' ? o : null;
  } catch {
    return null;
  }
}

function fileAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Releases the lock. With `commitIndex` the index lock becomes the new `.git/index` (renamed into
 * place, as git does); without it the lock is removed and the index is unchanged.
 */
export function releaseRepoLock(gitdir: string, lock: HeldLock, commitIndex: boolean): void {
  try {
    closeSync(lock.indexLock);
  } catch {
    // already closed
  }
  const indexPath = join(gitdir, 'index.lock');
  if (commitIndex) renameSync(indexPath, join(gitdir, 'index'));
  else unlinkQuiet(indexPath);
  unlinkQuiet(join(gitdir, 'flowreg.lock'));
}

/** True when a flowreg lock left by a process that is no longer alive is present. */
export function hasStaleLock(gitdir: string): boolean {
  const owner = readOwner(join(gitdir, 'flowreg.lock'));
  return owner !== null && !isAlive(owner);
}
