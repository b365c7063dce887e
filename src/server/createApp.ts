import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { ApiKey } from '../config/parseApiKeys.ts';
import type { JsonObject } from '../core/types.ts';
import { FlowregError } from '../errors/index.ts';
import type { RuntimeRouter } from '../runtime/types.ts';
import type { FlowServiceApi, SyncApi } from '../service/FlowServiceApi.ts';
import { ApiKeys } from './ApiKeys.ts';
import { envelope } from './envelope.ts';
import { errorAnswer } from './errorAnswer.ts';
import { checkJsonDepth, isJsonType } from './jsonBody.ts';
import { Metrics } from './Metrics.ts';
import { openApiDocument, type RouteGroup } from './openApiDocument.ts';
import { ROOT_ROUTES } from './rootRoutes.ts';
import { ROUTES, type RouteContext, type RouteSpec } from './routes.ts';
import { describeRefusals, RuntimeProxy } from './runtimeProxy.ts';
import { WebhookGate } from './webhookGate.ts';
import { browseHandler, eventsHandler, mountWebApp, WEB_API_PATHS, WEB_ROUTE_DOCS } from './webApp.ts';

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
  /**
   * The DB-GPT runtimes flowreg is the gateway of (docs/api.md, "Runtimes"): chat, the routes a
   * runtime answers better (nodes, variables, debug) and every route flowreg does not own are
   * forwarded to them. Absent or null: no runtime; those routes answer as flowreg alone does.
   */
  runtimes?: RuntimeRouter | null;
  /** Origins allowed to call from a browser (CORS): exact origins, or `*` for any. Empty or absent: no CORS headers. */
  corsOrigins?: string[];
  /** The built web app (web/dist) served at `/` (docs/web.md); absent or null: no web app. */
  webRoot?: string | null;
}

