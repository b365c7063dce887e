import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { ServeConfig } from '../config/serveOptions.ts';
import { FlowregError, redactCredentials } from '../errors/index.ts';
import { createApp } from '../server/createApp.ts';
import { findWebRoot } from '../server/webApp.ts';
import { FlowService } from '../service/FlowService.ts';
import type { SyncApi } from '../service/FlowServiceApi.ts';
import type { JsonObject } from '../core/types.ts';
import { LiveSync } from '../service/LiveSync.ts';
import { Reconciler } from '../runtime/Reconciler.ts';
import { GitStore } from '../store/GitStore.ts';
import { realScheduler } from '../watch/Scheduler.ts';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';

/** A warning repeated within this many ms is counted, not logged again (a loop failing every second while descriptors run out). */
const REPEAT_MS = 10_000;

/** Where log lines go: one JSON object per line. */
export interface LogSink {
  write(line: string): void;
}

/** Options of a daemon. */
export interface DaemonOptions {
  config: ServeConfig;
  /** Log destination (default: stdout). */
  log?: LogSink;
}

/** Where a started daemon listens. */
export interface DaemonAddress {
  host: string;
  port: number;
  url: string;
}

/** Where the built web app is (`npm run build:web`), from the sources (src/daemon) or compiled JS one level deeper. */
const WEB_ROOTS = [join(import.meta.dirname, '../../web/dist'), join(import.meta.dirname, '../../../web/dist')];

/**
 * The flowreg daemon: opens the flow service over the configured repository and serves the REST
 * app on host:port. stop() stops accepting connections, lets in-flight requests (writes) finish
 * within the drain timeout, closes the service and leaves no handle open.
 */
