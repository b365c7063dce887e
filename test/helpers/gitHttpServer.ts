import { execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/** A running smart-HTTP git server (native `git http-backend` behind node:http) on loopback. */
export interface GitHttpServer {
  /** Base URL; a bare repository `<root>/x.git` is at `${url}/x.git`. */
  url: string;
  /** Makes every request fail with 503 (an unreachable remote) or work again. */
  setDown(down: boolean): Promise<void>;
  /** Number of git requests answered so far. */
  requests(): Promise<number>;
  /**
   * Base URL of the same repositories behind HTTP Basic auth: `${authUrl}/x.git` needs the
   * server's token as the password (or as the user name alone).
   */
  authUrl: string;
  /** The token `authUrl` requires. */
  token: string;
  /** Requests refused under `authUrl` so far, and the user name of the last one let in. */
  authStats(): Promise<{ unauthorized: number; lastUser: string | null }>;
  close(): Promise<void>;
}

/** Creates a bare repository `<root>/<name>.git` on branch main that accepts pushes over HTTP. */
export function bareRepo(root: string, name: string): string {
  const dir = join(root, `${name}.git`);
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', dir]);
  execFileSync('git', ['config', 'http.receivepack', 'true'], { cwd: dir });
  return dir;
}

/**
 * Starts `git http-backend` for the bare repositories under `root`, on 127.0.0.1 and a free port,
 * in a child process (so tests may run git synchronously against it).
 */
export async function startGitHttpServer(root: string, opts: { token?: string } = {}): Promise<GitHttpServer> {
  const token = opts.token ?? 'test-remote-token-7f3a9c';
  const child = spawn(process.execPath, [resolve(import.meta.dirname, 'git-http-server.mjs'), root, token], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((done, fail) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) done(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`git http server exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const control = async (what: string): Promise<{ requests: number; unauthorized: number; lastUser: string | null }> =>
    (await (await fetch(`${url}/__control/${what}`, { method: 'POST' })).json()) as { requests: number; unauthorized: number; lastUser: string | null };
  return {
    url,
    authUrl: `${url}/auth`,
    token,
    authStats: async () => {
      const { unauthorized, lastUser } = await control('stats');
      return { unauthorized, lastUser };
    },
    setDown: async (down) => void (await control(down ? 'down' : 'up')),
    requests: async () => (await control('stats')).requests,
    close: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}