/** The route groups the app serves: every DB-GPT route under each prefix, and the root routes. */
export function routeGroups(): RouteGroup[] {
  return [...API_PREFIXES.map((prefix) => ({ prefix, routes: ROUTES })), { prefix: '', routes: ROOT_ROUTES }];
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Paths flowreg owns whatever the method: never forwarded to a runtime, so that no flow is written
 * there behind git's back (`PUT /flows` without a uid, a method flowreg does not serve). Relative
 * to the API prefixes; the root routes are matched whole.
 */
const OWNED_UNDER_PREFIX = /^\/(?:flows|chat\/flows|flow\/(?:export|import|templates|notebook)|sync|runtimes|health|test_auth|web)(?:\/|$)/;
const OWNED_ROOT = new Set(['/openapi.json', '/metrics']);

/**
 * True when flowreg answers `raw` (a request's path) itself (see OWNED_UNDER_PREFIX), however it
 * is spelled: percent-decoded, slashes collapsed, dot segments resolved, in any case. A path that
 * does not decode is kept too.
 */
function ownedPath(raw: string): boolean {
  let path: string;
  try {
    path = posix.normalize(decodeURIComponent(raw)).toLowerCase();
  } catch {
    return true;
  }
  if (OWNED_ROOT.has(path)) return true;
  const prefix = API_PREFIXES.find((p) => path === p || path.startsWith(`${p}/`));
  return prefix !== undefined && OWNED_UNDER_PREFIX.test(path.slice(prefix.length));
}

/** Bodies read before forwarding (so they can go to the next runtime when one refuses); anything else (uploads) is streamed. */
function buffersBody(req: { headers: Record<string, string | string[] | undefined> }): boolean {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  return type === '' || isJsonType(type) || type.startsWith('text/') || type.startsWith('application/x-www-form-urlencoded');
}

/** The headers a browser may read from flowreg's answers (Access-Control-Expose-Headers). */
const EXPOSED_HEADERS = 'ETag, X-Request-Id, Content-Disposition';

/**
 * CORS for the allowed `origins` (exact, or `*`): a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) on any path is answered 204 without a key, allowing the methods
 * and the headers asked for; every answer to an allowed origin carries
 * `Access-Control-Allow-Origin` (the origin itself; `*` only when `*` is configured) and the
 * exposed headers. A disallowed origin gets no CORS header, so the browser refuses the answer.
 */
function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.header('origin');
    res.vary('Origin');
    const ok = origin !== undefined && (any || allowed.has(origin));
    if (req.method === 'OPTIONS' && origin !== undefined && req.header('access-control-request-method') !== undefined) {
      res.locals.route = 'preflight';
      res.vary('Access-Control-Request-Headers');
      if (ok) {
        res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
        const asked = req.header('access-control-request-headers');
        if (asked !== undefined && asked.trim() !== '') res.setHeader('Access-Control-Allow-Headers', asked);
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    if (ok) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    next();
  };
}

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
  const runtimes = opts.runtimes ?? null;
  const proxy = runtimes !== null && runtimes.targets.length > 0 ? new RuntimeProxy(runtimes, logger) : null;
  let document: JsonObject | undefined;
  const ctx: RouteContext = {
    service,
    metrics,
    bodyLimit,
    flowsDir: opts.flowsDir ?? 'flows',
    openApi: () => (document ??= openApiDocument([...groups, ...API_PREFIXES.map((prefix) => ({ prefix, routes: WEB_ROUTE_DOCS }))])),
    sync: opts.sync ?? null,
    webhook: new WebhookGate(),
    runtimes,
    proxy,
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
      if (typeof res.locals.runtime === 'string') line.runtime = res.locals.runtime;
      if (!res.writableFinished) line.aborted = true;
      logger.info(line, 'request');
    });
    next();
  });
  if (opts.corsOrigins !== undefined && opts.corsOrigins.length > 0) app.use(cors(opts.corsOrigins));

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

  // a forwarded body is read as bytes, whatever its type, so the next runtime can get it too
  const rawParser = express.raw({ limit: bodyLimit, type: (req) => buffersBody(req as unknown as { headers: Record<string, string | string[] | undefined> }) });
  const forward = async (req: Request, res: Response): Promise<void> => {
    if (proxy === null || runtimes === null) throw new Error('forwarding without a runtime');
    const body = buffersBody(req) ? (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)) : 'stream';
    const result = await proxy.forward(req, res, { targets: proxy.order(runtimes.targets), body });
    if (!result.answered) throw new FlowregError('RUNTIME_UNAVAILABLE', `no runtime answered ${req.method} ${req.path.slice(0, 200)}: ${describeRefusals(result.refusals)}`);
  };

  const register = (prefix: string, route: RouteSpec): void => {
    const template = prefix + route.path;
    const chain: RequestHandler[] = [
      (_req, res, next) => {
        res.locals.route = template;
        next();
      },
    ];
    if (route.auth) chain.push(authorize);
    if (route.forward === true && proxy !== null && runtimes !== null) {
      // a runtime answers this route better than flowreg's stand-in (its operator registry, its variables)
      chain.push(rawParser, forward);
      app[route.method](template, ...chain);
      return;
    }
    if (route.body === 'json') chain.push(jsonParser);
    // a webhook's signature is over the exact bytes sent
    if (route.body === 'raw') chain.push(express.raw({ limit: bodyLimit, type: () => true }));
    chain.push(async (req, res) => {
      await route.handle(ctx, req, res);
    });
    app[route.method](template, ...chain);
  };
  for (const group of groups) for (const route of group.routes) register(group.prefix, route);
  // the web app's list and change stream: not DB-GPT routes, so not in ROUTES (docs/web.md)
  for (const prefix of API_PREFIXES) {
    const [flowsPath, eventsPath] = WEB_API_PATHS.map((p) => prefix + p) as [string, string];
    const name = (route: string): RequestHandler => (_req, res, next) => {
      res.locals.route = route;
      next();
    };
    app.get(flowsPath, name(flowsPath), authorize, browseHandler(service));
    app.get(eventsPath, name(eventsPath), authorize, eventsHandler(service, draining, opts.sync?.runtimeEvents));
  }
  if (opts.webRoot) mountWebApp(app, opts.webRoot);

  if (proxy !== null && runtimes !== null) {
    // the gateway: a route flowreg does not own goes to the first runtime that answers
    app.use(authorize, (req, res, next) => {
      if (ownedPath(req.path)) {
        next();
        return;
      }
      res.locals.route = 'forwarded';
      rawParser(req, res, (err?: unknown) => {
        if (err !== undefined && err !== null) next(err);
        else forward(req, res).catch(next);
      });
    });
  }
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
