/**
 * Deploying from git into a real DB-GPT 0.8.2 (docs/runtimes.md): the flows git says are live
 * are created there with flowreg's provenance, a refused flow shows DB-GPT's own error and is
 * deployed once fixed in git, drift made in DB-GPT directly is reported and healed, a restarted
 * DB-GPT runs the flows again with no new commit, and a runtime that is down, answers garbage or
 * refuses the key blocks neither git writes nor the other runtimes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/loadServeConfig.ts';
import { Daemon } from '../../src/daemon/Daemon.ts';
import { main } from '../../src/cli/main.ts';
import { describeDbgpt, freePort, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { call, simpleChatBody } from '../helpers/dbgpt/requests.ts';
import { CORPUS_DIR, corpusFlow } from '../helpers/flows.ts';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../render/chromium.ts';
import { join } from 'node:path';
import { startStubLlm, type StubLlm } from '../helpers/stubLlm.ts';
import { git, tempDir } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/waitFor.ts';

const AWEL = '/api/v2/serve/awel';
const KEY = 'rt-key-1';

type Flow = Record<string, unknown>;

describeDbgpt('flows deployed from git into a real DB-GPT', () => {
  let llm: StubLlm;
  let db: DbgptServer;
  const daemons: Daemon[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    llm = await startStubLlm();
    db = await startDbgpt({ llmUrl: llm.url, apiKeys: [KEY] });
  }, 240_000);

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const s of servers) await new Promise((r) => s.close(r));
    await db?.stop();
    await llm?.close();
  }, 60_000);

  /** A flowreg daemon over a fresh repository, with these runtimes (`name=url`) and options. */
  async function daemon(runtimes: string, env: Record<string, string> = {}, flags: Record<string, unknown> = {}): Promise<{ d: Daemon; url: string; repo: string }> {
    const repo = tempDir('flowreg-rt-');
    const config = loadServeConfig({
      flags: { repo, port: '0', logLevel: 'silent', runtimes, runtimeInterval: '3600', watch: 'false', ...flags },
      env: { FLOWREG_RUNTIME_KEY_RT1: KEY, ...env },
      cwd: repo,
    });
    const d = new Daemon({ config, log: { write: () => undefined } });
    daemons.push(d);
    const { url } = await d.start();
    return { d, url, repo };
  }

  const dbFlow = async (uid: string): Promise<Flow | null> => {
    const a = await call(db.url, 'GET', `${AWEL}/flows/${uid}`, { headers: db.authHeaders() });
    return a.status === 200 ? ((a.json as { data: Flow }).data ?? null) : null;
  };
  const served = async (base: string, uid: string): Promise<Flow> => ((await call(base, 'GET', `${AWEL}/flows/${uid}`)).json as { data: Flow }).data;
  /** `flowreg status --url base` run in-process: exit code and output. */
  const status = async (base: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await main(['status', '--url', base, ...args], { cwd: process.cwd(), env: {}, stdout: (t) => (out += t), stderr: (t) => (err += t) });
    return { code, out, err };
  };
  const runtimes = async (base: string): Promise<Record<string, any>> => ((await call(base, 'GET', `${AWEL}/runtimes`)).json as { data: Record<string, any> }).data;

  it('deploys the live flows of git with provenance, and not the others; served flows carry the runtime metadata', async () => {
    const { d, url, repo } = await daemon(`rt1=${db.url}`);
    const live = `live-${randomUUID()}`;
    const draft = `draft-${randomUUID()}`;
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(live, `live_${live.slice(5, 13)}`) })).status).toBe(200);
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(draft, `draft_${draft.slice(6, 14)}`, { state: 'developing' }) })).status).toBe(200);
    await d.runtimes!.idle();

    const there = await dbFlow(live);
    expect(there).not.toBeNull();
    expect(there!.state).toBe('running');
    expect(there!.source).toBe('flowreg');
    const commit = git(repo, ['log', '-1', '--format=%H', '--', `flows/live_${live.slice(5, 13)}.yaml`]);
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(String(there!.source_url)).toMatch(new RegExp(`^flowreg://[^/]+/flows/live_${live.slice(5, 13)}\\.yaml\\?commit=${commit}&digest=[0-9a-f]+$`));
    expect(there!.version).toBe(commit.slice(0, 12));
    expect(await dbFlow(draft)).toBeNull();

    const s = await served(url, live);
    expect(s.state).toBe('running');
    expect(s.metadata).toEqual(there!.metadata);
    expect((await served(url, draft)).metadata).toBeNull();

    // full passes over a flow as DB-GPT keeps it (it adds ui and alias: null to every parameter)
    // find nothing to do: no drift, nothing written again
    await d.runtimes!.reconcileNow();
    await d.runtimes!.reconcileNow();
    expect((await runtimes(url)).drift).toEqual([]);
    expect((await dbFlow(live))!.gmt_modified).toBe(there!.gmt_modified);

    // moving the flow out of a live state in git undeploys it
    expect((await call(url, 'PUT', `${AWEL}/flows/${live}`, { body: { ...s, state: 'developing' } })).status).toBe(200);
    await d.runtimes!.idle();
    expect(await dbFlow(live)).toBeNull();
    const report = await runtimes(url);
    expect(report.runtimes[0]).toMatchObject({ name: 'rt1', url: db.url, up: true, live: 0, failed: [] });
    const st = await status(url);
    expect(st.code).toBe(0);
    expect(st.out).toContain(`rt1 ${db.url}: up, 0 live, last reconcile `);
    expect(st.out).toContain('drift: 0 open, 0 healed');
    await d.stop();
    const gone = await status(url);
    expect(gone.code).toBe(2);
    expect(gone.err).toMatch(/^flowreg status: cannot reach the daemon at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('deploys the DB-GPT corpus from git: the simple streaming chat runs, the others show why DB-GPT refuses them', async () => {
    const { d, url } = await daemon(`rt1=${db.url}`);
    const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(files).toHaveLength(6);
    const uids: Record<string, string> = {};
    for (const [i, file] of files.entries()) {
      const flow = corpusFlow(file);
      uids[file] = `corpus-${i}-${randomUUID()}`;
      for (const k of ['dag_id', 'gmt_created', 'gmt_modified', 'metadata']) delete flow[k];
      const body = { ...flow, uid: uids[file], name: `${String(flow.name)}_${i}`, state: 'deployed' };
      expect((await call(url, 'POST', `${AWEL}/flows`, { body })).status).toBe(200);
    }
    await d.runtimes!.idle();
    const states: Record<string, string> = {};
    for (const file of files) {
      const s = await served(url, uids[file]!);
      states[file] = `${String(s.state)}${s.state === 'load_failed' ? `: ${String(s.error_message).replace(/^rt1: Create DAG \S+ error, define_type: json, error: /, '').slice(0, 30)}` : ''}`;
      if (s.state === 'running') expect(s.metadata).toEqual((await dbFlow(uids[file]!))!.metadata);
      else expect(await dbFlow(uids[file]!)).toBeNull();
    }
    expect(states).toEqual({
      'chat-data-awel-flow-template.json': 'load_failed: Unable to build resource insta',
      'embedded-knowledge-process-flow-template.json': 'load_failed: Operator operator_vector_stora',
      'hybrid-knowledge-process-template.json': 'load_failed: Unable to build resource insta',
      'kg-knowledge-process-flow-template.json': 'load_failed: Unable to build resource insta',
      'rag-chat-awel-flow-template.json': 'load_failed: Unable to build operator task:',
      'simple_streaming_chat_flow.json': 'running',
    });
    for (const file of files) await call(url, 'DELETE', `${AWEL}/flows/${uids[file]}`);
    await d.runtimes!.idle();
    await d.stop();
  });

  it('shows a flow DB-GPT refuses with its E0003 error, and deploys it once fixed in git', async () => {
    const { d, url } = await daemon(`rt1=${db.url}`);
    const uid = `bad-${randomUUID()}`;
    const body = simpleChatBody(uid, `bad_${uid.slice(4, 12)}`);
    const good = structuredClone((body.flow_data as { nodes: Array<{ data: { name: string } }> }).nodes[1]!.data.name);
    (body.flow_data as { nodes: Array<{ data: { name: string } }> }).nodes[1]!.data.name = 'no_such_operator';
    expect((await call(url, 'POST', `${AWEL}/flows`, { body })).status).toBe(200);
    await d.runtimes!.idle();

    const s = await served(url, uid);
    expect(s.state).toBe('load_failed');
    expect(String(s.error_message)).toMatch(/^rt1: .*Operator operator_no_such_operator___\$\$___llm___\$\$___v1 not registered.*\(E0003\)$/);
    expect(await dbFlow(uid)).toBeNull();
    const report = await runtimes(url);
    expect(report.runtimes[0].failed).toEqual([{ uid, error: expect.stringContaining('not registered') }]);
    const st = await status(url);
    expect(st.code).toBe(1);
    expect(st.out).toContain(`  refused ${uid}: Create DAG bad_${uid.slice(4, 12)} error`);

    (s.flow_data as { nodes: Array<{ data: { name: string } }> }).nodes[1]!.data.name = good;
    expect((await call(url, 'PUT', `${AWEL}/flows/${uid}`, { body: { ...s, state: 'deployed' } })).status).toBe(200);
    await d.runtimes!.idle();
    const fixed = await served(url, uid);
    expect(fixed.state).toBe('running');
    expect(fixed.error_message).toBeNull();
    expect((await dbFlow(uid))?.metadata).not.toBeNull();
    await call(url, 'DELETE', `${AWEL}/flows/${uid}`);
    await d.runtimes!.idle();
    expect(await dbFlow(uid)).toBeNull();
    await d.stop();
  });

  it('keeps the last good content running while the file in git is broken (quarantine)', async () => {
    const { d, url, repo } = await daemon(`rt1=${db.url}`, {}, { watch: 'true' });
    const uid = `quar-${randomUUID()}`;
    const name = `quar_${uid.slice(5, 13)}`;
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, name) })).status).toBe(200);
    await d.runtimes!.idle();
    const before = (await dbFlow(uid))!;
    const file = join(repo, 'flows', `${name}.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^flow_data:/m, 'flow_data: 5\nbroken:'));
    await waitFor(async () => String((await served(url, uid)).error_message).includes('flows/'), 20_000);
    await d.runtimes!.idle();
    const after = (await dbFlow(uid))!;
    expect(after.source_url).toBe(before.source_url);
    expect(after.metadata).not.toBeNull();
    expect((await served(url, uid)).state).toBe('load_failed');
    await call(url, 'DELETE', `${AWEL}/flows/${uid}`);
    await d.runtimes!.idle();
    await d.stop();
  });

  it('reports drift made in DB-GPT directly (edit, delete, add), then heals it; report mode only lists it', async () => {
    const first = await daemon(`rt1=${db.url}`, {}, { drift: 'report' });
    const uid = `drift-${randomUUID()}`;
    const name = `drift_${uid.slice(6, 14)}`;
    expect((await call(first.url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, name) })).status).toBe(200);
    await first.d.runtimes!.idle();
    const original = (await dbFlow(uid))!;
    const auth = { headers: db.authHeaders() };

    // edited in DB-GPT
    const put = await call(db.url, 'PUT', `${AWEL}/flows/${uid}`, { ...auth, body: { ...original, description: 'edited behind flowreg' } });
    expect((put.json as { success: boolean }).success, put.text).toBe(true);
    // added in DB-GPT
    const other = `other-${randomUUID()}`;
    expect((await call(db.url, 'POST', `${AWEL}/flows`, { ...auth, body: simpleChatBody(other, `other_${other.slice(6, 14)}`) })).status).toBe(200);

    let report = (await call(first.url, 'POST', `${AWEL}/runtimes/reconcile`)).json as { data: Record<string, any> };
    const open = (r: Record<string, any>) => (r.drift as Array<Record<string, unknown>>).filter((e) => e.resolved_at === null).map((e) => `${e.kind}:${e.uid}:${e.action}`).sort();
    expect(open(report.data)).toEqual([`added:${other}:reported`, `changed:${uid}:reported`].sort());
    expect((await dbFlow(uid))!.description).toBe('edited behind flowreg'); // report mode leaves it
    expect((report.data.runtimes[0].unmanaged as Array<{ uid: string }>).filter((u) => u.uid === other)).toEqual([{ uid: other, name: `other_${other.slice(6, 14)}`, owner: null }]);
    await first.d.stop();

    // the same repository served in heal mode (the default) sets the edit back; the added flow is not flowreg's: listed, untouched
    const second = await daemon(`rt1=${db.url}`, {}, { repo: first.repo, runtimeOwner: undefined });
    await second.d.runtimes!.idle();
    expect((await dbFlow(uid))!.description).toBe(original.description);
    report = (await call(second.url, 'POST', `${AWEL}/runtimes/reconcile`)).json as { data: Record<string, any> };
    expect(open(report.data)).toEqual([`added:${other}:reported`]);
    expect(await dbFlow(other)).not.toBeNull();

    // deleted in DB-GPT: created again
    await call(db.url, 'DELETE', `${AWEL}/flows/${uid}`, auth);
    report = (await call(second.url, 'POST', `${AWEL}/runtimes/reconcile`)).json as { data: Record<string, any> };
    const deleted = (report.data.drift as Array<Record<string, unknown>>).find((e) => e.uid === uid && e.kind === 'deleted');
    expect(deleted).toMatchObject({ runtime: 'rt1', action: 'healed', resolved_at: expect.any(String) });
    expect((await dbFlow(uid))?.metadata).not.toBeNull();
    await call(db.url, 'DELETE', `${AWEL}/flows/${other}`, auth);
    await second.d.stop();
  });

  it("the web page's runtimes view shows, from the real DB-GPT, the commit deployed and live, and DB-GPT's refusal", async () => {
    const webRoot = join(import.meta.dirname, '../../web/dist');
    expect(existsSync(join(webRoot, 'index.html')), 'the web app is built by npm ci (prepare) or npm run build:web').toBe(true);
    const { d, url, repo } = await daemon(`rt1=${db.url}`);
    const live = `web-${randomUUID()}`;
    const bad = `webbad-${randomUUID()}`;
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(live, `web_${live.slice(4, 12)}`) })).status).toBe(200);
    const body = simpleChatBody(bad, `webbad_${bad.slice(7, 15)}`);
    (body.flow_data as { nodes: Array<{ data: { name: string } }> }).nodes[1]!.data.name = 'no_such_operator';
    expect((await call(url, 'POST', `${AWEL}/flows`, { body })).status).toBe(200);
    await d.runtimes!.idle();
    const commit = git(repo, ['log', '-1', '--format=%H', '--', `flows/web_${live.slice(4, 12)}.yaml`]);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${url}/runtimes`);
      const rt1 = page.getByRole('region', { name: 'Runtime rt1' });
      await rt1.waitFor();
      await waitFor(async () => (await rt1.innerText()).includes(`web_${live.slice(4, 12)}`), 10_000);
      const text = await rt1.innerText();
      expect(text).toContain(commit.slice(0, 8));
      expect(text).toMatch(new RegExp(`web_${live.slice(4, 12)}\\s+\\S+\\s+live`));
      expect(text).toContain('Operator operator_no_such_operator___$$___llm___$$___v1 not registered.');
      // a flow created while the page is open shows as live without a reload: the reconciler
      // announces the deploy on the page's event stream (the page polls only every 30 s)
      const heard: string[] = [];
      const off = d.runtimes!.subscribe((name) => heard.push(name));
      const later = `web-${randomUUID()}`;
      expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(later, `web_${later.slice(4, 12)}`) })).status).toBe(200);
      await waitFor(async () => new RegExp(`web_${later.slice(4, 12)}\\s+\\S+\\s+live`).test(await rt1.innerText()), 10_000);
      await d.runtimes!.idle();
      expect(heard).toContain('rt1');
      // a full pass that changes nothing announces nothing
      const before = heard.length;
      await d.runtimes!.reconcileNow();
      expect(heard.length).toBe(before);
      off();
      await call(url, 'DELETE', `${AWEL}/flows/${later}`);
    } finally {
      await browser.close();
    }
    for (const u of [live, bad]) await call(url, 'DELETE', `${AWEL}/flows/${u}`);
    await d.runtimes!.idle();
    await d.stop();
  });

  it('a runtime that is down, answers garbage or refuses the key blocks neither git writes nor the other runtime', async () => {
    const garbage = createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>'));
    servers.push(garbage);
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    const gport = (garbage.address() as AddressInfo).port;
    const dead = await freePort();
    // the same DB-GPT under another host name, with a wrong key
    const wrongKey = `http://localhost:${db.port}`;
    const { d, url, repo } = await daemon(`rt1=${db.url},dead=http://127.0.0.1:${dead},junk=http://127.0.0.1:${gport},wrongkey=${wrongKey}`, { FLOWREG_RUNTIME_KEY_WRONGKEY: 'not-the-key' });
    const uid = `multi-${randomUUID()}`;
    const commits = (): number => Number(git(repo, ['rev-list', '--count', '--all']) || 0);
    const before = commits();
    const created = await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, `multi_${uid.slice(6, 14)}`) });
    expect(created.status).toBe(200);
    expect(commits()).toBe(before + 1);
    await d.runtimes!.idle();
    expect((await dbFlow(uid))?.metadata).not.toBeNull();
    const report = await runtimes(url);
    const byName = Object.fromEntries((report.runtimes as Array<Record<string, unknown>>).map((r) => [r.name, r]));
    expect(byName.rt1).toMatchObject({ up: true, live: 1 });
    expect(byName.dead).toMatchObject({ up: false, error: expect.stringMatching(/^runtime dead \(http:\/\/127\.0\.0\.1:\d+\) is unreachable: ECONNREFUSED$/) });
    expect(byName.junk).toMatchObject({ up: false, error: expect.stringContaining("HTTP 502 and text/html, not DB-GPT's JSON") });
    expect(byName.wrongkey).toMatchObject({ up: false, error: expect.stringContaining("refused flowreg's API key (HTTP 401)") });
    // no key in anything flowreg answers
    expect(JSON.stringify(report)).not.toContain(KEY);
    expect(JSON.stringify(report)).not.toContain('not-the-key');
    const statuses = await served(url, uid);
    expect(statuses.state).toBe('running');
    await call(url, 'DELETE', `${AWEL}/flows/${uid}`);
    await d.runtimes!.idle();
    expect(await dbFlow(uid)).toBeNull();
    await d.stop();
  });

  it('a runtime that stops answering (SIGSTOP) is shown down after the timeout; git writes go on; it resumes by itself', async () => {
    const { d, url, repo } = await daemon(`rt1=${db.url}`, {}, { runtimeTimeout: '1s', runtimeInterval: '1' });
    const uid = `hung-${randomUUID()}`;
    await d.runtimes!.idle();
    process.kill(-db.pgid!, 'SIGSTOP');
    try {
      const started = Date.now();
      const created = await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, `hung_${uid.slice(5, 13)}`) });
      expect(created.status).toBe(200);
      // the commit does not wait for the runtime
      expect(Date.now() - started).toBeLessThan(1000);
      expect(git(repo, ['log', '-1', '--format=%s'])).toMatch(/hung_/);
      await waitFor(async () => (await runtimes(url)).runtimes[0].up === false, 20_000);
      expect((await runtimes(url)).runtimes[0].error).toMatch(/^runtime rt1 \(http:\/\/127\.0\.0\.1:\d+\) did not answer (GET|POST|PUT) \S+ within 1 s$/);
    } finally {
      process.kill(-db.pgid!, 'SIGCONT');
    }
    await waitFor(async () => (await dbFlow(uid))?.metadata != null, 60_000);
    await waitFor(async () => (await runtimes(url)).runtimes[0].up === true, 30_000);
    await call(url, 'DELETE', `${AWEL}/flows/${uid}`);
    await d.runtimes!.idle();
    expect(await dbFlow(uid)).toBeNull();
    await d.stop();
  });

  it('a restarted DB-GPT runs the flows again, with no new commit in git, and the reconcile resumes by itself', async () => {
    const { d, url, repo } = await daemon(`rt1=${db.url}`, {}, { runtimeInterval: '1' });
    const uid = `restart-${randomUUID()}`;
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, `restart_${uid.slice(8, 16)}`) })).status).toBe(200);
    await d.runtimes!.idle();
    const commits = git(repo, ['rev-list', '--count', 'HEAD']);
    await db.kill9();
    await call(url, 'POST', `${AWEL}/runtimes/reconcile`);
    expect((await runtimes(url)).runtimes[0].up).toBe(false);
    await db.restart();
    // no reconcile asked for: the retry timer finds the runtime up again
    await waitFor(async () => (await runtimes(url)).runtimes[0].up === true, 60_000);
    // DB-GPT loads its flows in the background after it starts answering: a pass may still find
    // the flow not live, and the next one (every second here) deploys it again
    await waitFor(async () => (await dbFlow(uid))?.metadata != null && (await served(url, uid)).state === 'running', 60_000, 100);
    const report = await runtimes(url);
    expect(report.runtimes[0]).toMatchObject({ up: true, failed: [] });
    expect(git(repo, ['rev-list', '--count', 'HEAD'])).toBe(commits);
    await call(url, 'DELETE', `${AWEL}/flows/${uid}`);
    await d.runtimes!.idle();
    await d.stop();
  });
});
