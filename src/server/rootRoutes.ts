import { chatCompletions } from './chatCompletions.ts';
import type { RouteSpec } from './routes.ts';

/** Routes outside the DB-GPT prefixes: chat with a flow, the OpenAPI document and the Prometheus metrics. All need a key when keys are configured. */
export const ROOT_ROUTES: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v2/chat/completions',
    operationId: 'chatCompletions',
    summary:
      'DB-GPT\'s chat endpoint. flowreg does not run flows: `chat_mode: "chat_flow"` with a known flow uid answers as DB-GPT does for a flow that is not deployed (400 `ErrorResponse`, or an SSE error chunk when `stream` is true); an unknown uid answers "Flow <uid> not found".',
    tag: 'service',
    envelope: false,
    auth: true,
    body: 'json',
    data: { type: 'object' },
    errors: [400, 401],
    handle: async (ctx, req, res) => chatCompletions(ctx.service, req, res),
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApi',
    summary: 'This OpenAPI 3.1 document.',
    tag: 'service',
    envelope: false,
    auth: true,
    data: { type: 'object' },
    errors: [401],
    handle: async (ctx, _req, res) => {
      res.json(ctx.openApi());
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics (text exposition format): request and commit latency, number of flows and of invalid flows.',
    tag: 'service',
    envelope: false,
    auth: true,
    data: { type: 'string' },
    errors: [401],
    answers: { text: 'text/plain' },
    handle: async (ctx, _req, res) => {
      const { contentType, text } = await ctx.metrics.exposition();
      res.type(contentType).send(text);
    },
  },
];

