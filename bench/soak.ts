// bench/soak — memory under a long run of writes: `flowreg serve` (child process, default options)
// on a generated repository of 1,000 flows takes 20,000 sequential PUT /flows/{uid}, each changing
// one flow's label (over 300 flows, so each makes a commit). The daemon's RSS (/proc/<pid>/status
// VmRSS) is sampled every 1,000 writes; the slope over the second half (least squares, MB per
// 1,000 writes) says whether it levels off (≤ 2 MB per 1,000 writes).
// Baseline, side by side in the same run: a second `flowreg serve` on a copy of the same
// repository, started at the same time and left idle, its RSS sampled at the same moments. It has
// the same code, data, caches and wall time, so what the writer gains beyond it is due to writes.
// At the middle and at the end both daemons write a heap snapshot (--heapsnapshot-signal, which
// collects garbage first); the two snapshots of the writer are compared by constructor and by owner
// (the nearest of flowreg's objects that holds the growth, e.g. HistoryIndex.commits). Each sample
// also splits the writer's RSS into the V8 heap (live and committed, from --trace-gc) and the rest.
// Run: npm run bench:soak
// Options: --flows 1000  --writes 20000  --touch 300 (flows written over)  --every 1000 (writes per
//          sample)  --keep (reuse the generated repo)  --no-snapshots
// Also: node --expose-gc --import tsx bench/soak.ts --phase index-probe --flows 10000 --touch 1000
//          (in process: ArrayBuffer memory after GC as more distinct flows are written)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_ENV, benchUid, generateRepo } from './generateRepo.ts';
import { opt, startChild, stopChild, type Child } from './benchRun.ts';

const args = process.argv.slice(2);
const FLOWS = Number(opt('flows', '1000'));
const WRITES = Number(opt('writes', '20000'));
const TOUCH = Math.min(FLOWS, Number(opt('touch', '300')));
const EVERY = Number(opt('every', '1000'));
const KEEP = args.includes('--keep');
const SNAPSHOTS = !args.includes('--no-snapshots');
const THRESHOLD = 2; // MB per 1,000 writes over the second half: "levels off"
const root = resolve(import.meta.dirname, '..');
const work = join(tmpdir(), 'flowreg-bench-soak');
const V2 = '/api/v2/serve/awel';
const MB = 1024 * 1024;

interface Served extends Child {
  cwd: string;
}

/** Starts `flowreg serve` on `dir` (default options, any port) in `cwd`, waits for its URL. */
async function startServe(dir: string, cwd: string): Promise<Served> {
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd, { recursive: true });
  // --trace-gc: each collection prints the V8 heap's used and committed size to the log (see v8Heap)
  const nodeArgs = ['--trace-gc', ...(SNAPSHOTS ? ['--heapsnapshot-signal=SIGUSR2'] : [])];
  const child = await startChild([...nodeArgs, join(root, 'bin/flowreg.js'), 'serve', '--repo', dir, '--port', '0'], join(cwd, 'flowreg.log'), /"url":"(http:[^"]+)","repo"/, cwd);
  return { ...child, cwd };
}


/** VmRSS of a process, in MB. */
function rssMb(pid: number): number {
  return statusMb(pid, 'VmRSS');
}

/** A field of /proc/<pid>/status (VmRSS, RssAnon: anonymous memory, RssFile: mapped files), in MB. */
function statusMb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) / 1024;
}

/**
 * The V8 heap after the last mark-compact before now, from the --trace-gc lines in a daemon's log
 * ("Mark-Compact 150.2 (170.5) -> 148.0 (171.0) MB": objects, then memory V8 holds for its heap,
 * before and after): what is live in the JavaScript heap and what V8 keeps committed for it.
 * Everything else in RssAnon is native memory (Buffers' backing stores, zlib, malloc's arenas).
 */
