import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** When to repack: git's own defaults for `gc.autoPackLimit` and `gc.auto` (loose objects). */
export const DEFAULT_PACK_LIMIT = 50;
const DEFAULT_LOOSE_LIMIT = 6700;

function countIn(dir: string, suffix: string): number {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(suffix)).length;
  } catch {
    return 0;
  }
}

/**
 * True when the repository has more packs than `packLimit` or, estimated as git does from the
 * folder `objects/17`, more loose objects than git's `gc.auto`. Every fetch that brings commits
 * adds a pack and every write adds loose objects; nothing in isomorphic-git ever packs them.
 */
export function needsGc(gitdir: string, packLimit = DEFAULT_PACK_LIMIT): boolean {
  if (countIn(join(gitdir, 'objects', 'pack'), '.pack') > packLimit) return true;
  return countIn(join(gitdir, 'objects', '17'), '') * 256 > DEFAULT_LOOSE_LIMIT;
}

/**
 * Runs native `git repack -d -l --geometric=2` in the foreground (the caller holds every other git
 * operation of the process off meanwhile): loose objects go into a pack, and small packs are
 * merged until each pack holds at least twice the objects of the next smaller one, so the work
 * stays in proportion to what is new instead of rewriting the whole repository as `git gc` would.
 * Resolves to null, or to why it could not run (git missing, or its error).
 */
export function repack(dir: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', ['repack', '-d', '-l', '-q', '--geometric=2'], { cwd: dir, timeout: 10 * 60_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, _stdout, stderr) => {
      if (err === null) resolve(null);
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve('git is not installed: loose objects and packs are left as they are');
      else resolve(`git repack failed: ${stderr.trim() || err.message}`);
    });
  });
}
