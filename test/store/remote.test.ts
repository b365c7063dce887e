import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code } from '../helpers/errors.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { GitStore, type WriteOp } from '../../src/store/GitStore.ts';
import { ObjectStore } from '../../src/store/objectStore.ts';
import { Remote } from '../../src/store/Remote.ts';
import { PUSH_DEADLINE_MS } from '../../src/store/RemoteSync.ts';
import type { FlowFile } from '../../src/core/types.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { schemaRefFor } from '../../src/core/schemaRef.ts';
import { smallFlow } from '../helpers/flows.ts';
import { bareRepo, startGitHttpServer, type GitHttpServer } from '../helpers/gitHttpServer.ts';
import { git, tempDir, writeFiles } from '../helpers/tmp.ts';

const alice = { name: 'Alice', email: 'alice@example.com' };
let server: GitHttpServer;
let root: string;
let n = 0;

beforeAll(async () => {
  root = tempDir('flowreg-remotes-');
  server = await startGitHttpServer(root);
});
afterAll(async () => server.close());

/** A fresh bare remote and its URL. */
function remote(): { url: string; bare: string } {
  const name = `r${n++}`;
  return { url: `${server.url}/${name}.git`, bare: bareRepo(root, name) };
}

async function open(url: string, opts: { writeMode?: 'direct' | 'branch' } = {}): Promise<GitStore> {
  return GitStore.open({ dir: join(tempDir(), 'clone'), remote: { url, branch: 'main' }, durable: false, ...opts });
}

const create = (f: FlowFile): WriteOp => ({ verb: 'create', uid: f.uid, author: alice, apply: () => f });
const update = (uid: string, label: string): WriteOp => ({ verb: 'update', uid, author: alice, apply: (c) => ({ ...(c?.file as FlowFile), label }) });

describe('two stores writing distinct flows through one remote', () => {
  it('acknowledge every write (none refused as "kept rejecting"), each within the documented bound', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    for (let w = 0; w < 8; w++) await a.write(create(smallFlow(`u-${w}`, `flow${w}`)));
    const b = await open(url);
    const WRITES = 12;
    const slowest: number[] = [];
    const failures: string[] = [];
    // 4 writers on each store, each on a flow of its own: no write conflicts with another
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const store = w % 2 === 0 ? a : b;
        for (let k = 0; k < WRITES; k++) {
          const t0 = Date.now();
          try {
            await store.write(update(`u-${w}`, `w${w} k${k}`));
          } catch (err) {
            failures.push(`${w}/${k}: ${(err as Error).message}`);
          }
          slowest.push(Date.now() - t0);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(Math.max(...slowest)).toBeLessThan(PUSH_DEADLINE_MS + 15_000);
    // every write is on the remote, and each flow's last write is its content there
    expect(Number(git(bare, ['rev-list', '--count', 'main']))).toBe(8 + 8 * WRITES);
    for (let w = 0; w < 8; w++) expect(git(bare, ['show', `main:flows/flow${w}.yaml`])).toContain(`label: w${w} k${WRITES - 1}`);
  }, 240_000);
});

