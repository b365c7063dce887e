import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { redactCredentials } from '../errors/index.ts';
import type { RuntimeRouter, RuntimeTarget } from '../runtime/types.ts';

/** How long a runtime has to accept the connection (DNS and TCP/TLS connect) before it counts as refused. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** How long a runtime that refused is tried after the others (by routes that are not chat with a flow). */
export const REFUSED_LAST_MS = 30_000;

/** How long an idle keep-alive connection to a runtime is kept: under uvicorn's 5 s, so the runtime never closes one under a request. */
const IDLE_SOCKET_MS = 4_000;

/** Statuses of a runtime's answer that count as a refusal: a proxy in front of it, or the runtime itself, cannot serve now. */
const REFUSAL_STATUSES = new Set([502, 503, 504]);

/** Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade']);

/**
 * Request headers that are not forwarded besides the hop-by-hop ones: `host` (the runtime's own is
 * sent), `authorization` (flowreg's key stays here; the runtime's own is sent instead), `expect`
 * (flowreg already answered 100-continue), `content-length` (recomputed or passed with the stream).
 */
const NOT_FORWARDED = new Set(['host', 'authorization', 'expect', 'content-length', 'x-request-id']);

/** Why a runtime did not serve a request. */
export interface Refusal {
  target: RuntimeTarget;
  reason: string;
}

/** What became of a forwarded request. */
export type ForwardResult =
  /** A runtime answered (or the client left): the answer is written or being written. */
  | { answered: true; target: RuntimeTarget | null }
  /** No runtime answered; nothing was written to the client. */
  | { answered: false; refusals: Refusal[] };

/** One forwarded request. */
export interface ForwardRequest {
  /** The runtimes to try, best first; each one that refuses is reported down, and the next is tried while the body can be sent again. */
  targets: readonly RuntimeTarget[];
  /**
   * The body: bytes already read (sent with a recomputed content-length; can be sent to the next
   * runtime), or `'stream'`: the request itself is piped (an upload), which only a runtime that
   * refuses before the first byte was read can pass on to the next.
   */
  body: Buffer | 'stream';
  /** Path and query to send; default the request's own (`req.originalUrl`). */
  path?: string;
  /** The end written to a client's `text/event-stream` when the runtime dies mid-answer; default DB-GPT's chat error chunk and `data: [DONE]`. */
  streamEnd?: (message: string) => string;
}

/** DB-GPT's streamed chat error (as `/api/v2/chat/completions` streams one), then the end of the stream. */
export function chatStreamError(message: string): string {
  const chunk = { error_code: 1, text: message, incremental: true, model_context: null, finish_reason: null, usage: null, metrics: null };
  return `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`;
}

/** `rt1: ECONNREFUSED; rt2: answered 503 Service Unavailable`: each runtime that refused and why. */
export function describeRefusals(refusals: readonly Refusal[]): string {
  return refusals.map((r) => `${r.target.name}: ${r.reason}`).join('; ');
}

/** What one attempt on one runtime came to. */
type Attempt = { kind: 'answered' } | { kind: 'gone' } | { kind: 'refused'; reason: string; replayable: boolean; stale: boolean };

/**
 * Forwards requests to DB-GPT runtimes (docs/api.md, "Runtimes"): the same method, path, query
 * and headers (hop-by-hop ones, `host` and flowreg's `Authorization` left out; the runtime's own
 * `Bearer <apiKey>` sent instead), over one keep-alive agent per runtime. The answer streams back
 * as it arrives, chunk by chunk, so a chat's SSE passes through byte for byte. A runtime that
 * refuses (connection refused or reset before an answer, no connection within CONNECT_TIMEOUT_MS,
 * an answer of 502, 503 or 504) is reported to the router, and the next runtime is tried while
 * the body can be sent again. A runtime's key never appears in answers or logs.
 */
export class RuntimeProxy {
  private readonly agents = new Map<string, http.Agent>();
  /** When each runtime (by name) last refused; cleared when it answers. */
  private readonly refusedAt = new Map<string, number>();

  constructor(
    private readonly router: RuntimeRouter,
    private readonly logger: Logger,
    private readonly opts: { connectTimeout?: number; now?: () => number } = {},
  ) {}

