import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { formatFlow } from '../core/formatFlow.ts';
import { LruCache } from '../core/LruCache.ts';
import { schemaRefFor } from '../core/schemaRef.ts';
import type { JsonObject } from '../core/types.ts';
import { FlowregError } from '../errors/index.ts';
import type { RuntimeRouter } from '../runtime/types.ts';
import type { FlowFilter, FlowServiceApi, SyncApi, WritePreconditions } from '../service/FlowServiceApi.ts';
import { callerOf } from './callerOf.ts';
import { envelope } from './envelope.ts';
import { checkJsonDepth, jsonBody } from './jsonBody.ts';
import type { Metrics } from './Metrics.ts';
import { ref } from './openApiSchemas.ts';
import { QueryReader } from './QueryReader.ts';
import { readUpload } from './readUpload.ts';
import type { RuntimeProxy } from './runtimeProxy.ts';
import { WebhookGate } from './webhookGate.ts';

/** What route handlers work with. */
export interface RouteContext {
  service: FlowServiceApi;
  metrics: Metrics;
  /** Largest request body in bytes (uploads included). */
  bodyLimit: number;
  /** The flows folder, for the schema reference of a flow served as YAML. */
  flowsDir: string;
  /** The OpenAPI document of the whole surface. */
  openApi: () => JsonObject;
  /** Sync status and the webhook's fetch (null: no sync wired, e.g. in a test app). */
  sync: SyncApi | null;
  /** The webhook's delivery ids already accepted, and its one-running-one-queued fetches. */
  webhook: WebhookGate;
  /** The DB-GPT runtimes (null: none configured). */
  runtimes: RuntimeRouter | null;
  /** Forwards requests to the runtimes (null: none configured). */
  proxy: RuntimeProxy | null;
}

/** One documented query, path or header parameter. */
export interface ParamDoc {
  name: string;
  in: 'query' | 'path' | 'header';
  description: string;
  schema: JsonObject;
  required?: boolean;
}

/**
 * One route of DB-GPT's flow service (or a flowreg extension), relative to the API prefixes: what
 * it reads, what it answers, and its handler. The server registers it under every prefix and the
 * OpenAPI document describes it from the same row.
 */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** express path syntax, e.g. `/flows/:uid`. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'flows' | 'io' | 'nodes' | 'variables' | 'service' | 'extensions' | 'sync';
  /** false: answered without the Result envelope (DB-GPT's /health, /test_auth, raw export). */
  envelope: boolean;
  /** false: open even when API keys are configured. */
  auth: boolean;
  params?: ParamDoc[];
  /** How the body is read: JSON (express's parser, with the body limit) or a multipart upload. */
  body?: 'json' | 'multipart' | 'raw';
  requestSchema?: JsonObject;
  /** The schema of `data` in the envelope (or of the whole answer when `envelope` is false). */
  data: JsonObject;
  /** Answers flowreg gives besides 200, for the OpenAPI document. */
  errors: number[];
  /** What the 200 answer carries besides JSON, for the OpenAPI document. */
  answers?: { etag?: boolean; yaml?: boolean; attachment?: boolean; text?: string };
  /**
   * True: with a runtime configured, the request is forwarded to it (the first that answers) and
   * `handle` is flowreg's answer without one. Such a route's body is read as bytes then, whatever
   * its type.
   */
  forward?: boolean;
  handle: (ctx: RouteContext, req: Request, res: Response) => Promise<void>;
}

const str = (description: string, name: string, required = false): ParamDoc => ({ name, in: 'query', description, schema: { type: 'string' }, required });
const UID: ParamDoc = { name: 'uid', in: 'path', description: 'The flow uid.', schema: { type: 'string' }, required: true };
const PAGE: ParamDoc[] = [
  { name: 'page', in: 'query', description: 'Page number, from 1 (default 1).', schema: { type: 'integer', minimum: 1, default: 1 } },
  { name: 'page_size', in: 'query', description: 'Items per page, at least 1, no upper bound as in DB-GPT (default 20).', schema: { type: 'integer', minimum: 1, default: 20 } },
];
const LIST_FILTERS: ParamDoc[] = [
  str('Exact flow name.', 'name'),
  str('Exact flow uid.', 'uid'),
  str('Exact user_name.', 'user_name'),
  str('Exact sys_code.', 'sys_code'),
  ...PAGE,
];
const IF_MATCH: ParamDoc = { name: 'If-Match', in: 'header', description: 'The ETag (`"<version>"`) the change is based on; 412 when the flow has moved on.', schema: { type: 'string' } };
const NOTHING: JsonObject = { type: 'null' };