function v8Heap(c: Served): { used: number; committed: number } {
  const text = readFileSync(join(c.cwd, 'flowreg.log'), 'utf8');
  // each line starts with [pid:isolate]: the main thread's isolate is the first to collect; the
  // inspection worker's lines are left out
  const main = /^\[\d+:(0x[0-9a-f]+)\]/m.exec(text)?.[1];
  let last: RegExpExecArray | null = null;
  const re = /^\[\d+:(0x[0-9a-f]+)\][^\n]*?Mark-Compact[^\n]*?->\s*([\d.]+)\s*\(([\d.]+)\)\s*MB/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) if (m[1] === main) last = m;
  return last ? { used: Number(last[2]), committed: Number(last[3]) } : { used: Number.NaN, committed: Number.NaN };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((res, rej) => {
    const headers: Record<string, string | number> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = httpRequest(url, { method, agent, headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(body);
  });
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return num / den;
}

/** Asks a child for a heap snapshot; returns when its file is complete (the size stops changing). */
async function snapshot(c: Served): Promise<string> {
  const before = new Set(readdirSync(c.cwd).filter((f) => f.endsWith('.heapsnapshot')));
  c.proc.kill('SIGUSR2');
  let file = '';
  let size = -1;
  let stable = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    file ||= readdirSync(c.cwd).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)) ?? '';
    if (!file) continue;
    const s = statSync(join(c.cwd, file)).size;
    stable = s === size && s > 0 ? stable + 1 : 0;
    size = s;
    if (stable >= 3) return join(c.cwd, file);
  }
}

interface HeapSummary {
  total: number;
  byName: Map<string, { count: number; size: number }>;
}

/** Self size and count of the nodes of a heap snapshot, by constructor name (type for non-objects). */
function summarize(file: string): HeapSummary {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const byName = new Map<string, { count: number; size: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType] as number] as string;
    const size = snap.nodes[i + iSize] as number;
    const key = type === 'object' || type === 'closure' ? `${snap.strings[snap.nodes[i + iName] as number]} (${type})` : `(${type})`;
    const e = byName.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += size;
    byName.set(key, e);
    total += size;
  }
  return { total, byName };
}

/** The names of flowreg's classes (src/): the owners that heap growth is attributed to. */
function flowregClasses(): Set<string> {
  const out = new Set<string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.ts')) for (const m of readFileSync(join(d, e.name), 'utf8').matchAll(/^(?:export )?class (\w+)/gm)) out.add(m[1] as string);
    }
  };
  walk(join(root, 'src'));
  return out;
}

interface Owned {
  size: number;
  count: number;
  /** Self size by constructor name (type for non-objects). */
  byName: Map<string, number>;
}

/**
 * Self size of the nodes of a heap snapshot by owner: the nearest instance of one of flowreg's
 * classes on the node's shortest path from the roots (weak edges left out), and the field it is
 * held by ("HistoryIndex.commits"). A breadth-first walk: a node shared by two owners counts for
 * the one nearer the roots. "(not under a flowreg object)": modules, code, express, pino, V8.
 */
function owners(file: string): Map<string, Owned> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const { node_fields: nf, node_types: nt, edge_fields: ef, edge_types: et } = snap.snapshot.meta;
  const [W, EW] = [nf.length, ef.length];
  const [iType, iName, iSize, iEdges] = [nf.indexOf('type'), nf.indexOf('name'), nf.indexOf('self_size'), nf.indexOf('edge_count')];
  const [eType, eName, eTo] = [ef.indexOf('type'), ef.indexOf('name_or_index'), ef.indexOf('to_node')];
  const { nodes, edges, strings } = snap;
  const types = nt[0];
  const n = nodes.length / W;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = (firstEdge[i] as number) + (nodes[i * W + iEdges] as number) * EW;
  const classes = flowregClasses();
  const skip = new Set([et[0].indexOf('weak'), et[0].indexOf('shortcut')]);
  const indexed = new Set([et[0].indexOf('element'), et[0].indexOf('hidden')]);
  const objectType = types.indexOf('object');
  const labels: string[] = ['(not under a flowreg object)'];
  const labelIds = new Map<string, number>();
  const label = new Int32Array(n);
  const seen = new Uint8Array(n);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  seen[0] = 1;
  while (head < tail) {
    const p = queue[head++] as number;
    const name = strings[nodes[p * W + iName] as number] as string;
    const owner = nodes[p * W + iType] === objectType && classes.has(name.replace(/^_+|\d+$/g, ''));
    for (let e = firstEdge[p] as number; e < (firstEdge[p + 1] as number); e += EW) {
      if (skip.has(edges[e + eType] as number)) continue;
      const c = (edges[e + eTo] as number) / W;
      if (seen[c]) continue;
      seen[c] = 1;
      queue[tail++] = c;
      if (owner) {
        const field = indexed.has(edges[e + eType] as number) ? `[${edges[e + eName]}]` : (strings[edges[e + eName] as number] as string);
        const key = `${name}.${field}`;
        let id = labelIds.get(key);
        if (id === undefined) labelIds.set(key, (id = labels.push(key) - 1));
        label[c] = id;
      } else label[c] = label[p] as number;
    }
  }
  const out = new Map<string, Owned>();
  for (let i = 0; i < n; i++) {
    const key = seen[i] ? (labels[label[i] as number] as string) : '(unreachable)';
    let o = out.get(key);
    if (!o) out.set(key, (o = { size: 0, count: 0, byName: new Map() }));
    const size = nodes[i * W + iSize] as number;
    o.size += size;
    o.count++;
    const type = types[nodes[i * W + iType] as number] as string;
    const kind = type === 'object' || type === 'closure' ? (strings[nodes[i * W + iName] as number] as string) : `(${type})`;
    o.byName.set(kind, (o.byName.get(kind) ?? 0) + size);
  }
  return out;
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/**
 * `--phase index-probe` (run with node --expose-gc): GitStore in process on a generated repository
 * of --flows flows; writes once to each of --touch distinct flows and reports the memory held by
 * ArrayBuffers after a full GC every tenth of the way. Shows what the in-memory git index retains
 * as the number of distinct flows written grows.
 */