describe('GitStore with a remote', () => {
  it('clones an empty remote and pushes each write before acknowledging it', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    const res = await a.write(create(smallFlow('u-1', 'one')));
    expect(git(bare, ['rev-parse', 'main'])).toBe(res.commit);
    expect(git(a.dir, ['rev-parse', 'HEAD'])).toBe(res.commit);
    expect(git(a.dir, ['status', '--porcelain'])).toBe('');
    // a second daemon clones what is there
    const b = await open(url);
    expect(b.files().map((r) => r.path)).toEqual(['flows/one.yaml']);
    expect(b.versionOf('u-1', 'flows/one.yaml').version).toBe(res.commit);
  });

  it('rebuilds a rejected push on the new remote head when the flow did not change there', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    const b = await open(url);
    const fromB = await b.write(create(smallFlow('u-2', 'two')));
    // a has not fetched: its push is rejected, it pulls b's commit and retries
    const fromA = await a.write(update('u-1', 'changed by a'));
    expect(git(bare, ['rev-list', '--count', 'main'])).toBe('3');
    expect(git(bare, ['rev-parse', 'main^'])).toBe(fromB.commit);
    expect(git(bare, ['rev-parse', 'main'])).toBe(fromA.commit);
    expect(existsSync(join(a.dir, 'flows/two.yaml'))).toBe(true);
    expect(git(a.dir, ['status', '--porcelain'])).toBe('');
    expect(a.versionOf('u-2', 'flows/two.yaml').version).toBe(fromB.commit);
  });

  it('answers PUSH_REJECTED when the same flow changed on the remote, leaving nothing behind', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    const b = await open(url);
    await b.write(update('u-1', 'b wins'));
    const before = git(a.dir, ['rev-parse', 'HEAD']);
    expect(await code(a.write(update('u-1', 'a loses')))).toBe('PUSH_REJECTED');
    expect(git(bare, ['log', '-1', '--format=%s', 'main'])).toBe('update flow one (u-1)');
    expect(readFileSync(join(a.dir, 'flows/one.yaml'), 'utf8')).not.toContain('a loses');
    expect(git(a.dir, ['rev-parse', 'HEAD'])).toBe(before);
    // after a sync, a sees b's change and can write again
    await a.fetch();
    expect(readFileSync(join(a.dir, 'flows/one.yaml'), 'utf8')).toContain('b wins');
    expect((await a.write(update('u-1', 'a now'))).commit).toBe(git(bare, ['rev-parse', 'main']));
  });

  it('fails a write with REMOTE_UNREACHABLE when the remote is down, and writes nothing', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    const head = git(a.dir, ['rev-parse', 'HEAD']);
    await server.setDown(true);
    try {
      expect(await code(a.write(update('u-1', 'offline')))).toBe('REMOTE_UNREACHABLE');
    } finally {
      await server.setDown(false);
    }
    expect(git(a.dir, ['rev-parse', 'HEAD'])).toBe(head);
    expect(git(bare, ['rev-parse', 'main'])).toBe(head);
    expect(git(a.dir, ['status', '--porcelain'])).toBe('');
    expect(existsSync(join(a.dir, '.git/index.lock'))).toBe(false);
  });

  it('fast-forwards on sync, but never over local edits or a local commit made by hand', async () => {
    const { url } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    await a.write(create(smallFlow('u-2', 'two')));
    const b = await open(url);
    await a.write(update('u-1', 'from a'));
    // an uncommitted edit in b of the file a changed blocks the fast-forward
    const path = join(b.dir, 'flows/one.yaml');
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, original.replace('label: one', 'label: local edit'));
    expect((await b.fetch()).changes).toEqual([]);
    expect(b.status().blocked).toContain('flows/one.yaml');
    expect(b.status().behind).toBe(1);
    writeFileSync(path, original);
    expect((await b.fetch()).changes.map((c) => c.path)).toEqual(['flows/one.yaml']);
    expect(b.status()).toMatchObject({ behind: 0, ahead: 0, blocked: null, head: git(a.dir, ['rev-parse', 'HEAD']) });
    // a commit by hand in b is never discarded: writes are refused until it is resolved
    writeFileSync(join(b.dir, 'README.md'), 'by hand\n');
    git(b.dir, ['add', 'README.md']);
    git(b.dir, ['commit', '-qm', 'by hand']);
    await b.refresh();
    expect(b.status().ahead).toBe(1);
    expect(await code(b.write(update('u-2', 'blocked')))).toBe('BRANCH_DIVERGED');
    expect(git(b.dir, ['log', '-1', '--format=%s'])).toBe('by hand');
  });

  it('reports a symbolic link a fast-forward brings into the flows folder, never serving its target', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    // a flow file outside any repository, and a commit elsewhere that links to it
    const outside = tempDir('flowreg-outside-');
    writeFileSync(join(outside, 'evil.yaml'), formatFlow(smallFlow('u-out', 'evil', { description: 'SECRET outside content' }), { schemaRef: schemaRefFor('flows/evil.yaml') }));
    const other = join(tempDir(), 'other');
    git(root, ['clone', '-q', bare, other]);
    symlinkSync(join(outside, 'evil.yaml'), join(other, 'flows/evil.yaml'));
    git(other, ['add', 'flows/evil.yaml']);
    git(other, ['commit', '-qm', 'a link']);
    git(other, ['push', '-q', 'origin', 'main']);
    expect(git(other, ['ls-tree', 'HEAD', 'flows/evil.yaml'])).toMatch(/^120000 /);
    const batch = await a.fetch();
    expect(batch.changes.map((c) => c.path)).toEqual(['flows/evil.yaml']);
    expect(a.status().head).toBe(git(bare, ['rev-parse', 'main']));
    const check = (): void => {
      expect(a.findFlow('u-out')).toBeUndefined();
      const entry = a.flow('file:flows/evil.yaml');
      expect(entry.errors[0]?.message).toContain('flows/evil.yaml is a symbolic link; flowreg reads only regular files');
      expect(JSON.stringify(entry.summary)).not.toContain('SECRET');
    };
    check();
    // re-checking the path from disk (a watcher's hint, a restart) does not follow it either
    await a.refresh(['flows/evil.yaml']);
    check();
    await a.refresh();
    check();
    const before = readFileSync(join(outside, 'evil.yaml'), 'utf8');
    expect(await code(a.write(create(smallFlow('u-out', 'evil'))))).toBe('UNSAFE_PATH');
    expect(readFileSync(join(outside, 'evil.yaml'), 'utf8')).toBe(before);
  });

  it('never fast-forwards a file into a folder of the flows folder that is a symbolic link', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    const outside = tempDir('flowreg-outside-');
    symlinkSync(outside, join(a.dir, 'flows/team'));
    const other = join(tempDir(), 'other');
    git(root, ['clone', '-q', bare, other]);
    writeFiles(other, { 'flows/team/two.yaml': formatFlow(smallFlow('u-2', 'two'), { schemaRef: schemaRefFor('flows/team/two.yaml') }) });
    git(other, ['add', '-A']);
    git(other, ['commit', '-qm', 'two']);
    git(other, ['push', '-q', 'origin', 'main']);
    const head = git(a.dir, ['rev-parse', 'HEAD']);
    expect(await code(a.fetch())).toBe('UNSAFE_PATH');
    expect(readdirSync(outside)).toEqual([]);
    expect(git(a.dir, ['rev-parse', 'HEAD'])).toBe(head);
    expect(existsSync(join(a.dir, '.git/index.lock'))).toBe(false);
    expect(a.findFlow('u-2')).toBeUndefined();
  });

  it('moves its remote head only once the fetched objects are on disk (isomorphic-git writes the ref first)', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-0', 'f0')));
    const b = await open(url);
    for (let i = 1; i <= 30; i++) await a.write(create(smallFlow(`u-${i}`, `f${i}`)));
    const r = new Remote(b.dir, { url, branch: 'main' });
    const objects = new ObjectStore(join(b.dir, '.git'));
    const before = r.trackedHead();
    let done = false;
    let missing: string | null = null;
    let looks = 0;
    const fetched = r.fetch().finally(() => (done = true));
    while (!done) {
      const head = r.trackedHead();
      if (head !== null && head !== before && !objects.has(head)) missing = head;
      looks++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await fetched).toBe(git(bare, ['rev-parse', 'main']));
    expect(looks).toBeGreaterThan(3);
    expect(missing).toBeNull();
    expect(r.trackedHead()).toBe(git(bare, ['rev-parse', 'main']));
    objects.close();
  });

  it('repacks once fetches have left more packs than the limit, and keeps reading every version', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    const b = await GitStore.open({ dir: join(tempDir(), 'clone'), remote: { url, branch: 'main' }, durable: false, packLimit: 5 });
    const packs = (): number => readdirSync(join(b.dir, '.git/objects/pack')).filter((n) => n.endsWith('.pack')).length;
    const commits: string[] = [];
    let most = 0;
    for (let i = 0; i < 14; i++) {
      commits.push((await a.write(update('u-1', `from a ${i}`))).commit as string);
      // each fetch that brings a commit adds a pack
      await b.fetch();
      most = Math.max(most, packs());
    }
    expect(b.status().lastGc).toMatchObject({ error: null });
    expect(most).toBeLessThanOrEqual(6);
    expect(packs()).toBeLessThanOrEqual(6);
    expect(git(b.dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
    for (const [i, c] of commits.entries()) expect((await b.readAt('u-1', c))?.file.label).toBe(`from a ${i}`);
    expect(b.versions('u-1').map((v) => v.version).slice(0, 14)).toEqual([...commits].reverse());
    // and it still writes and pushes
    expect((await b.write(update('u-1', 'from b'))).commit).toBe(git(bare, ['rev-parse', 'main']));
  });

  it('writes to a new branch per change in branch mode, leaving main untouched', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    const main = git(bare, ['rev-parse', 'main']);
    const reviewer = await open(url, { writeMode: 'branch' });
    const res = await reviewer.write(update('u-1', 'proposed'));
    expect(res.branch).toMatch(/^flowreg\/one-[0-9a-f]{7}$/);
    expect(git(bare, ['rev-parse', 'main'])).toBe(main);
    expect(git(bare, ['rev-parse', `refs/heads/${res.branch}`])).toBe(res.commit);
    expect(git(bare, ['rev-parse', `${res.commit}^`])).toBe(main);
    expect(git(bare, ['show', `${res.commit}:flows/one.yaml`])).toContain('label: proposed');
    expect(readFileSync(join(reviewer.dir, 'flows/one.yaml'), 'utf8')).toContain('label: one');
  });
});

