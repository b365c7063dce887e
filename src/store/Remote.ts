import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { FlowregError, redactCredentials } from '../errors/index.ts';
import { gitHttpClient, type GitHttpClient } from './gitHttp.ts';
import { readRef, writeRefFile } from './refs.ts';
import { WriteQueue } from './writeQueue.ts';

/** Where the store syncs: a remote repository (http or https) and its branch. */
export interface RemoteOptions {
  url: string;
  branch: string;
  /** Name of the remote in .git/config (default `origin`). */
  name?: string;
  /** Extra HTTP headers (for example an Authorization header for a private remote). */
  headers?: Record<string, string>;
  /**
   * HTTP Basic credentials (a token is the password), sent with every request. Credentials written
   * in `url` (`https://user:token@host/…`) are taken out of it into this; when both are given,
   * these win.
   */
  auth?: RemoteAuth;
  /** A connection or transfer with the remote silent this long is cut off, in ms (default 30 s). */
  idleTimeoutMs?: number;
}

/** How long the remote may stay silent during a clone, fetch or push before it is given up on. */
export const REMOTE_IDLE_MS = 30_000;

/** HTTP Basic credentials of a remote. */
export interface RemoteAuth {
  username: string;
  password: string;
}

/**
 * `url` without its user name and password, and those as credentials (null when it has none). The
 * URL without them is what flowreg shows, logs, quotes in messages and records in .git/config.
 */
export function withoutCredentials(url: string): { url: string; auth: RemoteAuth | null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url: redactCredentials(url), auth: null };
  }
  if (parsed.username === '' && parsed.password === '') return { url, auth: null };
  const auth = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, auth };
}

/**
 * The file system isomorphic-git works through, with every whole-file write made atomic (written
 * beside, then renamed into place): it writes refs, pack indexes and packs in place, and a kill
 * during such a write left a torn file that \`git fsck\` reports.
 */
