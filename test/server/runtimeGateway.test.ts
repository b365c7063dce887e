/**
 * flowreg as the gateway of DB-GPT runtimes: forwarding to real loopback upstreams (stand-ins for
 * DB-GPT webservers) through a listening flowreg, with a small fake RuntimeRouter.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import type { RuntimeFlowStatus, RuntimeRouter, RuntimeTarget } from '../../src/runtime/types.ts';
import { smallFlow } from '../helpers/flows.ts';
import { expectFailure, harness, type Harness } from './harness.ts';
import { listenLoopback } from '../helpers/loopback.ts';

const V2 = '/api/v2/serve/awel';
const CHAT = '/api/v2/chat/completions';
const RT_KEY = 'rt-secret-key-0123456789';
const FLOWREG_KEY = 'flowreg-key-abcdef';
const files = {
  'flows/one.yaml': formatFlow(smallFlow('u-1', 'one', { state: 'deployed' }), { schemaRef: '../schemas/flow.schema.json' }),
  'flows/two.yaml': formatFlow(smallFlow('u-2', 'two', { state: 'developing' }), { schemaRef: '../schemas/flow.schema.json' }),
};

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** What an upstream saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback HTTP server standing in for a DB-GPT webserver; `handle` answers after the body is read. */
async function upstream(handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  return { url: await listenLoopback(server, closers), seen, server };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

/** A RuntimeRouter over fixed targets: `live` maps a uid to the names it is live on; reportDown is recorded. */
function fakeRouter(targets: RuntimeTarget[], live: Record<string, string[]> = {}, statuses: Record<string, RuntimeFlowStatus[]> = {}): RuntimeRouter & { down: Array<[string, string]> } {
  const down: Array<[string, string]> = [];
  return {
    targets,
    down,
    liveOn: (uid) => (live[uid] ?? []).map((n) => targets.find((t) => t.name === n) as RuntimeTarget),
    statusOf: (uid) => statuses[uid] ?? targets.map((t) => ({ runtime: t.name, live: false, commit: null, metadata: null, error: null })),
    reportDown: (t, reason) => {
      down.push([t.name, reason]);
    },
  };
}

/** A listening flowreg over `h`. */
async function listen(h: Harness): Promise<string> {
  const server = http.createServer(h.app);
  return listenLoopback(server, closers);
}

/** A raw request to flowreg; resolves on the answer's head with the IncomingMessage (body unread). */
function send(base: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; req: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, agent: false });
    req.on('response', (res) => resolve({ res, req }));
    req.on('error', reject);
    req.end(body);
  });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

const sse = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;

