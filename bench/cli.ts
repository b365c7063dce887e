// bench/cli — how long a `flowreg` command takes from exec to exit, side by side in one run:
// `node -e 0` (the floor: starting Node itself), `flowreg --version`, `flowreg validate` on one
// flow file and on five, each as the compiled package runs (dist/) and, for comparison, from the
// TypeScript sources through tsx (as bin/flowreg.js ran before the build, FLOWREG_FROM_SOURCE=1).
// Builds dist/ first when it is missing or older than src/. Median and spread of --runs runs.
// Run: npm run bench:cli   Options: --runs 10  --no-sources (leave out the tsx rows)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { opt } from './benchRun.ts';

const RUNS = Number(opt('runs', '10'));
const SOURCES = !process.argv.includes('--no-sources');
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin/flowreg.js');
const flows = readdirSync(join(root, 'flows'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join('flows', f));
const one = flows.slice(0, 1);
const five = flows.slice(0, 5);

/** True when dist/ is missing or a file under src/ is newer than its build. */
function distStale(): boolean {
  const stamp = join(root, 'dist/.built');
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > built));
  return newer(join(root, 'src'));
}

if (distStale()) {
  process.stderr.write('building dist/ (npm run build)…\n');
  const b = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}

interface Row {
  label: string;
  argv: string[];
  env?: Record<string, string>;
  budget?: number;
}

const rows: Row[] = [
  { label: 'node -e 0 (floor)', argv: ['-e', '0'] },
  { label: 'flowreg --version', argv: [bin, '--version'], budget: 150 },
  { label: 'flowreg validate (1 file)', argv: [bin, 'validate', ...one], budget: 250 },
  { label: 'flowreg validate (5 files)', argv: [bin, 'validate', ...five] },
  { label: 'flowreg help (loads every command)', argv: [bin, '--help'] },
];
if (SOURCES) {
  rows.push(
    { label: 'from sources (tsx): flowreg validate (1 file)', argv: [bin, 'validate', ...one], env: { FLOWREG_FROM_SOURCE: '1' } },
    { label: 'from sources (tsx): flowreg validate (5 files)', argv: [bin, 'validate', ...five], env: { FLOWREG_FROM_SOURCE: '1' } },
  );
}

function time(row: Row): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, row.argv, { cwd: root, env: { ...process.env, ...row.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${row.label} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

// Interleaved: round r runs every row once, so drift of the shared machine hits all rows alike.
const samples = new Map<Row, number[]>(rows.map((r) => [r, []]));
for (const r of rows) time(r); // warm the file cache
for (let i = 0; i < RUNS; i++) for (const r of rows) samples.get(r)!.push(time(r));

const floor = median(samples.get(rows[0]!)!);
console.log(`flowreg CLI start-up, ${RUNS} runs each, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| command | median | min | max | above the floor | budget |');
console.log('|---|---|---|---|---|---|');
let over = 0;
for (const r of rows) {
  const xs = samples.get(r)!;
  const m = median(xs);
  const ok = r.budget === undefined ? '' : m <= r.budget ? `≤ ${r.budget} ms ✓` : `≤ ${r.budget} ms ✗`;
  if (r.budget !== undefined && m > r.budget) over++;
  console.log(`| ${r.label} | ${m.toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms | ${r === rows[0] ? '–' : `${(m - floor).toFixed(0)} ms`} | ${ok} |`);
}
process.exitCode = over > 0 ? 1 : 0;
