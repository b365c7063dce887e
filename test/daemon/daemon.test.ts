import { existsSync, realpathSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/loadServeConfig.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { Daemon } from '../../src/daemon/Daemon.ts';
import { smallFlow } from '../helpers/flows.ts';
import { spawn } from 'node:child_process';
import { serveProcess } from '../helpers/daemon.ts';
import { git, tempDir, tempRepo } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/waitFor.ts';

const BIN = resolve(import.meta.dirname, '../../bin/flowreg.js');
const V2 = '/api/v2/serve/awel';

function flowFiles(): Record<string, string> {
  return { 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }) };
}

/** Handles of the kinds a server leaves behind, counted. */
function openHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (/TCP|Pipe|FSEvent|StatWatcher|Timeout/.test(kind)) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

describe('Daemon', () => {
  it('serves a fresh folder (initialising the repository) and leaves no handle open after stop()', async () => {
    const dir = realpathSync(tempDir());
    const before = openHandles();
    const lines: string[] = [];
    const daemon = new Daemon({ config: loadServeConfig({ flags: { repo: dir, port: '0' }, env: {}, cwd: dir }), log: { write: (l) => lines.push(l) } });
    const addr = await daemon.start();
    expect(addr.host).toBe('127.0.0.1');
    expect(existsSync(join(dir, '.git'))).toBe(true);
    const res = await fetch(`${addr.url}${V2}/flows`);
    expect(await res.json()).toEqual({ success: true, err_code: null, err_msg: null, data: { items: [], total_count: 0, total_pages: 0, page: 1, page_size: 20 } });
    await daemon.stop();
    await daemon.stop(); // idempotent
    // closed handles leave the list on a later turn of the event loop; none may be left over
    const leftOver = (): string[] => Object.entries(openHandles()).filter(([kind, n]) => n > (before[kind] ?? 0)).map(([kind]) => kind);
    await waitFor(() => leftOver().length === 0, 2000).catch(() => undefined);
    expect(leftOver()).toEqual([]);
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(['listening', 'request', 'stopping', 'stopped']);
    await expect(fetch(`${addr.url}${V2}/health`)).rejects.toThrow();
  });

  it('refuses to start on a port in use, closing what it opened', async () => {
    const dir = realpathSync(tempDir());
    const first = new Daemon({ config: loadServeConfig({ flags: { repo: dir, port: '0', logLevel: 'silent' }, env: {}, cwd: dir }) });
    const { port } = await first.start();
    const second = new Daemon({ config: loadServeConfig({ flags: { repo: realpathSync(tempDir()), port: String(port), logLevel: 'silent' }, env: {}, cwd: dir }) });
    await expect(second.start()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    await first.stop();
  });
});

describe('flowreg serve', () => {
  it('starts with no configuration but the port, answers, and exits 0 on SIGINT', async () => {
    const dir = realpathSync(tempDir());
    const s = await serveProcess(dir, [], { FLOWREG_PORT: '0' });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.logs[0]).toMatchObject({ msg: 'listening', repo: dir, flowsDir: 'flows', auth: false });
    expect(await (await fetch(`${s.url}${V2}/health`)).json()).toEqual({ status: 'ok' });
    expect(existsSync(join(dir, '.git'))).toBe(true);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
    expect(s.logs.map((l) => l.msg)).toEqual(['listening', 'request', 'signal received', 'stopping', 'stopped']);
  });

  it('exits 0 on a SIGTERM that arrives as soon as it listens', async () => {
    const s = await serveProcess(realpathSync(tempDir()), ['--port', '0']);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    expect(s.logs.map((l) => l.msg)).toEqual(['listening', 'signal received', 'stopping', 'stopped']);
  });

  it('on SIGTERM finishes the write in flight (committed and answered), then exits 0', async () => {
    const repo = tempRepo(flowFiles());
    const s = await serveProcess(repo, ['--port', '0', '--api-keys', 'ci=k1']);
    const base = (await (await fetch(`${s.url}${V2}/flows/u-1`, { headers: { authorization: 'Bearer k1' } })).json()) as { data: Record<string, unknown> };
    const body = Buffer.from(JSON.stringify({ ...base.data, description: 'written while draining' }));
    const u = new URL(`${s.url}${V2}/flows/u-1`);
    const answer = new Promise<{ status: number; body: string }>((resolveAnswer, reject) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer k1' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      // half the body now: the request is in flight when the signal arrives
      req.write(body.subarray(0, 100));
      void (async () => {
        await new Promise((r) => setTimeout(r, 300));
        s.child.kill('SIGTERM');
        await waitFor(() => s.logs.some((l) => l.msg === 'stopping'));
        // the daemon no longer accepts connections, but the request in flight goes on
        await expect(fetch(`${s.url}${V2}/health`)).rejects.toThrow();
        req.end(body.subarray(100));
      })().catch(reject);
    });
    const res = await answer;
    expect(res.status, res.body).toBe(200);
    const written = JSON.parse(res.body) as { data: Record<string, unknown> };
    expect(written.data.description).toBe('written while draining');
    expect(await s.exit).toBe(0);
    expect(s.logs.find((l) => l.msg === 'stopping')).toMatchObject({ inflight: 1 });
    expect(s.logs.at(-1)).toMatchObject({ msg: 'stopped' });
    expect(git(repo, ['log', '-1', '--format=%an|%s'])).toBe('ci|update flow one (u-1)');
    expect(written.data.version).toBe(git(repo, ['rev-parse', 'HEAD']));
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    expect(existsSync(join(repo, '.git', 'index.lock'))).toBe(false);
  });

  it('exits 2 with a usage message on a bad option, before opening anything', async () => {
    const dir = realpathSync(tempDir());
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '99999'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toBe('flowreg: --port: expected a port number (an integer from 0 to 65535), got "99999"\n');
    expect(existsSync(join(dir, '.git'))).toBe(false);
  });
});
