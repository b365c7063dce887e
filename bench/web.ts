// bench/web — the web app in Debian's Chromium (playwright-core) against `flowreg serve` over a
// generated repository of 10,000 corpus-sized flows plus one 50-node flow with two versions:
//   flows page: from navigation start to the first page of rows drawn (the page is usable then:
//     search, filters and paging answer from the daemon), and a search typed → its one row drawn;
//   compare: a click on Compare of the two versions of the 50-node flow → the coloured graph and the
//     change list painted (three API calls, the diff, the drawing).
// Targets: flows page interactive ≤ 1000 ms at 10,000 flows, compare ≤ 300 ms. Median and max of
// --runs fresh pages each. Also the gzipped size of the JS and CSS the page loads.
// Run: npm run bench:web      Options: --flows 10000  --runs 5  --keep (reuse the generated repo)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { formatFlow } from '../src/core/formatFlow.ts';
import type { FlowFile } from '../src/core/types.ts';
import { smallFlow } from '../test/helpers/flows.ts';
import { opt, startChild, stopChild } from './benchRun.ts';
import { BENCH_ENV, generateRepo } from './generateRepo.ts';
import type { PageElement, PageWindow } from '../test/helpers/pageWindow.ts';

const FLOWS = Number(opt('flows', '10000'));
const RUNS = Number(opt('runs', '5'));
const KEEP = process.argv.includes('--keep');
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const root = resolve(import.meta.dirname, '..');
const work = join(tmpdir(), 'flowreg-bench-web');
const BIG_UID = 'b16b16b1-0000-4000-8000-000000000050';

/** A chain of `n` map operators (str → str), node i at x = 300 i. */
function chainFlow(n: number, tweak: (nodes: Record<string, unknown>[], edges: Record<string, unknown>[]) => void = () => undefined): FlowFile {
  const base = smallFlow(BIG_UID, 'fifty_nodes');
  const [first, step] = (base.flow_data as { nodes: Record<string, unknown>[] }).nodes as [Record<string, unknown>, Record<string, unknown>];
  const nodes: Record<string, unknown>[] = [];
  const edges: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) nodes.push(nodeAt(i === 0 ? first : step, `operator_s${i}_0`, `Step ${i}`, (i % 10) * 380, Math.floor(i / 10) * 260));
  for (let i = 1; i < n; i++) edges.push(edge(`operator_s${i - 1}_0`, `operator_s${i}_0`));
  tweak(nodes, edges);
  return { ...base, label: 'Fifty nodes', flow_data: { nodes, edges, viewport: { x: 0, y: 0, zoom: 1 } } } as unknown as FlowFile;
}

function nodeAt(template: Record<string, unknown>, id: string, label: string, x: number, y: number): Record<string, unknown> {
  const data = structuredClone(template.data) as Record<string, unknown>;
  return { ...structuredClone(template), id, position: { x, y, zoom: 0 }, position_absolute: { x, y, zoom: 0 }, data: { ...data, id, label, name: label.toLowerCase().replace(/ /g, '_') } };
}

