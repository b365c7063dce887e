/**
 * The bad-input suite: hundreds of generated requests that are wrong in one way each. None may
 * answer 5xx; every refusal is DB-GPT's envelope with a message saying what is wrong, leaves HEAD,
 * the index and every working file as they were, and no request writes a file outside flows/.
 * Each case is checked in-process; native git checks each batch of cases (one `it`) as a whole:
 * `git status` as at the start, HEAD as read in-process, and a clean `git fsck`.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import git from 'isomorphic-git';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { parseYaml } from '../../src/core/parseYaml.ts';
import { corpusFlow, smallFlow } from '../helpers/flows.ts';
import { git as nativeGit } from '../helpers/tmp.ts';
import { expectFailure, harness, treeFiles, type Harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';
const V1 = '/api/v1/serve/awel';
const KEY = 'the-key';
const LIMIT = 256 * 1024;

/** One request that is wrong in one way. */
interface Case {
  name: string;
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  path: string;
  /** An object is sent as JSON; a string or Buffer as is, with `type`. */
  body?: unknown;
  type?: string;
  headers?: Record<string, string>;
  /** Multipart upload: [field, content, filename]. */
  attach?: [string, Buffer, string];
  fields?: Record<string, string>;
  /** Statuses allowed; default any 4xx. */
  status?: number | number[];
  /** What err_msg must say. */
  msg?: RegExp;
  /** true: the request may also be accepted (2xx), e.g. an odd but valid uid. */
  mayPass?: boolean;
}

let h: Harness;
let counter = 0;
const seen = { total: 0, refused: 0, passed: 0 };

function validBody(name: string): Record<string, unknown> {
  counter++;
  return { ...(smallFlow(`bad-${counter}`, name) as unknown as Record<string, unknown>) };
}

/** What a case may not change, read in-process: HEAD, the index file, every working file's content. */
interface State {
  head: string;
  index: string;
  /** Working tree path (outside .git) → sha1 of its content. */
  files: Map<string, string>;
}

const sha1 = (data: Buffer): string => createHash('sha1').update(data).digest('hex');

async function state(repo: string): Promise<State> {
  const files = new Map<string, string>();
  for (const f of treeFiles(repo)) files.set(f, sha1(readFileSync(join(repo, f))));
  return { head: await git.resolveRef({ fs, dir: repo, ref: 'HEAD' }), index: sha1(readFileSync(join(repo, '.git', 'index'))), files };
}

/** What native git says of the repository: HEAD, `git status` (untracked files too), `git fsck`. */
function nativeState(repo: string): { head: string; status: string; fsck: string } {
  return {
    head: nativeGit(repo, ['rev-parse', 'HEAD']),
    status: nativeGit(repo, ['status', '--porcelain', '--untracked-files=all']),
    fsck: nativeGit(repo, ['fsck', '--full', '--strict', '--no-progress', '--no-dangling']),
  };
}