describe('repair after a kill during fetch or push', () => {
  it('drops an empty remote-tracking ref and a torn pack index, which git fsck would report', async () => {
    const { url } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    await a.close();
    git(a.dir, ['repack', '-q', '-a', '-d']);
    // what isomorphic-git leaves when killed while writing: an empty ref, a truncated index
    writeFileSync(join(a.dir, '.git/refs/remotes/origin/main'), '');
    const packDir = join(a.dir, '.git/objects/pack');
    const idx = readdirSync(packDir).find((n) => n.endsWith('.idx')) as string;
    const torn = join(packDir, 'pack-0123456789012345678901234567890123456789.idx');
    writeFileSync(torn, readFileSync(join(packDir, idx)).subarray(0, 500));
    writeFileSync(torn.replace(/\.idx$/, '.pack'), readFileSync(join(packDir, idx.replace(/\.idx$/, '.pack'))));
    expect(() => git(a.dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toThrow();
    const again = await GitStore.open({ dir: a.dir, remote: { url, branch: 'main' }, durable: false });
    expect(git(a.dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
    expect(existsSync(torn)).toBe(false);
    expect(again.files().map((r) => r.path)).toEqual(['flows/one.yaml']);
  });

  it('drops a remote-tracking ref to a commit whose pack never landed, and writes at once after', async () => {
    const { url, bare } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    await a.close();
    // isomorphic-git writes the ref before the pack: a kill in between leaves a ref to nothing
    writeFileSync(join(a.dir, '.git/refs/remotes/origin/main'), `${'ab'.repeat(20)}\n`);
    expect(() => git(a.dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toThrow();
    const again = await GitStore.open({ dir: a.dir, remote: { url, branch: 'main' }, durable: false });
    expect(git(a.dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
    // the remote head is asked for again instead of refusing the write as diverged
    const res = await again.write(update('u-1', 'after repair'));
    expect(git(bare, ['rev-parse', 'main'])).toBe(res.commit);
    expect(again.status()).toMatchObject({ ahead: 0, behind: 0, remoteHead: res.commit });
  });
});

describe('credentials of a private remote (git http-backend behind HTTP Basic auth)', () => {
  /** A fresh bare remote reachable only with the server's token, and its URL (without credentials). */
  function privateRemote(): { url: string; bare: string } {
    const name = `p${n++}`;
    return { url: `${server.authUrl}/${name}.git`, bare: bareRepo(root, name) };
  }

  /** What a store shows of its remote: the status and .git/config, plus the given messages. */
  function shown(store: GitStore, ...messages: string[]): string {
    return [JSON.stringify(store.status()), readFileSync(join(store.dir, '.git/config'), 'utf8'), ...messages].join('\n');
  }

  async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
    try {
      await p;
    } catch (err) {
      return { code: (err as { code: string }).code, message: (err as Error).message };
    }
    throw new Error('expected a failure');
  }

  it('sends a token given apart from the URL as HTTP Basic auth', async () => {
    const { url, bare } = privateRemote();
    const a = await GitStore.open({ dir: join(tempDir(), 'clone'), remote: { url, branch: 'main', auth: { username: 'x-access-token', password: server.token } }, durable: false });
    const res = await a.write(create(smallFlow('u-1', 'one')));
    expect(git(bare, ['rev-parse', 'main'])).toBe(res.commit);
    await a.fetch();
    expect((await server.authStats()).lastUser).toBe('x-access-token');
    expect(a.status()).toMatchObject({ remote: url, lastFetch: { error: null } });
    expect(shown(a)).not.toContain(server.token);
  });

  it('takes credentials out of the URL: still sent, never in the status, .git/config or messages', async () => {
    const { url, bare } = privateRemote();
    const a = await open(url.replace('http://', `http://alice:${server.token}@`));
    const res = await a.write(create(smallFlow('u-1', 'one')));
    expect(git(bare, ['rev-parse', 'main'])).toBe(res.commit);
    expect((await server.authStats()).lastUser).toBe('alice');
    expect(a.status().remote).toBe(url);
    expect(shown(a)).not.toContain(server.token);
    // a token given as the user name alone (https://TOKEN@host/…) works too and is not shown
    const b = await open(url.replace('http://', `http://${server.token}@`));
    expect(b.files().map((r) => r.path)).toEqual(['flows/one.yaml']);
    expect(shown(b)).not.toContain(server.token);
    await a.close();
    // a wrong password: fetch, status and write all say so without quoting it
    const secret = 'wrong-secret-4711';
    const again = await GitStore.open({ dir: a.dir, remote: { url: url.replace('http://', `http://alice:${secret}@`), branch: 'main' }, durable: false });
    const fetched = await failure(again.fetch());
    const written = await failure(again.write(update('u-1', 'refused')));
    expect([fetched.code, written.code]).toEqual(['REMOTE_UNREACHABLE', 'REMOTE_UNREACHABLE']);
    const lastError = String((again.status().lastFetch as { error: unknown }).error);
    for (const message of [fetched.message, written.message, lastError]) {
      expect(message).toContain(url);
      expect(message).toMatch(/401.*the remote refused the credentials given/);
    }
    expect(shown(again, fetched.message, written.message)).not.toContain(secret);
    expect(shown(again)).not.toContain(server.token);
    const clone = await failure(open(url.replace('http://', `http://alice:${secret}@`)));
    expect(clone.message).toMatch(/^cannot clone http:\/\/127\.0\.0\.1:\d+\/auth\/p\d+\.git: HTTP Error: 401 Unauthorized: the remote refused the credentials given/);
    expect(clone.message).not.toContain(secret);
  });

  it('says that the remote asks for credentials when none are given', async () => {
    const { url } = privateRemote();
    const clone = await failure(open(url));
    expect(clone).toEqual({ code: 'REMOTE_UNREACHABLE', message: `cannot clone ${url}: HTTP Error: 401 Unauthorized: the remote asks for credentials and none were given (a token in FLOWREG_REMOTE_TOKEN or --remote-token-file, see docs/sync.md)` });
  });
});

/** A TCP proxy in front of the git server that can go silent: it then accepts connections and never answers. */
async function silentProxy(target: string): Promise<{ url: string; silent: boolean; stallAfterHeaders: boolean; close: () => Promise<void> }> {
  const { createServer, connect } = await import('node:net');
  const t = new URL(target);
  const sockets = new Set<import('node:net').Socket>();
  const state = { silent: false, stallAfterHeaders: false };
  const srv = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (state.silent) return; // accepted, read, never answered
    const up = connect(Number(t.port), t.hostname);
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.pipe(up);
    if (!state.stallAfterHeaders) {
      up.pipe(client);
      return;
    }
    // the answer's status line and headers pass, then nothing more (a remote that hangs mid-answer)
    let seen = Buffer.alloc(0);
    let stalled = false;
    up.on('data', (chunk: Buffer) => {
      if (stalled) return;
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      stalled = true;
      client.write(seen.subarray(0, end + 4));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get silent() {
      return state.silent;
    },
    get stallAfterHeaders() {
      return state.stallAfterHeaders;
    },
    set stallAfterHeaders(v: boolean) {
      state.stallAfterHeaders = v;
    },
    set silent(v: boolean) {
      state.silent = v;
      // kept-alive connections from before end too: from now on every connection goes unanswered
      if (v) for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

describe('a remote that goes silent', () => {
  it('is given up on after the idle timeout: fetch and a write answer REMOTE_UNREACHABLE in bounded time, nothing is written, and writes work again once it answers', async () => {
    const { url } = remote();
    const proxy = await silentProxy(server.url);
    try {
      const viaProxy = url.replace(server.url, proxy.url);
      // 2 s: short for the test, long enough for git http-backend's answers on a busy machine
      const store = await GitStore.open({ dir: join(tempDir(), 'clone'), remote: { url: viaProxy, branch: 'main', idleTimeoutMs: 2000 }, durable: false });
      await store.write(create(smallFlow('u-1', 'one')));
      const head = store.head().oid;
      proxy.silent = true;
      let t0 = Date.now();
      const fetchErr = await store.fetch().then(() => null, (e: unknown) => e);
      expect(isFlowregError(fetchErr, 'REMOTE_UNREACHABLE'), String(fetchErr)).toBe(true);
      expect((fetchErr as Error).message).toContain('the remote sent nothing for 2 s');
      expect(Date.now() - t0).toBeLessThan(15_000);
      t0 = Date.now();
      const writeErr = await store.write(update('u-1', 'while silent')).then(() => null, (e: unknown) => e);
      expect(isFlowregError(writeErr, 'REMOTE_UNREACHABLE')).toBe(true);
      expect((writeErr as Error).message).toMatch(/sent nothing for 2 s.*nothing was written/);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(store.head().oid).toBe(head);
      expect(store.flow('u-1').summary.label).toBe('one');
      // a remote that answers a request's headers and then hangs in its body: the same, where
      // isomorphic-git alone said "Expected unpack ok … but received ''"
      proxy.silent = false;
      proxy.stallAfterHeaders = true;
      for (const attempt of [() => store.fetch(), () => store.write(update('u-1', 'stalled'))]) {
        t0 = Date.now();
        const err = await attempt().then(() => null, (e: unknown) => e);
        expect(isFlowregError(err, 'REMOTE_UNREACHABLE'), String(err)).toBe(true);
        expect((err as Error).message).toContain('the remote sent nothing for 2 s');
        expect(Date.now() - t0).toBeLessThan(15_000);
      }
      expect(store.head().oid).toBe(head);
      proxy.stallAfterHeaders = false;
      await store.write(update('u-1', 'back'));
      expect(store.head().oid).not.toBe(head);
      await store.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('a fetch during a native checkout', () => {
  it('never fast-forwards between the two halves of the checkout (index written, HEAD not yet moved): nothing is left staged on the new branch', async () => {
    const { url } = remote();
    const a = await open(url);
    await a.write(create(smallFlow('u-1', 'one')));
    // a local branch with its own version of flow one
    git(a.dir, ['checkout', '-q', '-b', 'feature']);
    writeFileSync(join(a.dir, 'flows/one.yaml'), formatFlow(smallFlow('u-1', 'one', { label: 'on feature' }), { schemaRef: schemaRefFor('flows/one.yaml') }));
    git(a.dir, ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qam', 'feature']);
    git(a.dir, ['checkout', '-q', 'main']);
    await a.refresh();
    const mainBefore = git(a.dir, ['rev-parse', 'main']);
    // the remote moves on: another store adds flow two
    const b = await open(url);
    await b.write(create(smallFlow('u-2', 'two')));
    // the first half of `git checkout feature`, then the fetch, then the second half
    git(a.dir, ['read-tree', '-m', '-u', 'feature']);
    // (it may fast-forward nothing, or refuse: the branch it stands on is no longer the remote's)
    const fetched = a.fetch().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    git(a.dir, ['symbolic-ref', 'HEAD', 'refs/heads/feature']);
    await fetched;
    expect({ status: git(a.dir, ['status', '--porcelain']), main: git(a.dir, ['rev-parse', 'main']) }).toEqual({ status: '', main: mainBefore });
    expect(existsSync(join(a.dir, 'flows/two.yaml'))).toBe(false);
  });
});
