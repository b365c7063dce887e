/**
 * The web app end to end, in Debian's Chromium driven by playwright-core, against a real daemon
 * (in-process, with its file watcher) over a native git repository, with API keys on:
 * the key prompt; list → flow (graph, click a node) → history → compare (the changed node
 * coloured, the node only moved not) → revert (confirmed, If-Match; a new commit in git); a revert
 * on a stale page shown as a conflict; a hand edit showing up live without a reload; a quarantined
 * file with its finding at line:col; nothing readable without the key; axe-core on every page (no
 * serious or critical violation); the JS and CSS under 300 kB gzipped. Screenshots go to docs/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadServeConfig } from '../../src/config/loadServeConfig.ts';
import { createApp } from '../../src/server/createApp.ts';
import { FlowService } from '../../src/service/FlowService.ts';
import type { SyncApi } from '../../src/service/FlowServiceApi.ts';
import { GitStore } from '../../src/store/GitStore.ts';
import { Daemon } from '../../src/daemon/Daemon.ts';
import { CHROMIUM, haveChromium } from '../render/chromium.ts';
import { git, tempDir, tempRepo } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/waitFor.ts';
import type { PageWindow } from '../helpers/pageWindow.ts';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const KEY = 'web-test-key-0123456789';
const V2 = '/api/v2/serve/awel';
const CHAT = 'flows/simple_streaming_chat_workflow.yaml';
const CHAT_UID = '7a10472e-2f1c-48e1-a8f2-6a09c73a3035';
const LLM = 'operator_higher_order_streaming_llm_operator___$$___llm___$$___v1_0';
const OUTPUT = 'operator_openai_streaming_output_operator___$$___output_parser___$$___v1_0';
const TRIGGER = 'operator_common_llm_http_trigger___$$___trigger___$$___v1_0';

let browser: Browser;
let daemon: Daemon;
let url = '';
let repo = '';
const axeReport: Array<{ page: string; violations: Array<{ id: string; impact: string | null }> }> = [];

function replaceOnce(text: string, from: string, to: string): string {
  expect(text.includes(from), `the fixture has ${from}`).toBe(true);
  return text.replace(from, to);
}

/** Commits the working tree with native git at a given time. */
function commit(message: string, date: string): void {
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
}

/** The project's five flows, as repository files. */
function projectFlows(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(join(root, 'flows'))) files[`flows/${name}`] = readFileSync(join(root, 'flows', name), 'utf8');
  return files;
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  // the key is asked once and kept for the tab: put it there as the prompt would
  await page.addInitScript((key) => (globalThis as unknown as PageWindow).sessionStorage.setItem('flowreg.apiKey', key), KEY);
  return page;
}

/** axe-core in the page: the serious and critical violations (none expected). */
async function axe(page: Page, name: string): Promise<Array<{ id: string; impact: string | null; nodes: string[] }>> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => {
    const w = globalThis as unknown as PageWindow;
    const r = await w.axe.run(w.document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  axeReport.push({ page: name, violations: result.map((v) => ({ id: v.id, impact: v.impact })) });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Saves a screenshot: into docs/ (the README's) with FLOWREG_UPDATE_SCREENSHOTS=1, else into a
 * temporary folder, so that a test run leaves the working tree as it found it.
 */
const shotDir = process.env.FLOWREG_UPDATE_SCREENSHOTS === '1' ? join(root, 'docs') : tempDir('flowreg-web-shots-');
async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shotDir, name), fullPage: false });
}