function edge(source: string, target: string): Record<string, unknown> {
  return { id: `${source}|${target}`, source, source_order: 0, source_handle: `${source}|outputs|0`, target, target_order: 0, target_handle: `${target}|inputs|0`, type: 'buttonedge' };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (apt-get install chromium)`);
  mkdirSync(work, { recursive: true });
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '-c', join(root, 'web/vite.config.ts')], { cwd: root, stdio: 'inherit' });
  const pristine = join(work, `pristine-${FLOWS}`);
  const t0 = performance.now();
  if (!KEEP || !existsSync(join(pristine, '.git'))) {
    await generateRepo(pristine, FLOWS);
    // the 50-node flow: version 1, then version 2 with 5 nodes removed, 5 added, 5 changed and 10 only moved
    const write = (f: FlowFile, msg: string): void => {
      writeFileSync(join(pristine, 'flows/fifty_nodes.yaml'), formatFlow(f, { schemaRef: '../schemas/flow.schema.json' }));
      execFileSync('git', ['add', '-A'], { cwd: pristine, env: BENCH_ENV });
      execFileSync('git', ['commit', '-q', '-m', msg], { cwd: pristine, env: BENCH_ENV });
    };
    write(chainFlow(50), 'create flow fifty_nodes');
    write(
      chainFlow(50, (nodes, edges) => {
        nodes.splice(45, 5);
        edges.splice(44, 5);
        const step = nodes[1] as Record<string, unknown>;
        for (let k = 0; k < 5; k++) {
          nodes.push(nodeAt(step, `operator_new${k}_0`, `New ${k}`, 3800 + k * 380, 0));
          edges.push(edge(k === 0 ? 'operator_s44_0' : `operator_new${k - 1}_0`, `operator_new${k}_0`));
        }
        for (let i = 10; i < 15; i++) ((nodes[i] as { data: Record<string, unknown> }).data).description = `changed step ${i}`;
        for (let i = 20; i < 30; i++) (nodes[i] as { position: { x: number } }).position.x += 50;
      }),
      'update flow fifty_nodes: 5 removed, 5 added, 5 changed, 10 moved',
    );
  }
  const dir = join(work, 'repo');
  rmSync(dir, { recursive: true, force: true });
  cpSync(pristine, dir, { recursive: true });
  console.log(`repository of ${FLOWS} flows + the 50-node flow ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const t1 = performance.now();
  const flowreg = await startChild([join(root, 'bin/flowreg.js'), 'serve', '--repo', dir, '--port', '0'], join(work, 'flowreg.log'), /"url":"(http:[^"]+)","repo"/);
  console.log(`flowreg serve ready in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu', '--no-first-run'] });
  try {
    // warm the daemon's caches once (the list order, the history index), as a served registry has them
    const warm = await browser.newPage();
    await warm.goto(`${flowreg.url}/`);
    await warm.locator('tr[data-uid]').first().waitFor({ timeout: 60_000 });
    await warm.close();

    const shown: number[] = [];
    const search: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const page: Page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      await page.goto(`${flowreg.url}/`);
      await page.locator('tr[data-uid]').first().waitFor();
      shown.push(await page.evaluate(() => performance.now()));
      const count = await page.getByTestId('count').innerText();
      if (!count.startsWith(`${FLOWS + 1} flows`)) throw new Error(`the list says "${count}", not ${FLOWS + 1} flows`);
      search.push(
        await page.evaluate(async () => {
          const w = globalThis as unknown as PageWindow;
          const input = w.document.querySelector('input[type="search"]') as PageElement;
          const start = performance.now();
          input.value = 'flow_09999';
          input.dispatchEvent(new w.Event('input', { bubbles: true }));
          for (;;) {
            await new Promise<void>((res) => w.requestAnimationFrame(res));
            if (w.document.querySelector('[data-testid="count"]')?.textContent?.startsWith('1 flow')) return performance.now() - start;
          }
        }),
      );
      await page.close();
    }

    const compare: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      await page.goto(`${flowreg.url}/flow/${BIG_UID}/history`);
      await page.getByTestId('compare').waitFor();
      const ms = await page.evaluate(async () => {
        const w = globalThis as unknown as PageWindow;
        const start = performance.now();
        delete w.document.body.dataset.compareMs;
        (w.document.querySelector('[data-testid="compare"]') as PageElement).click();
        for (;;) {
          await new Promise<void>((res) => w.requestAnimationFrame(res));
          const done = w.document.body.dataset.compareMs;
          if (done !== undefined) return Number(done) - start;
        }
      });
      const changed = await page.locator('[data-testid="compare-view"] .st-changed').count();
      const added = await page.locator('[data-testid="compare-view"] g.st-added').count();
      const removed = await page.locator('[data-testid="compare-view"] g.st-removed').count();
      if (r === 0) console.log(`compare graph: ${added} nodes added, ${removed} removed, ${changed} nodes and edges changed`);
      compare.push(ms);
      await page.close();
    }

    const html = await (await fetch(`${flowreg.url}/`)).text();
    let gz = 0;
    for (const m of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) gz += gzipSync(Buffer.from(await (await fetch(`${flowreg.url}${m[1]}`)).arrayBuffer()), { level: 9 }).length;

    const line = (what: string, xs: number[], target: number | null): string =>
      `${what.padEnd(44)} median ${median(xs).toFixed(0).padStart(5)} ms   max ${Math.max(...xs).toFixed(0).padStart(5)} ms${target === null ? '' : `   target ≤ ${target} ms: ${Math.max(...xs) <= target ? 'met' : 'NOT met'}`}`;
    console.log(`\n${RUNS} runs each, ${FLOWS + 1} flows`);
    console.log(line('flows page: navigation → first rows drawn', shown, 1000));
    console.log(line('flows page: search typed → its row drawn', search, null));
    console.log(line('compare of two versions of a 50-node flow', compare, 300));
    console.log(`JS + CSS sent to the browser: ${(gz / 1024).toFixed(1)} kB gzipped (limit 300 kB)`);
  } finally {
    await browser.close();
    await stopChild(flowreg);
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
