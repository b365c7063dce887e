// bench/api — the REST API on a generated repository of 10,000 corpus-sized flows: throughput and
// p99 of GET /flows/{uid} and of a list page of 20, beside a bare express route that returns the
// same bytes (same machine, same concurrency, same keep-alive load generator, run side by side),
// and PUT latency beside the store's own write latency on the same repository.
// Run: npm run bench:api
// Options: --flows 10000  --duration 10 (s per measurement)  --concurrency 16  --writes 21
//          --sample 2000 (uids the GETs rotate over)  --pages 50  --keep (reuse the generated repo)
//          --profile (write a CPU profile of the daemon to bench/out/)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FlowFile } from '../src/core/types.ts';
import { benchTemplates, benchUid, generateRepo } from './generateRepo.ts';
import { opt, startChild, stopChild, type Child } from './benchRun.ts';

const args = process.argv.slice(2);
const FLOWS = Number(opt('flows', '10000'));
const DURATION_MS = Number(opt('duration', '10')) * 1000;
const CONCURRENCY = Number(opt('concurrency', '16'));
const WRITES = Number(opt('writes', '21'));
const SAMPLE = Number(opt('sample', '2000'));
const PAGES = Number(opt('pages', '50'));
const KEEP = args.includes('--keep');
const PROFILE = args.includes('--profile');
const PHASE = opt('phase', '');
const root = resolve(import.meta.dirname, '..');
const work = join(tmpdir(), 'flowreg-bench-api');
const V2 = '/api/v2/serve/awel';

// ---------------------------------------------------------------------------------------------
// the repository: one commit per flow, like a registry that grew one flow at a time

// ---------------------------------------------------------------------------------------------
// load generator: `concurrency` loops over one keep-alive agent, each waiting for the whole body

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  mbPerS: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

