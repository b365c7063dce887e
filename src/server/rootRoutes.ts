import { chatCompletions, chatCompletionsV1 } from './chatCompletions.ts';
import type { RouteSpec } from './routes.ts';

/** Routes outside the DB-GPT prefixes: chat (v2, and v1 as DB-GPT's web UI sends it), the OpenAPI document and the Prometheus metrics. All need a key when keys are configured. */
export const ROOT_ROUTES: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v2/chat/completions',
    operationId: 'chatCompletions',
    summary:
      'DB-GPT\'s chat endpoint. With runtimes, flowreg is the gateway: `chat_mode: "chat_flow"` goes to a runtime the flow (`chat_param`) is live on, the next one when it refuses; other modes to the first runtime that answers; the answer (an SSE stream when `stream` is true) is passed through as it comes. When no runtime can take it (none configured, the flow live on none, every runtime refusing) it answers as DB-GPT does for a flow that is not deployed (400 `ErrorResponse`, 503 when the runtimes refused, or an SSE error chunk when `stream` is true), saying why; an unknown uid answers "Flow <uid> not found".',
    tag: 'service',
    envelope: false,
    auth: true,
    body: 'json',
    data: { type: 'object' },
    errors: [400, 401, 503],
    handle: async (ctx, req, res) => chatCompletions(ctx, req, res),
  },
  {
    method: 'post',
    path: '/api/v1/chat/completions',
    operationId: 'chatCompletionsV1',
    summary:
      'The chat route of DB-GPT\'s web UI (`ConversationVo`: `chat_mode`, `select_param`, `user_input`, `conv_uid`, `model_name`). With runtimes: forwarded as `/api/v2/chat/completions` is, the runtime chosen by where the flow in `select_param` is live for `chat_flow`. Errors are answered as DB-GPT answers them on this route: HTTP 200, an event stream of one `[SERVER_ERROR]<message>` chunk.',
    tag: 'service',
    envelope: false,
    auth: true,
    body: 'json',
    data: { type: 'string' },
    errors: [400, 401],
    answers: { text: 'text/event-stream' },
    handle: async (ctx, req, res) => chatCompletionsV1(ctx, req, res),
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