beforeAll(async () => {
  expect(haveChromium(), `Chromium is needed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
  // the app as `npm run build:web` builds it (also run by `npm ci` through prepare)
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '-c', join(root, 'web/vite.config.ts')], { cwd: root, stdio: 'pipe' });
  repo = realpathSync(tempRepo(projectFlows()));
  // version 2: one parameter value changed (the LLM node), one node only moved (the output node)
  let chat = readFileSync(join(repo, CHAT), 'utf8');
  chat = replaceOnce(chat, '            value: 10\n', '            value: 20\n');
  chat = chat.replaceAll('x: 302.45509852062725', 'x: 402.45509852062725');
  writeFileSync(join(repo, CHAT), chat);
  commit('chat: keep 20 messages of history, output node moved', '2026-02-03T10:00:00Z');
  // version 3: the description
  chat = replaceOnce(chat, 'description: ', 'description: Third version. ');
  writeFileSync(join(repo, CHAT), chat);
  commit('chat: describe the third version', '2026-02-04T10:00:00Z');
  daemon = new Daemon({ config: loadServeConfig({ flags: { repo, port: '0', apiKeys: `tester=${KEY}`, logLevel: 'silent' }, env: {}, cwd: repo }) });
  url = (await daemon.start()).url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu', '--no-first-run'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

describe('web app', () => {
  it('serves the app shell at / and answers nothing of the data without a key', async () => {
    const shell = await fetch(`${url}/`);
    expect(shell.status).toBe(200);
    expect(await shell.text()).toContain('<div id="app">');
    // an app path falls back to index.html; API routes win
    const deep = await fetch(`${url}/flow/${CHAT_UID}/history`, { headers: { Accept: 'text/html' } });
    expect([deep.status, (await deep.text()).includes('<div id="app">')]).toEqual([200, true]);
    for (const path of ['/flows', '/web/flows', '/web/events', `/flows/${CHAT_UID}`, '/sync', '/runtimes']) {
      expect([path, (await fetch(`${url}${V2}${path}`)).status]).toEqual([path, 401]);
    }
    expect((await fetch(`${url}/openapi.json`)).status).toBe(401);
    const events = await fetch(`${url}${V2}/web/events`, { headers: { Authorization: `Bearer ${KEY}` } });
    expect([events.status, events.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    await events.body?.cancel();
  });

  it('asks for the key once and keeps it for the tab', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.getByLabel('API key').waitFor();
    expect(await axe(page, 'key prompt')).toEqual([]);
    await page.getByLabel('API key').fill('wrong-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByText('That key was refused.').waitFor();
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    // a reload in the same tab does not ask again
    await page.reload();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).sessionStorage.getItem('flowreg.apiKey'))).toBe(KEY);
    await page.close();
  });

  it('walks list → flow → history → compare → revert, and the revert is a new commit in git', async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    const rows = page.locator('[data-testid="flows"] tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(5);
    const chatRow = page.locator(`tr[data-uid="${CHAT_UID}"]`);
    expect(await chatRow.innerText()).toContain('chat: describe the third version');
    expect(await chatRow.innerText()).toContain('Test Author');
    await page.getByRole('searchbox').fill('streaming');
    await waitFor(async () => (await rows.count()) === 1, 5000);
    expect(await axe(page, 'flows')).toEqual([]);
    await shot(page, 'web-flows.png');

    await chatRow.getByRole('link').click();
    await page.locator('#flow-title').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/flow/${CHAT_UID}`);
    await page.locator(`[data-testid="graph"] [data-node-id="${LLM}"]`).waitFor();
    await page.locator(`[data-testid="graph"] [data-node-id="${LLM}"] .box`).click();
    await page.locator('[data-testid="node-panel"]').waitFor();
    expect(await page.locator('[data-testid="node-panel"]').innerText()).toMatch(/20/);
    expect(await page.locator('[data-testid="yaml"]').innerText()).toContain(`uid: "${CHAT_UID}"`);
    // pan and zoom: the buttons, the wheel and a drag move the view box
    const viewBox = (): Promise<string | null> => page.locator('[data-testid="graph"] svg').getAttribute('viewBox');
    const box0 = await viewBox();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    const box1 = await viewBox();
    expect(box1).not.toBe(box0);
    const canvas = (await page.getByTestId('graph').boundingBox()) as { x: number; y: number; width: number; height: number };
    await page.mouse.move(canvas.x + 40, canvas.y + 40);
    await page.mouse.wheel(0, 300);
    const box2 = await viewBox();
    expect(box2).not.toBe(box1);
    await page.mouse.down();
    await page.mouse.move(canvas.x + 140, canvas.y + 90, { steps: 5 });
    await page.mouse.up();
    expect(await viewBox()).not.toBe(box2);
    // export: DB-GPT's file, named as DB-GPT names it
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export (DB-GPT JSON)' }).click()]);
    expect(download.suggestedFilename()).toBe('simple-streaming-chat-workflow.json');
    expect(await axe(page, 'flow')).toEqual([]);
    await shot(page, 'web-flow.png');

    await page.getByRole('link', { name: 'History' }).click();
    const history = page.locator('[data-testid="history"] tbody tr');
    await history.first().waitFor();
    expect(await history.count()).toBe(3);
    const versions = await history.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-version') as string));
    const [v3, v2, v1] = versions as [string, string, string];
    // compare the first version with the second: the LLM node changed, the output node only moved
    await page.getByLabel(`compare from ${v1.slice(0, 8)}`).check();
    await page.getByLabel(`compare to ${v2.slice(0, 8)}`).check();
    await page.getByTestId('compare').click();
    const view = page.locator('[data-testid="compare-view"]');
    await view.locator(`[data-node-id="${LLM}"].st-changed`).waitFor();
    expect(await view.locator(`[data-node-id="${OUTPUT}"]`).getAttribute('class')).not.toMatch(/st-(added|removed|changed)/);
    expect(await view.locator(`[data-node-id="${TRIGGER}"]`).getAttribute('class')).toMatch(/st-unchanged/);
    expect(await view.getByTestId('changes').innerText()).toMatch(/10[\s\S]*20/);
    expect(await view.getByTestId('counts').innerText()).toContain('layout moves not shown');
    expect(await axe(page, 'history and compare')).toEqual([]);
    await shot(page, 'web-compare.png');

    // revert to the first version: asked first, then one new commit
    const before = git(repo, ['rev-list', '--count', 'HEAD']);
    await page.getByRole('button', { name: `Revert to ${v1.slice(0, 8)}` }).click();
    await page.getByRole('dialog').waitFor();
    expect(await axe(page, 'revert dialog')).toEqual([]);
    await page.getByRole('dialog').getByRole('button', { name: 'Revert' }).click();
    await page.getByTestId('outcome').waitFor();
    expect(await page.getByTestId('outcome').innerText()).toContain(`Reverted to ${v1.slice(0, 8)}`);
    expect(Number(git(repo, ['rev-list', '--count', 'HEAD']))).toBe(Number(before) + 1);
    expect(git(repo, ['log', '-1', '--format=%an|%s'])).toBe(`tester|revert flow simple_streaming_chat_workflow (${CHAT_UID})`);
    expect(git(repo, ['show', `HEAD:${CHAT}`])).toBe(git(repo, ['show', `${v1}:${CHAT}`]));
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    // the page follows: four versions now, without a reload
    await waitFor(async () => (await history.count()) === 4, 5000);
    expect(v3).not.toBe(v1);
    await page.close();
  });

  it('shows a revert on a page that is out of date as a conflict (If-Match), writing nothing', async () => {
    const page = await newPage();
    // no live updates for this page: it keeps the version it read
    await page.route('**/web/events', (route) => route.abort());
    await page.goto(`${url}/flow/${CHAT_UID}/history`);
    const history = page.locator('[data-testid="history"] tbody tr');
    await history.first().waitFor();
    const oldest = (await history.last().getAttribute('data-version')) as string;
    // meanwhile someone else changes the flow
    const res = await fetch(`${url}${V2}/flows/${CHAT_UID}`, { method: 'PUT', headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ uid: CHAT_UID, description: 'changed elsewhere' }) });
    expect(res.status).toBe(200);
    const count = git(repo, ['rev-list', '--count', 'HEAD']);
    await page.getByRole('button', { name: `Revert to ${oldest.slice(0, 8)}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revert' }).click();
    const outcome = page.getByTestId('outcome');
    await outcome.waitFor();
    expect(await outcome.getAttribute('class')).toBe('conflict');
    expect(await outcome.innerText()).toMatch(/^Conflict: the flow changed/);
    expect(git(repo, ['rev-list', '--count', 'HEAD'])).toBe(count);
    expect(await axe(page, 'conflict')).toEqual([]);
    await page.close();
  });

  it('shows a hand edit live, within a second, without a reload', async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    await page.locator(`tr[data-uid="${CHAT_UID}"]`).waitFor();
    await page.getByTestId('live').getByText('live').waitFor();
    await page.evaluate(() => ((globalThis as unknown as PageWindow).marker = 42));
    const text = readFileSync(join(repo, CHAT), 'utf8').replace(/^label: .*$/m, 'label: Edited By Hand');
    const t0 = Date.now();
    writeFileSync(join(repo, CHAT), text);
    await page.locator(`tr[data-uid="${CHAT_UID}"]`).getByText('Edited By Hand').waitFor({ timeout: 5000 });
    const ms = Date.now() - t0;
    console.log(`hand edit shown live after ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).marker)).toBe(42);
    await page.close();
  });

  it('shows a quarantined file with its finding at line:col, in the list and on the flow page', async () => {
    const page = await newPage();
    await page.goto(`${url}/?quarantined=true`);
    await page.getByTestId('count').waitFor();
    // break a flow by hand: editable must be a boolean
    const file = 'flows/rag_chat_awel_flow_template.yaml';
    const broken = readFileSync(join(repo, file), 'utf8').replace(/^editable: .*$/m, 'editable: "maybe"');
    const line = broken.split('\n').findIndex((l) => l.startsWith('editable: "maybe"')) + 1;
    writeFileSync(join(repo, file), broken);
    const badge = page.getByTestId('quarantined');
    await badge.waitFor({ timeout: 5000 });
    const row = page.locator('[data-testid="flows"] tbody tr').first();
    expect(await row.innerText()).toContain(`${file}:${line}:`);
    expect(await axe(page, 'quarantined list')).toEqual([]);
    await shot(page, 'web-quarantined.png');
    await row.getByRole('link').click();
    await page.getByTestId('flow-error').waitFor();
    expect(await page.getByTestId('flow-error').innerText()).toContain(`${file}:${line}:`);
    await page.close();
  });

  it('shows sync and runtimes, with no serious accessibility violation', async () => {
    const page = await newPage();
    await page.goto(`${url}/sync`);
    await page.getByTestId('sync').waitFor();
    expect(await page.getByTestId('sync').innerText()).toContain('main');
    expect(await page.locator('main').innerText()).toContain('rag_chat_awel_flow_template.yaml');
    expect(await axe(page, 'sync')).toEqual([]);
    await shot(page, 'web-sync.png');
    await page.getByRole('link', { name: 'Runtimes' }).click();
    await page.getByTestId('no-runtimes').waitFor();
    expect(await axe(page, 'runtimes')).toEqual([]);
    await page.close();
  });

  it('sends under 300 kB of JavaScript and CSS, gzipped', async () => {
    const html = await (await fetch(`${url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    let gz = 0;
    for (const a of assets) {
      const body = Buffer.from(await (await fetch(`${url}${a}`)).arrayBuffer());
      gz += gzipSync(body, { level: 9 }).length;
    }
    const dist = join(root, 'web/dist/assets');
    const raw = readdirSync(dist).reduce((s, f) => s + statSync(join(dist, f)).size, 0);
    console.log(`web app: ${assets.length} files, ${raw} bytes, ${gz} bytes gzipped; axe: ${JSON.stringify(axeReport)}`);
    expect(gz).toBeLessThan(300 * 1024);
  });
});

describe('web app with runtimes and a remote (their status given by a stand-in)', () => {
  it('shows per flow and runtime the commit deployed, live or not, the runtime\'s error and drift; pending branches; DB-GPT\'s link', async () => {
    // a repository of its own: the daemon above keeps serving the first one
    const own = realpathSync(tempRepo(projectFlows()));
    const store = await GitStore.open({ dir: own, durable: false });
    const service = new FlowService(store);
    const head = git(own, ['rev-parse', 'HEAD']);
    // the stand-in's runtime rt2 comes up and goes down again, announced as the reconciler does
    let rt2Error: string | null = 'connect ECONNREFUSED 127.0.0.1:5671';
    const runtimeListeners = new Set<(runtime: string) => void>();
    const sync: SyncApi = {
      status: () => ({
        ...service.syncStatus(),
        remote: 'https://git.example.com/team/flows.git',
        remoteHead: head,
        ahead: 1,
        behind: 2,
        lastFetch: { time: Date.UTC(2026, 10, 30, 12), error: 'fetch failed: connection refused' },
        pending: [{ branch: 'flowreg/simple_streaming_chat_workflow-abcdef1', commit: 'abcdef1'.padEnd(40, '0'), uid: CHAT_UID, name: 'simple_streaming_chat_workflow', time: Date.UTC(2026, 10, 30, 12) }],
      }),
      fetchNow: async () => [],
      branch: 'main',
      hasRemote: true,
      webhookSecret: null,
      runtimes: () => ({
        owner: 'test',
        drift_mode: 'heal',
        desired: 2,
        runtimes: [
          {
            name: 'rt1',
            url: 'http://127.0.0.1:5670',
            up: true,
            error: null,
            last_pass: null,
            live: 1,
            failed: [{ uid: 'bad-uid', error: 'Operator X not registered. (E0003)' }],
            unmanaged: [],
            flows: [{ uid: CHAT_UID, name: 'simple_streaming_chat_workflow', commit: head, live: true }],
          },
          { name: 'rt2', url: 'http://127.0.0.1:5671', up: rt2Error === null, error: rt2Error, last_pass: null, live: 0, failed: [], unmanaged: [], flows: [] },
        ],
        drift: [{ runtime: 'rt1', uid: CHAT_UID, name: 'simple_streaming_chat_workflow', kind: 'changed', action: 'healed', detected_at: '2026-11-30 12:00:00', resolved_at: '2026-11-30 12:00:01' }],
      }),
      runtimeEvents: (listener) => {
        runtimeListeners.add(listener);
        return () => runtimeListeners.delete(listener);
      },
    };
    const app = createApp({ service, logger: pino({ level: 'silent' }), sync, webRoot: join(root, 'web/dist') });
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    try {
      await page.goto(`${base}/runtimes`);
      const rt1 = page.getByRole('region', { name: 'Runtime rt1' });
      await rt1.waitFor();
      const text = await rt1.innerText();
      expect(text).toContain(head.slice(0, 8));
      expect(text).toMatch(/simple_streaming_chat_workflow\s+\S+\s+live/);
      expect(text).toContain('Operator X not registered. (E0003)');
      expect(await page.getByRole('region', { name: 'Runtime rt2' }).innerText()).toContain('connect ECONNREFUSED');
      expect(await page.locator('main').innerText()).toMatch(/rt1\s+simple_streaming_chat_workflow\s+changed\s+healed/);
      expect(await axe(page, 'runtimes with runtimes')).toEqual([]);
      await shot(page, 'web-runtimes.png');
      // a runtime's status changes: the open page shows it within a second, from the event stream
      // (it polls only every 30 s), three times over
      const rt2 = page.getByRole('region', { name: 'Runtime rt2' });
      await waitFor(() => runtimeListeners.size > 0, 5000);
      for (const next of [null, 'timeout after 10000 ms', null]) {
        rt2Error = next;
        for (const listener of runtimeListeners) listener('rt2');
        const badge = next === null ? 'up' : 'down';
        const t0 = performance.now();
        await waitFor(async () => (await rt2.getByRole('heading').innerText()).includes(badge), 1000, 10);
        expect(performance.now() - t0).toBeLessThan(1000);
        if (next !== null) expect(await rt2.innerText()).toContain(next);
      }

      await page.getByRole('link', { name: 'Sync' }).click();
      await page.getByTestId('pending').waitFor();
      const pending = page.getByTestId('pending').getByRole('link', { name: 'flowreg/simple_streaming_chat_workflow-abcdef1' });
      expect(await pending.getAttribute('href')).toBe('https://git.example.com/team/flows/tree/flowreg/simple_streaming_chat_workflow-abcdef1');
      const syncText = await page.getByTestId('sync').innerText();
      expect(syncText).toContain('1 / 2');
      expect(syncText).toContain('fetch failed: connection refused');
      expect(await axe(page, 'sync with a remote')).toEqual([]);

      await page.goto(`${base}/flow/${CHAT_UID}`);
      const open = page.getByRole('link', { name: 'Open in DB-GPT' });
      await open.waitFor();
      expect(await open.getAttribute('href')).toBe(`http://127.0.0.1:5670/construct/flow/canvas?id=${CHAT_UID}`);
    } finally {
      await page.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      service.close();
      await store.close();
    }
  });
});