  /** `targets` in their order, but those that refused in the last REFUSED_LAST_MS after the others. */
  order(targets: readonly RuntimeTarget[]): RuntimeTarget[] {
    const now = this.now();
    const recent = (t: RuntimeTarget): boolean => {
      const at = this.refusedAt.get(t.name);
      return at !== undefined && now - at < REFUSED_LAST_MS;
    };
    return [...targets.filter((t) => !recent(t)), ...targets.filter(recent)];
  }

  /**
   * Sends the request to the first target that answers and streams its answer to `res`. Resolves
   * when the answer is complete or the client left ({answered: true}), or with every refusal when
   * no target answered (nothing was written: the caller answers with an error in its route's shape).
   */
  async forward(req: Request, res: Response, fr: ForwardRequest): Promise<ForwardResult> {
    const refusals: Refusal[] = [];
    for (const target of fr.targets) {
      let outcome = await this.attempt(req, res, target, fr);
      // a keep-alive connection the runtime had just closed: not the runtime's fault, one more try
      if (outcome.kind === 'refused' && outcome.stale && outcome.replayable) outcome = await this.attempt(req, res, target, fr);
      if (outcome.kind === 'answered') {
        this.refusedAt.delete(target.name);
        return { answered: true, target };
      }
      if (outcome.kind === 'gone') return { answered: true, target: null };
      refusals.push({ target, reason: outcome.reason });
      this.refusedAt.set(target.name, this.now());
      this.router.reportDown(target, outcome.reason);
      this.logger.warn({ reqId: res.locals.requestId, runtime: target.name, method: req.method, path: req.path, reason: outcome.reason }, 'runtime refused a forwarded request');
      if (!outcome.replayable) break;
    }
    return { answered: false, refusals };
  }

  /** Closes the idle connections to the runtimes. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private agentFor(target: RuntimeTarget, secure: boolean): http.Agent {
    const key = `${target.name}\u0000${target.url}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const options = { keepAlive: true, keepAliveMsecs: 1_000, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
      agent = secure ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private attempt(req: Request, res: Response, target: RuntimeTarget, fr: ForwardRequest): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      // the client left while an earlier runtime was tried
      if (res.writableEnded || req.socket.destroyed) {
        resolve({ kind: 'gone' });
        return;
      }
      let base: URL;
      try {
        base = new URL(target.url);
      } catch {
        resolve({ kind: 'refused', reason: 'its URL is not valid', replayable: true, stale: false });
        return;
      }
      const secure = base.protocol === 'https:';
      const path = `${base.pathname.replace(/\/+$/, '')}${fr.path ?? req.originalUrl}`;
      const upstream = (secure ? https : http).request({
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port === '' ? (secure ? 443 : 80) : Number(base.port),
        method: req.method,
        path,
        headers: forwardedHeaders(req, res, target, fr.body),
        agent: this.agentFor(target, secure),
      });
      let settled = false;
      let answered = false;
      let consumed = false;
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (a: Attempt): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (settled) return;
        settled = true;
        res.off('close', onClientClose);
        resolve(a);
      };
      // a client that leaves cancels the runtime's work (a chat stops generating)
      const onClientClose = (): void => {
        if (res.writableFinished) return;
        upstream.destroy();
        settle({ kind: 'gone' });
      };
      res.once('close', onClientClose);

      upstream.on('socket', (socket: Socket) => {
        socket.setNoDelay(true);
        const connected = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          if (fr.body === 'stream' && !settled) {
            consumed = true;
            if (req.readableEnded) upstream.end();
            else req.pipe(upstream);
          }
        };
        if (socket.connecting) {
          timer = setTimeout(() => {
            timedOut = true;
            upstream.destroy();
          }, this.opts.connectTimeout ?? CONNECT_TIMEOUT_MS);
          socket.once(secure ? 'secureConnect' : 'connect', connected);
        } else {
          connected();
        }
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (settled || answered) return;
        const ms = this.opts.connectTimeout ?? CONNECT_TIMEOUT_MS;
        const reason = timedOut ? `no connection within ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}` : reasonOf(err, target);
        const stale = !timedOut && upstream.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        settle({ kind: 'refused', reason, replayable: !consumed, stale });
      });
      upstream.on('response', (answer: IncomingMessage) => {
        if (timer !== undefined) clearTimeout(timer);
        const status = answer.statusCode ?? 502;
        if (REFUSAL_STATUSES.has(status)) {
          answer.resume();
          // a streamed body may have been read in part: it cannot go to another runtime
          settle({ kind: 'refused', reason: `answered ${status} ${answer.statusMessage ?? http.STATUS_CODES[status] ?? ''}`.trim(), replayable: !consumed, stale: false });
          return;
        }
        answered = true;
        res.locals.runtime = target.name;
        this.relay(answer, res, target, fr, () => settle({ kind: 'answered' }));
      });
      if (fr.body !== 'stream') upstream.end(fr.body.length > 0 || hasBody(req) ? fr.body : undefined);
    });
  }

  /** Streams a runtime's answer to the client as it arrives; `done` when it is complete or cut off. */
  private relay(answer: IncomingMessage, res: Response, target: RuntimeTarget, fr: ForwardRequest, done: () => void): void {
    const headers = answerHeaders(answer.headers, res);
    res.writeHead(answer.statusCode ?? 502, headers);
    res.flushHeaders();
    let tail = '';
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      done();
    };
    answer.on('data', (chunk: Buffer) => {
      if (chunk.length >= 2) tail = chunk.subarray(chunk.length - 2).toString('latin1');
      else tail = (tail + chunk.toString('latin1')).slice(-2);
      if (!res.write(chunk)) {
        answer.pause();
        res.once('drain', () => answer.resume());
      }
    });
    answer.on('end', () => {
      res.end();
    });
    res.once('finish', finish);
    res.once('close', () => {
      // the client left mid-answer: stop the runtime's work
      if (!answer.complete) answer.destroy();
      finish();
    });
    answer.on('error', () => undefined);
    answer.on('close', () => {
      if (answer.complete || res.writableEnded || res.destroyed) return;
      // the runtime died mid-answer: end an event stream with a clear error, cut anything else off
      const type = String(answer.headers['content-type'] ?? '');
      const encoding = String(answer.headers['content-encoding'] ?? 'identity');
      const reason = `${target.name} closed the stream before the answer was complete`;
      this.logger.warn({ reqId: res.locals.requestId, runtime: target.name, reason }, 'runtime closed a forwarded answer mid-stream');
      if (type.startsWith('text/event-stream') && encoding === 'identity' && answer.headers['content-length'] === undefined) {
        const end = (fr.streamEnd ?? chatStreamError)(`${target.name} closed the stream: the runtime stopped answering before the answer was complete`);
        res.end(`${tail === '\n\n' || tail === '' ? '' : '\n\n'}${end}`);
      } else {
        res.destroy();
      }
    });
  }
}

