import { closeSync, constants, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FlowregError } from '../errors/index.ts';

/** Who holds flowreg's repository lock: written to `.git/flowreg.lock`. */
interface Owner {
  pid: number;
  start: string;
  host: string;
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
 * Takes the repository lock: first `.git/flowreg.lock` (naming this process), then
 * `.git/index.lock`, exactly as native git takes it, so a native `git commit` meanwhile fails
 * cleanly instead of racing. A lock left by a dead flowreg process is recovered (`onStale` runs
 * first, to roll its journal forward or back); one held by a live process, or by native git, is
 * waited for up to `waitMs` and then refused with REPO_LOCKED.
 */
export async function acquireRepoLock(gitdir: string, onStale: () => Promise<void>, waitMs = 2000): Promise<HeldLock> {
  const ownerPath = join(gitdir, 'flowreg.lock');
  const indexPath = join(gitdir, 'index.lock');
  const deadline = Date.now() + waitMs;
  let recoveredStale = false;
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    try {
      const fd = openSync(ownerPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      writeSync(fd, JSON.stringify(SELF));
      closeSync(fd);
      try {
        const indexLock = openSync(indexPath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
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
        // a flowreg process died while writing: finish or undo its write, then clear its locks
        await onStale();
        unlinkQuiet(indexPath);
        unlinkQuiet(ownerPath);
        recoveredStale = true;
        continue;
      }
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
    if (Date.now() >= deadline) throw new FlowregError('REPO_LOCKED', `cannot write: ${reason}; try again`, { reason });
    await new Promise((r) => setTimeout(r, Math.min(50, 5 * (attempt + 1))));
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
