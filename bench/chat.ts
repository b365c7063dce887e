// bench/chat — flowreg in front of a real DB-GPT 0.8.2 (the test venv; stub LLM), side by side in
// one run with the floor beside each number:
//   1. chat: time to first chunk and throughput of a streamed chat, directly to DB-GPT and through
//      `flowreg serve` (a child process), alternating request by request;
//   2. deploy: a one-flow commit (PUT through flowreg) until DB-GPT serves the new commit;
//   3. reconcile: 1,000 flows into an empty runtime by flowreg, against a plain sequential client
//      that POSTs the same 1,000 flows to the same (emptied) DB-GPT.
// Run: npm run bench:chat   Options: --chats 200  --words 2000  --deploys 20  --flows 1000
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatFlow } from '../src/core/formatFlow.ts';
import { fileFromBody } from '../src/core/flowFromBody.ts';
import type { JsonObject } from '../src/core/types.ts';
import { ensureDbgptVenv, startDbgpt } from '../test/helpers/dbgpt/index.ts';
import { simpleChatBody } from '../test/helpers/dbgpt/requests.ts';
import { serveProcess } from '../test/helpers/daemon.ts';
import { startStubLlm } from '../test/helpers/stubLlm.ts';
import { opt } from './benchRun.ts';
import { execFileSync } from 'node:child_process';

const num = (name: string, dflt: string): number => Number(opt(name, dflt));
const CHATS = num('chats', '200');
const WORDS = num('words', '2000');
const DEPLOYS = num('deploys', '20');
const FLOWS = num('flows', '1000');
const AWEL = '/api/v2/serve/awel';
const work = mkdtempSync(join(tmpdir(), 'flowreg-bench-chat-'));
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
const git = (cwd: string, a: string[]): string => execFileSync('git', a, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;

/** A repository whose flows/ holds these create bodies as flow files, in one commit. */
function repoWith(dir: string, bodies: Array<Record<string, unknown>>): void {
  mkdirSync(join(dir, 'flows'), { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  for (const b of bodies) {
    const { file } = fileFromBody(b as JsonObject, null, String(b.uid));
    writeFileSync(join(dir, 'flows', `${String(b.name)}.yaml`), formatFlow(file, { schemaRef: '../schemas/flow.schema.json' }));
  }
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'flows']);
}

/** Streams one chat; resolves with the time to the first body chunk and the whole time, in ms, and the bytes. */
async function chat(base: string, uid: string, model: string): Promise<{ first: number; total: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v2/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_mode: 'chat_flow', chat_param: uid, model, messages: 'bench', stream: true }),
  });
  const reader = res.body!.getReader();
  let first = 0;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (first === 0) first = performance.now() - t0;
    bytes += value.byteLength;
  }
  if (res.status !== 200) throw new Error(`chat answered ${res.status}`);
  return { first, total: performance.now() - t0, bytes };
}

async function listTotal(url: string): Promise<number> {
  const r = (await (await fetch(`${url}${AWEL}/flows?page=1&page_size=1`)).json()) as { data: { total_count: number } };
  return r.data.total_count;
}

async function deleteAll(url: string, uids: string[]): Promise<void> {
  for (const u of uids) await fetch(`${url}${AWEL}/flows/${u}`, { method: 'DELETE' });
}

/** Deletes every flow on the runtime. */
async function emptyRuntime(url: string): Promise<void> {
  const r = (await (await fetch(`${url}${AWEL}/flows?page=1&page_size=100000`)).json()) as { data: { items: Array<{ uid: string }> } };
  await deleteAll(url, r.data.items.map((f) => f.uid));
}