function query(req: Request): QueryReader {
  return new QueryReader(req.query as Record<string, unknown>);
}

function param(req: Request, name: string): string {
  return req.params[name] as string;
}

function send(res: Response, data: unknown): void {
  res.json(envelope.succ(data));
}

// Encoded answers of the last pages served: the service hands back the same string for a page
// until flows change, and encoding half a megabyte per request was most of a list's cost.
const encoded = new LruCache<string, Buffer>(256, 128 * 1024 * 1024, (b) => b.length);

/** A success whose data is already JSON text (the service caches served flows and pages as text). */
function sendJsonText(res: Response, json: string): void {
  let body = json.length > 64 * 1024 ? encoded.get(json) : undefined;
  if (!body) {
    body = Buffer.from(`{"success":true,"err_code":null,"err_msg":null,"data":${json}}`);
    if (json.length > 64 * 1024) encoded.set(json, body);
  }
  res.type('application/json').send(body);
}

function etag(res: Response, version: string | null | undefined): void {
  if (typeof version === 'string' && version !== '') res.setHeader('ETag', `"${version}"`);
}

/** The service precondition for an `If-Match` header, passed as sent (the service reads lists, `*` and weak tags). */
function preconditions(req: Request): WritePreconditions {
  const header = req.header('if-match');
  return header === undefined || header.trim() === '' ? {} : { ifMatch: header };
}

function keyName(res: Response): string | null {
  const name: unknown = res.locals.keyName;
  return typeof name === 'string' ? name : null;
}

/** True when the client asked for YAML over JSON. */
function wantsYaml(req: Request): boolean {
  const best = req.accepts(['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml']);
  return typeof best === 'string' && best !== 'application/json';
}

function notSupported(what: string, why: string): FlowregError {
  return new FlowregError('NOT_SUPPORTED', `${what} is not supported by flowreg: ${why}`);
}

/** DB-GPT's attachment name: the given file_name, or the flow name with `_` → `-`, plus `.json`; no path or control characters. */
function exportFileName(given: string | undefined, name: unknown): string {
  const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f/\\"]/g, '').trim();
  const base = clean(given ?? '') || clean(typeof name === 'string' ? name.replaceAll('_', '-') : '') || 'flow';
  return `${base}.json`;
}

