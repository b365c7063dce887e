// bench/validate — `flowreg validate` over 1,000 corpus-sized flow files, beside a naive baseline
// (yaml.parse + the same JSON Schema in ajv) on the same files in the same run, plus a breakdown
// of flowreg's own stages. Run: npm run bench:validate   Options: --files 1000  --rounds 5
import { readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { validateFiles } from '../src/cli/commands/validate.ts';
import { checkGraph } from '../src/core/checkGraph.ts';
import { checkFileRules, checkRepository } from '../src/core/checkRepository.ts';
import { flowFileFromDbgpt } from '../src/core/dbgptFlow.ts';
import { flowSchema } from '../src/core/flowSchema.ts';
import { formatFlow } from '../src/core/formatFlow.ts';
import { parseYaml } from '../src/core/parseYaml.ts';
import type { FlowData, FlowFile, JsonObject } from '../src/core/types.ts';
import { opt } from './benchRun.ts';

const args = process.argv.slice(2);
const FILES = Number(opt('files', '1000'));
const ROUNDS = Number(opt('rounds', '5'));
const root = resolve(import.meta.dirname, '..');
const corpusDir = resolve(root, 'test/fixtures/corpus');
const TEMPLATES = ['chat-data-awel-flow-template.json', 'embedded-knowledge-process-flow-template.json', 'kg-knowledge-process-flow-template.json', 'rag-chat-awel-flow-template.json', 'simple_streaming_chat_flow.json'];

/** Template `t` as flow number `i`: new uid, name, label, dag_id and node ids (edges and handles follow). */
function variant(t: FlowFile, i: number): FlowFile {
  const flow = structuredClone(t);
  const name = `flow_${String(i).padStart(5, '0')}`;
  const uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  Object.assign(flow, { uid, name, label: `${t.label} ${i}`, dag_id: `flow_dag_${name}_${uid}` });
  const fd = flow.flow_data as FlowData;
  const rename = new Map(fd.nodes.map((n) => [n.id, `${n.id}_${i}`]));
  const moved = (id: string): string => rename.get(id) ?? id;
  const handle = (h: unknown): unknown => {
    if (typeof h !== 'string') return h;
    const parts = h.split('|');
    return [moved(parts.slice(0, -2).join('|')), ...parts.slice(-2)].join('|');
  };
  for (const n of fd.nodes) {
    n.id = moved(n.id);
    (n.data as JsonObject).id = n.id;
  }
  for (const e of fd.edges) {
    e.source = moved(e.source);
    e.target = moved(e.target);
    e.id = `${e.source}|${e.target}`;
    e.source_handle = handle(e.source_handle) as string | null;
    e.target_handle = handle(e.target_handle) as string | null;
  }
  return flow;
}

function generate(dir: string): { files: string[]; bytes: number } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'flows'), { recursive: true });
  const templates = TEMPLATES.map((f) => flowFileFromDbgpt(JSON.parse(readFileSync(join(corpusDir, f), 'utf8'))));
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const flow = variant(templates[i % templates.length] as FlowFile, i);
    const text = formatFlow(flow, { schemaRef: '../schemas/flow.schema.json' });
    const file = join(dir, 'flows', `${flow.name}.yaml`);
    writeFileSync(file, text);
    files.push(file);
    bytes += Buffer.byteLength(text);
  }
  return { files, bytes };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

const dir = join(tmpdir(), 'flowreg-bench-validate');
console.log(`generating ${FILES} flow files ...`);
const { files, bytes } = generate(dir);
const mb = bytes / 1e6;
console.log(`${files.length} files, ${mb.toFixed(1)} MB (${Math.round(bytes / files.length / 1000)} kB per file)`);

// flowreg: the in-process pipeline of `flowreg validate` (read, parse, schema, graph, repository rules).
let flowregFindings = -1;
const flowreg = (): void => {
  const report = validateFiles(files, dir);
  flowregFindings = report.findings.length;
};

// Baseline: read, yaml.parse, then the published schema compiled once by ajv.
const ajv = new Ajv2020({ allErrors: true, strict: false });
const baselineValidate = ajv.compile(flowSchema.json);
let baselineInvalid = -1;
const baseline = (): void => {
  let invalid = 0;
  for (const f of files) if (!baselineValidate(parse(readFileSync(f, 'utf8')))) invalid++;
  baselineInvalid = invalid;
};

// Warm-up (JIT, the schema compile inside flowreg's first call), then alternate the two.
flowreg();
baseline();
const tf: number[] = [];
const tb: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  tf.push(time(flowreg));
  tb.push(time(baseline));
}
const mf = median(tf);
const mbase = median(tb);
const validFindings = flowregFindings;

// flowreg's stages on their own, over texts already in memory.
const texts = files.map((f) => readFileSync(f, 'utf8'));
let values: unknown[] = [];
let fast = 0;
const stage = {
  read: median(Array.from({ length: ROUNDS }, () => time(() => files.forEach((f) => readFileSync(f, 'utf8'))))),
  parse: median(
    Array.from({ length: ROUNDS }, () =>
      time(() => {
        fast = 0;
        values = texts.map((t) => {
          const r = parseYaml(t);
          if (r.fast) fast++;
          return r.value;
        });
      }),
    ),
  ),
  schema: median(Array.from({ length: ROUNDS }, () => time(() => values.forEach((v) => flowSchema.check(v))))),
  graph: median(Array.from({ length: ROUNDS }, () => time(() => values.forEach((v) => checkGraph((v as FlowFile).flow_data as FlowData))))),
  repository: median(
    Array.from({ length: ROUNDS }, () =>
      time(() => {
        values.forEach((v, i) => checkFileRules(v as FlowFile, files[i] as string));
        checkRepository(values.map((v, i) => ({ file: files[i] as string, value: v as FlowFile })));
      }),
    ),
  ),
};

// Positions cost a second parse, paid only by files with findings: break 1% of the files.
const broken = files.filter((_, i) => i % 100 === 0);
for (const f of broken) {
  const text = readFileSync(f, 'utf8');
  writeFileSync(f, text.replace(/\n(\s+)target: (\S+)\n/, '\n$1target: $2_gone\n'));
}
const tBroken = median(Array.from({ length: ROUNDS }, () => time(flowreg)));
const brokenFindings = flowregFindings;

const rate = (ms: number): string => `${(mb / (ms / 1000)).toFixed(1)} MB/s`;
console.log('');
console.log(`flowreg validate  ${mf.toFixed(0).padStart(6)} ms  ${rate(mf).padStart(11)}   (${validFindings} findings)`);
console.log(`baseline          ${mbase.toFixed(0).padStart(6)} ms  ${rate(mbase).padStart(11)}   (yaml.parse + ajv; ${baselineInvalid} invalid)`);
console.log(`ratio             ${(mbase / mf).toFixed(1)}x`);
console.log('');
console.log(`flowreg stages (median of ${ROUNDS}; ${fast}/${files.length} files on the fast YAML path):`);
for (const [name, ms] of Object.entries(stage)) console.log(`  ${name.padEnd(11)} ${ms.toFixed(0).padStart(6)} ms  ${rate(ms).padStart(11)}`);
console.log('');
console.log(`with ${broken.length} files broken (an edge to a missing node): ${tBroken.toFixed(0)} ms, ${rate(tBroken)}, ${brokenFindings} findings located`);
rmSync(dir, { recursive: true, force: true });
