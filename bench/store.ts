// bench/store — flowreg's write latency beside native `git add && git commit` on copies of the
// same generated repositories (100, 1,000 and 10,000 corpus-sized flows, flat flows/), the history
// index built from scratch on 10,000 flows and 50,000 commits beside native `git log --name-only`,
// reopen time with the persisted index and cache, and peak RSS. Run: npm run bench:store
// Options: --sizes 100,1000,10000  --commits 50000  --writes 21  --keep (reuse generated repos)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_ENV, benchTemplates, benchText, generateRepo } from './generateRepo.ts';
import type { FlowFile } from '../src/core/types.ts';
import { opt } from './benchRun.ts';

const args = process.argv.slice(2);
const SIZES = opt('sizes', '100,1000,10000').split(',').map(Number);
const COMMITS = Number(opt('commits', '50000'));
const WRITES = Number(opt('writes', '21'));
const KEEP = args.includes('--keep');
const PHASE = opt('phase', '');
const work = join(tmpdir(), 'flowreg-bench-store');
const ENV = BENCH_ENV;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs a phase of this benchmark in a fresh process, so its time and peak RSS are its own. */
function phase(name: string, dir: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--phase', name, dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`phase ${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

async function runPhase(name: string, dir: string): Promise<void> {
  const { GitStore } = await import('../src/store/GitStore.ts');
  const { HistoryIndex } = await import('../src/store/historyIndex.ts');
  const { ObjectStore } = await import('../src/store/objectStore.ts');
  const out: Record<string, number> = {};
  if (name === 'open') {
    const t0 = performance.now();
    const store = await GitStore.open({ dir });
    out.openMs = performance.now() - t0;
    out.flows = store.files().length;
    await store.close();
  } else if (name === 'writes') {
    const store = await GitStore.open({ dir });
    const tpls = benchTemplates();
    const recs = store.files();
    const lat: number[] = [];
    // a label no earlier run wrote: with --keep the repository already holds the labels of the
    // last run, and a write that changes nothing makes no commit (nothing written, nothing fsync'ed)
    const run = Date.now().toString(36);
    for (let k = 0; k < WRITES; k++) {
      const rec = recs[(k * 7919) % recs.length] as (typeof recs)[number];
      const uid = rec.summary?.uid as string;
      const i = Number(/flow_(\d+)/.exec(rec.path)?.[1]);
      const t0 = performance.now();
      const res = await store.write({ verb: 'update', uid, author: { name: 'Bench', email: 'bench@example.com' }, apply: (cur) => ({ ...(cur?.file as FlowFile), label: `${(tpls[i % tpls.length] as FlowFile).label} ${i} w${k} ${run}` }) });
      lat.push(performance.now() - t0);
      if (res.commit === null) throw new Error(`write ${k} of ${rec.path} made no commit: the benchmark must time real writes`);
    }
    out.writeMedianMs = median(lat);
    await store.close();
  } else if (name === 'history') {
    const objects = new ObjectStore(join(dir, '.git'));
    const idx = new HistoryIndex(objects, join(dir, '.git', 'flowreg', 'history-bench.json'), 'flows');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const t0 = performance.now();
    out.commits = idx.update(head);
    out.buildMs = performance.now() - t0;
    out.uids = [...idx.uids()].length;
  }
  out.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function nativeWrites(dir: string): number {
  const tpls = benchTemplates();
  const files = execFileSync('git', ['ls-files', 'flows'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
  const lat: number[] = [];
  for (let k = 0; k < WRITES; k++) {
    const path = files[(k * 7919) % files.length] as string;
    const i = Number(/flow_(\d+)/.exec(path)?.[1]);
    const text = benchText(tpls, i, 100_000 + k);
    const t0 = performance.now();
    writeFileSync(join(dir, path), text);
    execFileSync('git', ['add', path], { cwd: dir, env: ENV });
    execFileSync('git', ['commit', '-q', '-m', `update flow ${i}`], { cwd: dir, env: ENV });
    lat.push(performance.now() - t0);
  }
  return median(lat);
}

async function main(): Promise<void> {
  if (PHASE) return runPhase(PHASE, args[args.length - 1] as string);
  mkdirSync(work, { recursive: true });
  console.log(`bench/store — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${WRITES} writes per size`);
  console.log('flows    flowreg write (median)   native git add+commit (median)   ratio   first open   reopen   peak RSS');
  for (const n of SIZES) {
    const dir = join(work, `repo-${n}`);
    const native = join(work, `repo-${n}-native`);
    if (!KEEP || !existsSync(dir)) await generateRepo(dir, n, 0);
    rmSync(native, { recursive: true, force: true });
    execFileSync('cp', ['-a', dir, native]);
    rmSync(join(dir, '.git', 'flowreg'), { recursive: true, force: true });
    const first = phase('open', dir);
    const reopen = phase('open', dir);
    const w = phase('writes', dir);
    const nat = nativeWrites(native);
    const rss = Math.max(first.maxRssMiB ?? 0, reopen.maxRssMiB ?? 0, w.maxRssMiB ?? 0);
    console.log(
      `${String(n).padStart(6)}   ${w.writeMedianMs?.toFixed(1).padStart(10)} ms            ${nat.toFixed(1).padStart(10)} ms                ${((w.writeMedianMs ?? 0) / nat).toFixed(2).padStart(5)}×   ${(first.openMs ?? 0).toFixed(0).padStart(7)} ms  ${(reopen.openMs ?? 0).toFixed(0).padStart(5)} ms  ${rss.toFixed(0)} MiB`,
    );
    rmSync(native, { recursive: true, force: true });
  }
  if (COMMITS > 0) {
    const n = Math.max(...SIZES);
    const dir = join(work, `history-${n}-${COMMITS}`);
    if (!KEEP || !existsSync(dir)) {
      const t0 = performance.now();
      await generateRepo(dir, n, COMMITS - n - 1);
      console.log(`generated ${n} flows / ${COMMITS} commits in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const t0 = performance.now();
    execFileSync('sh', ['-c', 'git log --name-only --format=%H > /dev/null'], { cwd: dir });
    const nativeMs = performance.now() - t0;
    const h = phase('history', dir);
    console.log(
      `history index from scratch: ${(h.commits ?? 0).toLocaleString()} commits, ${h.uids} flows in ${((h.buildMs ?? 0) / 1000).toFixed(1)} s (peak RSS ${h.maxRssMiB?.toFixed(0)} MiB); native git log --name-only: ${(nativeMs / 1000).toFixed(1)} s; ratio ${((h.buildMs ?? 0) / nativeMs).toFixed(2)}×`,
    );
    rmSync(join(dir, '.git', 'flowreg'), { recursive: true, force: true });
    const first = phase('open', dir);
    const reopen = phase('open', dir);
    console.log(`open ${n} flows / ${COMMITS} commits: first ${((first.openMs ?? 0) / 1000).toFixed(1)} s (peak ${first.maxRssMiB?.toFixed(0)} MiB), reopen with persisted index and cache ${((reopen.openMs ?? 0) / 1000).toFixed(2)} s (peak ${reopen.maxRssMiB?.toFixed(0)} MiB)`);
  }
}

await main();