function atomicFs(gitdir: string): { promises: typeof fs.promises } {
  const tmpDir = join(gitdir, 'flowreg', 'tmp');
  const promises = Object.create(fs.promises) as typeof fs.promises;
  promises.writeFile = async (path, data, options) => {
    await fs.promises.mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `w-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fs.promises.writeFile(tmp, data, options);
    await fs.promises.rename(tmp, path as string);
  };
  return { promises };
}

/** True for errors that mean the remote could not be reached or answered badly. */
function unreachable(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return ['HttpError', 'SmartHttpError', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'UnknownTransportError', 'EHOSTUNREACH'].includes(code);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function httpStatus(err: unknown): number | undefined {
  const data = (err as { data?: { statusCode?: unknown } }).data;
  return typeof data?.statusCode === 'number' ? data.statusCode : undefined;
}

/**
 * The network side of sync, over isomorphic-git's smart-HTTP client: clone, fetch the branch,
 * push a commit to a branch. Knows nothing of flows; the store decides what to push and when.
 */
export class Remote {
  /** The remote's URL without credentials: shown in the status, messages and .git/config. */
  readonly url: string;
  readonly branch: string;
  readonly name: string;
  private readonly headers: Record<string, string>;
  /** What must never appear in a message: the password (or a token given as the user name). */
  private readonly secrets: string[];
  private cache = {};
  private readonly fs: { promises: typeof fs.promises };
  private readonly http: GitHttpClient;
  /** Network operations, one at a time, so the remote head below moves in the order they finish. */
  private readonly ops = new WriteQueue();
  /**
   * The remote head as of the last fetch or push that finished (undefined: not read yet). Not the
   * ref file: isomorphic-git's fetch writes the remote-tracking ref before the pack that holds its
   * objects, so a reader of the file could find a commit that is not on disk yet.
   */
  private tracked: string | null | undefined;

  constructor(
    private readonly dir: string,
    opts: RemoteOptions,
  ) {
    const split = withoutCredentials(opts.url);
    this.url = split.url;
    this.branch = opts.branch;
    this.name = opts.name ?? 'origin';
    this.headers = { ...opts.headers };
    const auth = opts.auth ?? split.auth;
    this.secrets = auth === null ? [] : [auth.password, ...(auth.password === '' ? [auth.username] : [])].filter((x) => x !== '');
    // sent from the first request on, as isomorphic-git does with credentials in the URL
    if (auth !== null) this.headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    this.fs = atomicFs(join(dir, '.git'));
    this.http = gitHttpClient(opts.idleTimeoutMs ?? REMOTE_IDLE_MS);
  }

  private get gitdir(): string {
    return join(this.dir, '.git');
  }

  /** `text` without the remote's credentials (for messages that quote an error of the remote). */
  redact(text: string): string {
    return redactCredentials(text, this.secrets);
  }

  /** An error of isomorphic-git as a message: credentials removed, a refusal of them explained. */
  private explain(err: unknown): string {
    const text = this.redact(describe(err));
    const status = httpStatus(err);
    if (status !== 401 && status !== 403) return text;
    return this.secrets.length > 0 || this.headers.Authorization !== undefined
      ? `${text}: the remote refused the credentials given (check the token and its access to the repository)`
      : `${text}: the remote asks for credentials and none were given (a token in FLOWREG_REMOTE_TOKEN or --remote-token-file, see docs/sync.md)`;
  }

  /** Runs `task` while no fetch, push or clone runs (for work that moves pack files). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.ops.run(async () => {
      try {
        return await task();
      } finally {
        // isomorphic-git caches pack indexes by file name: packs may have been replaced
        this.cache = {};
      }
    });
  }

  /** The remote-tracking ref of the branch. */
  get trackingRef(): string {
    return `refs/remotes/${this.name}/${this.branch}`;
  }

  /** Clones the branch into the store's folder (an empty remote gives an empty repository on the branch). */
  clone(): Promise<void> {
    return this.ops.run(() => this.cloneNow());
  }

  private async cloneNow(): Promise<void> {
    this.tracked = undefined;
    this.http.silence = null;
    try {
      await git.clone({ fs: this.fs, http: this.http, dir: this.dir, url: this.url, ref: this.branch, singleBranch: true, remote: this.name, headers: this.headers, cache: this.cache });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'NotFoundError' || /Could not find/.test(describe(err))) {
        // the remote has no such branch yet: start empty and create it with the first push
        await git.init({ fs: this.fs, dir: this.dir, defaultBranch: this.branch });
        await this.configure();
        return;
      }
      if (unreachable(err) || this.http.silence !== null) throw new FlowregError('REMOTE_UNREACHABLE', `cannot clone ${this.url}: ${this.explain(this.http.silence ?? err)}`, { url: this.url }, { cause: err });
      throw err;
    }
  }

  /**
   * Undoes what a fetch or push killed half-way leaves behind: isomorphic-git writes pack
   * indexes and the remote-tracking ref in place, so a kill can leave a truncated index or an
   * empty ref, which \`git fsck\` reports. Both are caches of the remote: dropping them is safe,
   * the next fetch brings them back. (A pack without an index is ignored by git and left alone: git
   * itself briefly has one while it writes a pack.)
   */
  repair(hasObject: (oid: string) => boolean): void {
    fs.rmSync(join(this.gitdir, 'flowreg', 'tmp'), { recursive: true, force: true });
    this.tracked = undefined;
    const refs = [this.trackingRef, 'refs/flowreg/push'];
    for (const ref of refs) {
      const path = join(this.gitdir, ref);
      try {
        if (!/^[0-9a-f]{40}\s*$/.test(readFileSync(path, 'utf8'))) unlinkSync(path);
      } catch {
        // absent
      }
    }
    const packDir = join(this.gitdir, 'objects', 'pack');
    let names: string[];
    try {
      names = readdirSync(packDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.endsWith('.idx')) continue;
      const idx = join(packDir, name);
      const pack = join(packDir, name.replace(/\.idx$/, '.pack'));
      // git renames its indexes into place whole: one whose checksum is wrong was torn
      const data = readFileSync(idx);
      const whole = data.length > 1072 && createHash('sha1').update(data.subarray(0, data.length - 20)).digest().equals(data.subarray(data.length - 20));
      if (!whole) {
        for (const f of [idx, pack]) {
          try {
            unlinkSync(f);
          } catch {
            // already gone
          }
        }
      }
    }
    // a fetch killed between writing the ref and writing its pack leaves a ref to a missing commit
    for (const ref of refs) {
      const oid = readRef(this.gitdir, ref);
      if (oid !== null && !hasObject(oid)) unlinkSync(join(this.gitdir, ref));
    }
  }

  /** Records the remote in .git/config (idempotent). */
  async configure(): Promise<void> {
    await git.addRemote({ fs: this.fs, dir: this.dir, remote: this.name, url: this.url, force: true });
  }

  /**
   * Fetches the branch and returns the remote's head commit (null when the branch does not exist
   * there yet); the remote-tracking ref follows.
   */
  fetch(): Promise<string | null> {
    return this.ops.run(() => this.fetchNow());
  }

  private async fetchNow(): Promise<string | null> {
    this.http.silence = null;
    try {
      const res = await git.fetch({ fs: this.fs, http: this.http, dir: this.dir, remote: this.name, ref: this.branch, singleBranch: true, tags: false, headers: this.headers, cache: this.cache });
      // the pack is on disk now: the remote head may move
      if (res.fetchHead) this.tracked = res.fetchHead;
      return res.fetchHead ?? null;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // a remote that went silent mid-answer shows through isomorphic-git as a parse error of what it got
      if (this.http.silence !== null) throw new FlowregError('REMOTE_UNREACHABLE', `cannot fetch from ${this.url}: ${this.explain(this.http.silence)}`, { url: this.url }, { cause: err });
      if (code === 'NotFoundError' || /Could not find/.test(describe(err))) return null;
      if (unreachable(err)) throw new FlowregError('REMOTE_UNREACHABLE', `cannot fetch from ${this.url}: ${this.explain(err)}`, { url: this.url }, { cause: err });
      throw new FlowregError('REMOTE_UNREACHABLE', `fetch from ${this.url} failed: ${this.explain(err)}`, { url: this.url }, { cause: err });
    }
  }

  /** The remote head as of the last fetch or push that finished (at start: the remote-tracking ref). */
  trackedHead(): string | null {
    if (this.tracked === undefined) this.tracked = readRef(this.gitdir, this.trackingRef);
    return this.tracked;
  }

  /**
   * The remote's own reason when it refused a push for something other than its branch having
   * moved (a pre-receive or update hook, a protected branch, a failed unpack), or null when the
   * branch moved (the caller fetches and rebuilds). Retrying such a refusal is pointless, so it is
   * answered at once, quoting the hook's output and the report-status reason.
   */
  private refusal(err: unknown, remoteRef: string, messages: string[]): string | null {
    const result = (err as { data?: { result?: { ok?: boolean; error?: string; refs?: Record<string, { ok: boolean; error?: string }> } } }).data?.result;
    const refError = result?.refs?.[remoteRef]?.error ?? '';
    if (result?.ok !== false && /non-fast-forward|fetch first|stale info|failed to lock|cannot lock|incorrect old value|failed to update ref/i.test(refError)) return null;
    const said = messages
      .join('')
      .split(/\r?\n|\r/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^(Counting|Compressing|Writing|Total|Resolving|Unpacking|remote: Resolving)/.test(l));
    const parts = [...new Set(said), ...(result?.ok === false && result.error ? [`unpack ${result.error}`] : []), ...(refError ? [refError] : [])];
    const text = parts.join('; ') || 'no reason given';
    return this.redact(text.length > 1000 ? `${text.slice(0, 1000)}…` : text);
  }

  /**
   * Pushes `commit` to `remoteBranch` (default: the sync branch) as a fast-forward. Resolves to
   * `rejected` when the remote branch moved (the caller fetches and rebuilds), throws
   * PUSH_REJECTED with the remote's reason when the remote refused it otherwise (a hook), and
   * REMOTE_UNREACHABLE when the remote cannot be reached.
   */
  push(commit: string, remoteBranch = this.branch): Promise<'ok' | 'rejected'> {
    return this.ops.run(() => this.pushNow(commit, remoteBranch));
  }

  private async pushNow(commit: string, remoteBranch: string): Promise<'ok' | 'rejected'> {
    const local = 'refs/flowreg/push';
    const remoteRef = `refs/heads/${remoteBranch}`;
    writeRefFile(this.gitdir, local, commit);
    // what the remote's hooks print comes as progress messages ("remote: …")
    const messages: string[] = [];
    const onMessage = (m: string): void => void messages.push(m);
    this.http.silence = null;
    try {
      const res = await git.push({ fs: this.fs, http: this.http, dir: this.dir, remote: this.name, ref: local, remoteRef, headers: this.headers, cache: this.cache, onMessage });
      if (!res.ok) return 'rejected';
    } catch (err) {
      // a remote that went silent mid-answer shows through isomorphic-git as a parse error of what it got
      // (the remote may have taken the push before it went silent: the next fetch brings it in)
      if (this.http.silence !== null) throw new FlowregError('REMOTE_UNREACHABLE', `cannot push to ${this.url}: ${this.explain(this.http.silence)}; nothing was written (if the remote took the push before it went silent, the next fetch brings it in)`, { url: this.url }, { cause: err });
      const code = (err as { code?: string }).code;
      if (code === 'PushRejectedError') return 'rejected';
      if (code === 'GitPushError') {
        const refused = this.refusal(err, remoteRef, messages);
        if (refused === null) return 'rejected';
        throw new FlowregError('PUSH_REJECTED', `${this.url} refused the push to ${remoteBranch}: ${refused}; nothing was written`, { url: this.url, reason: refused }, { cause: err });
      }
      if (unreachable(err)) throw new FlowregError('REMOTE_UNREACHABLE', `cannot push to ${this.url}: ${this.explain(err)}; nothing was written`, { url: this.url }, { cause: err });
      throw new FlowregError('REMOTE_UNREACHABLE', `push to ${this.url} failed: ${this.explain(err)}; nothing was written`, { url: this.url }, { cause: err });
    }
    if (remoteBranch === this.branch) {
      writeRefFile(this.gitdir, this.trackingRef, commit);
      this.tracked = commit;
    }
    return 'ok';
  }
}
