/**
 * A full disk, a read-only file system and a corrupt repository, met by the write path: each is
 * answered with a status that names it (507, 503, 500 REPO_CORRUPT), and a write that fails leaves
 * nothing half-written. The disk is a real 2 MiB tmpfs when this process may mount one (root);
 * otherwise the system write is replaced through the store's one write wrapper (fsWrite.ts) by one
 * that runs out of space, and the test says which it used.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, fstatSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowFile } from '../../src/core/types.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { errorAnswer } from '../../src/server/errorAnswer.ts';
import { setWriteForTests, writeAll } from '../../src/store/fsWrite.ts';
import { hashObject, writeObject } from '../../src/store/gitObjects.ts';
import { GitStore, type WriteOp } from '../../src/store/GitStore.ts';
import { smallFlow } from '../helpers/flows.ts';
import { git, tempDir, tempRepo, writeFiles } from '../helpers/tmp.ts';

const alice = { name: 'Alice', email: 'alice@example.com' };
const create = (f: FlowFile): WriteOp => ({ verb: 'create', uid: f.uid, author: alice, apply: () => f });
const update = (uid: string, label: string): WriteOp => ({ verb: 'update', uid, author: alice, apply: (c) => ({ ...(c?.file as FlowFile), label }) });

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the write to fail');
}

/** Leftovers of a write that failed half-way: temporary objects and files, locks, the journal. */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^tmp_obj_|\.tmp$|\.lock$|^journal\.json$/.test(e.name)) out.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out;
}

/** A repository with one commit (README) in `dir`. */
function initRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  writeFiles(dir, { 'README.md': 'flows\n' });
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial']);
}