/** Sends one case and returns what is wrong with the answer (empty: nothing). */
async function run(c: Case): Promise<{ problems: string[]; accepted: boolean }> {
  const before = await state(h.repo);
  let req = request(h.app)[c.method](c.path);
  req = req.set('Authorization', `Bearer ${KEY}`);
  for (const [k, v] of Object.entries(c.headers ?? {})) req = req.set(k, v);
  if (c.attach !== undefined) {
    for (const [k, v] of Object.entries(c.fields ?? {})) req = req.field(k, v);
    req = req.attach(c.attach[0], c.attach[1], c.attach[2]);
  } else if (c.body !== undefined) {
    if (typeof c.body === 'string' || Buffer.isBuffer(c.body)) req = req.set('Content-Type', c.type ?? 'application/json').send(c.body);
    else req = req.send(c.body as object);
  }
  const res = await req;
  const after = await state(h.repo);
  seen.total++;
  const label = `${c.name}: ${c.method.toUpperCase()} ${c.path.slice(0, 120)} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
  const problems: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) problems.push(`${what} | ${label}`);
  };
  check(res.status < 500, 'a 5xx');
  // nothing outside flows/ appears or disappears, whatever the answer
  const paths = new Set([...before.files.keys(), ...after.files.keys()]);
  const changed = [...paths].filter((f) => before.files.get(f) !== after.files.get(f)).sort();
  check(changed.every((f) => f.startsWith('flows/')), `files changed outside flows/: ${changed.join(', ')}`);
  if (res.status >= 200 && res.status < 300) {
    check(c.mayPass === true, 'accepted');
    seen.passed++;
    return { problems, accepted: true };
  }
  seen.refused++;
  const allowed = c.status === undefined ? null : Array.isArray(c.status) ? c.status : [c.status];
  check(allowed === null ? res.status >= 400 : allowed.includes(res.status), `status not in ${JSON.stringify(allowed)}`);
  const body = res.body as Record<string, unknown>;
  check(JSON.stringify(Object.keys(body ?? {})) === '["success","err_code","err_msg","data"]' && body.success === false && body.data === null, 'not the failure envelope');
  const msg = typeof body?.err_msg === 'string' ? body.err_msg : '';
  check(msg.trim() !== '' && !msg.startsWith('internal error'), 'no message');
  if (c.msg !== undefined) check(c.msg.test(msg), `message does not match ${String(c.msg)}`);
  check(after.head === before.head, 'HEAD moved');
  check(after.index === before.index, 'the index changed');
  check(changed.length === 0, `files written: ${changed.join(', ')}`);
  return { problems, accepted: false };
}

/**
 * Runs the cases in order as one batch and fails with every problem found: each case's own (see
 * run), then native git's view of the whole batch. `git status` (untracked files included) must be
 * as before the batch, whatever was accepted; HEAD must be where the in-process reading saw it
 * last, and where it was before the batch unless a case was accepted; `git fsck` must be clean.
 */
async function runAll(cases: Case[]): Promise<void> {
  const start = nativeState(h.repo);
  const problems: string[] = [];
  let accepted = 0;
  for (const c of cases) {
    const r = await run(c);
    problems.push(...r.problems);
    if (r.accepted) accepted++;
  }
  const end = nativeState(h.repo);
  const last = await state(h.repo);
  if (end.status !== start.status) problems.push(`batch: git status changed from ${JSON.stringify(start.status)} to ${JSON.stringify(end.status)}`);
  if (end.head !== last.head) problems.push(`batch: git rev-parse HEAD is ${end.head}, read in-process as ${last.head}`);
  if (accepted === 0 && end.head !== start.head) problems.push(`batch: HEAD moved from ${start.head} to ${end.head} with no case accepted`);
  if (end.fsck !== '') problems.push(`batch: git fsck says ${end.fsck}`);
  expect(problems).toEqual([]);
}

const EVIL = [
  '../x',
  '../../etc/passwd',
  '/etc/passwd',
  'a\u0000b',
  'a/b',
  'a\\b',
  '..',
  '.',
  'flows/../../x',
  'ａｄｍｉｎ', // fullwidth
  'аdmin', // Cyrillic а
  'one\u200b', // zero-width space
  'a\nb',
  ' lead',
  'x'.repeat(300),
  '%2e%2e%2fx',
  '.git',
];

beforeAll(async () => {
  h = await harness({
    files: { 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }), 'README.md': 'repo\n' },
    apiKeys: [{ name: null, key: KEY }],
    bodyLimit: LIMIT,
  });
});

describe('bad input never causes a 5xx and never writes', () => {
  it('wrong types for every top-level field of a flow (POST and PUT)', async () => {
    const cases: Case[] = [];
    const fields: Record<string, unknown[]> = {
      uid: [42, true, [1], { a: 1 }],
      name: [42, false, ['x'], { a: 1 }],
      label: [42, true, [], { a: 1 }],
      description: [42, true, ['d'], { a: 1 }],
      flow_category: [42, true, [], 'no_such_category'],
      state: [42, true, [], 'published'],
      editable: ['maybe', 42, [], { a: 1 }],
      define_type: [42, true, [], { a: 1 }],
      source: [42, true, [], { a: 1 }],
      source_url: [42, true, [], { a: 1 }],
      user_name: [42, true, [], { a: 1 }],
      sys_code: [42, true, [], { a: 1 }],
      dag_id: [42, true, [], { a: 1 }],
      authors: ['me', 42, { a: 1 }, [1, 2]],
      variables: ['v', 42, { a: 1 }, [1], [{ key: 'k' }]],
      flow_data: ['data', 42, true, [], { nodes: [] }],
    };
    // flow_category is recomputed from the graph and dag_id is set by the server (both as DB-GPT
    // does), so the service ignores what a body sends for them.
    const ignored = new Set(['flow_category', 'dag_id']);
    for (const [field, values] of Object.entries(fields)) {
      for (const v of values) {
        const mayPass = ignored.has(field);
        cases.push({ name: `POST ${field}=${JSON.stringify(v)}`, method: 'post', path: `${V2}/flows`, body: { ...validBody(`typed_${counter}`), [field]: v }, status: 400, msg: new RegExp(`^body\\.${field}[.:]`), mayPass });
        cases.push({ name: `PUT ${field}=${JSON.stringify(v)}`, method: 'put', path: `${V1}/flows/u-1`, body: { ...(smallFlow('u-1', 'one') as unknown as Record<string, unknown>), [field]: v }, status: 400, msg: new RegExp(`^body\\.${field}[.:]`), mayPass });
      }
    }
    await runAll(cases);
    // no upper bound on page_size, as in DB-GPT (its app editor asks for 10000)
    for (const list of ['/flows', '/chat/flows', '/flow/templates', '/flows/u-1/versions', '/variables?key=k&']) {
      const sep = list.includes('?') ? '' : '?';
      const big = await request(h.app).get(`${V2}${list}${sep}page_size=100000`).set('Authorization', `Bearer ${KEY}`);
      expect([list, big.status, big.body.data?.page_size]).toEqual([list, 200, 100000]);
    }
    // a page is built per item there is, never per page_size: the largest page_size answers at once
    const huge = await request(h.app).get(`${V2}/flows?page_size=999999999999999&page=999999999999999`).set('Authorization', `Bearer ${KEY}`).expect(200);
    expect(huge.body.data).toMatchObject({ items: [], page: 999999999999999, page_size: 999999999999999, total_pages: 1 });
    const listed = await request(h.app).get(`${V2}/flows`).query({ page_size: 10000 }).set('Authorization', `Bearer ${KEY}`).expect(200);
    for (const f of listed.body.data.items as Array<Record<string, unknown>>) {
      for (const field of ['uid', 'name', 'label', 'dag_id']) expect(typeof f[field]).toBe('string');
      expect(['common', 'chat_flow', 'chat_agent', null]).toContain(f.flow_category);
    }
  });

  it('wrong types and missing keys inside flow_data', async () => {
    const mutate = (f: (fd: Record<string, unknown>) => void): Record<string, unknown> => {
      const body = validBody(`nested_${counter}`);
      const fd = structuredClone(body.flow_data) as Record<string, unknown>;
      f(fd);
      return { ...body, flow_data: fd };
    };
    const node = (fd: Record<string, unknown>): Record<string, unknown> => (fd.nodes as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    const edge = (fd: Record<string, unknown>): Record<string, unknown> => (fd.edges as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    const muts: Array<[string, (fd: Record<string, unknown>) => void]> = [
      ['nodes string', (fd) => (fd.nodes = 'x')],
      ['nodes object', (fd) => (fd.nodes = {})],
      ['nodes null', (fd) => (fd.nodes = null)],
      ['nodes missing', (fd) => delete fd.nodes],
      ['nodes empty', (fd) => (fd.nodes = [])],
      ['edges string', (fd) => (fd.edges = 'x')],
      ['edges missing', (fd) => delete fd.edges],
      ['viewport list', (fd) => (fd.viewport = [])],
      ['viewport missing', (fd) => delete fd.viewport],
      ['viewport x string', (fd) => (fd.viewport = { x: 'a', y: 0 })],
      ['node number', (fd) => ((fd.nodes as unknown[])[0] = 1)],
      ['node list', (fd) => ((fd.nodes as unknown[])[0] = [])],
      ['width string', (fd) => (node(fd).width = 'wide')],
      ['width float', (fd) => (node(fd).width = 1.5)],
      ['width missing', (fd) => delete node(fd).width],
      ['height null', (fd) => (node(fd).height = null)],
      ['id number', (fd) => (node(fd).id = 7)],
      ['id missing', (fd) => delete node(fd).id],
      ['position string', (fd) => (node(fd).position = 'here')],
      ['position x string', (fd) => (node(fd).position = { x: 'a', y: 0 })],
      ['position_absolute missing', (fd) => delete node(fd).position_absolute],
      ['data number', (fd) => (node(fd).data = 1)],
      ['data empty', (fd) => (node(fd).data = {})],
      ['data flow_type unknown', (fd) => (node(fd).data = { ...(node(fd).data as object), flow_type: 'widget' })],
      ['data flow_type missing', (fd) => delete (node(fd).data as Record<string, unknown>).flow_type],
      ['data parameters string', (fd) => ((node(fd).data as Record<string, unknown>).parameters = 'p')],
      ['data inputs object', (fd) => ((node(fd).data as Record<string, unknown>).inputs = {})],
      ['data category unknown', (fd) => ((node(fd).data as Record<string, unknown>).category = 'nonsense')],
      ['edge source number', (fd) => (edge(fd).source = 1)],
      ['edge source null', (fd) => (edge(fd).source = null)],
      ['edge source unknown', (fd) => (edge(fd).source = 'nope_0')],
      ['edge target unknown', (fd) => (edge(fd).target = 'nope_0')],
      ['edge target missing', (fd) => delete edge(fd).target],
      ['edge handle number', (fd) => (edge(fd).source_handle = 5)],
      ['edge order string', (fd) => (edge(fd).source_order = 'first')],
      ['edge order negative', (fd) => (edge(fd).target_order = -1)],
      ['edge order float', (fd) => (edge(fd).target_order = 1.5)],
      ['edge self loop', (fd) => (edge(fd).target = edge(fd).source)],
      ['duplicate node', (fd) => (fd.nodes as unknown[]).push(structuredClone((fd.nodes as unknown[])[0]))],
      ['edge list', (fd) => ((fd.edges as unknown[])[0] = [])],
    ];
    const cases: Case[] = muts.map(([name, f]) => ({ name, method: 'post', path: `${V2}/flows`, body: mutate(f), status: 400, msg: /^body\.flow_data[.:]/ }));
    const missing: Array<[string, string[]]> = [
      ['label and name', ['label', 'name']],
      ['flow_data', ['flow_data']],
      ['everything', Object.keys(validBody('x'))],
    ];
    for (const [name, keys] of missing) {
      const body = validBody(`missing_${counter}`);
      for (const k of keys) delete body[k];
      cases.push({ name: `missing ${name}`, method: 'post', path: `${V2}/flows`, body, status: 400, msg: /^body(\.[a-z_]+)?:/ });
    }
    await runAll(cases);
  });

  it('invalid flow graphs from the validator fixtures are 400 E0001 with loc:msg; text', async () => {
    const dir = resolve(import.meta.dirname, '../fixtures/invalid');
    const names = readdirSync(dir).filter((n) => /^(edge|graph|node-id|node-resource|schema-(dynamic|enum|input|pattern|required|type|value|variable)|secret)/.test(n));
    expect(names.length).toBeGreaterThanOrEqual(20);
    const cases: Case[] = names.map((n, i) => {
      const value = parseYaml(readFileSync(join(dir, n), 'utf8')).value as Record<string, unknown>;
      return { name: `fixture ${n}`, method: 'post', path: `${V2}/flows`, body: { ...value, uid: `fixture-${i}` }, status: 400, msg: /^body(\.[^:]+)?:[^;]+;/ };
    });
    // and as an update of an existing flow
    const cycle = parseYaml(readFileSync(join(dir, 'graph-cycle.yaml'), 'utf8')).value as Record<string, unknown>;
    cases.push({ name: 'update into a cycle', method: 'put', path: `${V2}/flows/u-1`, body: { ...cycle, uid: 'u-1', name: 'one' }, status: 400, msg: /^body\.flow_data\.edges\.\d+[.:].*cycle/ });
    await runAll(cases);
  });

  it('uids and names that try to be paths, control characters, look-alikes', async () => {
    const cases: Case[] = [];
    for (const [i, evil] of EVIL.entries()) {
      const enc = encodeURIComponent(evil);
      // a uid is an id, not a path: an odd one may be accepted, but its file is flows/<name>.yaml
      cases.push({ name: `name ${JSON.stringify(evil)}`, method: 'post', path: `${V2}/flows`, body: { ...validBody('x'), name: evil }, status: 400, msg: /name/ });
      // as DB-GPT, a missing name is derived from the label (whitespace → _): refused unless that makes a safe name
      cases.push({ name: `label-derived name ${JSON.stringify(evil)}`, method: 'post', path: `${V2}/flows`, body: { ...validBody('x'), name: undefined, label: evil }, status: 400, mayPass: /^\s*[A-Za-z0-9_-]+(\s+[A-Za-z0-9_-]+)*\s*$/.test(evil) });
      cases.push({ name: `GET ${JSON.stringify(evil)}`, method: 'get', path: `${V2}/flows/${enc}`, status: [400, 404] });
      cases.push({ name: `PUT ${JSON.stringify(evil)}`, method: 'put', path: `${V2}/flows/${enc}`, body: { description: 'x' }, status: [400, 404] });
      cases.push({ name: `PUT rename to ${JSON.stringify(evil)}`, method: 'put', path: `${V2}/flows/u-1`, body: { uid: 'u-1', name: evil }, status: 400 });
      cases.push({ name: `DELETE ${JSON.stringify(evil)}`, method: 'delete', path: `${V2}/flows/${enc}`, status: [400, 404] });
      cases.push({ name: `export ${JSON.stringify(evil)}`, method: 'get', path: `${V2}/flow/export/${enc}`, status: [400, 404] });
      cases.push({ name: `versions ${JSON.stringify(evil)}`, method: 'get', path: `${V2}/flows/${enc}/versions`, status: [400, 404] });
      cases.push({ name: `version= ${JSON.stringify(evil)}`, method: 'get', path: `${V2}/flows/u-1?version=${enc}`, status: [400, 404] });
      // last: a uid is an id, not a path, so an odd one may be accepted; its file is still flows/<name>.yaml
      cases.push({ name: `uid ${JSON.stringify(evil)}`, method: 'post', path: `${V2}/flows`, body: { ...validBody(`evil_uid_${i}`), uid: evil }, mayPass: !/[\u0000\n]|^ /.test(evil) });
    }
    cases.push({ name: 'raw dot segments', method: 'get', path: `${V2}/flows/../../../etc/passwd`, status: 404 });
    cases.push({ name: 'encoded slashes', method: 'delete', path: `${V2}/flows/..%2F..%2F..%2Fetc%2Fpasswd`, status: 404, msg: /Flow \.\.\/\.\.\/\.\.\/etc\/passwd not found/ });
    cases.push({ name: 'double-encoded', method: 'get', path: `${V2}/flows/%252e%252e%252f`, status: 404 });
    cases.push({ name: 'bad percent-encoding', method: 'get', path: `${V2}/flows/%E0%A4%A`, status: 400, msg: /malformed/ });
    cases.push({ name: 'NUL in path', method: 'get', path: `${V2}/flows/a%00b`, status: [400, 404] });
    cases.push({ name: 'name taken, other case', method: 'post', path: `${V2}/flows`, body: { ...validBody('ONE') }, status: 409, msg: /name/i });
    cases.push({ name: 'uid taken', method: 'post', path: `${V2}/flows`, body: { ...validBody('fresh_name'), uid: 'u-1' }, status: 409, msg: /u-1/ });
    await runAll(cases);
  });

  it('huge, deeply nested, malformed and mistyped bodies', async () => {
    const big = JSON.stringify({ ...validBody('big'), description: 'x'.repeat(LIMIT + 10) });
    const deep = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const cases: Case[] = [
      { name: 'body over the limit', method: 'post', path: `${V2}/flows`, body: big, status: 413, msg: /larger than the limit of 262144 bytes/ },
      { name: 'PUT body over the limit', method: 'put', path: `${V2}/flows/u-1`, body: big, status: 413 },
      { name: 'refresh body over the limit', method: 'post', path: `${V2}/nodes/refresh`, body: big, status: 413 },
      { name: 'upload over the limit', method: 'post', path: `${V2}/flow/import`, attach: ['file', Buffer.from(big), 'big.json'], status: 413 },
      { name: 'nested 65 levels', method: 'post', path: `${V2}/flows`, body: deep(65), status: 400, msg: /nests more than 64 levels/ },
      { name: 'nested 20000 levels', method: 'post', path: `${V2}/flows`, body: `${'['.repeat(20000)}${']'.repeat(20000)}`, status: 400, msg: /nests more than 64 levels/ },
      { name: 'nested inside a string is fine but the flow is not', method: 'post', path: `${V2}/flows`, body: JSON.stringify({ label: '[[[[[['.repeat(20) }), status: 400 },
      { name: 'nested upload', method: 'post', path: `${V2}/flow/import`, attach: ['file', Buffer.from(`{"flow":${deep(100)}}`), 'deep.json'], status: 400, msg: /nests more than 64/ },
      { name: 'nested revert', method: 'post', path: `${V2}/flows/u-1/revert`, body: deep(70), status: 400 },
    ];
    const malformed = ['{', '{"a":}', "{'label': 'x'}", 'nul', '{"label": "x",}', '[1,2', '\ufeff{', '{"a":1}{"b":2}', '"unterminated', 'NaN', '{"a": 01}', '\u0000'];
    for (const m of malformed) {
      cases.push({ name: `malformed ${JSON.stringify(m)}`, method: 'post', path: `${V2}/flows`, body: m, status: 400, msg: /^body:/ });
      cases.push({ name: `malformed PUT ${JSON.stringify(m)}`, method: 'put', path: `${V1}/flows/u-1`, body: m, status: 400 });
    }
    // the JSON parser skips a UTF-8 byte order mark: {} is a flow without label and name, and an empty update
    cases.push({ name: 'BOM', method: 'post', path: `${V2}/flows`, body: '\ufeff{}', status: 400, msg: /^body\.label:Field required;body\.name:Field required;$/ });
    cases.push({ name: 'BOM PUT', method: 'put', path: `${V1}/flows/u-1`, body: '\ufeff{}', mayPass: true });
    const notObjects = ['[]', '[{"label":"x"}]', '"a string"', '42', 'true', 'null'];
    for (const m of notObjects) cases.push({ name: `not an object ${m}`, method: 'post', path: `${V2}/flows`, body: m, status: 400, msg: /^body:expected a flow as a JSON object, got / });
    const types = ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'text/json', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=utf-16'];
    for (const t of types) {
      cases.push({ name: `content type ${t}`, method: 'post', path: `${V2}/flows`, body: JSON.stringify(validBody(`typed_ct_${counter}`)), type: t, status: 400, msg: /Content-Type|charset|UTF-8|JSON/ });
    }
    cases.push({ name: 'form-encoded PUT', method: 'put', path: `${V2}/flows/u-1`, body: 'label=x&name=y', type: 'application/x-www-form-urlencoded', status: 400, msg: /send Content-Type: application\/json/ });
    cases.push({ name: 'JSON to the import route', method: 'post', path: `${V2}/flow/import`, body: JSON.stringify({ flow: corpusFlow('simple_streaming_chat_flow.json') }), status: 400, msg: /multipart/ });
    cases.push({ name: 'broken multipart', method: 'post', path: `${V2}/flow/import`, body: '--x\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n{"flow"', type: 'multipart/form-data; boundary=x', status: 400 });
    cases.push({ name: 'empty POST body', method: 'post', path: `${V2}/flows`, body: '', status: 400 });
    await runAll(cases);
  });

  it('bad query parameters', async () => {
    const cases: Case[] = [];
    const pages = ['page=-1', 'page=0', 'page=abc', 'page=1.5', 'page=1e3', 'page=', 'page_size=0', 'page_size=-5', 'page_size=abc', 'page_size=', 'page_size=1.5', 'page=1&page=2', 'page_size=99999999999999999999'];
    for (const list of ['/flows', '/chat/flows', '/flow/templates', '/flows/u-1/versions', '/variables?key=k&']) {
      for (const q of pages) {
        const sep = list.includes('?') ? '' : '?';
        cases.push({ name: `${list} ${q}`, method: 'get', path: `${V2}${list}${sep}${q}`, status: 400, msg: /^query\.page(_size)?:/ });
      }
    }
    cases.push({ name: 'name twice', method: 'get', path: `${V2}/flows?name=a&name=b`, status: 400, msg: /^query\.name:expected one value, got 2 values;$/ });

    for (const tags of ['not-json', '[1,2]', '{"a":1}', '"s"', '{', 'null']) {
      cases.push({ name: `tags ${tags}`, method: 'get', path: `${V2}/nodes?tags=${encodeURIComponent(tags)}`, status: 400, msg: /^query\.tags:expected a JSON object/ });
    }
    for (const q of ['export_type=zip', 'format=xml', 'export_type=dbgpts&format=json', 'export_type=dbgpts']) {
      cases.push({ name: `export ${q}`, method: 'get', path: `${V2}/flow/export/u-1?${q}`, status: 400 });
    }
    cases.push({ name: 'variables without key', method: 'get', path: `${V2}/variables`, status: 400, msg: /^query\.key:Field required;$/ });
    cases.push({ name: 'version not a commit', method: 'get', path: `${V2}/flows/u-1?version=HEAD~1`, status: [400, 404] });
    cases.push({ name: 'version of another length', method: 'get', path: `${V2}/flows/u-1?version=abc123`, status: [400, 404] });
    cases.push({ name: 'diff from junk', method: 'get', path: `${V2}/flows/u-1/diff?from=junk`, status: [400, 404] });
    cases.push({ name: 'diff to junk', method: 'get', path: `${V2}/flows/u-1/diff?to=${'0'.repeat(40)}`, status: [400, 404] });
    cases.push({ name: 'diff of an unknown flow', method: 'get', path: `${V2}/flows/nope/diff`, status: 404 });
    for (const v of ['maybe', '2', 'yes please']) {
      cases.push({ name: `save_flow=${v}`, method: 'post', path: `${V2}/flow/import?save_flow=${encodeURIComponent(v)}`, attach: ['file', Buffer.from(JSON.stringify({ flow: corpusFlow('simple_streaming_chat_flow.json') })), 'f.json'], status: 400, msg: /^query\.save_flow:/ });
      cases.push({ name: `form save_flow=${v}`, method: 'post', path: `${V2}/flow/import`, fields: { save_flow: v }, attach: ['file', Buffer.from('{"flow":{}}'), 'f.json'], status: 400 });
    }
    await runAll(cases);
  });

  it('bad bodies of the other routes, wrong keys, unknown routes and methods', async () => {
    const v0 = nativeGit(h.repo, ['rev-list', '--max-parents=0', 'HEAD']);
    const cases: Case[] = [
      { name: 'revert without version', method: 'post', path: `${V2}/flows/u-1/revert`, body: {}, status: 400, msg: /^body\.version:/ },
      { name: 'revert version number', method: 'post', path: `${V2}/flows/u-1/revert`, body: { version: 5 }, status: 400, msg: /^body\.version:/ },
      { name: 'revert version junk', method: 'post', path: `${V2}/flows/u-1/revert`, body: { version: 'junk' }, status: 400 },
      { name: 'revert unknown commit', method: 'post', path: `${V2}/flows/u-1/revert`, body: { version: 'a'.repeat(40) }, status: [400, 404] },
      { name: 'revert unknown flow', method: 'post', path: `${V2}/flows/nope/revert`, body: { version: v0 }, status: [400, 404] },
      { name: 'revert form body', method: 'post', path: `${V2}/flows/u-1/revert`, body: 'version=x', type: 'application/x-www-form-urlencoded', status: 400 },
      { name: 'refresh without id', method: 'post', path: `${V2}/nodes/refresh`, body: {}, status: 400, msg: /^body\.id:/ },
      { name: 'refresh id number', method: 'post', path: `${V2}/nodes/refresh`, body: { id: 5 }, status: 400, msg: /^body\.id:/ },
      { name: 'refresh flow_type', method: 'post', path: `${V2}/nodes/refresh`, body: { id: 'x', flow_type: 'widget' }, status: 400, msg: /^body\.flow_type:/ },
      { name: 'refresh type_cls', method: 'post', path: `${V2}/nodes/refresh`, body: { id: 'x', type_cls: [] }, status: 400, msg: /^body\.type_cls:/ },
      { name: 'refresh unknown node', method: 'post', path: `${V2}/nodes/refresh`, body: { id: 'operator_nope' }, status: 404 },
      { name: 'variables POST', method: 'post', path: `${V2}/variables`, body: { key: 'k', value: 'v' }, status: 400, msg: /is not supported by flowreg/ },
      { name: 'variables PUT', method: 'put', path: `${V2}/variables/1`, body: { key: 'k' }, status: 400, msg: /is not supported by flowreg/ },
      { name: 'debug', method: 'post', path: `${V2}/flow/debug`, body: { flow: {} }, status: 400, msg: /is not supported by flowreg/ },
      { name: 'notebook', method: 'get', path: `${V2}/flow/notebook/file/path?flow_uid=u-1`, status: 400, msg: /is not supported by flowreg/ },
      { name: 'delete unknown', method: 'delete', path: `${V2}/flows/nope`, status: 404, msg: /^Flow nope not found$/ },
      { name: 'PATCH', method: 'patch', path: `${V2}/flows/u-1`, body: {}, status: 404, msg: /^no route PATCH / },
      { name: 'DELETE collection', method: 'delete', path: `${V2}/flows`, status: 404 },
      { name: 'unknown route', method: 'get', path: `${V2}/flows/u-1/history`, status: 404 },
      { name: 'unknown prefix', method: 'get', path: '/api/v3/serve/awel/flows', status: 404 },
      { name: 'templates by id (UI, no server route)', method: 'get', path: `${V2}/flow/templates/abc`, status: 404 },
      { name: 'root', method: 'get', path: '/', status: 404 },
    ];
    for (const auth of ['', 'Bearer', 'Bearer ', 'Bearer wrong', `Basic ${KEY}`, `Bearer ${KEY}x`, `Token ${KEY}`, `${KEY}`, `Bearer ${KEY.toUpperCase()}`]) {
      cases.push({ name: `auth ${JSON.stringify(auth)}`, method: 'post', path: `${V2}/flows`, headers: { Authorization: auth }, body: validBody('auth_case'), status: 401, msg: /API key/ });
      cases.push({ name: `auth v1 ${JSON.stringify(auth)}`, method: 'delete', path: `${V1}/flows/u-1`, headers: { Authorization: auth }, status: 401 });
    }
    await runAll(cases);
  });

  it('made at least 300 requests', () => {
    expect(seen.total).toBeGreaterThanOrEqual(300);
    expect(seen.refused).toBeGreaterThanOrEqual(300);
  });
});