function parseTags(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new FlowregError('INVALID_INPUT', `expected a JSON object such as {"order":"higher-order"}, got ${JSON.stringify(raw.slice(0, 100))}, which is not valid JSON`, { loc: 'query.tags' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new FlowregError('INVALID_INPUT', 'expected a JSON object whose values are strings, such as {"order":"higher-order"}', { loc: 'query.tags' });
  }
  return value as Record<string, string>;
}

async function listFlows(ctx: RouteContext, req: Request, res: Response, categories?: string[]): Promise<void> {
  const q = query(req);
  const { page, pageSize } = q.page();
  const filter: FlowFilter = {};
  for (const key of ['name', 'uid', 'user_name', 'sys_code'] as const) {
    const v = q.string(key);
    if (v !== undefined) filter[key] = v;
  }
  if (categories !== undefined) filter.categories = categories;
  sendJsonText(res, await ctx.service.listJson(filter, page, pageSize));
}

/** Every route of DB-GPT's flow service and flowreg's extensions, relative to `/api/v{1,2}/serve/awel`. */
export const ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Liveness check, always open (as DB-GPT): `{"status":"ok"}` without envelope.',
    tag: 'service',
    envelope: false,
    auth: false,
    data: ref('Status'),
    errors: [],
    handle: async (_ctx, _req, res) => {
      res.json({ status: 'ok' });
    },
  },
  {
    method: 'get',
    path: '/test_auth',
    operationId: 'testAuth',
    summary: 'Checks the API key: `{"status":"ok"}` without envelope, or 401.',
    tag: 'service',
    envelope: false,
    auth: true,
    data: ref('Status'),
    errors: [401],
    handle: async (_ctx, _req, res) => {
      res.json({ status: 'ok' });
    },
  },
  {
    method: 'post',
    path: '/flows',
    operationId: 'createFlow',
    summary: 'Creates a flow: one commit adding flows/<name>.yaml.',
    tag: 'flows',
    envelope: true,
    auth: true,
    body: 'json',
    requestSchema: ref('FlowRequest'),
    data: ref('Flow'),
    errors: [400, 401, 409, 413, 503],
    answers: { etag: true },
    handle: async (ctx, req, res) => {
      const body = jsonBody(req, 'a flow');
      const out = await ctx.metrics.timeWrite('create', () => ctx.service.create(body, callerOf(keyName(res), body)));
      etag(res, out.version);
      send(res, out.flow);
    },
  },
  {
    method: 'get',
    path: '/flows',
    operationId: 'listFlows',
    summary: 'Lists flows (exact filters), newest gmt_modified first, as a PaginationResult.',
    tag: 'flows',
    envelope: true,
    auth: true,
    params: LIST_FILTERS,
    data: ref('FlowPage'),
    errors: [400, 401],
    handle: (ctx, req, res) => listFlows(ctx, req, res),
  },
  {
    method: 'get',
    path: '/flows/:uid',
    operationId: 'getFlow',
    summary: 'One flow, with `ETag: "<version>"`; `?version=<commit>` reads it at that version; `Accept: application/yaml` answers its canonical YAML.',
    tag: 'flows',
    envelope: true,
    auth: true,
    params: [UID, str('A commit id of the flow (see /versions): the flow as it was then.', 'version')],
    data: ref('Flow'),
    errors: [400, 401, 404],
    answers: { etag: true, yaml: true },
    handle: async (ctx, req, res) => {
      const uid = param(req, 'uid');
      const given = query(req).string('version');
      const version = given === undefined || given === '' ? undefined : given;
      if (wantsYaml(req)) {
        // the stored file itself, in canonical form
        const { file, version: v } = await ctx.service.getFile(uid, version);
        etag(res, v);
        res.type('application/yaml').send(formatFlow(file, { schemaRef: schemaRefFor(`${ctx.flowsDir}/${String(file.name)}.yaml`) }));
        return;
      }
      if (version === undefined) {
        const { json, version: v } = await ctx.service.getJson(uid);
        etag(res, v);
        sendJsonText(res, json);
        return;
      }
      const served = await ctx.service.getAt(uid, version);
      etag(res, served.version);
      send(res, served.flow);
    },
  },
  {
    method: 'put',
    path: '/flows/:uid',
    operationId: 'updateFlow',
    summary: 'Updates a flow (the body uid wins, as DB-GPT): one commit. `If-Match` → 412, a stale body `version` → 409.',
    tag: 'flows',
    envelope: true,
    auth: true,
    params: [UID, IF_MATCH],
    body: 'json',
    requestSchema: ref('FlowRequest'),
    data: ref('Flow'),
    errors: [400, 401, 403, 404, 409, 412, 413, 503],
    answers: { etag: true },
    handle: async (ctx, req, res) => {
      const uid = param(req, 'uid');
      const body = jsonBody(req, 'a flow');
      const pre = preconditions(req);
      const out = await ctx.metrics.timeWrite('update', () => ctx.service.update(uid, body, callerOf(keyName(res), body), pre));
      etag(res, out.version);
      send(res, out.flow);
    },
  },
  {
    method: 'delete',
    path: '/flows/:uid',
    operationId: 'deleteFlow',
    summary: 'Deletes a flow (one commit) and answers it as it was. `If-Match` → 412.',
    tag: 'flows',
    envelope: true,
    auth: true,
    params: [UID, IF_MATCH],
    data: ref('Flow'),
    errors: [401, 403, 404, 409, 412, 503],
    handle: async (ctx, req, res) => {
      const uid = param(req, 'uid');
      const pre = preconditions(req);
      const out = await ctx.metrics.timeWrite('delete', () => ctx.service.delete(uid, callerOf(keyName(res), undefined), pre));
      send(res, out.flow);
    },
  },
  {
    method: 'get',
    path: '/chat/flows',
    operationId: 'listChatFlows',
    summary: 'Lists the flows of category chat_flow or chat_agent (the filter DB-GPT means to apply).',
    tag: 'flows',
    envelope: true,
    auth: true,
    params: LIST_FILTERS,
    data: ref('FlowPage'),
    errors: [400, 401],
    handle: (ctx, req, res) => listFlows(ctx, req, res, ['chat_flow', 'chat_agent']),
  },
  {
    method: 'get',
    path: '/flows/:uid/versions',
    operationId: 'flowVersions',
    summary: 'Extension: the history of a flow, newest first, as a PaginationResult.',
    tag: 'extensions',
    envelope: true,
    auth: true,
    params: [UID, ...PAGE],
    data: ref('FlowVersionPage'),
    errors: [400, 401, 404],
    handle: async (ctx, req, res) => {
      const { page, pageSize } = query(req).page();
      send(res, await ctx.service.versions(param(req, 'uid'), page, pageSize));
    },
  },
  {
    method: 'post',
    path: '/flows/:uid/revert',
    operationId: 'revertFlow',
    summary: 'Extension: makes a version of the flow current again, as one new commit. Body `{"version": "<commit>"}`.',
    tag: 'extensions',
    envelope: true,
    auth: true,
    params: [UID, IF_MATCH],
    body: 'json',
    requestSchema: { type: 'object', required: ['version'], properties: { version: { type: 'string' } } },
    data: ref('Flow'),
    errors: [400, 401, 403, 404, 409, 412, 503],
    answers: { etag: true },
    handle: async (ctx, req, res) => {
      const uid = param(req, 'uid');
      const body = jsonBody(req, '{"version": "<commit>"}');
      if (typeof body.version !== 'string' || body.version === '') {
        throw new FlowregError('INVALID_INPUT', 'expected the commit id to revert to as a non-empty string', { loc: 'body.version' });
      }
      const version = body.version;
      const pre = preconditions(req);
      const out = await ctx.metrics.timeWrite('revert', () => ctx.service.revert(uid, version, callerOf(keyName(res), body), pre));
      etag(res, out.version);
      send(res, out.flow);
    },
  },
  {
    method: 'get',
    path: '/flows/:uid/diff',
    operationId: 'diffFlow',
    summary: 'Extension: semantic diff between two versions (default: the version before `to`, and the current one).',
    tag: 'extensions',
    envelope: true,
    auth: true,
    params: [UID, str('Older version (commit id).', 'from'), str('Newer version (commit id); default the current one.', 'to')],
    data: { type: 'object' },
    errors: [400, 401, 404],
    handle: async (ctx, req, res) => {
      const q = query(req);
      const from = q.string('from') || undefined;
      const to = q.string('to') || undefined;
      send(res, await ctx.service.diff(param(req, 'uid'), from, to));
    },
  },
  {
    method: 'get',
    path: '/flow/export/:uid',
    operationId: 'exportFlow',
    summary: 'Exports `{"flow": …}`: as an attachment `<file_name or name with _→->.json` (format=file, default) or raw JSON without envelope (format=json).',
    tag: 'io',
    envelope: false,
    auth: true,
    params: [
      UID,
      { name: 'export_type', in: 'query', description: '`json` (default); `dbgpts` is not supported.', schema: { type: 'string', enum: ['json', 'dbgpts'], default: 'json' } },
      { name: 'format', in: 'query', description: '`file` (default) or `json`.', schema: { type: 'string', enum: ['file', 'json'], default: 'file' } },
      str('Attachment name without extension.', 'file_name'),
      str('Ignored (DB-GPT filter).', 'user_name'),
      str('Ignored (DB-GPT filter).', 'sys_code'),
    ],
    data: ref('FlowExport'),
    errors: [400, 401, 404],
    answers: { attachment: true },
    handle: async (ctx, req, res) => {
      const q = query(req);
      const exportType = q.choice('export_type', ['json', 'dbgpts'] as const, 'json');
      const format = q.choice('format', ['file', 'json'] as const, 'file');
      const fileName = q.string('file_name');
      if (exportType === 'dbgpts') throw notSupported('export_type=dbgpts (a dbgpts package)', 'export as json, the {"flow": …} file DB-GPT imports');
      const data = await ctx.service.exportFlow(param(req, 'uid'));
      if (format === 'json') {
        res.json(data);
        return;
      }
      res.attachment(exportFileName(fileName, data.flow.name));
      res.type('application/json').send(JSON.stringify(data, null, 4));
    },
  },
  {
    method: 'post',
    path: '/flow/import',
    operationId: 'importFlow',
    summary: 'Imports an export file (multipart field `file`, `.json` with a top-level `flow`); `save_flow` (query or form field) also creates it.',
    tag: 'io',
    envelope: true,
    auth: true,
    params: [{ name: 'save_flow', in: 'query', description: 'Create the flow too (also accepted as a form field, as DB-GPT\'s UI sends it).', schema: { type: 'boolean', default: false } }],
    body: 'multipart',
    requestSchema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', contentMediaType: 'application/json' }, save_flow: { type: 'boolean' } },
    },
    data: ref('Flow'),
    errors: [400, 401, 409, 413],
    handle: async (ctx, req, res) => {
      const q = query(req);
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > ctx.bodyLimit + 64 * 1024) {
        throw new FlowregError('PAYLOAD_TOO_LARGE', `the upload is ${declared} bytes; the limit is ${ctx.bodyLimit} bytes`);
      }
      const upload = await readUpload(req, 'file', ctx.bodyLimit);
      let save = q.bool('save_flow', false);
      if (q.string('save_flow') === undefined && upload.fields.save_flow !== undefined) {
        save = new QueryReader({ save_flow: upload.fields.save_flow }).bool('save_flow', false);
      }
      const file = upload.file;
      if (file === null) throw new FlowregError('INVALID_INPUT', 'Field required: a multipart file field named "file"', { loc: 'body.file' });
      const ext = file.filename.includes('.') ? (file.filename.split('.').pop() as string).toLowerCase() : '';
      if (ext === 'zip') throw notSupported('importing a dbgpts package (.zip)', 'import a .json export file ({"flow": …})');
      if (ext !== 'json') throw new FlowregError('INVALID_INPUT', `invalid file extension ${JSON.stringify(ext)} of ${JSON.stringify(file.filename)}; expected a .json export file`, { loc: 'body.file' });
      checkJsonDepth(file.data);
      let json: unknown;
      try {
        json = JSON.parse(file.data.toString('utf8'));
      } catch (err) {
        throw new FlowregError('INVALID_INPUT', `the file is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { loc: 'body.file' });
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json) || !Object.hasOwn(json, 'flow')) {
        throw new FlowregError('INVALID_INPUT', 'invalid json file, missing \'flow\' key: expected {"flow": {…}} as DB-GPT exports it', { loc: 'body.file' });
      }
      const caller = callerOf(keyName(res), (json as { flow?: unknown }).flow);
      const flow = save ? await ctx.metrics.timeWrite('import', () => ctx.service.importFlow(json, true, caller)) : await ctx.service.importFlow(json, false, caller);
      send(res, flow);
    },
  },
  {
    method: 'get',
    path: '/flow/templates',
    operationId: 'flowTemplates',
    summary: 'The template flows (fresh uids each call, as DB-GPT), as a PaginationResult: the repository\'s templates folder, or, without one, flowreg\'s built-in templates (DB-GPT\'s English ones).',
    tag: 'io',
    envelope: true,
    auth: true,
    params: [str('Ignored (DB-GPT filter).', 'user_name'), str('Ignored (DB-GPT filter).', 'sys_code'), ...PAGE],
    data: ref('FlowPage'),
    errors: [400, 401],
    handle: async (ctx, req, res) => {
      const { page, pageSize } = query(req).page();
      send(res, await ctx.service.templates(page, pageSize));
    },
  },
  {
    method: 'get',
    path: '/nodes',
    operationId: 'listNodes',
    summary: 'Operator and resource metadata, filtered by `tags`: with a runtime, its operator registry (forwarded); without, the nodes found in the repository\'s flows.',
    forward: true,
    tag: 'nodes',
    envelope: true,
    auth: true,
    params: [str('JSON object of tags every node must carry, e.g. {"order":"higher-order"}.', 'tags'), str('Ignored.', 'user_name'), str('Ignored.', 'sys_code')],
    data: { type: 'array', items: ref('NodeMetadata') },
    errors: [400, 401],
    handle: async (ctx, req, res) => {
      send(res, await ctx.service.nodes(parseTags(query(req).string('tags'))));
    },
  },
  {
    method: 'post',
    path: '/nodes/refresh',
    operationId: 'refreshNode',
    summary: 'One node\'s metadata with its dynamic options: with a runtime, recomputed there (forwarded); without, the metadata stored in the flows.',
    forward: true,
    tag: 'nodes',
    envelope: true,
    auth: true,
    body: 'json',
    requestSchema: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, flow_type: { type: 'string', enum: ['operator', 'resource'] }, type_name: { type: 'string' }, type_cls: { type: 'string' }, refresh: { type: 'array' } },
    },
    data: ref('NodeMetadata'),
    errors: [400, 401, 404],
    handle: async (ctx, req, res) => {
      const body = jsonBody(req, 'a node refresh request');
      const { id, flow_type: flowType, type_cls: typeCls } = body;
      if (typeof id !== 'string' || id === '') throw new FlowregError('INVALID_INPUT', 'Field required: the node id as a non-empty string', { loc: 'body.id' });
      if (flowType !== undefined && flowType !== null && flowType !== 'operator' && flowType !== 'resource') {
        throw new FlowregError('INVALID_INPUT', `expected "operator" or "resource", got ${JSON.stringify(flowType)}`, { loc: 'body.flow_type' });
      }
      if (typeCls !== undefined && typeCls !== null && typeof typeCls !== 'string') throw new FlowregError('INVALID_INPUT', 'expected a string', { loc: 'body.type_cls' });
      send(res, await ctx.service.node(id, flowType ?? 'operator', typeCls ?? undefined));
    },
  },
  {
    method: 'post',
    path: '/variables',
    operationId: 'createVariable',
    summary: 'With a runtime: forwarded (DB-GPT stores the variable). Without: not supported, flowreg stores no variables (a flow keeps its own in `variables`).',
    forward: true,
    tag: 'variables',
    envelope: true,
    auth: true,
    data: NOTHING,
    errors: [400, 401],
    handle: async () => {
      throw notSupported('storing variables (POST /variables)', "a flow keeps its variables in its own `variables` list, and secrets are only referenced (${...}), never stored");
    },
  },
  {
    method: 'put',
    path: '/variables/:id',
    operationId: 'updateVariable',
    summary: 'With a runtime: forwarded. Without: not supported, flowreg stores no variables.',
    forward: true,
    tag: 'variables',
    envelope: true,
    auth: true,
    params: [{ name: 'id', in: 'path', description: 'Variable id.', schema: { type: 'string' }, required: true }],
    data: NOTHING,
    errors: [400, 401],
    handle: async () => {
      throw notSupported('updating variables (PUT /variables/{id})', 'a flow keeps its variables in its own `variables` list');
    },
  },
  {
    method: 'get',
    path: '/variables',
    operationId: 'listVariables',
    summary: 'With a runtime: forwarded. Without: an empty page, flowreg stores no variables. `key` is required, as in DB-GPT.',
    forward: true,
    tag: 'variables',
    envelope: true,
    auth: true,
    params: [str('Variable key.', 'key', true), str('Scope.', 'scope'), str('Scope key.', 'scope_key'), str('User name.', 'user_name'), str('System code.', 'sys_code'), ...PAGE],
    data: ref('PaginationResult'),
    errors: [400, 401],
    handle: async (_ctx, req, res) => {
      const q = query(req);
      if (q.string('key') === undefined) throw new FlowregError('INVALID_INPUT', 'Field required', { loc: 'query.key' });
      const { page, pageSize } = q.page();
      send(res, { items: [], total_count: 0, total_pages: 0, page, page_size: pageSize });
    },
  },
  {
    method: 'get',
    path: '/variables/keys',
    operationId: 'listVariableKeys',
    summary: 'With a runtime: forwarded. Without: an empty list, flowreg stores no variables.',
    forward: true,
    tag: 'variables',
    envelope: true,
    auth: true,
    params: [str('User name.', 'user_name'), str('System code.', 'sys_code'), str('Category.', 'category')],
    data: { type: 'array', maxItems: 0 },
    errors: [401],
    handle: async (_ctx, _req, res) => {
      send(res, []);
    },
  },
  {
    method: 'post',
    path: '/flow/debug',
    operationId: 'debugFlow',
    summary: 'With a runtime: forwarded (the runtime runs the flow, its answer streamed back). Without: not supported, flowreg stores flows and does not run them.',
    forward: true,
    tag: 'service',
    envelope: true,
    auth: true,
    data: NOTHING,
    errors: [400, 401],
    handle: async () => {
      throw notSupported('running a flow (POST /flow/debug)', 'it stores and versions flows; run them in DB-GPT');
    },
  },
  {
    method: 'get',
    path: '/flow/notebook/file/path',
    operationId: 'flowNotebookPath',
    summary: 'Not supported: python flows\' notebook files are not kept by flowreg.',
    tag: 'service',
    envelope: true,
    auth: true,
    params: [str('Flow uid.', 'flow_uid')],
    data: NOTHING,
    errors: [400, 401],
    handle: async () => {
      throw notSupported('the notebook file of a python flow (GET /flow/notebook/file/path)', 'flowreg keeps flow files, not notebooks');
    },
  },
  {
    method: 'get',
    path: '/sync',
    operationId: 'syncStatus',
    summary: 'Sync status: branch, head, remote head, ahead/behind, time and error of the last fetch and push, write mode, and the invalid flows with their findings.',
    tag: 'sync',
    envelope: true,
    auth: true,
    data: { type: 'object' },
    errors: [401],
    handle: async (ctx, _req, res) => {
      send(res, ctx.sync ? ctx.sync.status() : { remote: null, invalid_flows: [] });
    },
  },
  {
    method: 'get',
    path: '/runtimes',
    operationId: 'runtimeStatus',
    summary:
      'The runtimes (DB-GPT servers flows are deployed into): per runtime whether it is reachable or why not, its last reconcile, its live flows, the flows it refused with its own error, the flows on it that flowreg did not put there; and the drift found (a flow changed, deleted or added on a runtime behind flowreg\'s back) with what was done about it. Without runtimes: `runtimes: []`.',
    tag: 'sync',
    envelope: true,
    auth: true,
    data: { type: 'object' },
    errors: [401],
    handle: async (ctx, _req, res) => {
      send(res, ctx.sync?.runtimes?.() ?? { runtimes: [], drift: [] });
    },
  },
  {
    method: 'post',
    path: '/runtimes/reconcile',
    operationId: 'runtimeReconcile',
    summary: 'Reconciles every runtime now (lists each, applies the difference, heals or reports drift) and answers the runtimes\' status once done.',
    tag: 'sync',
    envelope: true,
    auth: true,
    data: { type: 'object' },
    errors: [401],
    handle: async (ctx, _req, res) => {
      await ctx.sync?.reconcileNow?.();
      send(res, ctx.sync?.runtimes?.() ?? { runtimes: [], drift: [] });
    },
  },
  {
    method: 'post',
    path: '/sync/webhook',
    operationId: 'syncWebhook',
    summary:
      'Push webhook of GitHub or Gitea: verified with HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>` or `X-Gitea-Signature`) and the configured secret instead of an API key; a push to the served branch fetches and fast-forwards before answering. Each delivery id (`X-GitHub-Delivery`, `X-Gitea-Delivery`, `X-Gitlab-Event-UUID`) is acted on once: a repeated one answers `duplicate: true` without fetching. Webhook fetches run one at a time, with at most one more queued that later calls share.',
    tag: 'sync',
    envelope: true,
    auth: false,
    body: 'raw',
    params: [
      { name: 'X-Hub-Signature-256', in: 'header', description: 'sha256=<hex HMAC-SHA256 of the body with the webhook secret>', schema: { type: 'string' } },
      { name: 'X-GitHub-Event', in: 'header', description: 'push or ping (X-Gitea-Event also accepted).', schema: { type: 'string' } },
      { name: 'X-GitHub-Delivery', in: 'header', description: 'id of the delivery (X-Gitea-Delivery, X-Gogs-Delivery and X-Gitlab-Event-UUID also accepted); a delivery already received is answered as a duplicate and not acted on.', schema: { type: 'string' } },
    ],
    data: { type: 'object' },
    errors: [400, 401],
    handle: async (ctx, req, res) => {
      const sync = ctx.sync;
      if (!sync || sync.webhookSecret === null) throw new FlowregError('UNAUTHORIZED', 'the webhook is disabled: start flowreg with --webhook-secret to accept signed push events');
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      verifySignature(body, sync.webhookSecret, req.header('x-hub-signature-256') ?? (req.header('x-gitea-signature') ? `sha256=${req.header('x-gitea-signature')}` : undefined));
      const event = req.header('x-github-event') ?? req.header('x-gitea-event') ?? 'push';
      // only a signed call is remembered: an unsigned one cannot make a real delivery look replayed
      const delivery = WebhookGate.deliveryOf((name) => req.header(name));
      if (delivery !== null && !ctx.webhook.claim(delivery)) {
        send(res, { event, fetched: false, duplicate: true, delivery, reason: `delivery ${delivery} was already received; each delivery is acted on once` });
        return;
      }
      try {
        await webhookEvent(ctx, sync, event, body, res);
      } catch (err) {
        // a delivery that failed may be sent again
        if (delivery !== null) ctx.webhook.release(delivery);
        throw err;
      }
    },
  },
];

