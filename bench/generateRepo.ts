// The repositories the benchmarks run on: corpus-sized flows in a flat flows/, one commit per flow
// (and optionally many updates), written quickly with `git fast-import`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flowFileFromDbgpt } from '../src/core/dbgptFlow.ts';
import { formatFlow } from '../src/core/formatFlow.ts';
import type { FlowFile } from '../src/core/types.ts';

const root = resolve(import.meta.dirname, '..');
const corpusDir = resolve(root, 'test/fixtures/corpus');

/** Fixed identity for every git command of the benchmarks. */
export const BENCH_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

/** The five distinct DB-GPT templates of the corpus, as flow files. */
export function benchTemplates(): FlowFile[] {
  const files = ['chat-data-awel-flow-template.json', 'embedded-knowledge-process-flow-template.json', 'kg-knowledge-process-flow-template.json', 'rag-chat-awel-flow-template.json', 'simple_streaming_chat_flow.json'];
  return files.map((f) => flowFileFromDbgpt(JSON.parse(readFileSync(join(corpusDir, f), 'utf8'))));
}

/** The uid of generated flow `i`. */
export function benchUid(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

/** The name (and file name) of generated flow `i`. */
export function benchName(i: number): string {
  return `flow_${String(i).padStart(5, '0')}`;
}

/** Generated flow `i` at revision `rev`: a template with its uid, name, label and dag_id varied, editable. */
export function benchFlow(tpls: FlowFile[], i: number, rev = 0): FlowFile {
  const t = tpls[i % tpls.length] as FlowFile;
  return { ...t, uid: benchUid(i), name: benchName(i), label: `${t.label} ${i}${rev ? ` r${rev}` : ''}`, editable: true, dag_id: `flow_dag_${benchName(i)}_${benchUid(i)}` };
}

/** The canonical text of generated flow `i` at revision `rev`. */
export function benchText(tpls: FlowFile[], i: number, rev = 0): string {
  return formatFlow(benchFlow(tpls, i, rev), { schemaRef: '../schemas/flow.schema.json' });
}

/**
 * A repository of `n` flows, one commit each, then `updates` commits each changing one random
 * flow; checked out on main.
 */
export async function generateRepo(dir: string, n: number, updates = 0): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: BENCH_ENV });
  const tpls = benchTemplates();
  const fi = spawn('git', ['fast-import', '--quiet'], { cwd: dir, env: BENCH_ENV, stdio: ['pipe', 'inherit', 'inherit'] });
  const write = async (s: string | Buffer): Promise<void> => {
    if (!fi.stdin.write(s)) await new Promise((r) => fi.stdin.once('drain', r));
  };
  let mark = 0;
  let t = 1_700_000_000;
  const commit = async (msg: string, path: string, content: string): Promise<void> => {
    mark++;
    const body = Buffer.from(content);
    await write(`commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.com> ${t} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`);
    if (mark > 1) await write(`from :${mark - 1}\n`);
    await write(`M 100644 inline ${path}\ndata ${body.length}\n`);
    await write(body);
    await write('\n');
    t += 60;
  };
  await commit('add schema', 'schemas/flow.schema.json', readFileSync(join(root, 'schemas/flow.schema.json'), 'utf8'));
  for (let i = 0; i < n; i++) await commit(`create flow ${benchName(i)} (${benchUid(i)})`, `flows/${benchName(i)}.yaml`, benchText(tpls, i));
  let rng = 42;
  for (let k = 0; k < updates; k++) {
    rng = (rng * 48271) % 2147483647;
    const i = rng % n;
    await commit(`update flow ${benchName(i)} (${benchUid(i)})`, `flows/${benchName(i)}.yaml`, benchText(tpls, i, k + 1));
  }
  fi.stdin.end();
  await new Promise((r) => fi.on('exit', r));
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir, env: BENCH_ENV });
}
