/** CORS headers as browsers read them (test/server/corsBrowser.test.ts checks them from a real browser). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import type { RuntimeRouter } from '../../src/runtime/types.ts';
import { smallFlow } from '../helpers/flows.ts';
import { harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';
const ALLOWED = 'http://localhost:3000';
const KEY = 'cors-key-123456';
const files = { 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }) };

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('CORS', () => {
  it('answers a preflight on any path without a key: the origin, methods, the headers asked for, max age', async () => {
    const h = await harness({ files, corsOrigins: [ALLOWED, 'https://ui.example.com'], apiKeys: [{ name: null, key: KEY }] });
    for (const path of [`${V2}/flows`, `${V2}/flows/u-1`, '/api/v1/model/types', '/anything']) {
      const res = await request(h.app).options(path).set('Origin', ALLOWED).set('Access-Control-Request-Method', 'PUT').set('Access-Control-Request-Headers', 'user-id, authorization, content-type');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      expect(res.headers['access-control-allow-headers']).toBe('user-id, authorization, content-type');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
    }
    const other = await request(h.app).options(`${V2}/flows`).set('Origin', 'http://evil.test').set('Access-Control-Request-Method', 'GET');
    expect(other.status).toBe(204);
    expect(Object.keys(other.headers).filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });

  it('marks every answer to an allowed origin, errors included, and none to another origin', async () => {
    const h = await harness({ files, corsOrigins: [ALLOWED], apiKeys: [{ name: null, key: KEY }] });
    const ok = await request(h.app).get(`${V2}/flows/u-1`).set('Origin', ALLOWED).set('Authorization', `Bearer ${KEY}`).expect(200);
    expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(ok.headers['access-control-expose-headers']).toBe('ETag, X-Request-Id, Content-Disposition');
    expect(ok.headers.vary).toMatch(/\bOrigin\b/);
    const denied = await request(h.app).get(`${V2}/flows`).set('Origin', ALLOWED).expect(401);
    expect(denied.headers['access-control-allow-origin']).toBe(ALLOWED);
    const other = await request(h.app).get(`${V2}/flows/u-1`).set('Origin', 'http://evil.test').set('Authorization', `Bearer ${KEY}`).expect(200);
    expect(Object.keys(other.headers).filter((k) => k.startsWith('access-control-'))).toEqual([]);
    // no Origin (curl, dbgpt_client): nothing changes
    const plain = await request(h.app).get(`${V2}/flows`).set('Authorization', `Bearer ${KEY}`).expect(200);
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers * only when * is configured', async () => {
    const h = await harness({ files, corsOrigins: ['*'] });
    const res = await request(h.app).get(`${V2}/flows`).set('Origin', 'http://any.test').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const pre = await request(h.app).options(`${V2}/flows`).set('Origin', 'http://any.test').set('Access-Control-Request-Method', 'GET').expect(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
  });

  it('has no CORS without origins configured: a preflight is an unknown route as before', async () => {
    const h = await harness({ files, apiKeys: [{ name: null, key: KEY }] });
    const pre = await request(h.app).options(`${V2}/flows`).set('Origin', ALLOWED).set('Access-Control-Request-Method', 'GET');
    expect(pre.status).toBe(401);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers for a runtime\'s answer with flowreg\'s CORS rules, not the runtime\'s', async () => {
    const rt = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', vary: 'Accept-Encoding' });
      res.end('{"data":["m"]}');
    });
    await new Promise<void>((r) => rt.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => rt.close(() => r())));
    const target = { name: 'rt1', url: `http://127.0.0.1:${(rt.address() as AddressInfo).port}`, apiKey: null };
    const router: RuntimeRouter = { targets: [target], liveOn: () => [target], statusOf: () => [], reportDown: () => undefined };
    const h = await harness({ files, corsOrigins: [ALLOWED], runtimes: router });
    const allowed = await request(h.app).get('/api/v1/model/types').set('Origin', ALLOWED).expect(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(allowed.headers.vary).toBe('Origin, Accept-Encoding');
    const other = await request(h.app).get('/api/v1/model/types').set('Origin', 'http://evil.test').expect(200);
    expect(Object.keys(other.headers).filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });
});
