import type { RouteSpec } from './routes.ts';

/** Routes outside the DB-GPT prefixes: the OpenAPI document and the Prometheus metrics. Both need a key when keys are configured. */
export const ROOT_ROUTES: RouteSpec[] = [
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