/** Acts on a signed, new webhook call: a push to the served branch fetches (through the gate). */
async function webhookEvent(ctx: RouteContext, sync: SyncApi, event: string, body: Buffer, res: Response): Promise<void> {
  if (event === 'ping') {
    send(res, { event, fetched: false });
    return;
  }
  if (event !== 'push') {
    send(res, { event, fetched: false, reason: `only push events trigger a fetch, this was "${event}"` });
    return;
  }
  if (!sync.hasRemote) throw new FlowregError('NOT_SUPPORTED', 'a push webhook needs a remote: start flowreg with --remote <url>');
  let ref: unknown;
  try {
    ref = (JSON.parse(body.toString('utf8')) as { ref?: unknown }).ref;
  } catch {
    throw new FlowregError('INVALID_INPUT', 'the push event is not JSON (configure the webhook with content type application/json)', { loc: 'body' });
  }
  if (ref !== `refs/heads/${sync.branch}`) {
    send(res, { event, fetched: false, reason: `the push was to ${String(ref)}, flowreg serves refs/heads/${sync.branch}` });
    return;
  }
  const changed = await ctx.webhook.fetch(() => sync.fetchNow());
  send(res, { event, fetched: true, changed });
}

/** Checks a webhook's `sha256=<hex>` HMAC of the raw body in constant time; UNAUTHORIZED otherwise. */
function verifySignature(body: Buffer, secret: string, header: string | undefined): void {
  if (header === undefined || !header.startsWith('sha256=')) throw new FlowregError('UNAUTHORIZED', 'the webhook call is not signed: X-Hub-Signature-256 (sha256=...) is missing');
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(header.slice(7).trim(), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new FlowregError('UNAUTHORIZED', 'the webhook signature does not match the body and the configured secret');
}
