import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readHead } from './refs.ts';
import type { FlowChange } from './types.ts';

/** How long a scan waits for a native git command to release `.git/index.lock` (a lock held longer is left to its owner). */
export const NATIVE_LOCK_WAIT_MS = 2000;

/** Resolves once `.git/index.lock` is absent, or after NATIVE_LOCK_WAIT_MS (a stale or slow lock: the scan goes on). */
export async function waitForNativeIndexLock(gitdir: string): Promise<void> {
  const lock = join(gitdir, 'index.lock');
  const end = Date.now() + NATIVE_LOCK_WAIT_MS;
  while (existsSync(lock) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/**
 * What a native git command changes when it rewrites the working tree: whether it holds
 * `.git/index.lock`, the index file it renames into place when done (inode, time, size), and HEAD.
 * Two equal stamps around a scan mean no such command ran during it (flowreg's own writes are
 * held off by the write queue while the store scans).
 */
export function treeStamp(gitdir: string): string {
  const head = readHead(gitdir);
  let index = 'none';
  try {
    const st = statSync(join(gitdir, 'index'), { bigint: true });
    index = `${st.ino}:${st.mtimeNs}:${st.ctimeNs}:${st.size}`;
  } catch {
    // no index yet
  }
  return `${existsSync(join(gitdir, 'index.lock'))}|${index}|${head.ref}|${head.oid}`;
}

/**
 * Two successive change lists of the working tree (first `a`, then `b`) as one: per path the first
 * `before` and the last `after`; a path whose content and committed content ended where they began
 * is left out (a file a checkout removed and wrote again while the first list was read).
 */
export function composeFlowChanges(a: FlowChange[], b: FlowChange[]): FlowChange[] {
  if (a.length === 0) return b;
  const byPath = new Map<string, FlowChange>();
  for (const ch of a) byPath.set(ch.path, ch);
  for (const ch of b) {
    const prev = byPath.get(ch.path);
    byPath.set(ch.path, prev ? { path: ch.path, before: prev.before, after: ch.after } : ch);
  }
  const same = (x: FlowChange['before'], y: FlowChange['after']): boolean => (x === null && y === null) || (x !== null && y !== null && x.blob === y.blob && x.headBlob === y.headBlob);
  return [...byPath.values()].filter((ch) => !same(ch.before, ch.after));
}
