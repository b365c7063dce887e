import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { FlowregError, redactCredentials } from '../errors/index.ts';
import { defaultMaxConnections } from './descriptorLimit.ts';
import type { DriftMode, RuntimeTarget } from '../core/runtimeTarget.ts';
import { parseApiKeys, type ApiKey } from './parseApiKeys.ts';
import { parseRuntimes } from './parseRuntimes.ts';

/** The environment variable holding the remote's token itself (it has no flag: a flag is seen in the process list). */
export const REMOTE_TOKEN_ENV = 'FLOWREG_REMOTE_TOKEN';

/** The user name sent with a token when the remote's URL names none (GitHub's; GitLab and Gitea take any). */
export const DEFAULT_TOKEN_USER = 'x-access-token';

/** pino's levels; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything `flowreg serve` runs with, after flags, environment, config file and defaults are merged. */
export interface ServeConfig {
  /** Absolute path of the repository's working tree. */
  repo: string;
  /** Folder of flow files, relative to the repository (posix separators). */
  flowsDir: string;
  /** Absolute path of the templates folder; null: the service's default (`<repo>/templates`). */
  templatesDir: string | null;
  host: string;
  port: number;
  /** Empty: no authentication (DB-GPT's default). */
  apiKeys: ApiKey[];
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  logLevel: LogLevel;
  /** How long stop() waits for in-flight requests before closing their connections, in ms. */
  drainTimeout: number;
  /** Most simultaneous connections; more are closed as soon as they are accepted (node's `server.maxConnections`). */
  maxConnections: number;
  /** Time a connection has to send a request's headers (a silent connection included), in ms; then 408 and closed. */
  headersTimeout: number;
  /** Time a connection has to send a whole request, body included, in ms; then 408 and closed. */
  requestTimeout: number;
  /** How long an idle keep-alive connection is kept after an answer, in ms. */
  keepAliveTimeout: number;
  /** Origins a browser may call flowreg from (CORS): exact origins, or `*` for any; empty: none. */
  corsOrigins: string[];
  /** The daemon's committer identity; null: the store's default. */
  committer: { name: string; email: string } | null;
  /** The config file that was read, null when none. */
  config: string | null;
  /** Remote to sync with (http or https URL, without credentials: those are in `remoteAuth`); null: none. */
  remote: string | null;
  /** Absolute path of the file holding the remote's token; null: none. */
  remoteTokenFile: string | null;
  /**
   * HTTP Basic credentials of the remote, from FLOWREG_REMOTE_TOKEN, the token file or the URL's
   * `user:password@` (taken out of it); null: none. Not an option of its own (see loadServeConfig).
   */
  remoteAuth: { username: string; password: string } | null;
  /** Branch served, fetched and pushed. */
  branch: string;
  /** Seconds between fetches of the remote (0: only on webhook). */
  fetchInterval: number;
  /** Secret of the push webhook (HMAC-SHA256); null: the webhook route answers 401. */
  webhookSecret: string | null;
  /** `direct`: writes go to the branch; `branch`: each write goes to a new branch for review. */
  writeMode: 'direct' | 'branch';
  /** Watch the working tree for changes made outside flowreg. */
  watch: boolean;
  /** DB-GPT webservers flows are deployed into and chat is forwarded to (docs/runtimes.md); empty: none. */
  runtimes: RuntimeTarget[];
  /** Seconds between full reconciles of every runtime (a restarted runtime, drift). */
  runtimeInterval: number;
  /** Longest wait for one call to a runtime by the reconcile, in ms. */
  runtimeTimeout: number;
  /** What the reconcile does with drift on a runtime. */
  drift: DriftMode;
  /** The repository's id in the provenance of deployed flows; null: derived from the remote or the repository folder. */
  runtimeOwner: string | null;
}

/** Where a value came from, for messages, and what relative paths resolve against. */
export interface ParseContext {
  /** `--port`, `FLOWREG_PORT` or `<file>: port`. */
  where: string;
  /** Folder that relative paths given by this source resolve against (the cwd, or the config file's folder). */
  base: string;
  /** The repository, already resolved (for options relative to it). */
  repo: string;
}

