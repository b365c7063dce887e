/**
 * `flowreg import --from` and git's index lock (docs/storage.md): a lock held for a moment (a
 * daemon's write) is waited for; a lock that stays is REPO_LOCKED, with the flows written so far
 * committed and the rest not. Against a small stand-in of DB-GPT's flow API (the real one is in
 * importFrom.test.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleChatBody } from '../helpers/dbgpt/requests.ts';
import { git, GIT_ENV, tempRepo } from '../helpers/tmp.ts';

const BIN = resolve(import.meta.dirname, '../../bin/flowreg.js');

function flowreg(cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...GIT_ENV } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('import --from and the repository lock', () => {
  let server: Server;
  let url = '';
  const flows: Record<string, unknown>[] = [
    { ...simpleChatBody('lock-1', 'lock_one'), gmt_created: '2025-01-02 03:04:05', gmt_modified: '2025-01-02 03:04:05' },
    { ...simpleChatBody('lock-2', 'lock_two'), gmt_created: '2025-02-03 04:05:06', gmt_modified: '2025-02-03 04:05:06' },
  ];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const uid = decodeURIComponent(u.pathname.split('/').pop() ?? '');
      const one = flows.find((f) => f.uid === uid);
      const data = u.pathname.endsWith('/flows') ? { items: flows, total_count: flows.length, total_pages: 1, page: 1 } : (one ?? null);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ success: data !== null, err_code: null, err_msg: data === null ? 'not found' : null, data }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('waits for an index lock that goes away', async () => {
    const repo = tempRepo({ 'flows/.gitkeep': '' });
    const lock = join(repo, '.git/index.lock');
    writeFileSync(lock, '');
    const running = flowreg(repo, 'import', '--from', url);
    await new Promise((r) => setTimeout(r, 1500));
    rmSync(lock);
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 imported/);
    expect(git(repo, ['log', '--format=%ad %s', '--date=format-local:%Y-%m-%d %H:%M:%S']).split('\n')).toEqual([
      `2025-02-03 04:05:06 import flow lock_two (lock-2) from DB-GPT ${url}`,
      `2025-01-02 03:04:05 import flow lock_one (lock-1) from DB-GPT ${url}`,
      '2026-01-02 03:04:05 initial',
    ]);
  });

  it('stops with REPO_LOCKED when the lock stays', async () => {
    const repo = tempRepo({ 'flows/.gitkeep': '' });
    writeFileSync(join(repo, '.git/index.lock'), '');
    const r = await flowreg(repo, 'import', '--from', url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/git commit of flows\/lock_one\.yaml failed: .*index\.lock/s);
    expect(git(repo, ['log', '--format=%s'])).toBe('initial');
    expect(existsSync(join(repo, 'flows/lock_one.yaml'))).toBe(true); // written, left uncommitted
    // once the lock is gone, a rerun commits it (as new: dated gmt_created) and the other flow
    rmSync(join(repo, '.git/index.lock'));
    const again = await flowreg(repo, 'import', '--from', url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/2 imported, 0 updated, 0 unchanged, 0 refused/);
    expect(git(repo, ['log', '--format=%ad %s', '--date=format-local:%Y-%m-%d %H:%M:%S']).split('\n')).toEqual([
      `2025-02-03 04:05:06 import flow lock_two (lock-2) from DB-GPT ${url}`,
      `2025-01-02 03:04:05 import flow lock_one (lock-1) from DB-GPT ${url}`,
      '2026-01-02 03:04:05 initial',
    ]);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  }, 30_000);

  it('never overwrites a flow file with uncommitted changes', async () => {
    const repo = tempRepo({ 'flows/.gitkeep': '' });
    expect((await flowreg(repo, 'import', '--from', url)).code).toBe(0);
    const file = join(repo, 'flows/lock_one.yaml');
    const edited = readFileSync(file, 'utf8').replace(/^label: .*$/m, 'label: my edit');
    writeFileSync(file, edited);
    const r = await flowreg(repo, 'import', '--from', url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused flow lock-1 ("lock_one"): flows/lock_one.yaml has uncommitted changes');
    expect(readFileSync(file, 'utf8')).toBe(edited);
  });
});