export class Daemon {
  readonly logger: Logger;
  private readonly config: ServeConfig;
  private store: GitStore | null = null;
  private service: FlowService | null = null;
  private live: LiveSync | null = null;
  private reconciler: Reconciler | null = null;
  private server: Server | null = null;
  private inflight = 0;
  private idle: (() => void) | null = null;
  private draining = false;
  private stopping: Promise<void> | null = null;
  /** Per kind of warning: when it was last logged, and how many were left out since. */
  private readonly repeats = new Map<string, { at: number; left: number }>();

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    const sink = opts.log ?? { write: (line: string) => process.stdout.write(line) };
    this.logger = pino({ level: opts.config.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
  }

  /** Opens the service (initialising the repository when needed) and starts listening. */
  async start(): Promise<DaemonAddress> {
    if (this.server !== null) throw new FlowregError('INTERNAL', 'the daemon is already started');
    const c = this.config;
    const store = await GitStore.open({
      dir: c.repo,
      flowsDir: c.flowsDir,
      ...(c.templatesDir !== null ? { templatesDir: c.templatesDir } : {}),
      ...(c.committer !== null ? { committer: c.committer } : {}),
      ...(c.remote !== null ? { remote: { url: c.remote, branch: c.branch, ...(c.remoteAuth !== null ? { auth: c.remoteAuth } : {}) } } : {}),
      writeMode: c.writeMode,
      onListenerError: (err) => this.logger.warn({ err }, 'a subscriber of the flow changes failed'),
    });
    this.store = store;
    const service = new FlowService(store);
    this.service = service;
    const live = new LiveSync(store, {
      watch: c.watch,
      fetchIntervalMs: c.fetchInterval * 1000,
      onError: (err, where) => this.warnOnce(`${where}:${codeOf(err)}`, { err, where }, where === 'fetch' ? 'fetch failed' : where === 'head' ? 'HEAD check failed' : 'watch failed'),
      onServed: (paths, source, changed) => {
        if (changed.length > 0) this.logger.info({ source, paths: paths.length, changed: changed.length }, 'served changes');
      },
    });
    await live.start();
    this.live = live;
    let reconciler: Reconciler | null = null;
    if (c.runtimes.length > 0) {
      reconciler = new Reconciler(service, store, {
        targets: c.runtimes,
        owner: runtimeOwner(c),
        intervalMs: c.runtimeInterval * 1000,
        drift: c.drift,
        timeoutMs: c.runtimeTimeout,
        scheduler: realScheduler,
        log: (level, fields, msg) => (level === 'warn' ? this.warnOnce(`runtime:${msg}:${String(fields.runtime)}:${String(fields.uid ?? '')}`, fields, msg) : this.logger.info(fields, msg)),
      });
      this.reconciler = reconciler;
    }
    const sync: SyncApi = {
      status: () => service.syncStatus(),
      fetchNow: () => live.fetchNow(),
      branch: c.branch,
      hasRemote: c.remote !== null,
      webhookSecret: c.webhookSecret,
      ...(reconciler !== null ? { runtimes: () => reconciler.report() as JsonObject, reconcileNow: () => reconciler.reconcileNow(), runtimeEvents: (listener: (runtime: string) => void) => reconciler.subscribe(listener) } : {}),
    };
    const app = createApp({ service, logger: this.logger, apiKeys: c.apiKeys, bodyLimit: c.bodyLimit, flowsDir: c.flowsDir, draining: () => this.draining, sync, runtimes: reconciler, corsOrigins: c.corsOrigins, webRoot: findWebRoot(WEB_ROOTS) });
    // A silent connection gets 408 and is closed after headersTimeout (node checks every connectionsCheckingInterval).
    const server = createServer({ headersTimeout: c.headersTimeout, requestTimeout: c.requestTimeout, connectionsCheckingInterval: Math.max(100, Math.min(1000, c.headersTimeout)) }, app);
    server.keepAliveTimeout = c.keepAliveTimeout;
    // Past the cap node closes a new connection at once ('drop'): each one is a file descriptor the repository may need.
    server.maxConnections = c.maxConnections;
    server.on('drop', (data) => this.warnOnce('drop', { maxConnections: c.maxConnections, remoteAddress: data?.remoteAddress }, 'connection refused: too many connections'));
    server.on('request', (_req, res) => {
      this.inflight++;
      res.once('close', () => {
        this.inflight--;
        if (this.inflight === 0) this.idle?.();
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(c.port, c.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.reconciler?.stop();
      this.reconciler = null;
      await this.live?.stop();
      this.live = null;
      service.close();
      this.service = null;
      await store.close();
      this.store = null;
      const code = (err as { code?: unknown }).code;
      throw new FlowregError('INTERNAL', `cannot listen on ${c.host}:${c.port}: ${typeof code === 'string' ? code : String(err)}`, { host: c.host, port: c.port }, { cause: err });
    }
    // After listen, a server error (accept failing with EMFILE when descriptors run out) is logged, not fatal: node goes on accepting.
    server.on('error', (err) => this.warnOnce(`server:${codeOf(err)}`, { err }, 'server error'));
    this.server = server;
    // the first pass on each runtime starts once the status route can answer
    reconciler?.start();
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const address = { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` };
    this.logger.info({ url: address.url, repo: c.repo, flowsDir: c.flowsDir, auth: c.apiKeys.length > 0, remote: c.remote === null ? null : redactCredentials(c.remote), remoteCredentials: c.remoteAuth !== null, branch: c.branch, writeMode: c.writeMode, maxConnections: c.maxConnections, runtimes: c.runtimes.map((t) => ({ name: t.name, url: t.url, key: t.apiKey !== null })) }, 'listening');
    return address;
  }

  /** The runtimes' reconciler (null: no runtime configured), for tests and the status route. */
  get runtimes(): Reconciler | null {
    return this.reconciler;
  }

  /**
   * Logs a warning, unless one of the same kind was logged in the last REPEAT_MS: then it is only
   * counted, and the next one logged says how many were left out (`repeated`).
   */
  private warnOnce(kind: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const last = this.repeats.get(kind);
    if (last !== undefined && now - last.at < REPEAT_MS) {
      last.left++;
      return;
    }
    this.repeats.set(kind, { at: now, left: 0 });
    this.logger.warn({ ...fields, ...(last !== undefined && last.left > 0 ? { repeated: last.left } : {}) }, msg);
  }

  /**
   * Stops accepting connections, waits for in-flight requests (at most the drain timeout, after
   * which their connections are closed), closes idle keep-alive connections and the service.
   * Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  /** Closes every connection at once, in-flight ones included (a second signal during a drain). */
  forceClose(): void {
    this.server?.closeAllConnections();
  }

  private async drain(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.draining = true;
    this.logger.info({ inflight: this.inflight }, 'stopping');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.idle = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            this.logger.warn({ inflight: this.inflight, drainTimeoutMs: this.config.drainTimeout }, 'drain timeout: closing connections of unfinished requests');
            resolve();
          }, this.config.drainTimeout);
        }),
      ]);
      clearTimeout(timer);
      this.idle = null;
    }
    // Every request has finished (or timed out): what is left are idle keep-alive connections.
    server.closeAllConnections();
    await closed;
    this.server = null;
    // The service waits for writes still queued (a timed-out request's commit included).
    await this.reconciler?.stop();
    this.reconciler = null;
    await this.live?.stop();
    this.live = null;
    this.service?.close();
    this.service = null;
    await this.store?.close();
    this.store = null;
    this.logger.info('stopped');
  }
}

/** An error's code (EMFILE, ENOENT, …), for telling kinds of warnings apart. */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

/** The repository's id in deployed flows' provenance: configured, else the remote URL, else the folder's name and a hash of its path. */
export function runtimeOwner(c: ServeConfig): string {
  if (c.runtimeOwner !== null) return c.runtimeOwner;
  if (c.remote !== null) return redactCredentials(c.remote);
  return `${basename(c.repo)}-${createHash('sha256').update(c.repo).digest('hex').slice(0, 8)}`;
}