/** How options are grouped in `--help` and docs/configuration.md. */
export type OptionGroup = 'repository' | 'http' | 'auth' | 'logging' | 'sync' | 'runtime';

/** One option of `flowreg serve`: its flag, environment variable, config-file key, default and parser. */
export interface OptionSpecFor<K extends keyof ServeConfig> {
  key: K;
  /** commander flag syntax, e.g. `--port <port>`. */
  flag: string;
  env: string;
  group: OptionGroup;
  description: string;
  /** The default as shown by --help and the docs. */
  defaultText: string;
  /** The default value; `cwd` is the process's working folder, `repo` the resolved repository. */
  fallback: (cwd: string, repo: string) => ServeConfig[K];
  /** Reads a flag or environment string, or a config-file JSON value; throws USAGE with `ctx.where` on a bad value. */
  parse: (raw: unknown, ctx: ParseContext) => ServeConfig[K];
  /** False for options that cannot come from the config file (the file's own path). */
  inFile?: boolean;
  /** True: the flag may be given several times, its values joined with commas. */
  repeatable?: boolean;
}

/** Any option of the table. */
export type OptionSpec = { [K in keyof ServeConfig]: OptionSpecFor<K> }[keyof ServeConfig];

function usage(ctx: ParseContext, text: string): FlowregError {
  return new FlowregError('USAGE', `${ctx.where}: ${text}`);
}

function shown(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : JSON.stringify(raw) ?? String(raw);
}

function text(raw: unknown, ctx: ParseContext, what: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw usage(ctx, `expected ${what}, got ${shown(raw)}`);
  return raw.trim();
}

