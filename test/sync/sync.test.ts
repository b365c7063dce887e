import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadServeConfig } from '../../src/config/loadServeConfig.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { Daemon } from '../../src/daemon/Daemon.ts';
import { bigFlow } from '../diff/bigFlow.ts';
import { smallFlow } from '../helpers/flows.ts';
import { serveProcess, waitFor } from '../helpers/daemon.ts';
import { bareRepo, startGitHttpServer, type GitHttpServer } from '../helpers/gitHttpServer.ts';
import { git, tempDir, tempRepo } from '../helpers/tmp.ts';

const V2 = '/api/v2/serve/awel';
let server: GitHttpServer;
let root: string;
let n = 0;
const running: Daemon[] = [];

beforeAll(async () => {
  root = tempDir('flowreg-sync-');
  server = await startGitHttpServer(root);
});
afterAll(async () => {
  for (const d of running.splice(0)) await d.stop();
  await server.close();
});

const flowText = (i: number, label = `flow ${i}`): string => formatFlow(smallFlow(`u-${i}`, `f${i}`, { label }), { schemaRef: '../schemas/flow.schema.json' });

/** A bare remote with `count` flows on main, and its URL. */
function seedRemote(count: number): { url: string; bare: string } {
  const name = `s${n++}`;
  const bare = bareRepo(root, name);
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`flows/f${i}.yaml`] = flowText(i);
  const work = tempRepo(files);
  git(work, ['push', '-q', bare, 'HEAD:main']);
  return { url: `${server.url}/${name}.git`, bare };
}

async function daemon(url: string, extra: Record<string, string> = {}): Promise<{ d: Daemon; base: string; dir: string }> {
  const dir = join(tempDir(), 'clone');
  const d = new Daemon({ config: loadServeConfig({ flags: { repo: dir, port: '0', remote: url, ...extra }, env: {}, cwd: tempDir() }), log: { write: () => undefined } });
  const addr = await d.start();
  running.push(d);
  return { d, base: addr.url + V2, dir };
}

