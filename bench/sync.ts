// bench/sync — how fast changes made outside flowreg are served by `flowreg serve` (a child
// process, polled over HTTP): an editor-style atomic save, a `git pull` of 100 changed flows into a
// 1,000-flow repository, and a one-flow push announced by a signed webhook. Beside each, in the same
// run, the floor it stands on: the file-system notification of the same save (fs.watch), the
// native `git pull` itself, and a native `git fetch` + fast-forward. Run: npm run bench:sync
// The save is measured in a repository of 100 flows and of 10,000 flows (--save-flows): a saved
// file must cost work proportional to that file, not to the number of flows.
// Options: --edits 50  --flows 1000  --changed 100  --save-flows 100,10000
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, renameSync, watch, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatFlow } from '../src/core/formatFlow.ts';
import { serveProcess, type ServedProcess } from '../test/helpers/daemon.ts';
import { smallFlow } from '../test/helpers/flows.ts';
import { bareRepo, startGitHttpServer } from '../test/helpers/gitHttpServer.ts';
import { opt } from './benchRun.ts';

const args = process.argv.slice(2);
const num = (name: string, dflt: string): number => Number(opt(name, dflt));
const EDITS = num('edits', '50');
const FLOWS = num('flows', '1000');
const CHANGED = num('changed', '100');
const SAVE_FLOWS = opt('save-flows', '100,10000').split(',').map(Number);
const V2 = '/api/v2/serve/awel';
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
const work = mkdtempSync(join(tmpdir(), 'flowreg-bench-sync-'));

const git = (cwd: string, a: string[]): string => execFileSync('git', a, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const text = (i: number, label: string): string => formatFlow(smallFlow(`u-${i}`, `f${i}`, { label }), { schemaRef: '../schemas/flow.schema.json' });
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

async function label(s: ServedProcess, uid: string): Promise<string | undefined> {
  const r = (await (await fetch(`${s.url}${V2}/flows/${uid}`)).json()) as { data?: { label: string } };
  return r.data?.label;
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) if (performance.now() > end) throw new Error('timed out');
}

/** A repository of `n` flows committed in one commit. */
function repoWith(dir: string, n: number): void {
  mkdirSync(join(dir, 'flows'), { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `flows/f${i}.yaml`), text(i, `flow ${i}`));
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-qm', `${n} flows`]);
}

async function editorSaves(flows: number): Promise<number> {
  const dir = join(work, `edits-${flows}`);
  repoWith(dir, flows);
  const s = await serveProcess(dir, ['--port', '0']);
  const served: number[] = [];
  const notified: number[] = [];
  const path = join(dir, 'flows/f3.yaml');
  for (let k = 0; k < EDITS; k++) {
    const want = `edit ${k}`;
    const watcher = watch(join(dir, 'flows'));
    const event = new Promise<number>((r) => watcher.once('change', () => r(performance.now())));
    // an editor's atomic save: write a temporary file, rename it over the flow
    writeFileSync(`${path}.tmp~`, text(3, want));
    const t0 = performance.now();
    renameSync(`${path}.tmp~`, path);
    notified.push((await event) - t0);
    watcher.close();
    await until(async () => (await label(s, 'u-3')) === want);
    served.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  s.child.kill('SIGTERM');
  await s.exit;
  console.log(`editor save → served (${EDITS} atomic saves, ${flows} flows): p50 ${fmt(pct(served, 50))}, p99 ${fmt(pct(served, 99))}; fs.watch notification of the same saves: p50 ${fmt(pct(notified, 50))}, p99 ${fmt(pct(notified, 99))}`);
  return pct(served, 50);
}

async function gitPull(): Promise<void> {
  const origin = join(work, 'origin');
  repoWith(origin, FLOWS);
  const served = join(work, 'served');
  const plain = join(work, 'plain');
  git(work, ['clone', '-q', origin, served]);
  git(work, ['clone', '-q', origin, plain]);
  const s = await serveProcess(served, ['--port', '0']);
  for (let i = 0; i < CHANGED; i++) writeFileSync(join(origin, `flows/f${i}.yaml`), text(i, `pulled ${i}`));
  git(origin, ['commit', '-qam', `change ${CHANGED} flows`]);
  let t0 = performance.now();
  git(plain, ['pull', '-q', '--ff-only']);
  const nativeMs = performance.now() - t0;
  t0 = performance.now();
  git(served, ['pull', '-q', '--ff-only']);
  const pullMs = performance.now() - t0;
  const pending = new Set(Array.from({ length: CHANGED }, (_, i) => i));
  await until(async () => {
    for (const i of [...pending]) if ((await label(s, `u-${i}`)) === `pulled ${i}`) pending.delete(i);
    return pending.size === 0;
  });
  const allMs = performance.now() - t0;
  s.child.kill('SIGTERM');
  await s.exit;
  console.log(`git pull of ${CHANGED} changed flows into ${FLOWS}: all served ${fmt(allMs)} after the pull started (the pull itself took ${fmt(pullMs)}); native git pull of the same change in a plain clone: ${fmt(nativeMs)}`);
}

async function webhook(): Promise<void> {
  const root = join(work, 'remotes');
  mkdirSync(root);
  const bare = bareRepo(root, 'flows');
  const seed = join(work, 'seed');
  repoWith(seed, 50);
  git(seed, ['push', '-q', bare, 'HEAD:main']);
  const server = await startGitHttpServer(root);
  const url = `${server.url}/flows.git`;
  const plain = join(work, 'hook-plain');
  git(work, ['clone', '-q', url, plain]);
  const s = await serveProcess(work, ['--repo', join(work, 'hook-served'), '--port', '0', '--remote', url, '--fetch-interval', '0', '--webhook-secret', 'bench']);
  const pusher = join(work, 'pusher');
  git(work, ['clone', '-q', bare, pusher]);
  const served: number[] = [];
  const native: number[] = [];
  for (let k = 0; k < 10; k++) {
    writeFileSync(join(pusher, 'flows/f7.yaml'), text(7, `pushed ${k}`));
    git(pusher, ['commit', '-qam', `push ${k}`]);
    git(pusher, ['push', '-q', 'origin', 'HEAD:main']);
    let t0 = performance.now();
    git(plain, ['fetch', '-q', 'origin']);
    git(plain, ['merge', '-q', '--ff-only', 'origin/main']);
    native.push(performance.now() - t0);
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    t0 = performance.now();
    await fetch(`${s.url}${V2}/sync/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${createHmac('sha256', 'bench').update(body).digest('hex')}` },
      body,
    });
    await until(async () => (await label(s, 'u-7')) === `pushed ${k}`);
    served.push(performance.now() - t0);
  }
  s.child.kill('SIGTERM');
  await s.exit;
  await server.close();
  console.log(`webhook → served for a one-flow push (10 pushes): p50 ${fmt(pct(served, 50))}, max ${fmt(Math.max(...served))}; native git fetch + merge --ff-only: p50 ${fmt(pct(native, 50))}`);
}

console.log(`bench/sync — ${new Date().toISOString().slice(0, 10)}, node ${process.version}`);
try {
  const p50s = [];
  for (const n of SAVE_FLOWS) p50s.push(await editorSaves(n));
  if (p50s.length === 2) console.log(`save → served p50 at ${SAVE_FLOWS[1]} flows / at ${SAVE_FLOWS[0]} flows: ${((p50s[1] as number) / (p50s[0] as number)).toFixed(2)}× (target ≤ 1.5×)`);
  await gitPull();
  await webhook();
} finally {
  rmSync(work, { recursive: true, force: true });
}
