import { TOOL_VERSION } from '../core/toolVersion.ts';
import type { JsonObject } from '../core/types.ts';
import { OPENAPI_SCHEMAS, ref } from './openApiSchemas.ts';
import type { RouteSpec } from './routes.ts';

/** Routes mounted under one prefix (`''` for the root). */
export interface RouteGroup {
  prefix: string;
  routes: RouteSpec[];
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: E0001 validation (`<loc>:<msg>;`), E0003 other (not supported, unsafe name).',
  401: 'A valid API key is required (`Authorization: Bearer <key>`).',
  403: 'The flow is stored with editable: false.',
  404: 'No such flow or version.',
  409: 'Conflict: uid or name taken, stale body version, local changes, repository busy.',
  412: 'If-Match does not match the current version.',
  413: 'The body is larger than the configured limit.',
  503: 'The repository lock is held by another process, or the remote is unreachable; retry (Retry-After).',
};

/** `/flows/:uid` → `/flows/{uid}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function dataResponse(route: RouteSpec): JsonObject {
  const a = route.answers ?? {};
  if (a.text !== undefined) return { description: 'Success.', content: { [a.text]: { schema: route.data } } };
  const schema = route.envelope ? { allOf: [ref('Result'), { type: 'object', properties: { data: route.data } }] } : route.data;
  const content: JsonObject = { 'application/json': { schema } };
  if (a.yaml === true) content['application/yaml'] = { schema: { type: 'string', description: 'The flow file in canonical YAML (Accept: application/yaml).' } };
  const out: JsonObject = { description: route.envelope ? 'Success: `Result` with `success: true`.' : 'Success, without the envelope.', content };
  const headers: JsonObject = {};
  if (a.etag === true) headers.ETag = { schema: { type: 'string' }, description: '"<version>" of the flow answered' };
  if (a.attachment === true) headers['Content-Disposition'] = { schema: { type: 'string' }, description: 'attachment; filename=<name>.json (format=file)' };
  if (Object.keys(headers).length > 0) out.headers = headers;
  return out;
}

function operation(group: RouteGroup, route: RouteSpec): JsonObject {
  const op: JsonObject = {
    operationId: group.prefix === '' ? route.operationId : `${route.operationId}_${group.prefix.includes('/v1/') ? 'v1' : 'v2'}`,
    summary: route.summary,
    tags: [route.tag],
  };
  if (route.params !== undefined && route.params.length > 0) {
    op.parameters = route.params.map((p) => {
      const doc: JsonObject = { name: p.name, in: p.in, description: p.description, schema: p.schema };
      if (p.required === true) doc.required = true;
      return doc;
    });
  }
  if (route.body === 'json') op.requestBody = { required: true, content: { 'application/json': { schema: route.requestSchema ?? { type: 'object' } } } };
  if (route.body === 'raw') op.requestBody = { required: true, content: { 'application/json': { schema: { type: 'object', description: 'A GitHub or Gitea push event.' } } } };
  if (route.body === 'multipart') op.requestBody = { required: true, content: { 'multipart/form-data': { schema: route.requestSchema ?? { type: 'object' } } } };
  const responses: JsonObject = { '200': dataResponse(route) };
  for (const status of route.errors) {
    responses[String(status)] = { description: STATUS_TEXT[status] ?? 'Error.', content: { 'application/json': { schema: ref('Error') } } };
  }
  op.responses = responses;
  // Open routes say so explicitly; the others inherit the document-wide bearer requirement.
  if (!route.auth) op.security = [];
  return op;
}

/**
 * The OpenAPI 3.1 document of every route of every group. Routes that need a key when keys are
 * configured declare bearer auth, whether or not keys are configured now, so clients see where a
 * key goes.
 */
export function openApiDocument(groups: RouteGroup[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const group of groups) {
    for (const route of group.routes) {
      const path = openApiPath(group.prefix + route.path);
      const item = paths[path] ?? {};
      item[route.method] = operation(group, route);
      paths[path] = item;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'flowreg',
      version: TOOL_VERSION,
      description:
        "DB-GPT's AWEL flow REST API served from a git repository: every route under /api/v2/serve/awel and /api/v1/serve/awel, DB-GPT's Result envelope, honest HTTP statuses, and history extensions.",
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'flows', description: 'DB-GPT flow CRUD and lists.' },
      { name: 'io', description: 'Export, import and templates.' },
      { name: 'nodes', description: 'Node metadata for the canvas.' },
      { name: 'variables', description: 'Variables (flowreg stores none).' },
      { name: 'extensions', description: 'flowreg extensions: history, revert, diff.' },
      { name: 'sync', description: 'Sync with a remote: status and the push webhook.' },
      { name: 'service', description: 'Health, auth check, debug, metrics, this document.' },
    ],
    paths,
    components: {
      schemas: OPENAPI_SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'One of the configured API keys (--api-keys).' } },
    },
  };
}