/** True when the client sent a body (a length other than 0, or a chunked one). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Names listed in a `Connection` header, which are hop-by-hop for this message. */
function connectionListed(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
}

/** The request headers sent to a runtime. */
function forwardedHeaders(req: Request, res: Response, target: RuntimeTarget, body: Buffer | 'stream'): OutgoingHttpHeaders {
  const listed = connectionListed(req.headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_FORWARDED.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  if (body === 'stream') {
    if (req.headers['content-length'] !== undefined) out['content-length'] = req.headers['content-length'];
  } else if (body.length > 0 || hasBody(req)) {
    out['content-length'] = String(body.length);
  }
  if (target.apiKey !== null) out.authorization = `Bearer ${target.apiKey}`;
  const id: unknown = res.locals.requestId;
  if (typeof id === 'string') out['x-request-id'] = id;
  return out;
}

/**
 * The answer headers passed to the client: the runtime's, less the hop-by-hop ones, its CORS
 * headers (flowreg's own CORS rules answer for it) and its request id (flowreg's is kept); `Vary`
 * merged with flowreg's.
 */
function answerHeaders(headers: IncomingHttpHeaders, res: Response): OutgoingHttpHeaders {
  const listed = connectionListed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name.startsWith('access-control-') || name === 'x-request-id') continue;
    if (name === 'vary') {
      const ours = res.getHeader('vary');
      out.vary = ours === undefined ? String(value) : `${String(ours)}, ${String(value)}`;
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** A short reason for a failed connection (the error code when there is one), without credentials or keys. */
function reasonOf(err: NodeJS.ErrnoException, target: RuntimeTarget): string {
  const text = typeof err.code === 'string' && err.code !== '' ? err.code : err.message || 'the connection failed';
  return redactCredentials(text, target.apiKey !== null ? [target.apiKey] : []);
}