/** A small tmpfs, or null when this process may not mount one. */
function mountTmpfs(sizeKb: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'flowreg-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

function unmount(dir: string): void {
  // lazy: a store a failed test left open must not keep the mount (or the next run's space)
  execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The disk the repository lives on: `fill()` takes all its free space, `free(pages)` gives back
 * that many 4 KiB pages, `freeAll()` gives back everything the filler took.
 */
interface Disk {
  kind: 'tmpfs' | 'injected';
  root: string;
  fill(): void;
  /** Bytes one step of `free` gives back. */
  unit: number;
  free(steps: number): void;
  freeAll(): void;
  close(): void;
}

function tmpfsDisk(root: string): Disk {
  const filler = join(root, 'filler');
  let full = 0;
  return {
    kind: 'tmpfs',
    root,
    unit: 4096,
    fill() {
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (const size of [64 * 1024, 4096, 1]) {
          for (;;) {
            try {
              if (writeSync(fd, chunk, 0, size) < size) break;
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
        full = fstatSync(fd).size;
      } finally {
        closeSync(fd);
      }
    },
    free(pages) {
      truncateSync(filler, Math.max(0, full - pages * 4096));
    },
    freeAll() {
      truncateSync(filler, 0);
    },
    close() {
      unmount(root);
    },
  };
}

/**
 * The store's writes get `budget` bytes (the last one short), then one ENOSPC; after it, writes
 * succeed again, as on a real disk where the write's rollback frees what the write had taken (this
 * fake cannot see space freed by unlink or rename).
 */
function injectedDisk(root: string): Disk {
  let budget = Number.POSITIVE_INFINITY;
  setWriteForTests((fd, buf, offset, length, position) => {
    if (budget <= 0) {
      budget = Number.POSITIVE_INFINITY;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    const n = Math.min(length, budget);
    budget -= n;
    return writeSync(fd, buf, offset, n, position);
  });
  return {
    kind: 'injected',
    root,
    unit: 200,
    fill: () => void (budget = 0),
    free: (steps) => void (budget = steps * 200),
    freeAll: () => void (budget = Number.POSITIVE_INFINITY),
    close: () => setWriteForTests(null),
  };
}

/**
 * Fills the disk, then gives back one step of space at a time until a write fits: each failure is
 * at the same or a later step of the write (lock, blob, trees, commit, journal, working file,
 * index, ref), and each must answer 507 and leave nothing half-written.
 */
async function sweep(disk: Disk): Promise<void> {
  const dir = join(disk.root, 'repo');
  initRepo(dir);
  const store = await GitStore.open({ dir, committer: { name: 'flowreg', email: 'flowreg@example.com' } });
  await store.write(create(smallFlow('u-1', 'chat', { description: 'x'.repeat(3000) })));
  const before = git(dir, ['rev-parse', 'HEAD']);
  const fileBefore = readFileSync(join(dir, 'flows/chat.yaml'), 'utf8');

  disk.fill();
  let failures = 0;
  let done = false;
  const steps = new Set<string>();
  for (let n = 1; n <= 200 && !done; n++) {
    disk.free(n);
    try {
      await store.write(update('u-1', 'written on a full disk'));
      done = true;
      continue;
    } catch (err) {
      failures++;
      steps.add((err as Error).message.replace(/[0-9a-f]{40}/, '<id>'));
      const answer = errorAnswer(err);
      expect([n, answer.status, answer.body.err_code]).toEqual([n, 507, '507']);
      expect(answer.retryAfter).toBeGreaterThan(0);
      expect(answer.body.err_msg).toMatch(/^no space left on device while writing .+; nothing was written: free space and try again$/);
    }
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(before);
    expect(readFileSync(join(dir, 'flows/chat.yaml'), 'utf8')).toBe(fileBefore);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(leftovers(join(dir, '.git'))).toEqual([]);
    expect(leftovers(join(dir, 'flows'))).toEqual([]);
  }
  console.info(`storageErrors (${disk.kind}): ${failures} failed attempts, at: ${[...steps].join(' | ')}`);
  expect(failures).toBeGreaterThan(2);
  expect(done).toBe(true);
  expect(git(dir, ['log', '-1', '--format=%s'])).toBe('update flow chat (u-1)');

  // the persisted caches: a full disk keeps the old files whole and leaves no temporary file
  // (fs.promises.writeFile does not go through the injected write: only a real disk fills here)
  if (disk.kind === 'tmpfs') {
    disk.fill();
    const persisted = await failure(store.persist());
    expect(isFlowregError(persisted, 'STORAGE_FULL')).toBe(true);
    expect(leftovers(join(dir, '.git'))).toEqual([]);
  }

  disk.freeAll();
  const again = await store.write(update('u-1', 'space is back'));
  expect(git(dir, ['rev-parse', 'HEAD'])).toBe(again.commit);
  expect(git(dir, ['status', '--porcelain'])).toBe('');
  expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  await store.close();
}

describe('a full disk', () => {
  it('a real one (a 2 MiB tmpfs): answers 507 naming the cause at every step of a write, leaves nothing half-written, and writes again once space is back', async () => {
    const root = mountTmpfs(2048);
    // said out loud, never a silent skip: without mount permission the injected disk below still runs
    if (root === null) {
      console.warn('storageErrors: this process may not mount a tmpfs; the full disk is tested by fault injection only');
      return;
    }
    const disk = tmpfsDisk(root);
    try {
      await sweep(disk);
    } finally {
      disk.close();
    }
  });

  it('an injected one (short writes, then ENOSPC, through fsWrite.ts): the same, down to the index', async () => {
    const disk = injectedDisk(tempDir('flowreg-nospace-'));
    try {
      await sweep(disk);
    } finally {
      disk.close();
    }
  });
});

describe('a read-only file system', () => {
  it('answers 503 STORAGE_READ_ONLY naming the cause, and writes again once it is read-write', async () => {
    const root = mountTmpfs(4096);
    if (root === null) {
      // no mount: EROFS from the system write, through the one write wrapper
      const dir = tempRepo({ 'README.md': 'x\n' });
      const store = await GitStore.open({ dir });
      setWriteForTests(() => {
        throw Object.assign(new Error('EROFS: read-only file system, write'), { code: 'EROFS' });
      });
      try {
        const answer = errorAnswer(await failure(store.write(create(smallFlow('u-1', 'chat')))));
        expect([answer.status, answer.body.err_code]).toEqual([503, '503']);
        expect(answer.body.err_msg).toMatch(/read-only/);
      } finally {
        setWriteForTests(null);
      }
      expect(git(dir, ['status', '--porcelain'])).toBe('');
      return;
    }
    try {
      const dir = join(root, 'repo');
      initRepo(dir);
      const store = await GitStore.open({ dir });
      await store.write(create(smallFlow('u-1', 'chat')));
      execFileSync('mount', ['-o', 'remount,ro', root]);
      const answer = errorAnswer(await failure(store.write(update('u-1', 'read-only'))));
      expect([answer.status, answer.body.err_code]).toEqual([503, '503']);
      expect(answer.body.err_msg).toMatch(/^the repository's file system is read-only \(writing .+\); nothing was written$/);
      expect(answer.internal).toBe(false);
      execFileSync('mount', ['-o', 'remount,rw', root]);
      expect(git(dir, ['status', '--porcelain'])).toBe('');
      expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
      const res = await store.write(update('u-1', 'read-write again'));
      expect(git(dir, ['rev-parse', 'HEAD'])).toBe(res.commit);
      await store.close();
    } finally {
      unmount(root);
    }
  });

  it('maps a raw ENOSPC, EDQUOT or EROFS met outside the write path to 507 or 503, not 500', () => {
    const raw = (code: string): Error => Object.assign(new Error(`${code}: something, open '/x/.git/flowreg.lock'`), { code });
    expect(errorAnswer(raw('ENOSPC')).status).toBe(507);
    expect(errorAnswer(raw('EDQUOT')).body.err_msg).toMatch(/^disk quota exceeded while writing/);
    expect(errorAnswer(raw('EROFS')).status).toBe(503);
    expect(errorAnswer(raw('EIO')).status).toBe(500);
  });
});

describe('short writes', () => {
  it('writes every byte when the system write takes a few at a time, and fails with STORAGE_FULL when it takes none', () => {
    const dir = tempDir();
    const path = join(dir, 'f');
    const data = Buffer.from('0123456789'.repeat(100));
    setWriteForTests((fd, buf, offset, length, position) => writeSync(fd, buf, offset, Math.min(length, 7), position));
    try {
      const fd = openSync(path, 'w');
      writeAll(fd, data, 'f');
      closeSync(fd);
      expect(readFileSync(path)).toEqual(data);
      setWriteForTests(() => 0);
      const fd2 = openSync(path, 'w');
      try {
        expect(() => writeAll(fd2, data, 'the flow file f')).toThrow(/^no space left on device while writing the flow file f/);
      } finally {
        closeSync(fd2);
      }
    } finally {
      setWriteForTests(null);
    }
  });

  it('never links a short-written loose object into place', () => {
    const dir = tempRepo();
    const gitdir = join(dir, '.git');
    const content = Buffer.from('a blob that does not fit\n'.repeat(50));
    let left = 20;
    setWriteForTests((fd, buf, offset, length, position) => {
      const n = Math.min(length, left);
      left -= n;
      return writeSync(fd, buf, offset, n, position);
    });
    let err: unknown;
    try {
      writeObject(gitdir, 'blob', content, false);
    } catch (e) {
      err = e;
    } finally {
      setWriteForTests(null);
    }
    expect(isFlowregError(err, 'STORAGE_FULL')).toBe(true);
    const oid = hashObject('blob', content);
    expect(leftovers(gitdir)).toEqual([]);
    expect(() => statSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))).toThrow(/ENOENT/);
    // once space is back the same write succeeds
    writeObject(gitdir, 'blob', content, false);
    expect(git(dir, ['cat-file', '-p', oid])).toBe(content.toString().trim());
  });
});

describe('a corrupt repository', () => {
  it('rewrites a loose object that exists but cannot be read (torn by an earlier crash)', () => {
    const dir = tempRepo();
    const gitdir = join(dir, '.git');
    const content = Buffer.from('flow content\n');
    const oid = writeObject(gitdir, 'blob', content, false);
    const path = join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
    chmodSync(path, 0o644);
    // a torn object: the first bytes of the real one
    writeFileSync(path, readFileSync(path).subarray(0, 8));
    expect(() => git(dir, ['cat-file', '-p', oid])).toThrow();
    expect(writeObject(gitdir, 'blob', content, false)).toBe(oid);
    expect(git(dir, ['cat-file', '-p', oid])).toBe('flow content');
    expect(leftovers(gitdir)).toEqual([]);
  });

  it('answers REPO_CORRUPT naming the commit, not FILE_MODIFIED, when the HEAD commit cannot be read', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    const store = await GitStore.open({ dir });
    await store.write(create(smallFlow('u-1', 'chat')));
    // a commit made outside flowreg changes the flow, and its object is then damaged
    writeFileSync(join(dir, 'flows/chat.yaml'), readFileSync(join(dir, 'flows/chat.yaml'), 'utf8').replace(/^label: .*$/m, 'label: by hand'));
    git(dir, ['commit', '-q', '-am', 'by hand']);
    const head = git(dir, ['rev-parse', 'HEAD']);
    const path = join(dir, '.git/objects', head.slice(0, 2), head.slice(2));
    chmodSync(path, 0o644);
    writeFileSync(path, 'garbage, not zlib');
    // every attempt says what is wrong, the second as the first (no state left stale by the first)
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = errorAnswer(await failure(store.write(update('u-1', `attempt ${attempt}`))));
      expect([attempt, answer.status, answer.body.err_code]).toEqual([attempt, 500, '500']);
      expect(answer.body.err_msg).toMatch(new RegExp(`^the repository is corrupt: commit ${head} cannot be read`));
    }
  });
});