async function main(): Promise<void> {
  await ensureDbgptVenv();
  const llm = await startStubLlm();
  const db = await startDbgpt({ llmUrl: llm.url, venv: await ensureDbgptVenv() });
  const results: string[] = [];
  try {
    // ---- 1. chat
    const chatUid = `bench-chat-${randomUUID()}`;
    const repo = join(work, 'repo');
    repoWith(repo, [simpleChatBody(chatUid, 'bench_chat')]);
    const served = await serveProcess(repo, ['--port', '0', '--runtime', db.url, '--runtime-interval', '3600']);
    try {
      for (let i = 0; i < 200; i++) {
        const f = (await (await fetch(`${db.url}${AWEL}/flows/${chatUid}`)).json()) as { data?: { metadata: unknown } };
        if (f.data?.metadata) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      console.error('chat: flow live, warming up');
      // warm both paths (connections, DB-GPT's first-chat work)
      for (let i = 0; i < 5; i++) {
        await chat(db.url, chatUid, db.model);
        await chat(served.url, chatUid, db.model);
      }
      llm.words = 0;
      const direct: number[] = [];
      const via: number[] = [];
      for (let i = 0; i < CHATS; i++) {
        direct.push((await chat(db.url, chatUid, db.model)).first);
        via.push((await chat(served.url, chatUid, db.model)).first);
      }
      const d50 = pct(direct, 50);
      const v50 = pct(via, 50);
      results.push(`| time to first chunk, p50 (${CHATS} chats each) | ${d50.toFixed(2)} ms | ${v50.toFixed(2)} ms | +${(v50 - d50).toFixed(2)} ms (target ≤ +2 ms) |`);
      results.push(`| time to first chunk, p90 | ${pct(direct, 90).toFixed(2)} ms | ${pct(via, 90).toFixed(2)} ms | +${(pct(via, 90) - pct(direct, 90)).toFixed(2)} ms |`);

      llm.words = WORDS;
      const dRate: number[] = [];
      const vRate: number[] = [];
      for (let i = 0; i < 30; i++) {
        const a = await chat(db.url, chatUid, db.model);
        const b = await chat(served.url, chatUid, db.model);
        dRate.push(a.bytes / a.total);
        vRate.push(b.bytes / b.total);
      }
      const dr = pct(dRate, 50);
      const vr = pct(vRate, 50);
      results.push(`| throughput of a ${WORDS}-word stream, p50 (30 each) | ${((dr * 1000) / 1024).toFixed(0)} KB/s | ${((vr * 1000) / 1024).toFixed(0)} KB/s | ${(vr / dr).toFixed(3)}× (target ≥ 0.95×) |`);
      llm.words = 0;

      console.error('deploy latency');
      // ---- 2. deploy: one commit until DB-GPT has it
      const lat: number[] = [];
      for (let i = 0; i < DEPLOYS; i++) {
        const cur = (await (await fetch(`${served.url}${AWEL}/flows/${chatUid}`)).json()) as { data: Record<string, unknown> };
        const t0 = performance.now();
        const put = (await (await fetch(`${served.url}${AWEL}/flows/${chatUid}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...cur.data, description: `deploy ${i}` }) })).json()) as { data: { version: string } };
        const commit = put.data.version;
        for (;;) {
          const there = (await (await fetch(`${db.url}${AWEL}/flows/${chatUid}`)).json()) as { data?: { source_url?: string; metadata?: unknown } };
          if (there.data?.source_url?.includes(`commit=${commit}&`) && there.data.metadata) break;
          if (performance.now() - t0 > 30_000) throw new Error('deploy did not arrive within 30 s');
          await new Promise((r) => setTimeout(r, 5));
        }
        lat.push(performance.now() - t0);
      }
      results.push(`| one-flow commit (PUT through flowreg) live on DB-GPT, p50 / p90 (${DEPLOYS}) | – | ${pct(lat, 50).toFixed(0)} / ${pct(lat, 90).toFixed(0)} ms | target ≤ 1000 ms at p50 |`);
      await fetch(`${served.url}${AWEL}/flows/${chatUid}`, { method: 'DELETE' });
    } finally {
      served.child.kill('SIGTERM');
      await served.exit;
    }

    console.error(`reconcile of ${FLOWS} flows`);
    // ---- 3. 1,000 flows into an empty runtime
    await emptyRuntime(db.url);
    const bodies = Array.from({ length: FLOWS }, (_, i) => simpleChatBody(`bench-${i}-${randomUUID()}`, `bench_flow_${i}`));
    const uids = bodies.map((b) => String(b.uid));
    let t0 = performance.now();
    for (const b of bodies) {
      const r = await fetch(`${db.url}${AWEL}/flows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      if (r.status !== 200) throw new Error(`create answered ${r.status}: ${await r.text()}`);
    }
    const plain = performance.now() - t0;
    await deleteAll(db.url, uids);
    if ((await listTotal(db.url)) !== 0) throw new Error('the runtime is not empty');
    const big = join(work, 'big');
    repoWith(big, bodies);
    const daemon = await serveProcess(big, ['--port', '0', '--runtime', db.url, '--runtime-interval', '3600']);
    // from "listening": the reconcile starts then (opening the repository is bench:store's business)
    t0 = performance.now();
    try {
      for (;;) {
        const r = (await (await fetch(`${daemon.url}${AWEL}/runtimes`)).json()) as { data: { runtimes: Array<{ live: number; last_pass: unknown }> } };
        if (r.data.runtimes[0]!.live === FLOWS && r.data.runtimes[0]!.last_pass !== null) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const reconciled = performance.now() - t0;
      results.push(`| ${FLOWS} flows into an empty runtime | ${(plain / 1000).toFixed(1)} s (sequential POSTs) | ${(reconciled / 1000).toFixed(1)} s (from listening to all live) | ${(reconciled / plain).toFixed(2)}× (target ≤ 1.2×) |`);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exit;
      await deleteAll(db.url, uids);
    }
  } finally {
    await db.stop();
    await llm.close();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nbench:chat ${new Date().toISOString().slice(0, 10)} (DB-GPT 0.8.2, stub LLM, flowreg in a child process)\n`);
  console.log('| measure | DB-GPT directly / baseline | through flowreg | ratio |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(r);
}

await main();