describe('chat through the runtimes', () => {
  it('passes an SSE chat through byte for byte, each chunk as soon as the runtime writes it', async () => {
    // the runtime writes the next chunk only once the client has received the previous one: a
    // proxy that held anything back would stall this test
    const chunks = [
      sse({ id: 'c', choices: [{ index: 0, delta: { role: 'assistant' } }] }),
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hel',
      'lo ✓"}}]}\n\n',
      sse({ id: 'c', choices: [{ index: 0, delta: { content: ' world' } }] }),
      'data: [DONE]\n\n',
    ];
    let received: (() => void) | null = null;
    const rt = await upstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const c of chunks) {
        const got = new Promise<void>((r) => (received = r));
        res.write(c);
        await got;
      }
      res.end();
    });
    const router = fakeRouter([{ name: 'rt1', url: rt.url, apiKey: RT_KEY }], { 'u-1': ['rt1'] });
    const base = await listen(await harness({ files, runtimes: router }));
    const body = JSON.stringify({ model: 'm', messages: 'hi', chat_mode: 'chat_flow', chat_param: 'u-1', stream: true });
    const { res } = await send(base, 'POST', CHAT, body);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    const got: string[] = [];
    let pending = '';
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => {
        pending += c.toString('utf8');
        // one runtime chunk may arrive in more than one piece, never merged with the next
        if (pending === chunks[got.length]) {
          got.push(pending);
          pending = '';
          received?.();
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    expect(got).toEqual(chunks);
    expect(pending).toBe('');
    // the runtime got the chat as sent, with its own key
    expect(JSON.parse(rt.seen[0]?.body.toString() ?? '')).toEqual(JSON.parse(body));
    expect(rt.seen[0]?.headers.authorization).toBe(`Bearer ${RT_KEY}`);
    expect(rt.seen[0]?.url).toBe(CHAT);
    expect(router.down).toEqual([]);
  });

  it('stops the runtime\'s work when the client leaves mid-stream', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const rt = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse({ n: 0 }));
      const timer = setInterval(() => res.write(sse({ n: 1 })), 20);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed();
      });
    });
    const router = fakeRouter([{ name: 'rt1', url: rt.url, apiKey: null }], { 'u-1': ['rt1'] });
    const base = await listen(await harness({ files, runtimes: router }));
    const { res, req } = await send(base, 'POST', CHAT, JSON.stringify({ model: 'm', messages: 'hi', chat_mode: 'chat_flow', chat_param: 'u-1', stream: true }));
    await new Promise((r) => res.once('data', r));
    req.destroy();
    const t0 = Date.now();
    await closed;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(router.down).toEqual([]);
  });

  it('ends the client\'s event stream with a clear error when the runtime dies mid-answer', async () => {
    const rt = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': req.url?.includes('sse') || req.url?.includes('chat') ? 'text/event-stream' : 'application/json' });
      // half an event, then the runtime is gone
      res.write('data: {"id":"c","choices":[{"delta":{"content":"Hel');
      setTimeout(() => res.socket?.destroy(), 30);
    });
    const router = fakeRouter([{ name: 'rt1', url: rt.url, apiKey: null }], { 'u-1': ['rt1'] });
    const h = await harness({ files, runtimes: router });
    const base = await listen(h);
    const { res } = await send(base, 'POST', CHAT, JSON.stringify({ model: 'm', messages: 'hi', chat_mode: 'chat_flow', chat_param: 'u-1', stream: true }));
    const text = await readAll(res);
    const frames = text.split('\n\n').filter((f) => f !== '');
    expect(frames[0]).toBe('data: {"id":"c","choices":[{"delta":{"content":"Hel');
    expect(JSON.parse((frames[1] as string).slice(6))).toMatchObject({ error_code: 1, text: expect.stringMatching(/^rt1 closed the stream: /) });
    expect(frames[2]).toBe('data: [DONE]');
    expect(frames).toHaveLength(3);
    // anything else is cut off: the client sees a broken answer, not a complete one
    const other = await send(base, 'GET', '/api/v1/model/types');
    await expect(readAll(other.res)).rejects.toThrow(/aborted/);
    expect(h.logs.some((l) => l.msg === 'runtime closed a forwarded answer mid-stream' && l.runtime === 'rt1')).toBe(true);
  });

  it('fails over on a refused connection and a 503, reporting each down, and names every refusal when none answers', async () => {
    const dead = await closedPort();
    const busy = await upstream((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"detail":"overloaded"}');
    });
    const good = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices":[{"message":{"content":"ok"}}]}');
    });
    const targets = [
      { name: 'rt1', url: dead, apiKey: RT_KEY },
      { name: 'rt2', url: busy.url, apiKey: RT_KEY },
      { name: 'rt3', url: good.url, apiKey: RT_KEY },
    ];
    const router = fakeRouter(targets, { 'u-1': ['rt1', 'rt2', 'rt3'] });
    const h = await harness({ files, runtimes: router });
    const chat = { model: 'm', messages: 'hi', chat_mode: 'chat_flow', chat_param: 'u-1' };
    const ok = await request(h.app).post(CHAT).send(chat);
    expect([ok.status, ok.body]).toEqual([200, { choices: [{ message: { content: 'ok' } }] }]);
    expect(router.down).toEqual([
      ['rt1', 'ECONNREFUSED'],
      ['rt2', 'answered 503 Service Unavailable'],
    ]);
    expect(busy.seen).toHaveLength(1);
    expect(JSON.parse(good.seen[0]?.body.toString() ?? '')).toEqual(chat);

    // every runtime refusing: DB-GPT's error shapes, naming each runtime and why
    const none = fakeRouter(targets.slice(0, 2), { 'u-1': ['rt1', 'rt2'] });
    const h2 = await harness({ files, runtimes: none });
    const refused = await request(h2.app).post(CHAT).send(chat);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ object: 'error', code: 1, message: 'Flow u-1 is live on rt1, rt2, and no runtime answered: rt1: ECONNREFUSED; rt2: answered 503 Service Unavailable' });
    const streamed = await request(h2.app).post(CHAT).send({ ...chat, stream: true, conv_uid: 'c-9' });
    expect(streamed.status).toBe(200);
    const frames = streamed.text.split('\n\n').filter((f) => f !== '');
    expect(JSON.parse((frames[0] as string).slice(6))).toEqual({ id: 'c-9', model: 'm', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
    expect(JSON.parse((frames[1] as string).slice(6))).toMatchObject({ error_code: 1, text: expect.stringMatching(/rt1: ECONNREFUSED; rt2: answered 503/) });
    expect(frames[2]).toBe('data: [DONE]');
    // a forwarded route: 502 in the envelope
    const nodes = await request(h2.app).get(`${V2}/nodes`);
    expect(nodes.status).toBe(502);
    expect(expectFailure(nodes.body, '502')).toMatch(/^no runtime answered GET \/api\/v2\/serve\/awel\/nodes: rt\d: .*; rt\d: /);
  });

  it('says why a flow cannot be chatted with: no runtime, live on none (each runtime\'s word), every runtime down', async () => {
    const chat = { model: 'm', messages: 'hi', chat_mode: 'chat_flow', chat_param: 'u-1' };
    const plain = await harness({ files });
    const noRuntime = await request(plain.app).post(CHAT).send(chat);
    expect(noRuntime.status).toBe(400);
    expect(noRuntime.body.message).toMatch(/^Flow u-1's dag id not found: flowreg stores and versions flows, and no runtime is configured/);

    const targets = [
      { name: 'rt1', url: 'http://127.0.0.1:9', apiKey: null },
      { name: 'rt2', url: 'http://127.0.0.1:9', apiKey: null },
    ];
    const statuses = {
      'u-1': [
        { runtime: 'rt1', live: false, commit: 'abc', metadata: null, error: 'Operator x not registered (E0003)' },
        { runtime: 'rt2', live: false, commit: null, metadata: null, error: 'down: ECONNREFUSED' },
      ],
      'u-2': [
        { runtime: 'rt1', live: false, commit: null, metadata: null, error: null },
        { runtime: 'rt2', live: false, commit: null, metadata: null, error: null },
      ],
    };
    const h = await harness({ files, runtimes: fakeRouter(targets, {}, statuses) });
    const notLive = await request(h.app).post(CHAT).send(chat);
    expect([notLive.status, notLive.body]).toEqual([400, { object: 'error', code: 1, message: 'Flow u-1 is not live on any runtime: rt1: Operator x not registered (E0003); rt2: down: ECONNREFUSED' }]);
    const developing = await request(h.app).post(CHAT).send({ ...chat, chat_param: 'u-2' });
    expect(developing.body.message).toBe('Flow u-2 is not live on any runtime: its state is "developing", and only flows in state "deployed" are deployed to the runtimes (rt1: not deployed; rt2: not deployed)');
    const unknown = await request(h.app).post(CHAT).send({ ...chat, chat_param: 'nope' });
    expect(unknown.body).toEqual({ object: 'error', message: 'Flow nope not found', code: 1 });
    const allDown = { 'u-1': targets.map((t) => ({ runtime: t.name, live: false, commit: 'abc', metadata: null, error: 'down: ECONNREFUSED' })) };
    const h2 = await harness({ files, runtimes: fakeRouter(targets, {}, allDown) });
    expect((await request(h2.app).post(CHAT).send(chat)).body.message).toBe('Flow u-1 cannot be chatted with: every runtime is down (rt1: down: ECONNREFUSED; rt2: down: ECONNREFUSED)');
    // validation is flowreg's, before any runtime
    const bad = await request(h.app).post(CHAT).send({ messages: 'hi' });
    expect(expectFailure(bad.body, 'E0001')).toBe('body.model:Field required;');
  });

  it('forwards other chat modes to the first runtime that answers', async () => {
    const rt = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    const router = fakeRouter([{ name: 'rt1', url: await closedPort(), apiKey: null }, { name: 'rt2', url: rt.url, apiKey: null }]);
    const h = await harness({ files, runtimes: router });
    const res = await request(h.app).post(CHAT).send({ model: 'm', messages: 'hi', chat_mode: 'chat_normal' });
    expect([res.status, res.body]).toEqual([200, { ok: true }]);
    expect(router.down).toEqual([['rt1', 'ECONNREFUSED']]);
    // rt1 refused a moment ago: it is tried last now
    await request(h.app).post(CHAT).send({ model: 'm', messages: 'again', chat_mode: 'chat_normal' }).expect(200);
    expect(router.down).toHaveLength(1);
    const plain = await harness({ files });
    expect((await request(plain.app).post(CHAT).send({ model: 'm', messages: 'hi' })).body.message).toMatch(/^flowreg serves flows only: chat_mode "chat_normal" needs DB-GPT itself \(no runtime is configured\)/);
  });

  it('serves the web UI\'s /api/v1/chat/completions: forwarded by select_param\'s liveness, errors in its event-stream shape', async () => {
    const rt = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"id": "cv", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}], "usage": {}}\n\n');
    });
    const other = await upstream((_req, res) => res.end('wrong runtime'));
    const router = fakeRouter([{ name: 'rt1', url: other.url, apiKey: null }, { name: 'rt2', url: rt.url, apiKey: null }], { 'u-1': ['rt2'] });
    const h = await harness({ files, runtimes: router });
    const ui = { chat_mode: 'chat_flow', select_param: 'u-1', user_input: 'hello', conv_uid: 'cv', model_name: 'm' };
    const res = await request(h.app).post('/api/v1/chat/completions').send(ui);
    expect(res.status).toBe(200);
    expect(res.text).toContain('"content": "hi"');
    expect(rt.seen[0]?.url).toBe('/api/v1/chat/completions');
    expect(JSON.parse(rt.seen[0]?.body.toString() ?? '')).toEqual(ui);
    expect(other.seen).toHaveLength(0);
    const notLive = await request(h.app).post('/api/v1/chat/completions').send({ ...ui, select_param: 'u-2' });
    expect([notLive.status, notLive.headers['content-type']]).toEqual([200, expect.stringMatching(/^text\/event-stream/)]);
    const chunk = JSON.parse(notLive.text.trim().slice(6)) as { id: string; model: string; choices: Array<{ message: { content: string } }> };
    expect(chunk).toMatchObject({ id: 'cv', model: 'm' });
    expect(chunk.choices[0]?.message.content).toMatch(/^\[SERVER_ERROR\]Flow u-2 is not live on any runtime/);
    // without runtimes: the v2 answer for "no runtime configured", in this route's shape
    const plain = await harness({ files });
    const alone = await request(plain.app).post('/api/v1/chat/completions').send(ui);
    expect(alone.status).toBe(200);
    expect((JSON.parse(alone.text.trim().slice(6)) as typeof chunk).choices[0]?.message.content).toMatch(/^\[SERVER_ERROR\]Flow u-1's dag id not found: flowreg stores and versions flows, and no runtime is configured/);
  });
});

