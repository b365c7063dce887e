/**
 * The server side of the web app, in-process (test/web/web.test.ts drives the app in Chromium):
 * the app's files at `/` with index.html for its paths and the API winning, keys on every data
 * route but not on the shell, the list's search and filters, the change stream, and revert's If-Match.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiKey } from '../../src/config/parseApiKeys.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { createApp } from '../../src/server/createApp.ts';
import { FlowService } from '../../src/service/FlowService.ts';
import { GitStore } from '../../src/store/GitStore.ts';
import { smallFlow } from '../helpers/flows.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { tempDir } from '../helpers/tmp.ts';

const V2 = '/api/v2/serve/awel';
const KEY = 'web-key-0123456789';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function app(apiKeys: ApiKey[] = []) {
  const files: Record<string, string> = {};
  for (let i = 0; i < 30; i++) {
    const f = smallFlow(`u-${i}`, `flow_${i}`, { description: i % 3 === 0 ? 'about invoices' : 'other', state: i % 2 === 0 ? 'deployed' : 'initializing' });
    files[`flows/flow_${i}.yaml`] = formatFlow(f, { schemaRef: '../schemas/flow.schema.json' });
  }
  const repo = await inProcessRepo(files);
  const store = await GitStore.open({ dir: repo, durable: false });
  const service = new FlowService(store);
  const web = tempDir('flowreg-web-');
  mkdirSync(join(web, 'assets'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><div id="app"></div><script src="/assets/app-1.js"></script>');
  writeFileSync(join(web, 'assets/app-1.js'), 'console.log(1)');
  const a = createApp({ service, logger: pino({ level: 'silent' }), apiKeys, webRoot: web });
  closers.push(async () => {
    service.close();
    await store.close();
  });
  return { app: a, service };
}

describe('the web app at /', () => {
  it('serves its files and index.html for its own paths; the API wins; only the shell is open with keys', async () => {
    const { app: a } = await app([{ name: null, key: KEY }]);
    const root = await request(a).get('/').expect(200);
    expect(root.text).toContain('<div id="app">');
    expect(root.headers['cache-control']).toBe('no-cache');
    const asset = await request(a).get('/assets/app-1.js').expect(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await request(a).get('/flow/u-1/history').set('Accept', 'text/html').expect(200)).text).toContain('<div id="app">');
    // not HTML, a missing asset, the API: no shell
    expect((await request(a).get('/favicon.ico').set('Accept', 'image/*')).status).toBe(401);
    expect((await request(a).get('/assets/nope.js').set('Accept', 'text/html')).status).toBe(401);
    for (const path of ['/flows', '/web/flows', '/web/events', '/nope']) expect([path, (await request(a).get(`${V2}${path}`).set('Accept', 'text/html')).status]).toEqual([path, 401]);
    expect((await request(a).get(`${V2}/nope`).set('Authorization', `Bearer ${KEY}`)).status).toBe(404);
    expect((await request(a).get('/openapi.json').set('Accept', 'text/html')).status).toBe(401);
  });
});

describe('GET /web/flows', () => {
  it('searches, filters and pages, with the facets and the last commit', async () => {
    const { app: a } = await app();
    const all = (await request(a).get(`${V2}/web/flows?page_size=10`).expect(200)).body.data;
    expect([all.total_count, all.items.length, all.total_pages, all.states, all.quarantined_count]).toEqual([30, 10, 3, ['deployed', 'initializing'], 0]);
    expect(all.items[0].last_commit).toMatchObject({ version: expect.stringMatching(/^[0-9a-f]{40}$/), author: expect.any(String), message: expect.any(String) });
    const invoices = (await request(a).get(`${V2}/web/flows?q=INVOICES&page_size=100`).expect(200)).body.data;
    expect(invoices.total_count).toBe(10);
    const both = (await request(a).get(`${V2}/web/flows?q=invoices&state=deployed&page_size=100`).expect(200)).body.data;
    expect(both.items.map((f: { uid: string }) => f.uid).sort()).toEqual(['u-0', 'u-12', 'u-18', 'u-24', 'u-6']);
    expect((await request(a).get(`${V2}/web/flows?uid_like=x&quarantined=true`).expect(200)).body.data.total_count).toBe(0);
    expect((await request(a).get(`${V2}/web/flows?quarantined=maybe`)).status).toBe(400);
    expect((await request(a).get(`${V2}/web/flows?page=0`)).status).toBe(400);
  });
});

describe('GET /web/events', () => {
  it('streams one change event per batch of the store, with the uids', async () => {
    const { app: a } = await app();
    const server = http.createServer(a);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const abort = new AbortController();
    const res = await fetch(`${base}${V2}/web/events`, { signal: abort.signal });
    expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual([200, 'text/event-stream; charset=utf-8', 'no-cache, no-transform']);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp): Promise<RegExpExecArray> => {
      for (;;) {
        const m = pattern.exec(text);
        if (m) return m;
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += value;
      }
    };
    await until(/event: ready\n/);
    const put = await fetch(`${base}${V2}/flows/u-3`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ uid: 'u-3', description: 'changed' }) });
    expect(put.status).toBe(200);
    const m = await until(/event: change\ndata: (.*)\n\n/);
    expect(JSON.parse(m[1] as string)).toEqual({ uids: ['u-3'], source: 'write' });
    abort.abort();
  });
});

describe('POST /flows/{uid}/revert with If-Match', () => {
  it('answers 412 when the flow moved on, and reverts when the tag is current', async () => {
    const { app: a } = await app();
    const first = (await request(a).get(`${V2}/flows/u-1`).expect(200)).headers.etag as string;
    const put = await request(a).put(`${V2}/flows/u-1`).send({ uid: 'u-1', description: 'second' }).expect(200);
    const version = first.slice(1, -1);
    const stale = await request(a).post(`${V2}/flows/u-1/revert`).set('If-Match', first).send({ version });
    expect([stale.status, stale.body.err_code]).toEqual([412, '412']);
    const ok = await request(a).post(`${V2}/flows/u-1/revert`).set('If-Match', put.headers.etag as string).send({ version }).expect(200);
    expect(ok.body.data.description).toBe('other');
  });
});

describe('sync status in branch write mode', () => {
  it('lists the proposed branches the branch does not contain yet', async () => {
    const repo = await inProcessRepo({ 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }) });
    const store = await GitStore.open({ dir: repo, durable: false, writeMode: 'branch' });
    const service = new FlowService(store);
    closers.push(async () => {
      service.close();
      await store.close();
    });
    expect(store.status().pending).toEqual([]);
    const out = await service.update('u-1', { uid: 'u-1', description: 'proposed' }, { name: 'alice', email: 'alice@example.com' });
    expect(store.status().pending).toEqual([{ branch: out.branch, commit: out.commit, uid: 'u-1', name: 'one', time: expect.any(Number) }]);
    expect(out.branch).toMatch(/^flowreg\/one-[0-9a-f]{7}$/);
  });
});
