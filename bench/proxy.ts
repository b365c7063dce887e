// bench/proxy — what flowreg adds to a chat it forwards to a DB-GPT runtime: the time to the first
// chunk of a streamed chat (`POST /api/v2/chat/completions`, `chat_mode: "chat_flow"`, `stream:
// true`) sent straight to a stand-in runtime, beside the same chat sent through flowreg, in
// alternation, and the time to the whole answer. The runtime is a loopback server answering SSE
// at once (its first chunk flushed with the headers, then three more); it, flowreg and the client
// run in three processes, as in production.
// Run: npm run bench:proxy
// Options: --requests 2000 (per side)  --warmup 200  --chunk 64 (bytes of each SSE chunk)
import * as fs from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { formatFlow } from '../src/core/formatFlow.ts';
import type { RuntimeRouter, RuntimeTarget } from '../src/runtime/types.ts';
import { createApp } from '../src/server/createApp.ts';
import { FlowService } from '../src/service/FlowService.ts';
import { GitStore } from '../src/store/GitStore.ts';
import { smallFlow } from '../test/helpers/flows.ts';
import { opt, startChild, stopChild } from './benchRun.ts';

const REQUESTS = Number(opt('requests', '2000'));
const WARMUP = Number(opt('warmup', '200'));
const CHUNK = Number(opt('chunk', '64'));
const PHASE = opt('phase', '');
const UID = 'bench-chat-1';
const CHAT = '/api/v2/chat/completions';

/** The stand-in runtime: every POST is answered with an SSE stream of four chunks, the first at once. */
async function runtime(): Promise<void> {
  const frame = `data: {"text":"${'x'.repeat(Math.max(0, CHUNK - 20))}"}\n\n`;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(frame);
      let n = 0;
      const next = (): void => {
        if (++n === 3) res.end('data: [DONE]\n\n');
        else {
          res.write(frame);
          setImmediate(next);
        }
      };
      setImmediate(next);
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`runtime listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
}

/** flowreg over a one-flow repository, with a router that says the flow is live on the runtime. */
async function gateway(runtimeUrl: string): Promise<void> {
  const repo = fs.mkdtempSync(join(tmpdir(), 'flowreg-bench-proxy-'));
  fs.mkdirSync(join(repo, 'flows'));
  fs.writeFileSync(join(repo, 'flows/chat.yaml'), formatFlow(smallFlow(UID, 'chat', { state: 'deployed' }), { schemaRef: '../schemas/flow.schema.json' }));
  await git.init({ fs, dir: repo, defaultBranch: 'main' });
  await git.add({ fs, dir: repo, filepath: 'flows/chat.yaml' });
  const author = { name: 'Bench', email: 'bench@example.com' };
  await git.commit({ fs, dir: repo, message: 'bench\n', author, committer: author });
  process.on('exit', () => fs.rmSync(repo, { recursive: true, force: true }));
  const service = new FlowService(await GitStore.open({ dir: repo, durable: false }));
  const target: RuntimeTarget = { name: 'rt1', url: runtimeUrl, apiKey: 'bench-key' };
  const router: RuntimeRouter = { targets: [target], liveOn: () => [target], statusOf: () => [], reportDown: () => undefined };
  const app = createApp({ service, logger: pino({ level: 'silent' }), runtimes: router });
  const server = createServer(app);
  server.listen(0, '127.0.0.1', () => console.log(`gateway listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
}

const agents = new Map<string, Agent>();

/** One streamed chat: ms to the first body chunk and to the end. */
function chat(base: string): Promise<{ first: number; total: number }> {
  let agent = agents.get(base);
  if (!agent) agents.set(base, (agent = new Agent({ keepAlive: true, maxSockets: 1 })));
  const body = JSON.stringify({ model: 'm', messages: 'hi', chat_mode: 'chat_flow', chat_param: UID, stream: true });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = -1;
    const req = httpRequest(`${base}${CHAT}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {
        if (first < 0) first = performance.now() - t0;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve({ first, total: performance.now() - t0 }) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

async function main(): Promise<void> {
  const rt = await startChild(['--import', 'tsx', import.meta.filename, '--phase', 'runtime', '--chunk', String(CHUNK)], join(tmpdir(), 'flowreg-bench-proxy-runtime.log'), /runtime listening on (http:\S+)/);
  const gw = await startChild(['--import', 'tsx', import.meta.filename, '--phase', 'gateway', rt.url], join(tmpdir(), 'flowreg-bench-proxy-gateway.log'), /gateway listening on (http:\S+)/);
  try {
    const sides = { direct: rt.url, 'through flowreg': gw.url };
    for (let i = 0; i < WARMUP; i++) for (const base of Object.values(sides)) await chat(base);
    const firsts: Record<string, number[]> = { direct: [], 'through flowreg': [] };
    const totals: Record<string, number[]> = { direct: [], 'through flowreg': [] };
    for (let i = 0; i < REQUESTS; i++) {
      // alternate which side goes first, so drift hits both alike
      const order = i % 2 === 0 ? (['direct', 'through flowreg'] as const) : (['through flowreg', 'direct'] as const);
      for (const side of order) {
        const r = await chat(sides[side]);
        firsts[side]?.push(r.first);
        totals[side]?.push(r.total);
      }
    }
    console.log(`${REQUESTS} streamed chats per side (after ${WARMUP} of warm-up), ${CHUNK}-byte chunks, sequential, keep-alive`);
    console.log('| side | first chunk p50 | p90 | p99 | whole answer p50 | p99 |');
    console.log('|---|---|---|---|---|---|');
    const p50: Record<string, number> = {};
    for (const side of Object.keys(sides)) {
      const f = (firsts[side] ?? []).sort((a, b) => a - b);
      const t = (totals[side] ?? []).sort((a, b) => a - b);
      p50[side] = pct(f, 50);
      console.log(`| ${side} | ${pct(f, 50).toFixed(3)} ms | ${pct(f, 90).toFixed(3)} ms | ${pct(f, 99).toFixed(3)} ms | ${pct(t, 50).toFixed(3)} ms | ${pct(t, 99).toFixed(3)} ms |`);
    }
    console.log(`added to the first chunk at p50: ${((p50['through flowreg'] ?? NaN) - (p50.direct ?? NaN)).toFixed(3)} ms`);
  } finally {
    for (const a of agents.values()) a.destroy();
    await stopChild(gw);
    await stopChild(rt);
  }
}

if (PHASE === 'runtime') await runtime();
else if (PHASE === 'gateway') await gateway(process.argv[process.argv.length - 1] as string);
else await main();