async function put(base: string, uid: string, label: string): Promise<{ status: number; version?: string; err?: string }> {
  const res = await fetch(`${base}/flows/${uid}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uid, label }) });
  const body = (await res.json()) as { data?: { version: string }; err_msg?: string };
  return { status: res.status, version: body.data?.version, err: body.err_msg };
}

async function served(base: string): Promise<Record<string, { version: string; label: string }>> {
  const res = (await (await fetch(`${base}/flows?page_size=200`)).json()) as { data: { items: Array<{ uid: string; version: string; label: string }> } };
  // in uid order, so two states compare as JSON
  const items = res.data.items.map((f) => [f.uid, { version: f.version, label: f.label }] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  return Object.fromEntries(items);
}

/** Resolves once the daemon at `base` reports a last fetch (a restarted daemon has caught up with its remote). */
async function caughtUp(base: string): Promise<void> {
  await waitFor(async () => ((await (await fetch(`${base}/sync`)).json()) as { data: { lastFetch: unknown } }).data.lastFetch !== null, 60_000, 5);
}

/** What the remote holds: for each flow, the last commit that touched its file and its label. */
function remoteState(bare: string, count: number): Record<string, { version: string; label: string }> {
  const out: Record<string, { version: string; label: string }> = {};
  for (const i of Array.from({ length: count }, (_, k) => k).sort((x, y) => (`u-${x}` < `u-${y}` ? -1 : 1))) {
    const version = git(bare, ['log', '-1', '--format=%H', 'main', '--', `flows/f${i}.yaml`]);
    const label = /\nlabel: (.*)\n/.exec(git(bare, ['show', `main:flows/f${i}.yaml`]))?.[1] ?? '';
    out[`u-${i}`] = { version, label: label.replace(/^"|"$/g, '') };
  }
  return out;
}

describe('GitOps sync against a real git http-backend remote', () => {
  it('two daemons, 4 writers each, 500 writes over 50 flows: every acknowledged write on the remote, both converge', async () => {
    const FLOWS = 50;
    const TOTAL = Number(process.env.SYNC_STORM_WRITES ?? 500);
    const { url, bare } = seedRemote(FLOWS);
    const a = await daemon(url, { fetchInterval: '1' });
    const b = await daemon(url, { fetchInterval: '1' });
    const acked: Array<{ uid: string; label: string; version: string }> = [];
    let conflicts = 0;
    let seq = 0;
    const writer = async (base: string, name: string): Promise<void> => {
      while (acked.length < TOTAL) {
        const i = Math.floor(Math.random() * FLOWS);
        const label = `${name} w${seq++}`;
        const r = await put(base, `u-${i}`, label);
        if (r.status === 200) acked.push({ uid: `u-${i}`, label, version: r.version as string });
        else if (r.status === 409) conflicts++;
        else throw new Error(`unexpected ${r.status}: ${r.err}`);
      }
    };
    await Promise.all([...[1, 2, 3, 4].map((w) => writer(a.base, `A${w}`)), ...[1, 2, 3, 4].map((w) => writer(b.base, `B${w}`))]);
    const history = git(bare, ['rev-list', 'main']).split('\n');
    const position = new Map(history.map((c, k) => [c, k]));
    // every acknowledged write is on the remote
    for (const w of acked) expect(position.has(w.version)).toBe(true);
    // each flow's content on the remote is its last acknowledged write (latest in the remote's order)
    const remote = remoteState(bare, FLOWS);
    for (let i = 0; i < FLOWS; i++) {
      const mine = acked.filter((w) => w.uid === `u-${i}`);
      if (mine.length === 0) continue;
      const last = mine.reduce((x, y) => ((position.get(x.version) as number) < (position.get(y.version) as number) ? x : y));
      expect(remote[`u-${i}`]).toEqual({ version: last.version, label: last.label });
    }
    // both daemons serve the remote's state within one fetch interval (1 s) of the storm's end
    await new Promise((r) => setTimeout(r, 1500));
    const converged = async (): Promise<boolean> => JSON.stringify(await served(a.base)) === JSON.stringify(remote) && JSON.stringify(await served(b.base)) === JSON.stringify(remote);
    if (!(await waitFor(converged, 3000).then(() => true, () => false))) {
      // say what differs and where each daemon stands, instead of a bare time-out
      for (const [name, d] of [['A', a], ['B', b]] as const) {
        const status = ((await (await fetch(`${d.base}/sync`)).json()) as { data: unknown }).data;
        console.log(`daemon ${name} sync status: ${JSON.stringify(status)}; remote head ${history[0]}`);
        expect({ daemon: name, flows: await served(d.base) }).toEqual({ daemon: name, flows: remote });
      }
    }
    for (const dir of [bare, a.dir, b.dir]) expect(git(dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
    expect(acked.length).toBeGreaterThanOrEqual(TOTAL);
    console.log(`sync storm: ${acked.length} acknowledged, ${conflicts} answered 409 and retried, remote history ${history.length} commits`);
  // slow on a loaded machine (two daemons, git http-backend per request), never wrong: 10 minutes
  }, 600_000);

  it('serves the flows a write brought in from the remote when its push was rebuilt on the remote head', async () => {
    const { url, bare } = seedRemote(3);
    // no fetch loop: only the write itself can bring in the other daemon's commit
    const a = await daemon(url, { fetchInterval: '0' });
    const b = await daemon(url, { fetchInterval: '0' });
    const fromB = await put(b.base, 'u-1', 'from B');
    expect(fromB.status).toBe(200);
    const fromA = await put(a.base, 'u-0', 'from A');
    expect(fromA.status).toBe(200);
    expect(git(bare, ['rev-parse', 'main^'])).toBe(fromB.version);
    // a serves b's change at once, with b's commit as its version, in GET and in the list
    const one = ((await (await fetch(`${a.base}/flows/u-1`)).json()) as { data: { label: string; version: string } }).data;
    expect({ label: one.label, version: one.version }).toEqual({ label: 'from B', version: fromB.version });
    expect(await served(a.base)).toEqual(remoteState(bare, 3));
  }, 60_000);

  it('fetches on a signed webhook, refuses unsigned or wrongly signed calls, and quarantines a broken file', async () => {
    const { url, bare } = seedRemote(2);
    const secret = 'hook-secret';
    const a = await daemon(url, { fetchInterval: '0', webhookSecret: secret });
    // another clone pushes a change
    const other = join(tempDir(), 'other');
    git(root, ['clone', '-q', bare, other]);
    writeFileSync(join(other, 'flows/f1.yaml'), flowText(1, 'pushed elsewhere'));
    git(other, ['commit', '-qam', 'change f1']);
    git(other, ['push', '-q', 'origin', 'HEAD:main']);
    const pushed = git(other, ['rev-parse', 'HEAD']);
    const event = JSON.stringify({ ref: 'refs/heads/main', after: pushed });
    const sign = (body: string, key = secret): string => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    const hook = (headers: Record<string, string>, body = event): Promise<Response> => fetch(`${a.base}/sync/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers }, body });
    expect((await hook({})).status).toBe(401);
    expect((await hook({ 'x-hub-signature-256': sign(event, 'wrong') })).status).toBe(401);
    expect((await served(a.base))['u-1']?.label).toBe('flow 1');
    const ok = await hook({ 'x-hub-signature-256': sign(event) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: { fetched: boolean } }).data.fetched).toBe(true);
    expect((await served(a.base))['u-1']).toEqual({ version: pushed, label: 'pushed elsewhere' });
    const status = ((await (await fetch(`${a.base}/sync`)).json()) as { data: Record<string, unknown> }).data;
    expect(status).toMatchObject({ branch: 'main', head: pushed, remoteHead: pushed, ahead: 0, behind: 0, remote: url });
    // a push to another branch is noted, not fetched
    const other2 = JSON.stringify({ ref: 'refs/heads/feature' });
    expect(((await (await hook({ 'x-hub-signature-256': sign(other2) }, other2)).json()) as { data: { fetched: boolean } }).data.fetched).toBe(false);
    // a broken file keeps its last good content served, marked load_failed with line:col
    const path = join(a.dir, 'flows/f0.yaml');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('target: operator_b_0\n', 'target: nowhere\n'));
    await waitFor(async () => ((await (await fetch(`${a.base}/flows/u-0`)).json()) as { data: { state: string } }).data.state === 'load_failed', 3000);
    const bad = ((await (await fetch(`${a.base}/flows/u-0`)).json()) as { data: { error_message: string; flow_data: unknown } }).data;
    expect(bad.error_message).toMatch(/^flows\/f0\.yaml:\d+:\d+ EDGE_TARGET_MISSING/);
    expect(JSON.stringify(bad.flow_data)).toContain('"target":"operator_b_0"');
    expect(((await (await fetch(`${a.base}/sync`)).json()) as { data: { invalid_flows: Array<{ uid: string }> } }).data.invalid_flows.map((f) => f.uid)).toEqual(['u-0']);
    expect((await served(a.base))['u-1']?.label).toBe('pushed elsewhere');
    writeFileSync(path, good);
    await waitFor(async () => ((await (await fetch(`${a.base}/flows/u-0`)).json()) as { data: { state: string } }).data.state === 'initializing', 3000);
  }, 60_000);

  it('authenticates to a private remote with FLOWREG_REMOTE_TOKEN, --remote-token-file or the URL, and shows no credential in /sync, answers or the log', async () => {
    const seeded = seedRemote(2);
    const { bare } = seeded;
    const url = seeded.url.replace(server.url, server.authUrl);
    const logs: string[] = [];
    const start = async (flags: Record<string, string>, env: Record<string, string> = {}): Promise<{ d: Daemon; base: string }> => {
      const config = loadServeConfig({ flags: { port: '0', fetchInterval: '0', watch: 'false', ...flags }, env, cwd: tempDir() });
      const d = new Daemon({ config, log: { write: (line) => void logs.push(line) } });
      const addr = await d.start();
      running.push(d);
      return { d, base: addr.url + V2 };
    };
    const status = async (base: string): Promise<Record<string, unknown>> => ((await (await fetch(`${base}/sync`)).json()) as { data: Record<string, unknown> }).data;
    // the token in the environment
    const dir = join(tempDir(), 'clone');
    const a = await start({ repo: dir, remote: url }, { FLOWREG_REMOTE_TOKEN: server.token });
    const one = await put(a.base, 'u-0', 'with the env token');
    expect(one.status).toBe(200);
    expect(git(bare, ['rev-parse', 'main'])).toBe(one.version);
    expect((await server.authStats()).lastUser).toBe('x-access-token');
    expect(await status(a.base)).toMatchObject({ remote: url, head: one.version });
    // the token in a file
    const tokenFile = join(tempDir(), 'token');
    writeFileSync(tokenFile, `${server.token}\n`);
    const b = await start({ repo: join(tempDir(), 'clone'), remote: `${url.replace('http://', 'http://gitlab-ci@')}`, remoteTokenFile: tokenFile });
    expect((await put(b.base, 'u-1', 'with the token file')).status).toBe(200);
    expect((await server.authStats()).lastUser).toBe('gitlab-ci');
    expect((await status(b.base)).remote).toBe(url);
    // credentials in the URL are taken out of it
    const c = await start({ repo: join(tempDir(), 'clone'), remote: url.replace('http://', `http://ci:${server.token}@`) });
    expect((await put(c.base, 'u-1', 'with the URL')).status).toBe(200);
    expect((await status(c.base)).remote).toBe(url);
    // a wrong token: the fetch at start fails, /sync and a write say why, without the token
    await a.d.stop();
    const wrong = 'wrong-token-0815';
    const w = await start({ repo: dir, remote: url }, { FLOWREG_REMOTE_TOKEN: wrong });
    await waitFor(async () => (await status(w.base)).lastFetch !== null, 10_000);
    const failed = await status(w.base);
    expect(String((failed.lastFetch as { error: string }).error)).toMatch(/401.*the remote refused the credentials given/);
    const refused = await put(w.base, 'u-0', 'refused');
    expect(refused.status).toBe(503);
    expect(refused.err).toMatch(/401.*the remote refused the credentials given/);
    const listening = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'listening');
    expect(listening.map((l) => [l.remote, l.remoteCredentials])).toEqual([[url, true], [url, true], [url, true], [url, true]]);
    const everything = [...logs, JSON.stringify(failed), JSON.stringify(refused), readFileSync(join(dir, '.git/config'), 'utf8')].join('\n');
    expect(everything).not.toContain(server.token);
    expect(everything).not.toContain(wrong);
    expect(logs.some((l) => l.includes('fetch failed'))).toBe(true);
  }, 60_000);

  it('after a restart behind the remote, reports its last fetch only once the fetch is in the tree: HEAD is the remote head and git status is clean then', async () => {
    const FLOWS = 300;
    const { url, bare } = seedRemote(FLOWS);
    const dir = join(tempDir(), 'behind');
    const first = await serveProcess(tempDir(), ['--repo', dir, '--port', '0', '--remote', url, '--fetch-interval', '0', '--watch', 'false']);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    // while the daemon is down, every flow changes on the remote
    const work = join(tempDir(), 'work');
    git(tempDir(), ['clone', '-q', bare, work]);
    for (let i = 0; i < FLOWS; i++) writeFileSync(join(work, `flows/f${i}.yaml`), flowText(i, `changed ${i}`));
    // and large hand-written flows arrive: the fast-forward parses them (in a worker) before it moves the tree
    for (let k = 0; k < 3; k++) writeFileSync(join(work, `flows/big${k}.yaml`), `# by hand\n${stringify({ ...bigFlow(6, `big${k}`), uid: `u-big${k}` }, { indent: 4, lineWidth: 80, aliasDuplicateObjects: false })}`);
    git(work, ['add', '-A']);
    git(work, ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'every flow']);
    git(work, ['push', '-q', 'origin', 'HEAD:main']);
    const remoteHead = git(bare, ['rev-parse', 'main']);
    const s = await serveProcess(tempDir(), ['--repo', dir, '--port', '0', '--remote', url, '--fetch-interval', '0', '--watch', 'false']);
    try {
      // poll as fast as the daemon answers: the first status with a last fetch must already be caught up
      let status: Record<string, unknown> = {};
      for (let polls = 0; status.lastFetch == null; polls++) {
        expect(polls, 'no fetch reported').toBeLessThan(20_000);
        status = ((await (await fetch(`${s.url}${V2}/sync`)).json()) as { data: Record<string, unknown> }).data;
      }
      const head = git(dir, ['rev-parse', 'HEAD']);
      const dirty = git(dir, ['status', '--porcelain']);
      expect({ head, dirty, behind: status.behind, error: (status.lastFetch as { error: unknown }).error }).toEqual({ head: remoteHead, dirty: '', behind: 0, error: null });
      const u7 = (await (await fetch(`${s.url}${V2}/flows/u-7`)).json()) as { data: { label: string; version: string } };
      expect(u7.data).toMatchObject({ label: 'changed 7', version: remoteHead });
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
    }
  }, 120_000);

  it('survives kill -9 of a daemon during a write storm (20 trials): fsck clean, restarts, no acknowledged write missing', async () => {
    const FLOWS = 10;
    const { url, bare } = seedRemote(FLOWS);
    const dir = join(tempDir(), 'killed');
    const acked: string[] = [];
    let midWrite = 0;
    let rng = 4242;
    const random = (): number => (rng = (rng * 48271) % 2147483647) / 2147483647;
    for (let trial = 0; trial < 20; trial++) {
      const s = await serveProcess(tempDir(), ['--repo', dir, '--port', '0', '--remote', url, '--fetch-interval', '0', '--watch', 'false']);
      const base = s.url + V2;
      // the restarted daemon came back clean, once it caught up with the remote (a write the
      // remote took just before the kill comes back by the catch-up fetch, which runs after the
      // daemon listens: while its fast-forward writes the files, git status sees them in flux)
      await caughtUp(base);
      expect(git(dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
      expect(git(dir, ['status', '--porcelain'])).toBe('');
      expect(git(dir, ['rev-parse', 'HEAD'])).toBe(git(bare, ['rev-parse', 'main']));
      let killed = false;
      const storm = async (w: number): Promise<void> => {
        for (let k = 0; !killed; k++) {
          try {
            const r = await put(base, `u-${(w * 3 + k) % FLOWS}`, `t${trial} w${w} k${k}`);
            if (r.status === 200) acked.push(r.version as string);
          } catch {
            return; // the connection died with the daemon
          }
        }
      };
      const writers = [0, 1].map(storm);
      // the kill comes at a random moment once writes flow (a loaded machine starts slower)
      const before = acked.length;
      await waitFor(() => acked.length > before, 30_000, 5);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
      killed = true;
      s.child.kill('SIGKILL');
      await s.exit;
      await Promise.all(writers);
      if (existsSync(join(dir, '.git/flowreg.lock'))) midWrite++;
      expect(git(dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
      const remote = new Set(git(bare, ['rev-list', 'main']).split('\n'));
      for (const v of acked) expect(remote.has(v)).toBe(true);
    }
    // each trial waits for an acknowledged write before its kill: at least one per trial
    expect(acked.length).toBeGreaterThanOrEqual(20);
    // the kills did land inside writes (a lock was left behind and recovered by the restart)
    expect(midWrite).toBeGreaterThan(5);
    expect(git(bare, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
    console.log(`kill -9 storm: ${acked.length} acknowledged writes over 20 kills (${midWrite} inside a write), all on the remote`);
  }, 300_000);
});
