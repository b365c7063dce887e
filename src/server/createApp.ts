import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ApiKey } from '../config/parseApiKeys.ts';
import type { JsonObject } from '../core/types.ts';
import { FlowregError } from '../errors/index.ts';
import type { FlowServiceApi, SyncApi } from '../service/FlowServiceApi.ts';
import { ApiKeys } from './ApiKeys.ts';
import { envelope } from './envelope.ts';
import { errorAnswer } from './errorAnswer.ts';
import { checkJsonDepth, isJsonType } from './jsonBody.ts';
import { Metrics } from './Metrics.ts';
import { openApiDocument, type RouteGroup } from './openApiDocument.ts';
import { ROOT_ROUTES } from './rootRoutes.ts';
import { ROUTES, type RouteContext, type RouteSpec } from './routes.ts';
import { WebhookGate } from './webhookGate.ts';

/** The prefixes DB-GPT mounts its flow service under; flowreg serves every route under both. */
export const API_PREFIXES = ['/api/v2/serve/awel', '/api/v1/serve/awel'] as const;

/** What the app is built from. */
export interface AppOptions {
  service: FlowServiceApi;
  logger: Logger;
  /** Empty: every route is open. */
  apiKeys?: ApiKey[];
  /** Largest request body in bytes (default 10 MB). */
  bodyLimit?: number;
  /** The flows folder inside the repository (default `flows`), for YAML answers. */
  flowsDir?: string;
  /** True while the daemon drains: answers ask the client to close the connection. */
  draining?: () => boolean;
  /** Sync status and webhook; absent: /sync reports no remote and the webhook refuses. */
  sync?: SyncApi | null;
}

/** The route groups the app serves: every DB-GPT route under each prefix, and the root routes. */
export function routeGroups(): RouteGroup[] {
  return [...API_PREFIXES.map((prefix) => ({ prefix, routes: ROUTES })), { prefix: '', routes: ROOT_ROUTES }];
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The express app of the REST surface: DB-GPT's flow routes under /api/v2 and /api/v1 with the
 * Result envelope, the extensions, /openapi.json and /metrics; request ids and one log line per
 * request; API keys on every route but /health; every error answered in the envelope by
 * ERROR_TABLE. It only maps HTTP to the service: semantics are the service's.
 */
export function createApp(opts: AppOptions): Express {
  const { service, logger } = opts;
  const keys = new ApiKeys(opts.apiKeys ?? []);
  const bodyLimit = opts.bodyLimit ?? 10 * 1024 * 1024;
  const draining = opts.draining ?? (() => false);
  const metrics = new Metrics(() => service.stats());
  const groups = routeGroups();
  let document: JsonObject | undefined;
  const ctx: RouteContext = {
    service,
    metrics,
    bodyLimit,
    flowsDir: opts.flowsDir ?? 'flows',
    openApi: () => (document ??= openApiDocument(groups)),
    sync: opts.sync ?? null,
    webhook: new WebhookGate(),
  };

  const app = express();
  app.set('x-powered-by', false);
  // ETags are flow versions, set by the routes; express's body hashes would be noise.
  app.set('etag', false);

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    const given = req.header('x-request-id');
    const id = given !== undefined && REQUEST_ID_RE.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    if (draining()) res.setHeader('Connection', 'close');
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched';
      metrics.observeRequest(req.method, route, res.statusCode, seconds);
      const line: Record<string, unknown> = { reqId: id, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 };
      if (!res.writableFinished) line.aborted = true;
      logger.info(line, 'request');
    });
    next();
  });

  const authorize: RequestHandler = (req, res, next) => {
    if (!keys.enabled) {
      next();
      return;
    }
    const header = req.header('authorization');
    const holder = keys.check(header);
    if (holder === null) {
      const why = header === undefined ? 'send the header "Authorization: Bearer <key>"' : 'the key given in the Authorization header is not one of the configured keys';
      next(new FlowregError('UNAUTHORIZED', `a valid API key is required: ${why}`));
      return;
    }
    res.locals.keyName = holder.name;
    next();
  };

  const jsonParser = express.json({
    limit: bodyLimit,
    // Primitives and null reach the route, which says what it expected instead of a parser message.
    strict: false,
    type: (req) => isJsonType(req.headers['content-type']),
    verify: (_req, _res, buf) => checkJsonDepth(buf),
  });

  const register = (prefix: string, route: RouteSpec): void => {
    const template = prefix + route.path;
    const chain: RequestHandler[] = [
      (_req, res, next) => {
        res.locals.route = template;
        next();
      },
    ];
    if (route.auth) chain.push(authorize);
    if (route.body === 'json') chain.push(jsonParser);
    // a webhook's signature is over the exact bytes sent
    if (route.body === 'raw') chain.push(express.raw({ limit: bodyLimit, type: () => true }));
    chain.push(async (req, res) => {
      await route.handle(ctx, req, res);
    });
    app[route.method](template, ...chain);
  };
  for (const group of groups) for (const route of group.routes) register(group.prefix, route);

  app.use(authorize, (req, res) => {
    const path = req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path;
    res.status(404).json(envelope.failed('404', `no route ${req.method} ${path}; see /openapi.json for the routes flowreg serves`));
  });

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const answer = errorAnswer(err);
    if (answer.internal) logger.error({ reqId: res.locals.requestId, method: req.method, url: req.originalUrl, err }, 'unexpected error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.removeHeader('ETag');
    res.removeHeader('Content-Disposition');
    if (answer.retryAfter !== undefined) res.setHeader('Retry-After', String(answer.retryAfter));
    if (answer.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(answer.status).json(answer.body);
  };
  app.use(onError);
  return app;
}
