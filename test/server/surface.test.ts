import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import type { Finding } from '../../src/core/types.ts';
import { ERROR_CODES, FlowregError, type ErrorCode } from '../../src/errors/index.ts';
import { API_PREFIXES, routeGroups } from '../../src/server/createApp.ts';
import { errorAnswer, validationMessage } from '../../src/server/errorAnswer.ts';
import { ERROR_TABLE } from '../../src/server/errorTable.ts';
import { openApiPath } from '../../src/server/openApiDocument.ts';
import { smallFlow } from '../helpers/flows.ts';
import { expectFailure, harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';

/** A concrete URL for a route template: `:uid` → u-1, `:id` → 1. */
function concrete(template: string): string {
  return template.replace(':uid', 'u-1').replace(':id', '1');
}

const ALL_ROUTES = routeGroups().flatMap((g) => g.routes.map((r) => ({ method: r.method, template: g.prefix + r.path, auth: r.auth })));

function files(): Record<string, string> {
  return { 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }) };
}

describe('auth', () => {
  it('requires a Bearer key on every route of both prefixes and the root, except /health and the signed webhook', async () => {
    const h = await harness({ files: files(), apiKeys: [{ name: 'ci', key: 'secret-1' }, { name: null, key: 'secret-2' }] });
    expect(ALL_ROUTES.length).toBe(2 * 26 + 4);
    for (const r of ALL_ROUTES) {
      const url = concrete(r.template);
      const call = (): request.Test => request(h.app)[r.method](url);
      const none = await call();
      const wrong = await call().set('Authorization', 'Bearer secret-3');
      const basic = await call().set('Authorization', 'Basic c2VjcmV0LTE=');
      const good = await call().set('Authorization', 'Bearer secret-2');
      if (!r.auth && r.template.endsWith('/sync/webhook')) {
        // authenticated by its HMAC signature, not by an API key: without a secret it refuses all
        for (const res of [none, wrong, good]) expect([res.status, expectFailure(res.body, '401')]).toEqual([401, expect.stringMatching(/^the webhook is disabled/)]);
        continue;
      }
      if (!r.auth) {
        expect(r.template.endsWith('/health')).toBe(true);
        for (const res of [none, wrong, good]) expect([res.status, res.body]).toEqual([200, { status: 'ok' }]);
        continue;
      }
      for (const res of [none, wrong, basic]) {
        expect([r.method, url, res.status]).toEqual([r.method, url, 401]);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(expectFailure(res.body, '401')).toMatch(/^a valid API key is required: /);
      }
      expect([r.method, url, good.status]).not.toEqual([r.method, url, 401]);
      expect(good.status).toBeLessThan(500);
    }
    // unknown routes too: no probing for routes without a key
    expect((await request(h.app).get(`${V2}/nope`)).status).toBe(401);
    expect((await request(h.app).get(`${V2}/nope`).set('Authorization', 'Bearer secret-1')).status).toBe(404);
  });

  it('leaves every route open without keys, as DB-GPT does by default', async () => {
    const h = await harness({ files: files() });
    for (const r of ALL_ROUTES.filter((x) => !x.template.endsWith('/sync/webhook'))) {
      const res = await request(h.app)[r.method](concrete(r.template));
      expect([r.method, r.template, res.status]).not.toEqual([r.method, r.template, 401]);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('OpenAPI document', () => {
  it('describes exactly the routes the express router has registered', async () => {
    const h = await harness();
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    const registered = new Set<string>();
    for (const layer of h.app.router.stack) {
      if (layer.route === undefined) continue;
      for (const inner of layer.route.stack) registered.add(`${inner.method.toUpperCase()} ${openApiPath(layer.route.path)}`);
    }
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    expect([...registered].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((d) => !registered.has(d))).toEqual([]);
    expect(registered.size).toBe(60);
    for (const prefix of API_PREFIXES) {
      for (const path of ['/flows', '/flows/{uid}', '/chat/flows', '/flow/export/{uid}', '/flow/import', '/flow/templates', '/nodes', '/nodes/refresh', '/variables', '/variables/{id}', '/variables/keys', '/flow/debug', '/flow/notebook/file/path', '/health', '/test_auth', '/sync', '/sync/webhook']) {
        expect(doc.paths).toHaveProperty([`${prefix}${path}`]);
      }
    }
    for (const schema of ['Flow', 'Result', 'PaginationResult', 'FlowData', 'FlowPage']) expect(doc.components.schemas).toHaveProperty([schema]);
    const create = doc.paths[`${V2}/flows`]?.post as { requestBody: unknown; responses: Record<string, unknown> };
    expect(Object.keys(create.responses)).toEqual(['200', '400', '401', '409', '413', '503']);
    expect(JSON.stringify(create.requestBody)).toContain('#/components/schemas/FlowRequest');
    const get = doc.paths[`${V2}/flows/{uid}`]?.get as { responses: Record<string, { headers?: object; content: object }> };
    expect(Object.keys(get.responses['200']?.content ?? {})).toEqual(['application/json', 'application/yaml']);
    expect(Object.keys(get.responses['200']?.headers ?? {})).toEqual(['ETag']);
    const metrics = doc.paths['/metrics']?.get as { responses: Record<string, { content: object }> };
    expect(Object.keys(metrics.responses['200']?.content ?? {})).toEqual(['text/plain']);
    const health = doc.paths[`${V2}/health`]?.get as { security: unknown[] };
    expect(health.security).toEqual([]);
    // every $ref points at a schema that exists
    for (const m of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)) expect(doc.components.schemas).toHaveProperty([m[1] as string]);
  });
});

describe('docs/api.md', () => {
  it('names every route with its method', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/api.md'), 'utf8');
    for (const group of routeGroups()) {
      for (const r of group.routes) {
        const path = openApiPath(r.path);
        // the path ends there (a backtick, a space or a query), so GET /flows is not found inside GET /flows/{uid}
        const named = new RegExp(`${`${r.method.toUpperCase()} ${path}`.replace(/[{}?/]/g, '\\$&')}[\`?\\s]`).test(doc);
        expect([r.method, path, named]).toEqual([r.method, path, true]);
      }
    }
  });
});

describe('metrics and logs', () => {
  it('exposes request and commit latency by route template, and flow gauges', async () => {
    const h = await harness({ files: files() });
    await request(h.app).get(`${V2}/flows/u-1`).expect(200);
    await request(h.app).get(`${V2}/flows/nope`).expect(404);
    await request(h.app).put(`${V2}/flows/u-1`).send({ uid: 'u-1', description: 'metered' }).expect(200);
    await request(h.app).get('/api/v1/serve/awel/unknown').expect(404);
    const res = await request(h.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(text).toContain('flowreg_http_request_duration_seconds_count{method="GET",route="/api/v2/serve/awel/flows/:uid",status="200"} 1');
    expect(text).toContain('flowreg_http_request_duration_seconds_count{method="GET",route="/api/v2/serve/awel/flows/:uid",status="404"} 1');
    expect(text).toContain('flowreg_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain('flowreg_commit_duration_seconds_count{operation="update",outcome="ok"} 1');
    expect(text).toContain('flowreg_commit_duration_seconds_bucket{le="10",operation="update",outcome="ok"} 1');
    expect(text).toMatch(/^flowreg_flows 1$/m);
    expect(text).toMatch(/^flowreg_flows_invalid 0$/m);
    expect(text).not.toContain('nope');
  });

  it('logs one JSON line per request with its id, also sent as X-Request-Id', async () => {
    const h = await harness({ files: files() });
    const res = await request(h.app).get(`${V2}/flows/u-1`).expect(200);
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const given = await request(h.app).get(`${V2}/flows`).set('X-Request-Id', 'trace-42').expect(200);
    expect(given.headers['x-request-id']).toBe('trace-42');
    const odd = await request(h.app).get(`${V2}/flows`).set('X-Request-Id', 'bad id with spaces').expect(200);
    expect(odd.headers['x-request-id']).not.toBe('bad id with spaces');
    const lines = h.logs.filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ reqId: id, method: 'GET', route: '/api/v2/serve/awel/flows/:uid', status: 200, level: 30 });
    expect(typeof lines[0]?.ms).toBe('number');
    expect(lines[1]).toMatchObject({ reqId: 'trace-42', route: '/api/v2/serve/awel/flows' });
  });
});

describe('error table', () => {
  it('maps every error code to an honest status and a DB-GPT err_code', () => {
    expect(Object.keys(ERROR_TABLE).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    const expected: Record<ErrorCode, [number, string]> = {
      INVALID_INPUT: [400, 'E0001'],
      FLOW_INVALID: [400, 'E0001'],
      FLOW_NOT_FOUND: [404, '404'],
      VERSION_NOT_FOUND: [404, '404'],
      FLOW_EXISTS: [409, '409'],
      NAME_TAKEN: [409, '409'],
      FLOW_NOT_EDITABLE: [403, '403'],
      VERSION_CONFLICT: [409, '409'],
      PRECONDITION_FAILED: [412, '412'],
      UNSAFE_PATH: [400, 'E0003'],
      REPO_BUSY: [409, '409'],
      FILE_MODIFIED: [409, '409'],
      REPO_LOCKED: [503, '503'],
      BRANCH_DIVERGED: [409, '409'],
      PUSH_REJECTED: [409, '409'],
      REMOTE_UNREACHABLE: [503, '503'],
      STORAGE_FULL: [507, '507'],
      STORAGE_READ_ONLY: [503, '503'],
      REPO_CORRUPT: [500, '500'],
      UNAUTHORIZED: [401, '401'],
      PAYLOAD_TOO_LARGE: [413, '413'],
      NOT_SUPPORTED: [400, 'E0003'],
      RUNTIME_UNAVAILABLE: [502, '502'],
      USAGE: [400, 'E0003'],
      INTERNAL: [500, '500'],
    };
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const a = errorAnswer(new FlowregError(code, `msg of ${code}`));
      expect([code, a.status, a.body.err_code]).toEqual([code, ...expected[code]]);
      expect(a.body.err_msg).toBe(`msg of ${code}`);
    }
    expect(errorAnswer(new FlowregError('REPO_LOCKED', 'x')).retryAfter).toBe(1);
  });

  it('writes validation findings in DB-GPT\'s loc:msg; form and turns unknown errors into a 500', () => {
    const f = (path: string, message: string, severity: Finding['severity'] = 'error'): Finding => ({ code: 'X', severity, path, file: '', line: 0, col: 0, message });
    const findings = [f('/flow_data/edges/0/target', 'edge "a|b" points at node "b", which does not exist'), f('/label', 'Field required'), f('/a~1b', 'odd key'), f('/x', 'only a warning', 'warning')];
    expect(validationMessage(findings)).toBe('body.flow_data.edges.0.target:edge "a|b" points at node "b", which does not exist;body.label:Field required;body.a/b:odd key;');
    const answer = errorAnswer(new FlowregError('FLOW_INVALID', 'invalid', { findings }));
    expect(answer.body.err_code).toBe('E0001');
    expect(answer.body.err_msg).toMatch(/^body\.flow_data\.edges\.0\.target:/);
    const many = Array.from({ length: 60 }, (_, i) => f(`/n${i}`, 'bad'));
    expect(validationMessage([f('/a', 'twice'), f('/a', 'twice')])).toBe('body.a:twice;');
    expect(validationMessage(many).endsWith('body.n49:bad;body:and 10 more findings;')).toBe(true);
    const crash = errorAnswer(new TypeError('x is undefined'));
    expect([crash.status, crash.internal, crash.body.err_code, crash.body.err_msg]).toEqual([500, true, '500', 'internal error: x is undefined']);
  });

  it('is the HTTP status column of docs/errors.md', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Errors\n'));
    for (const [code, row] of Object.entries(ERROR_TABLE)) {
      const line = section.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(line, code).toBeDefined();
      const status = (line as string).split(/(?<!\\)\|/).slice(-2, -1)[0]?.trim() ?? '';
      expect([code, status.startsWith(`${row.status}, `)]).toEqual([code, true]);
      expect([code, status.includes(row.errCode)]).toEqual([code, true]);
    }
  });
});
