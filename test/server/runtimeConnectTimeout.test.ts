/**
 * A runtime that never accepts the connection counts as refused after the connect timeout, and
 * the next runtime answers. The silent runtime is a listener with a backlog of one that never
 * accepts (python3: node accepts every connection), its one slot taken: further connects hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeRouter, RuntimeTarget } from '../../src/runtime/types.ts';
import { RuntimeProxy } from '../../src/server/runtimeProxy.ts';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A port whose listener never accepts, its backlog full: a connect there hangs. */
async function silentPort(): Promise<number> {
  const py: ChildProcess = spawn('python3', ['-c', "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => py.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    py.once('error', reject);
  });
  // take the one slot of the backlog
  for (let i = 0; i < 2; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    cleanup.push(() => s.destroy());
  }
  await new Promise((r) => setTimeout(r, 100));
  return port;
}

describe('connect timeout', () => {
  it('counts a runtime that does not accept within the timeout as refused, and fails over', async () => {
    const port = await silentPort();
    const good = http.createServer((_req, res) => res.end('from rt2'));
    await new Promise<void>((r) => good.listen(0, '127.0.0.1', r));
    cleanup.push(() => good.close());
    const targets: RuntimeTarget[] = [
      { name: 'rt1', url: `http://127.0.0.1:${port}`, apiKey: 'k-1234567890' },
      { name: 'rt2', url: `http://127.0.0.1:${(good.address() as AddressInfo).port}`, apiKey: null },
    ];
    const down: Array<[string, string]> = [];
    const router: RuntimeRouter = { targets, liveOn: () => targets, statusOf: () => [], reportDown: (t, r) => void down.push([t.name, r]) };
    const proxy = new RuntimeProxy(router, pino({ level: 'silent' }), { connectTimeout: 300 });
    cleanup.push(() => proxy.close());
    const app = express();
    app.use(async (req, res) => {
      const out = await proxy.forward(req, res, { targets, body: Buffer.alloc(0) });
      if (!out.answered) res.status(502).end(out.refusals.map((r) => `${r.target.name}: ${r.reason}`).join('; '));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    cleanup.push(() => server.close());
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/model/types`);
    expect(await res.text()).toBe('from rt2');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(down).toEqual([['rt1', 'no connection within 300 ms']]);
  });
});