describe('forwarding mechanics', () => {
  it('sends the runtime\'s key instead of flowreg\'s, drops hop-by-hop headers, and never shows the key', async () => {
    const rt = await upstream((req, res) => {
      if (req.url?.startsWith('/busy')) {
        res.writeHead(503);
        res.end(`busy ${String(req.headers.authorization)}`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', 'access-control-allow-origin': '*', 'x-runtime': 'yes' });
      res.end('{"ok":true}');
    });
    const router = fakeRouter([{ name: 'rt1', url: rt.url, apiKey: RT_KEY }]);
    const h = await harness({ files, runtimes: router, apiKeys: [{ name: null, key: FLOWREG_KEY }] });
    const base = await listen(h);
    const { res } = await send(base, 'GET', '/api/v1/model/types?x=1&y=%2F', undefined, {
      authorization: `Bearer ${FLOWREG_KEY}`,
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'no',
      te: 'trailers',
      'user-id': 'u',
      'x-request-id': 'trace-7',
    });
    expect(await readAll(res)).toBe('{"ok":true}');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-runtime']).toBe('yes');
    expect(res.headers['x-hop']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['x-request-id']).toBe('trace-7');
    const seen = rt.seen[0] as Seen;
    expect(seen.url).toBe('/api/v1/model/types?x=1&y=%2F');
    expect(seen.headers.authorization).toBe(`Bearer ${RT_KEY}`);
    expect(seen.headers.host).toBe(new URL(rt.url).host);
    expect(seen.headers['user-id']).toBe('u');
    expect(seen.headers['x-request-id']).toBe('trace-7');
    for (const hop of ['x-secret-hop', 'te']) expect(seen.headers[hop]).toBeUndefined();
    // flowreg's own key is checked first, and never reaches the runtime
    expect((await request(h.app).get('/api/v1/model/types')).status).toBe(401);
    expect(rt.seen).toHaveLength(1);
    // a runtime without a key gets no Authorization at all
    const open = await harness({ files, runtimes: fakeRouter([{ name: 'rt1', url: rt.url, apiKey: null }]) });
    await request(open.app).get('/api/v1/model/types').set('Authorization', `Bearer ${FLOWREG_KEY}`).expect(200);
    expect(rt.seen[1]?.headers.authorization).toBeUndefined();
    // refusals, their answers and the logs never carry the runtime's key
    const busy = await request(h.app).get('/busy').set('Authorization', `Bearer ${FLOWREG_KEY}`);
    expect(busy.status).toBe(502);
    const everything = JSON.stringify([busy.body, busy.headers, h.logs, router.down]);
    expect(everything).toContain('answered 503');
    expect(everything).not.toContain(RT_KEY);
    expect(everything).not.toContain(FLOWREG_KEY);
  });

  it('forwards every route flowreg does not own, and the canvas routes, under both prefixes; uploads stream', async () => {
    const rt = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: true, err_code: null, err_msg: null, data: { from: 'runtime', url: req.url } }));
    });
    const router = fakeRouter([{ name: 'rt1', url: rt.url, apiKey: null }]);
    const h = await harness({ files, runtimes: router });
    const fromRuntime = async (method: 'get' | 'post' | 'put' | 'delete', path: string, body?: object): Promise<void> => {
      const call = request(h.app)[method](path);
      const res = await (body === undefined ? call : call.send(body));
      expect([method, path, res.status, res.body.data]).toEqual([method, path, 200, { from: 'runtime', url: path }]);
    };
    for (const prefix of [V2, '/api/v1/serve/awel']) {
      await fromRuntime('get', `${prefix}/nodes?tags=%7B%7D`);
      await fromRuntime('post', `${prefix}/nodes/refresh`, { id: 'operator_x', flow_type: 'operator', type_name: 'X', type_cls: 'a.X', refresh: [] });
      await fromRuntime('get', `${prefix}/variables?key=k`);
      await fromRuntime('get', `${prefix}/variables/keys`);
      await fromRuntime('post', `${prefix}/variables`, { key: 'k', name: 'n', value: 'v' });
      await fromRuntime('put', `${prefix}/variables/3`, { key: 'k', name: 'n', value: 'w' });
      await fromRuntime('delete', `${prefix}/variables/3`);
      await fromRuntime('post', `${prefix}/flow/debug`, { flow: {} });
    }
    for (const path of ['/api/v1/model/types', '/api/v1/chat/dialogue/list', '/api/v2/serve/file/files/metadata?bucket=b&file_id=f']) await fromRuntime('get', path);
    await fromRuntime('post', '/api/v1/chat/dialogue/new?chat_mode=chat_normal&model_name=m');
    // a JSON body reaches the runtime as sent
    expect(JSON.parse(rt.seen.find((s) => s.url === `${V2}/nodes/refresh`)?.body.toString() ?? '')).toMatchObject({ id: 'operator_x' });
    // the canvas editor's upload (POST /api/v2/serve/file/files/{bucket}, field "files") streams through unchanged
    const upload = Buffer.concat([Buffer.from('binary:'), Buffer.from([0, 1, 2, 255, 254]), Buffer.alloc(300_000, 7)]);
    const up = await request(h.app).post('/api/v2/serve/file/files/dbgpt').attach('files', upload, 'data.bin');
    expect(up.status).toBe(200);
    const seenUpload = rt.seen.at(-1) as Seen;
    expect(seenUpload.url).toBe('/api/v2/serve/file/files/dbgpt');
    expect(seenUpload.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seenUpload.body.includes(upload)).toBe(true);
    // flowreg's own routes stay flowreg's: flows are never written on a runtime behind git's back
    await request(h.app).get(`${V2}/flows/u-1`).expect(200);
    expect((await request(h.app).get(`${V2}/flows`).expect(200)).body.data.total_count).toBe(2);
    const forwardedBefore = rt.seen.length;
    const sneaky = [['put', `${V2}/%66lows`], ['put', `/api/v2/serve//awel/flows/`], ['put', `${V2}/x/../flows`], ['put', `/API/v2/serve/awel/Flows`], ['put', `${V2}/runtimes`], ['get', `${V2}/%E0%A4%A`]] as const;
    for (const [method, path] of [['put', `${V2}/flows`], ['patch', `${V2}/flows/u-1`], ['get', `${V2}/flow/templates/abc`], ['post', '/openapi.json'], ...sneaky] as const) {
      const res = await request(h.app)[method](path).send({});
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect(rt.seen.slice(forwardedBefore)).toEqual([]);
    const log = h.logs.find((l) => l.msg === 'request' && l.route === 'forwarded');
    expect(log).toMatchObject({ runtime: 'rt1', status: 200 });
  });

  it('forwards nothing without a runtime: flowreg answers as before', async () => {
    const h = await harness({ files });
    const missing = await request(h.app).get('/api/v1/model/types');
    expect(missing.status).toBe(404);
    expect(expectFailure(missing.body, '404')).toMatch(/^no route GET \/api\/v1\/model\/types/);
    expect((await request(h.app).get(`${V2}/variables/keys`).expect(200)).body.data).toEqual([]);
    expect(expectFailure((await request(h.app).post(`${V2}/flow/debug`).send({})).body, 'E0003')).toMatch(/not supported by flowreg/);
    expect((await request(h.app).get(`${V2}/nodes`).expect(200)).body.data.length).toBeGreaterThan(0);
    expect((await request(h.app).post('/api/v2/serve/file/files/dbgpt').attach('files', Buffer.from('x'), 'x.txt')).status).toBe(404);
  });

  it('retries a request once on a fresh connection when the runtime closed a kept-alive one, without reporting it down', async () => {
    const served = new WeakMap<Socket, number>();
    const rt = await upstream((req, res) => {
      const socket = req.socket;
      const n = (served.get(socket) ?? 0) + 1;
      served.set(socket, n);
      // a second request on a connection: the runtime had closed it (as after its keep-alive timeout)
      if (n > 1) {
        socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"n":1}');
    });
    const router = fakeRouter([{ name: 'rt1', url: rt.url, apiKey: null }]);
    const h = await harness({ files, runtimes: router });
    for (let i = 0; i < 3; i++) expect((await request(h.app).get('/api/v1/model/types')).body).toEqual({ n: 1 });
    expect(router.down).toEqual([]);
    // the second and third each met a closed connection first
    expect(rt.seen).toHaveLength(5);
  });
});