async function indexProbe(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the index probe with node --expose-gc');
  const { GitStore } = await import('../src/store/GitStore.ts');
  const { benchTemplates } = await import('./generateRepo.ts');
  const pristine = join(work, `repo-${FLOWS}`);
  if (!KEEP || !existsSync(pristine)) await generateRepo(pristine, FLOWS);
  const dir = join(work, 'run-probe');
  rmSync(dir, { recursive: true, force: true });
  execFileSync('cp', ['-a', pristine, dir]);
  const store = await GitStore.open({ dir });
  const tpls = benchTemplates();
  const indexBytes = statSync(join(dir, '.git/index')).size;
  const ab = (): number => {
    gc();
    gc();
    return process.memoryUsage().arrayBuffers / MB;
  };
  console.log(`index probe — ${FLOWS} flows, .git/index ${(indexBytes / 1024).toFixed(0)} kB, one write to each of ${TOUCH} distinct flows`);
  console.log('| distinct flows written | ArrayBuffers after GC | heap used after GC |');
  console.log('|---|---|---|');
  const row = (k: number): void => console.log(`| ${k} | ${ab().toFixed(1)} MB | ${(process.memoryUsage().heapUsed / MB).toFixed(1)} MB |`);
  row(0);
  for (let k = 0; k < TOUCH; k++) {
    const i = (k * 7919) % FLOWS;
    const t = tpls[i % tpls.length] as { label: string };
    const res = await store.write({ verb: 'update', uid: benchUid(i), author: { name: 'Bench', email: 'bench@example.com' }, apply: (cur) => ({ ...(cur?.file as object), label: `${t.label} ${i} probe ${k}` }) as never });
    if (res.commit === null) throw new Error(`probe write ${k} made no commit`);
    if ((k + 1) % Math.max(1, Math.floor(TOUCH / 10)) === 0) row(k + 1);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  if (opt('phase', '') === 'index-probe') return indexProbe();
  mkdirSync(work, { recursive: true });
  const pristine = join(work, `repo-${FLOWS}`);
  if (!KEEP || !existsSync(pristine)) {
    const t0 = performance.now();
    await generateRepo(pristine, FLOWS);
    console.log(`generated ${FLOWS} flows (one commit each) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const dirW = join(work, 'run-writer');
  const dirI = join(work, 'run-idle');
  for (const d of [dirW, dirI]) {
    rmSync(d, { recursive: true, force: true });
    execFileSync('cp', ['-a', pristine, d]);
  }
  const date = new Date().toISOString().slice(0, 10);
  console.log(`bench/soak — ${date}, node ${process.version}, ${FLOWS} flows, ${WRITES} writes over ${TOUCH} flows, RSS every ${EVERY} writes`);
  const [writer, idle] = await Promise.all([startServe(dirW, join(work, 'cwd-writer')), startServe(dirI, join(work, 'cwd-idle'))]);
  const pidW = writer.proc.pid as number;
  const pidI = idle.proc.pid as number;
  const rows: Array<{ writes: number; s: number; w: number; i: number; ms: number; wAnon: number; iAnon: number; wHeap: { used: number; committed: number }; iHeap: { used: number; committed: number } }> = [];
  const snaps: string[] = [];
  try {
    // the bodies: each touched flow read once (its version left out, so no precondition applies)
    const bodies: Array<Record<string, unknown>> = [];
    for (let j = 0; j < TOUCH; j++) {
      const r = await send('GET', `${writer.url}${V2}/flows/${benchUid(j)}`);
      const data = (JSON.parse(r.text) as { data: Record<string, unknown> }).data;
      delete data.version;
      bodies.push(data);
    }
    const t0 = performance.now();
    const sample = (k: number, ms: number): void => {
      const row = { writes: k, s: (performance.now() - t0) / 1000, w: rssMb(pidW), i: rssMb(pidI), ms, wAnon: statusMb(pidW, 'RssAnon'), iAnon: statusMb(pidI, 'RssAnon'), wHeap: v8Heap(writer), iHeap: v8Heap(idle) };
      rows.push(row);
      console.log(
        `${String(k).padStart(6)} writes  ${row.s.toFixed(0).padStart(5)} s  writer ${row.w.toFixed(1)} MB (anon ${row.wAnon.toFixed(1)}, V8 heap ${row.wHeap.used} of ${row.wHeap.committed})  idle ${row.i.toFixed(1)} MB (anon ${row.iAnon.toFixed(1)}, V8 heap ${row.iHeap.used} of ${row.iHeap.committed})  mean PUT ${ms.toFixed(1)} ms`,
      );
    };
    sample(0, 0);
    let tBlock = performance.now();
    for (let k = 0; k < WRITES; k++) {
      const j = k % TOUCH;
      const body = bodies[j] as Record<string, unknown>;
      const res = await send('PUT', `${writer.url}${V2}/flows/${benchUid(j)}`, JSON.stringify({ ...body, label: `${String(body.label)} soak ${k}` }));
      if (res.status !== 200) throw new Error(`PUT ${k} answered ${res.status}: ${res.text.slice(0, 300)}`);
      if ((k + 1) % EVERY === 0) {
        sample(k + 1, (performance.now() - tBlock) / EVERY);
        if (SNAPSHOTS && (k + 1 === WRITES / 2 || k + 1 === WRITES)) {
          const [sw] = await Promise.all([snapshot(writer), snapshot(idle)]);
          snaps.push(sw);
          console.log(`        heap snapshot of both daemons (after a full GC); writer: ${sw}`);
        }
        tBlock = performance.now();
      }
    }
    const commits = Number(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dirW, env: BENCH_ENV, encoding: 'utf8' }).trim());
    console.log(`commits in the writer's repository: ${commits} (${FLOWS + 1} before the run)`);
  } finally {
    await Promise.all([stopChild(writer), stopChild(idle)]);
    agent.destroy();
  }
  // the daemons persist the history index and the parsed-flow cache when they stop
  const sizes = (d: string): string => ['history.json', 'flows.json'].map((f) => `${f} ${(fileSize(join(d, '.git/flowreg', f)) / MB).toFixed(2)} MB`).join(', ');
  console.log(`persisted at stop: writer ${sizes(dirW)}; idle ${sizes(dirI)}`);

  console.log('');
  console.log('| writes | time | flowreg serve, writing: RSS | same daemon idle: RSS | difference | writer: V8 heap live / committed (last mark-compact) | writer: native (RssAnon − V8 committed) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.writes.toLocaleString('en-US')} | ${r.s.toFixed(0)} s | ${r.w.toFixed(1)} MB | ${r.i.toFixed(1)} MB | ${(r.w - r.i).toFixed(1)} MB | ${r.wHeap.used} / ${r.wHeap.committed} MB | ${(r.wAnon - r.wHeap.committed).toFixed(1)} MB |`);
  }
  // the second half; with snapshots, from the first sample after the middle snapshot (taking a
  // snapshot raises both daemons' RSS once, so the samples before and after it are not compared)
  const from = SNAPSHOTS ? WRITES / 2 + EVERY : WRITES / 2;
  const half = rows.filter((r) => r.writes >= from);
  const x = half.map((r) => r.writes / 1000);
  const sw = slope(x, half.map((r) => r.w));
  const si = slope(x, half.map((r) => r.i));
  const sd = slope(x, half.map((r) => r.w - r.i));
  console.log('');
  console.log(`slope of RSS from ${from.toLocaleString('en-US')} to ${WRITES.toLocaleString('en-US')} writes: writer ${sw.toFixed(2)} MB per 1,000 writes, idle ${si.toFixed(2)} MB per the same time, difference ${sd.toFixed(2)}`);
  console.log(`levels off (≤ ${THRESHOLD} MB per 1,000 writes over the second half): ${sw <= THRESHOLD ? 'yes' : 'NO'}`);
  // where the writer's RSS slope is: live V8 heap, V8's headroom over it, native memory, mapped files
  const parts: Array<[string, (r: (typeof rows)[number]) => number]> = [
    ['V8 heap live after mark-compact', (r) => r.wHeap.used],
    ['V8 heap committed', (r) => r.wHeap.committed],
    ['native (RssAnon − V8 committed)', (r) => r.wAnon - r.wHeap.committed],
    ['mapped files (VmRSS − RssAnon)', (r) => r.w - r.wAnon],
  ];
  const ok = half.every((r) => Number.isFinite(r.wHeap.used));
  if (ok) console.log(`writer, slopes over the same samples (MB per 1,000 writes): ${parts.map(([name, f]) => `${name} ${slope(x, half.map(f)).toFixed(2)}`).join(', ')}; idle V8 heap live ${slope(x, half.map((r) => r.iHeap.used)).toFixed(2)}, committed ${slope(x, half.map((r) => r.iHeap.committed)).toFixed(2)}`);

  if (snaps.length === 2) {
    const [a, b] = snaps.map(summarize) as [HeapSummary, HeapSummary];
    console.log('');
    console.log(`writer's live heap after GC: ${(a.total / MB).toFixed(1)} MB at ${(WRITES / 2).toLocaleString('en-US')} writes, ${(b.total / MB).toFixed(1)} MB at ${WRITES.toLocaleString('en-US')} (${(((b.total - a.total) / MB / (WRITES / 2)) * 1000).toFixed(2)} MB per 1,000 writes)`);
    const keys = new Set([...a.byName.keys(), ...b.byName.keys()]);
    const diff = [...keys].map((k) => {
      const x = a.byName.get(k) ?? { count: 0, size: 0 };
      const y = b.byName.get(k) ?? { count: 0, size: 0 };
      return { k, dSize: y.size - x.size, dCount: y.count - x.count, size: y.size };
    });
    diff.sort((p, q) => q.dSize - p.dSize);
    console.log('');
    console.log('| constructor (largest growth of self size between the two snapshots) | self size at the end | growth | count growth | bytes per write |');
    console.log('|---|---|---|---|---|');
    for (const d of diff.slice(0, 12)) console.log(`| ${d.k} | ${(d.size / MB).toFixed(2)} MB | ${(d.dSize / 1024).toFixed(0)} kB | ${d.dCount} | ${(d.dSize / (WRITES / 2)).toFixed(1)} |`);

    // the same growth by owner (the nearest of flowreg's objects that holds it)
    const [oa, ob] = snaps.map(owners) as [Map<string, Owned>, Map<string, Owned>];
    const none: Owned = { size: 0, count: 0, byName: new Map() };
    const grown = [...new Set([...oa.keys(), ...ob.keys()])].map((k) => ({ k, a: oa.get(k) ?? none, b: ob.get(k) ?? none }));
    grown.sort((p, q) => q.b.size - q.a.size - (p.b.size - p.a.size));
    console.log('');
    console.log('| owner (largest growth between the two snapshots) | at the middle | at the end | bytes per write | of which, by constructor (bytes per write) |');
    console.log('|---|---|---|---|---|');
    for (const g of grown.slice(0, 10)) {
      const kinds = [...new Set([...g.a.byName.keys(), ...g.b.byName.keys()])].map((k) => [k, (g.b.byName.get(k) ?? 0) - (g.a.byName.get(k) ?? 0)] as const);
      kinds.sort((p, q) => q[1] - p[1]);
      const top = kinds.slice(0, 4).filter(([, d]) => d > 0).map(([k, d]) => `${k} ${(d / (WRITES / 2)).toFixed(0)}`).join(', ');
      console.log(`| ${g.k} | ${(g.a.size / MB).toFixed(2)} MB | ${(g.b.size / MB).toFixed(2)} MB | ${((g.b.size - g.a.size) / (WRITES / 2)).toFixed(1)} | ${top} |`);
    }
  }
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}

await main();
