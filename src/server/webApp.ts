/**
 * The web app's side of the server (docs/web.md): its two API routes under each prefix — the list
 * it pages through (`/web/flows`) and the live change stream (`/web/events`, server-sent events
 * read with fetch so the API key goes in the Authorization header) — and the built app itself
 * (web/dist), served as static files at `/` with index.html for the app's own paths.
 */
import type { RouteSpec } from './routes.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { FlowregError } from '../errors/index.ts';
import type { BrowseQuery, FlowServiceApi, SyncApi } from '../service/FlowServiceApi.ts';
import { envelope } from './envelope.ts';
import { QueryReader } from './QueryReader.ts';

/** How often an open event stream sends a comment line, so proxies and the client see it alive. */
const HEARTBEAT_MS = 15_000;

/** The web app's API routes, relative to an API prefix: paths flowreg owns (never forwarded). */
export const WEB_API_PATHS = ['/web/flows', '/web/events'] as const;

/**
 * The web app's two API routes as the OpenAPI document describes them (they are registered by
 * createApp beside ROUTES, not from it: the event stream never ends, and they are never forwarded).
 */
export const WEB_ROUTE_DOCS: RouteSpec[] = [
  {
    method: 'get',
    path: WEB_API_PATHS[0],
    operationId: 'webFlows',
    summary: "The web app's flow list: every served flow filtered by `q` (uid, name, label, description), `category`, `state` and `quarantined`, one page of summaries with the last commit and the findings of a quarantined file, and the categories and states there are (docs/web.md).",
    tag: 'extensions',
    envelope: true,
    auth: true,
    data: { type: 'object' },
    errors: [400, 401],
    handle: async () => undefined,
  },
  {
    method: 'get',
    path: WEB_API_PATHS[1],
    operationId: 'webEvents',
    summary: "The web app's live updates: `text/event-stream`, a `ready` event, then one `change` event (`{\"uids\": [...], \"source\": ...}`) per batch of the store's changes and one `runtime` event (`{\"runtime\": name}`) per change of a runtime's status; a comment every 15 s; it ends when the daemon drains (docs/web.md).",
    tag: 'extensions',
    envelope: false,
    auth: true,
    data: { type: 'string' },
    errors: [401],
    answers: { text: 'text/event-stream' },
    handle: async () => undefined,
  },
];

function oneOf(raw: unknown, name: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new FlowregError('INVALID_INPUT', 'expected one value', { loc: `query.${name}` });
  return raw;
}

/** GET <prefix>/web/flows?q=&category=&state=&quarantined=true|false&page=&page_size= */
export function browseHandler(service: FlowServiceApi): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    if (service.browse === undefined) throw new FlowregError('NOT_SUPPORTED', 'this service has no web list');
    const query = req.query as Record<string, unknown>;
    const { page, pageSize } = new QueryReader(query).page();
    const q: BrowseQuery = { page, pageSize };
    const text = oneOf(query.q, 'q');
    if (text !== undefined) q.q = text.slice(0, 200);
    const category = oneOf(query.category, 'category');
    if (category !== undefined) q.category = category;
    const state = oneOf(query.state, 'state');
    if (state !== undefined) q.state = state;
    const quarantined = oneOf(query.quarantined, 'quarantined');
    if (quarantined !== undefined) {
      if (quarantined !== 'true' && quarantined !== 'false') throw new FlowregError('INVALID_INPUT', 'expected true or false', { loc: 'query.quarantined' });
      q.quarantined = quarantined === 'true';
    }
    res.json(envelope.succ(await service.browse(q)));
  };
}

/**
 * GET <prefix>/web/events: `text/event-stream`; one `change` event per batch of the store's change
 * stream (`{"uids": [...], "source": "write"|"scan"|"fetch"}`), one `runtime` event
 * (`{"runtime": name}`) whenever a runtime's status changed, a `ready` event first, a comment every
 * 15 s. Ends when the daemon starts draining, so a stop does not wait for open pages.
 */
export function eventsHandler(service: FlowServiceApi, draining: () => boolean, runtimeEvents?: SyncApi['runtimeEvents']): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    if (service.subscribe === undefined) throw new FlowregError('NOT_SUPPORTED', 'this service has no change stream');
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: 1000\nevent: ready\ndata: {}\n\n`);
    const unsubscribe = service.subscribe((event) => {
      res.write(`event: change\ndata: ${JSON.stringify({ uids: event.uids.slice(0, 1000), source: event.source })}\n\n`);
    });
    const unsubscribeRuntimes = runtimeEvents?.((runtime) => {
      res.write(`event: runtime\ndata: ${JSON.stringify({ runtime })}\n\n`);
    });
    let beat = 0;
    const timer = setInterval(() => {
      if (draining()) {
        res.end();
        return;
      }
      beat += 250;
      if (beat >= HEARTBEAT_MS) {
        beat = 0;
        res.write(': alive\n\n');
      }
    }, 250);
    timer.unref();
    await new Promise<void>((resolve) => {
      res.once('close', resolve);
      req.once('close', resolve);
    });
    clearInterval(timer);
    unsubscribe();
    unsubscribeRuntimes?.();
  };
}

/** The folder of the built web app, or null when it was not built (`npm run build:web`). */
export function findWebRoot(candidates: string[]): string | null {
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

/**
 * Serves the built app at `/`: its files as they are (the hashed assets cached for a year), and
 * index.html for any other GET that asks for HTML outside `/api/`, `/openapi.json` and `/metrics`
 * (the app's own paths such as `/flow/<uid>/history`). The shell holds no data: every flow, status
 * and event comes from the API, with the key the page asks for.
 */
export function mountWebApp(app: Express, root: string): void {
  const files = express.static(root, {
    index: 'index.html',
    fallthrough: true,
    setHeaders: (res, path) => {
      res.setHeader('Cache-Control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const index = join(root, 'index.html');
  const shell: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = req.path;
    if (path.startsWith('/api/') || path === '/openapi.json' || path === '/metrics' || path.startsWith('/assets/')) return next();
    if (!req.accepts('html')) return next();
    res.locals.route = 'web';
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  app.use((req, res, next) => {
    if (req.path.startsWith('/api/') || req.path === '/openapi.json' || req.path === '/metrics') return next();
    res.locals.route = 'web';
    files(req, res, next);
  }, shell);
}