function fetchOnce(agent: Agent, url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolveFetch, reject) => {
    httpGet(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolveFetch({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function load(urls: string[], ms: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lat: number[] = [];
  let bytes = 0;
  let errors = 0;
  let next = 0;
  const end = performance.now() + ms;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const url = urls[next++ % urls.length] as string;
      const t0 = performance.now();
      const r = await fetchOnce(agent, url);
      lat.push(performance.now() - t0);
      bytes += r.bytes;
      if (r.status !== 200) errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { requests: lat.length, rps: lat.length / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99), mbPerS: bytes / 1024 / 1024 / seconds, errors };
}

/** A deterministic shuffle, so both servers see the same request order. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// child processes

function put(url: string, body: string): Promise<number> {
  return new Promise((resolvePut, reject) => {
    const req = httpRequest(url, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolvePut(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function getJson(url: string): Promise<{ data: Record<string, unknown> }> {
  const res = await fetch(url);
  return (await res.json()) as { data: Record<string, unknown> };
}

/** The bare express baseline: the same bytes flowreg answered, from memory, on the same paths. */
async function runBaseline(flowregUrl: string, listFile: string): Promise<void> {
  const { default: express } = await import('express');
  const { uids, pages } = JSON.parse(readFileSync(listFile, 'utf8')) as { uids: string[]; pages: number[] };
  const flows = new Map<string, Buffer>();
  const lists = new Map<string, Buffer>();
  for (const uid of uids) flows.set(uid, Buffer.from(await (await fetch(`${flowregUrl}${V2}/flows/${uid}`)).arrayBuffer()));
  for (const p of pages) lists.set(String(p), Buffer.from(await (await fetch(`${flowregUrl}${V2}/flows?page=${p}&page_size=20`)).arrayBuffer()));
  const app = express();
  app.get(`${V2}/flows/:uid`, (req, res) => {
    res.type('application/json').send(flows.get(req.params.uid));
  });
  app.get(`${V2}/flows`, (req, res) => {
    res.type('application/json').send(lists.get(String(req.query.page)));
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    process.stdout.write(`baseline listening on http://127.0.0.1:${addr.port}\n`);
  });
  process.on('SIGTERM', () => server.close());
  server.on('close', () => process.exit(0));
}

/** The store's own write latency on `dir`: the same kind of update, without HTTP and the service. */
async function runStoreWrites(dir: string): Promise<void> {
  const { GitStore } = await import('../src/store/GitStore.ts');
  const store = await GitStore.open({ dir });
  const tpls = benchTemplates();
  const lat: number[] = [];
  for (let k = 0; k < WRITES; k++) {
    const i = (k * 7919 + 17) % FLOWS;
    const t0 = performance.now();
    const res = await store.write({
      verb: 'update',
      uid: benchUid(i),
      author: { name: 'Bench', email: 'bench@example.com' },
      apply: (cur) => ({ ...(cur?.file as FlowFile), label: `${(tpls[i % tpls.length] as FlowFile).label} ${i} store ${k}` }),
    });
    lat.push(performance.now() - t0);
    if (res.commit === null) throw new Error(`store write ${k} made no commit: the benchmark must time real writes`);
  }
  await store.close();
  lat.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ median: percentile(lat, 50), p90: percentile(lat, 90) })}\n`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (PHASE === 'baseline') return runBaseline(args[args.length - 2] as string, args[args.length - 1] as string);
  if (PHASE === 'storewrites') return runStoreWrites(args[args.length - 1] as string);
  mkdirSync(work, { recursive: true });
  const pristine = join(work, `repo-${FLOWS}`);
  const dir = join(work, `run-${FLOWS}`);
  if (!KEEP || !existsSync(pristine)) {
    const t0 = performance.now();
    await generateRepo(pristine, FLOWS);
    console.log(`generated ${FLOWS} flows (one commit each) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  rmSync(dir, { recursive: true, force: true });
  execFileSync('cp', ['-a', pristine, dir]);
  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  console.log(`bench/api — ${date}, node ${process.version}, ${FLOWS} flows, concurrency ${CONCURRENCY}, ${DURATION_MS / 1000} s per measurement`);

  // flowreg as `flowreg serve` in a child, logging at its default level to a file
  const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${outDir}`] : [];
  const t0 = performance.now();
  const flowreg = await startChild([...nodeArgs, join(root, 'bin/flowreg.js'), 'serve', '--repo', dir, '--port', '0'], join(work, 'flowreg.log'), /"url":"(http:[^"]+)","repo"/);
  console.log(`flowreg serve ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (first open: history index and parsed-flow cache built)`);

  const children: Child[] = [flowreg];
  const rows: Array<{ what: string; flowreg: LoadResult; bare: LoadResult }> = [];
  const putLat: number[] = [];
  try {
    const uids = shuffled(Array.from({ length: FLOWS }, (_, i) => benchUid(i)), 42).slice(0, Math.min(SAMPLE, FLOWS));
    const lastPage = Math.ceil(FLOWS / 20);
    const pages = shuffled(Array.from({ length: lastPage }, (_, i) => i + 1), 7).slice(0, Math.min(PAGES, lastPage));
    const listFile = join(work, 'sample.json');
    writeFileSync(listFile, JSON.stringify({ uids, pages }));
    const baseline = await startChild(['--import', 'tsx', import.meta.filename, '--phase', 'baseline', flowreg.url, listFile], join(work, 'baseline.log'), /baseline listening on (http:\S+)/);
    children.push(baseline);

    for (const [what, path] of [
      ['GET /flows/{uid}', (x: string | number) => `${V2}/flows/${x}`],
      ['GET /flows?page=…&page_size=20', (x: string | number) => `${V2}/flows?page=${x}&page_size=20`],
    ] as const) {
      const keys: Array<string | number> = what.includes('{uid}') ? uids : pages;
      const res: Record<string, LoadResult> = {};
      for (const [label, base] of [
        ['flowreg', flowreg.url],
        ['bare', baseline.url],
      ] as const) {
        const urls = keys.map((k) => base + path(k));
        await load(urls, Math.min(3000, DURATION_MS / 3)); // warm-up
        res[label] = await load(urls, DURATION_MS);
      }
      rows.push({ what, flowreg: res.flowreg as LoadResult, bare: res.bare as LoadResult });
    }
    await stopChild(baseline);

    // PUT latency, one at a time, each on a flow read just before (not timed)
    for (let k = 0; k < WRITES; k++) {
      const i = (k * 7919 + 23) % FLOWS;
      const url = `${flowreg.url}${V2}/flows/${benchUid(i)}`;
      const cur = await getJson(url);
      const body = JSON.stringify({ ...cur.data, label: `${String(cur.data.label)} put ${k}` });
      const t = performance.now();
      const status = await put(url, body);
      putLat.push(performance.now() - t);
      if (status !== 200) throw new Error(`PUT answered ${status}`);
    }
    putLat.sort((a, b) => a - b);
  } finally {
    for (const c of children) await stopChild(c);
  }
  const storeOut = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--phase', 'storewrites', '--writes', String(WRITES), '--flows', String(FLOWS), dir], { encoding: 'utf8' });
  const store = JSON.parse(storeOut.trim().split('\n').pop() as string) as { median: number; p90: number };

  console.log('');
  console.log('| request | flowreg req/s | bare express req/s | ratio | flowreg p50 / p99 | bare p50 / p99 | MB/s (flowreg) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.what} | ${r.flowreg.rps.toFixed(0)} | ${r.bare.rps.toFixed(0)} | ${(r.flowreg.rps / r.bare.rps).toFixed(2)}× | ${r.flowreg.p50.toFixed(1)} / ${r.flowreg.p99.toFixed(1)} ms | ${r.bare.p50.toFixed(1)} / ${r.bare.p99.toFixed(1)} ms | ${r.flowreg.mbPerS.toFixed(0)} |`,
    );
    if (r.flowreg.errors + r.bare.errors > 0) console.log(`  (non-200 answers: flowreg ${r.flowreg.errors}, bare ${r.bare.errors})`);
  }
  const putMedian = percentile(putLat, 50);
  console.log('');
  console.log(`PUT /flows/{uid} (HTTP, service, store): median ${putMedian.toFixed(1)} ms, p90 ${percentile(putLat, 90).toFixed(1)} ms`);
  console.log(`store write alone (same repository, same kind of update): median ${store.median.toFixed(1)} ms, p90 ${store.p90.toFixed(1)} ms`);
  console.log(`PUT / store write: ${(putMedian / store.median).toFixed(2)}×`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
