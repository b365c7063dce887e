import type { JsonObject } from '../core/types.ts';
import { DBGPT_FLOW_KEYS } from '../core/dbgptFlow.ts';

/** A reference to one of OPENAPI_SCHEMAS. */
export function ref(name: keyof typeof OPENAPI_SCHEMAS): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

const nullableString: JsonObject = { type: ['string', 'null'] };

const flowProperties: JsonObject = {
  uid: { type: 'string', description: 'Unique id; generated (uuid4) on create when absent.' },
  label: { type: 'string' },
  name: { type: 'string', pattern: '^[a-zA-Z0-9_\\-]+$', description: 'Unique across the repository; the file is flows/<name>.yaml.' },
  flow_category: { type: ['string', 'null'], enum: ['common', 'chat_flow', 'chat_agent', null] },
  description: nullableString,
  state: { type: 'string', enum: ['initializing', 'developing', 'testing', 'deployed', 'running', 'disabled', 'load_failed'] },
  error_message: { type: ['string', 'null'], description: 'Validation findings of a quarantined file (state load_failed).' },
  source: nullableString,
  source_url: nullableString,
  version: { type: ['string', 'null'], description: 'Commit id of the last change (also the ETag); `<commit>-dirty` or `uncommitted` for local edits. A commit id sent back on PUT guards against lost updates (409).' },
  define_type: nullableString,
  editable: { type: 'boolean' },
  user_name: nullableString,
  sys_code: nullableString,
  dag_id: nullableString,
  gmt_created: { type: ['string', 'null'], description: 'YYYY-MM-DD HH:MM:SS, from git history.' },
  gmt_modified: { type: ['string', 'null'], description: 'YYYY-MM-DD HH:MM:SS, from git history.' },
  metadata: { type: ['object', 'null'], description: "The runtime's metadata (triggers) when the flow is live on a runtime; null otherwise, and always without runtimes." },
  variables: { type: ['array', 'null'], items: { type: 'object' } },
  authors: { type: ['array', 'null'], items: { type: 'string' } },
  flow_data: { oneOf: [{ $ref: '#/components/schemas/FlowData' }, { type: 'null' }] },
};

function page(item: JsonObject): JsonObject {
  return {
    type: 'object',
    required: ['items', 'total_count', 'total_pages', 'page', 'page_size'],
    properties: {
      items: { type: 'array', items: item },
      total_count: { type: 'integer' },
      total_pages: { type: 'integer' },
      page: { type: 'integer' },
      page_size: { type: 'integer' },
    },
  };
}

/** The component schemas of the OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1 uses). */
export const OPENAPI_SCHEMAS = {
  Flow: {
    type: 'object',
    description: "DB-GPT's Flow object (FlowPanel). Responses carry every key, nulls explicit.",
    required: [...DBGPT_FLOW_KEYS],
    properties: flowProperties,
  },
  FlowRequest: {
    type: 'object',
    description: "A Flow as DB-GPT's clients send it: label or name, flow_data; other keys optional, derived keys (version aside) ignored.",
    properties: flowProperties,
    additionalProperties: true,
  },
  FlowData: {
    type: 'object',
    required: ['nodes', 'edges', 'viewport'],
    properties: {
      nodes: { type: 'array', items: { type: 'object', required: ['id', 'width', 'height', 'position', 'position_absolute', 'data'] } },
      edges: { type: 'array', items: { type: 'object', required: ['id', 'source', 'target'] } },
      viewport: { type: 'object', required: ['x', 'y'] },
    },
  },
  Result: {
    type: 'object',
    description: "DB-GPT's response envelope; keys in this order.",
    required: ['success', 'err_code', 'err_msg', 'data'],
    properties: {
      success: { type: 'boolean' },
      err_code: { type: ['string', 'null'], description: 'E0001 validation, E0003 other bad request, else the HTTP status as text.' },
      err_msg: { type: ['string', 'null'], description: 'Readable; for E0001 `<loc>:<msg>;` per finding.' },
      data: {},
    },
  },
  Error: {
    type: 'object',
    required: ['success', 'err_code', 'err_msg', 'data'],
    properties: { success: { const: false }, err_code: { type: 'string' }, err_msg: { type: 'string' }, data: { type: 'null' } },
  },
  PaginationResult: page({}),
  FlowPage: page({ $ref: '#/components/schemas/Flow' }),
  FlowVersion: {
    type: 'object',
    required: ['version', 'gmt_created', 'author', 'author_email', 'message'],
    properties: { version: { type: 'string' }, gmt_created: { type: 'string' }, author: { type: 'string' }, author_email: { type: 'string' }, message: { type: 'string' } },
  },
  FlowVersionPage: page({ $ref: '#/components/schemas/FlowVersion' }),
  FlowExport: { type: 'object', required: ['flow'], properties: { flow: { $ref: '#/components/schemas/Flow' } } },
  NodeMetadata: { type: 'object', description: 'Operator or resource metadata as stored in a flow node (`data`).' },
  Status: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
} satisfies Record<string, JsonObject>;