function integer(raw: unknown, ctx: ParseContext, what: string, min: number, max: number): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw usage(ctx, `expected ${what} (an integer from ${min} to ${max}), got ${shown(raw)}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

function size(raw: unknown, ctx: ParseContext): number {
  if (typeof raw === 'number') return integer(raw, ctx, 'a size in bytes', 1024, 1024 ** 3);
  const m = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b)?\s*$/i.exec(raw) : null;
  const bytes = m ? Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? NaN)) : NaN;
  if (!Number.isFinite(bytes) || bytes < 1024 || bytes > 1024 ** 3) throw usage(ctx, `expected a size from 1kb to 1gb such as 10mb, 512kb or 1048576, got ${shown(raw)}`);
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000 };

function duration(raw: unknown, ctx: ParseContext): number {
  if (typeof raw === 'number') return integer(raw, ctx, 'milliseconds', 0, 3_600_000);
  const m = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(raw) : null;
  const ms = m ? Math.round(Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? NaN)) : NaN;
  if (!Number.isFinite(ms) || ms > 3_600_000) throw usage(ctx, `expected a duration up to 1 hour such as 10s, 500ms or 10000 (ms), got ${shown(raw)}`);
  return ms;
}

/** A duration of at least `min` ms (a timeout of 0 would turn it off, which these do not allow). */
function timeout(raw: unknown, ctx: ParseContext, min = 100): number {
  const ms = duration(raw, ctx);
  if (ms < min) throw usage(ctx, `expected a duration of at least ${min}ms such as 10s, got ${shown(raw)}`);
  return ms;
}

function bool(raw: unknown, ctx: ParseContext): boolean {
  if (typeof raw === 'boolean') return raw;
  const v = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  throw usage(ctx, `expected true or false, got ${shown(raw)}`);
}

function identity(raw: unknown, ctx: ParseContext): { name: string; email: string } {
  const bad = (): FlowregError => usage(ctx, `expected "Name <email>" (or {"name", "email"} in the config file), got ${shown(raw)}`);
  let name: unknown;
  let email: unknown;
  if (typeof raw === 'string') {
    const m = /^\s*([^<>\n]*?)\s*<([^<>\s]+)>\s*$/.exec(raw);
    if (!m) throw bad();
    [name, email] = [m[1], m[2]];
  } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    ({ name, email } = raw as { name?: unknown; email?: unknown });
  }
  // git's signature line cannot carry <, > or line breaks in either part.
  if (typeof name !== 'string' || name === '' || /[<>\n\r]/.test(name) || typeof email !== 'string' || !/^[^<>\s]+$/.test(email)) throw bad();
  return { name, email };
}

/** A comma list (or a config file's array) of exact origins, or `*`: each as browsers send it in `Origin` (`http://localhost:3000`). */
function corsOrigins(raw: unknown, ctx: ParseContext): string[] {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  const bad = (what: unknown): FlowregError => usage(ctx, `expected origins such as http://localhost:3000 (scheme, host and port, no path), comma-separated, or *; got ${shown(what)}`);
  if (items === null) throw bad(raw);
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw bad(item);
    const given = item.trim();
    if (given === '') continue;
    if (given === '*') {
      out.push('*');
      continue;
    }
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw bad(given);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') throw bad(given);
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  if (out.length === 0) throw bad(raw);
  return out.includes('*') ? ['*'] : out;
}

/** The repository for "the current directory": the nearest folder upwards holding `.git`, else `cwd`. */
export function repositoryOf(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/**
 * Every option of `flowreg serve`. This one table drives flag parsing, environment names, the
 * config-file keys, `--help` and docs/configuration.md; a new option is a new row (and a field of
 * ServeConfig). Group `sync` is reserved for the remote-sync options (remote, branch, fetch
 * interval, webhook secret, write mode).
 */
export const SERVE_OPTIONS: OptionSpec[] = [
  {
    key: 'config',
    flag: '--config <file>',
    env: 'FLOWREG_CONFIG',
    group: 'repository',
    description: 'JSON config file (keys as in the "config file" column); without it, flowreg.config.json in the repository root is read when present',
    defaultText: 'none',
    inFile: false,
    fallback: () => null,
    parse: (raw, ctx) => {
      const file = resolve(ctx.base, text(raw, ctx, 'a file path'));
      if (!existsSync(file) || !statSync(file).isFile()) throw usage(ctx, `no such config file: ${file}`);
      return file;
    },
  },
  {
    key: 'repo',
    flag: '--repo <dir>',
    env: 'FLOWREG_REPO',
    group: 'repository',
    description: 'git repository to serve (a folder without one is initialised)',
    defaultText: 'the repository of the current directory',
    fallback: (cwd) => repositoryOf(cwd),
    parse: (raw, ctx) => {
      const dir = resolve(ctx.base, text(raw, ctx, 'a folder path'));
      if (existsSync(dir) && !statSync(dir).isDirectory()) throw usage(ctx, `${dir} is not a folder`);
      return dir;
    },
  },
  {
    key: 'flowsDir',
    flag: '--flows-dir <dir>',
    env: 'FLOWREG_FLOWS_DIR',
    group: 'repository',
    description: 'folder of flow files, relative to the repository',
    defaultText: 'flows',
    fallback: () => 'flows',
    parse: (raw, ctx) => {
      const given = text(raw, ctx, 'a folder path relative to the repository').replaceAll('\\', '/');
      const dir = posix.normalize(given).replace(/\/+$/, '');
      if (isAbsolute(given) || posix.isAbsolute(dir) || dir === '.' || dir === '' || dir.split('/').includes('..') || dir.split('/')[0] === '.git') {
        throw usage(ctx, `expected a folder inside the repository such as flows or config/flows, got ${shown(raw)}`);
      }
      return dir;
    },
  },
  {
    key: 'templatesDir',
    flag: '--templates-dir <dir>',
    env: 'FLOWREG_TEMPLATES_DIR',
    group: 'repository',
    description: "folder of template flows served by /flow/templates (DB-GPT export JSON or flow YAML), relative to the repository; when it does not exist, flowreg's built-in templates (DB-GPT's English ones) are served",
    defaultText: 'templates',
    fallback: () => null,
    parse: (raw, ctx) => resolve(ctx.repo, text(raw, ctx, 'a folder path')),
  },
  {
    key: 'committer',
    flag: '--committer <identity>',
    env: 'FLOWREG_COMMITTER',
    group: 'repository',
    description: 'committer of every write, "Name <email>" (authors come from API key names or user_name)',
    defaultText: 'flowreg <flowreg@localhost>',
    fallback: () => null,
    parse: identity,
  },
  {
    key: 'host',
    flag: '--host <host>',
    env: 'FLOWREG_HOST',
    group: 'http',
    description: 'address to listen on (0.0.0.0 for every interface)',
    defaultText: '127.0.0.1',
    fallback: () => '127.0.0.1',
    parse: (raw, ctx) => {
      const host = text(raw, ctx, 'a host name or IP address');
      if (/[\s/]/.test(host)) throw usage(ctx, `expected a host name or IP address, got ${shown(raw)}`);
      return host;
    },
  },
  {
    key: 'port',
    flag: '--port <port>',
    env: 'FLOWREG_PORT',
    group: 'http',
    description: "TCP port to listen on (DB-GPT's port; 0 picks a free one)",
    defaultText: '5670',
    fallback: () => 5670,
    parse: (raw, ctx) => integer(raw, ctx, 'a port number', 0, 65535),
  },
  {
    key: 'bodyLimit',
    flag: '--body-limit <size>',
    env: 'FLOWREG_BODY_LIMIT',
    group: 'http',
    description: 'largest request body (JSON or import upload); larger ones get 413',
    defaultText: '10mb',
    fallback: () => 10 * 1024 * 1024,
    parse: size,
  },
  {
    key: 'drainTimeout',
    flag: '--drain-timeout <duration>',
    env: 'FLOWREG_DRAIN_TIMEOUT',
    group: 'http',
    description: 'on SIGTERM/SIGINT, how long in-flight requests may take to finish before their connections are closed',
    defaultText: '10s',
    fallback: () => 10_000,
    parse: duration,
  },
  {
    key: 'maxConnections',
    flag: '--max-connections <n>',
    env: 'FLOWREG_MAX_CONNECTIONS',
    group: 'http',
    description:
      'most simultaneous connections; one more is closed as soon as it is accepted (the client sees the connection reset), so that idle or slow clients cannot use up the file descriptors the repository needs. auto: the descriptor limit (ulimit -n) less 128 kept for the repository (half the limit when under 256), at most 1024',
    defaultText: 'auto',
    fallback: () => defaultMaxConnections(),
    parse: (raw, ctx) => (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto' ? defaultMaxConnections() : integer(raw, ctx, 'a number of connections or auto', 1, 1_000_000)),
  },
  {
    key: 'headersTimeout',
    flag: '--headers-timeout <duration>',
    env: 'FLOWREG_HEADERS_TIMEOUT',
    group: 'http',
    description: "time a client has to send a request's headers, from the connection's start or the previous answer (a connection that sends nothing included); then it gets 408 and is closed. At most requestTimeout",
    defaultText: '10s',
    fallback: () => 10_000,
    parse: (raw, ctx) => timeout(raw, ctx),
  },
  {
    key: 'requestTimeout',
    flag: '--request-timeout <duration>',
    env: 'FLOWREG_REQUEST_TIMEOUT',
    group: 'http',
    description: 'time a connection has to send a whole request, body included; then it gets 408 and is closed',
    defaultText: '5m',
    fallback: () => 300_000,
    parse: (raw, ctx) => timeout(raw, ctx),
  },
  {
    key: 'keepAliveTimeout',
    flag: '--keep-alive-timeout <duration>',
    env: 'FLOWREG_KEEP_ALIVE_TIMEOUT',
    group: 'http',
    description: 'how long an idle keep-alive connection is kept open after an answer',
    defaultText: '5s',
    fallback: () => 5_000,
    parse: (raw, ctx) => timeout(raw, ctx),
  },
  {
    key: 'corsOrigins',
    flag: '--cors-origin <origins>',
    env: 'FLOWREG_CORS_ORIGINS',
    group: 'http',
    description:
      'origins a web page may call flowreg from (CORS), such as http://localhost:3000: comma-separated exact origins (scheme, host and port), or * for any. Preflights are answered without an API key; other origins get no CORS headers, so browsers refuse them',
    defaultText: 'none',
    fallback: () => [],
    parse: corsOrigins,
  },
  {
    key: 'apiKeys',
    flag: '--api-keys <keys>',
    env: 'FLOWREG_API_KEYS',
    group: 'auth',
    description: 'API keys; when set every route needs "Authorization: Bearer <key>". Comma-separated keys as DB-GPT, or name=key entries whose name becomes the commit author',
    defaultText: 'none (no authentication)',
    fallback: () => [],
    parse: (raw, ctx) => parseApiKeys(raw, ctx.where),
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'FLOWREG_LOG_LEVEL',
    group: 'logging',
    description: `log level of the JSON log on stdout: ${LOG_LEVELS.join(', ')}`,
    defaultText: 'info',
    fallback: () => 'info',
    parse: (raw, ctx) => {
      const level = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
      const found = LOG_LEVELS.find((l) => l === level);
      if (found === undefined) throw usage(ctx, `expected one of ${LOG_LEVELS.join(', ')}, got ${shown(raw)}`);
      return found;
    },
  },
  {
    key: 'remote',
    flag: '--remote <url>',
    env: 'FLOWREG_REMOTE',
    group: 'sync',
    description: 'git remote to sync with (http or https): cloned into an empty repository folder, fetched on an interval and on the webhook; every write is pushed before it is acknowledged',
    defaultText: 'none',
    fallback: () => null,
    parse: (raw, ctx) => {
      // a URL may hold credentials: messages show it without them
      const given = typeof raw === 'string' ? redactCredentials(raw) : raw;
      if (typeof raw !== 'string' || raw.trim() === '') throw usage(ctx, `expected an http(s) URL of a git repository, got ${shown(given)}`);
      const url = raw.trim();
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw usage(ctx, `expected an http(s) URL of a git repository, got ${shown(given)}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(ctx, `only http and https remotes are supported (isomorphic-git), got ${shown(given)}`);
      return url;
    },
  },
  {
    key: 'remoteTokenFile',
    flag: '--remote-token-file <file>',
    env: 'FLOWREG_REMOTE_TOKEN_FILE',
    group: 'sync',
    description: `file holding the remote's access token (one line), sent as HTTP Basic auth; or give the token itself in ${REMOTE_TOKEN_ENV}. The user name is the URL's (https://user@host/…), else ${DEFAULT_TOKEN_USER}`,
    defaultText: 'none',
    fallback: () => null,
    parse: (raw, ctx) => {
      const file = resolve(ctx.base, text(raw, ctx, 'a file path'));
      if (!existsSync(file) || !statSync(file).isFile()) throw usage(ctx, `no such token file: ${file}`);
      return file;
    },
  },
  {
    key: 'branch',
    flag: '--branch <name>',
    env: 'FLOWREG_BRANCH',
    group: 'sync',
    description: 'branch of the remote to clone, fetch and push',
    defaultText: 'main',
    fallback: () => 'main',
    parse: (raw, ctx) => {
      const b = text(raw, ctx, 'a branch name');
      if (!/^[A-Za-z0-9._/-]+$/.test(b) || b.includes('..') || b.startsWith('/') || b.endsWith('/') || b.endsWith('.lock')) throw usage(ctx, `expected a branch name such as main, got ${shown(raw)}`);
      return b;
    },
  },
  {
    key: 'fetchInterval',
    flag: '--fetch-interval <seconds>',
    env: 'FLOWREG_FETCH_INTERVAL',
    group: 'sync',
    description: 'seconds between fetches of the remote (0: fetch only when the webhook is called)',
    defaultText: '30',
    fallback: () => 30,
    parse: (raw, ctx) => integer(raw, ctx, 'seconds', 0, 86_400),
  },
  {
    key: 'webhookSecret',
    flag: '--webhook-secret <secret>',
    env: 'FLOWREG_WEBHOOK_SECRET',
    group: 'sync',
    description: 'secret of the GitHub/Gitea push webhook at POST /api/v2/serve/awel/sync/webhook (X-Hub-Signature-256, HMAC-SHA256); without it the webhook answers 401',
    defaultText: 'none',
    fallback: () => null,
    parse: (raw, ctx) => text(raw, ctx, 'a secret'),
  },
  {
    key: 'writeMode',
    flag: '--write-mode <mode>',
    env: 'FLOWREG_WRITE_MODE',
    group: 'sync',
    description: 'direct: writes are commits on the branch; branch: each write is a commit on a new branch flowreg/<name>-<commit> (pushed), for a pull request',
    defaultText: 'direct',
    fallback: () => 'direct',
    parse: (raw, ctx) => {
      const m = typeof raw === 'string' ? raw.trim() : raw;
      if (m !== 'direct' && m !== 'branch') throw usage(ctx, `expected direct or branch, got ${shown(raw)}`);
      return m;
    },
  },
  {
    key: 'watch',
    flag: '--watch <bool>',
    env: 'FLOWREG_WATCH',
    group: 'sync',
    description: 'watch the working tree and serve changes made outside flowreg (editors, git pull, checkout, merge)',
    defaultText: 'true',
    fallback: () => true,
    parse: bool,
  },
  {
    key: 'runtimes',
    flag: '--runtime <url>',
    env: 'FLOWREG_RUNTIMES',
    group: 'runtime',
    description:
      'DB-GPT webserver to deploy the flows into and forward chat to, as URL or name=URL (several: repeat the flag, or separate with commas; the config file also takes objects {"name","url","apiKeyFile"}). A runtime\'s API key comes from FLOWREG_RUNTIME_KEY_<NAME> (name upper-cased, - as _) or apiKeyFile, never from a flag',
    defaultText: 'none',
    fallback: () => [],
    parse: (raw, ctx) => parseRuntimes(raw, ctx.where, ctx.base),
    repeatable: true,
  },
  {
    key: 'runtimeInterval',
    flag: '--runtime-interval <seconds>',
    env: 'FLOWREG_RUNTIME_INTERVAL',
    group: 'runtime',
    description: 'seconds between full reconciles of each runtime (lists its flows: a restarted runtime, drift); changes in git are deployed at once',
    defaultText: '15',
    fallback: () => 15,
    parse: (raw, ctx) => integer(raw, ctx, 'seconds', 1, 86_400),
  },
  {
    key: 'runtimeTimeout',
    flag: '--runtime-timeout <duration>',
    env: 'FLOWREG_RUNTIME_TIMEOUT',
    group: 'runtime',
    description: 'longest wait for one call of the reconcile to a runtime (list, create, update, delete); a runtime that does not answer in time is shown down and retried',
    defaultText: '10s',
    fallback: () => 10_000,
    parse: (raw, ctx) => timeout(raw, ctx),
  },
  {
    key: 'drift',
    flag: '--drift <mode>',
    env: 'FLOWREG_DRIFT',
    group: 'runtime',
    description: 'a flow changed or deleted on a runtime behind flowreg\'s back: heal (set back to git\'s version), report (list it only), prune (heal, and also delete flows on the runtime that flowreg did not put there)',
    defaultText: 'heal',
    fallback: () => 'heal',
    parse: (raw, ctx) => {
      const m = typeof raw === 'string' ? raw.trim() : raw;
      if (m !== 'heal' && m !== 'report' && m !== 'prune') throw usage(ctx, `expected heal, report or prune, got ${shown(raw)}`);
      return m;
    },
  },
  {
    key: 'runtimeOwner',
    flag: '--runtime-owner <id>',
    env: 'FLOWREG_RUNTIME_OWNER',
    group: 'runtime',
    description: 'this repository\'s id in the provenance of the flows it deploys (source_url flowreg://<id>/…); flows of another id are never touched. Two flowregs sharing a runtime need different ids',
    defaultText: 'the remote URL, else the repository folder\'s name and a hash of its path',
    fallback: () => null,
    parse: (raw, ctx) => {
      const id = text(raw, ctx, 'an id');
      if (id.length > 200 || /[\s?#]/.test(id)) throw usage(ctx, `expected an id of at most 200 characters without spaces, ? or #, got ${shown(raw)}`);
      return id;
    },
  },
];
