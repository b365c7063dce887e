import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localTime } from '../../src/cli/commands/export.ts';
import { DBGPT_FLOW_KEYS, dagIdFor, dbgptExport, dbgptFlowFromFile, flowFileFromDbgpt } from '../../src/core/dbgptFlow.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { parseYaml } from '../../src/core/parseYaml.ts';
import { FLOW_FILE_KEYS, type FlowFile, type JsonObject } from '../../src/core/types.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { git, tempDir, tempRepo, writeFiles } from '../helpers/tmp.ts';
import { runCli } from './cliIo.ts';

const CORPUS = resolve(import.meta.dirname, '../fixtures/corpus');
const corpusFiles = readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort();
const source = (file: string): JsonObject => (JSON.parse(readFileSync(join(CORPUS, file), 'utf8')) as { flow: JsonObject }).flow;
// The kg template and the hybrid one are byte-identical on purpose: the duplicate case.
const DISTINCT = corpusFiles.filter((f) => f !== 'hybrid-knowledge-process-template.json');

const DERIVED = { version: 'abc', gmt_created: '2025-01-01 00:00:00', gmt_modified: '2025-01-02 00:00:00' };

describe('flowFileFromDbgpt', () => {
  it('accepts an export or a bare flow, drops derived keys, keeps dag_id, returns canonical order', () => {
    const flow = { flow_data: null, version: '0.1.1', gmt_created: 'x', gmt_modified: 'y', error_message: '', metadata: {}, name: 'n', label: 'L', uid: 'u', dag_id: 'flow_dag_old_u', description: null };
    const expected = { uid: 'u', name: 'n', label: 'L', dag_id: 'flow_dag_old_u' };
    expect(flowFileFromDbgpt({ flow })).toEqual(expected);
    expect(Object.keys(flowFileFromDbgpt(flow))).toEqual(['uid', 'name', 'label', 'dag_id']);
  });

  it("sets dag_id as DB-GPT does and fills label and name like DB-GPT's model and UI", () => {
    expect(flowFileFromDbgpt({ uid: 'u1', name: 'my_flow', label: 'x', dag_id: null }).dag_id).toBe('flow_dag_my_flow_u1');
    const fromName = flowFileFromDbgpt({ uid: 'u2', name: 'my flow', label: '' });
    expect([fromName.label, fromName.name, fromName.dag_id]).toEqual(['my flow', 'my_flow', 'flow_dag_my_flow_u2']);
    const fromLabel = flowFileFromDbgpt({ uid: 'u3', label: 'Some Flow' });
    expect([fromLabel.label, fromLabel.name]).toEqual(['Some Flow', 'Some_Flow']);
    expect(dagIdFor('a b', 'u')).toBe('flow_dag_a_b_u');
  });

  it('refuses input that is not a flow with INVALID_INPUT and a clear message', () => {
    const cases: [unknown, RegExp][] = [
      [null, /found null/],
      ['text', /found a string/],
      [[1], /found an array/],
      [{ flow: 3 }, /found a number/],
      [{ name: 'x', label: 'x' }, /no uid.*no "uid" key/],
      [{ flow: { uid: 7, name: 'x' } }, /no uid.*found a number/],
      [{ uid: 'u' }, /neither a name nor a label/],
    ];
    for (const [input, message] of cases) {
      let err: unknown;
      try {
        flowFileFromDbgpt(input);
      } catch (e) {
        err = e;
      }
      expect(isFlowregError(err, 'INVALID_INPUT'), JSON.stringify(input)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('dbgptFlowFromFile', () => {
  it("gives every key of DB-GPT's Flow in GET order with DB-GPT's defaults", () => {
    const flow = dbgptFlowFromFile({ uid: 'u', name: 'n', label: 'l', extra_key: 1 } as FlowFile, { ...DERIVED, error_message: 'bad' });
    expect(Object.keys(flow)).toEqual([...DBGPT_FLOW_KEYS]);
    expect(flow).toEqual({
      uid: 'u', label: 'l', name: 'n', flow_category: null, description: null, state: 'initializing', error_message: 'bad',
      source: 'DBGPT-WEB', source_url: null, version: 'abc', define_type: 'json', editable: true, user_name: null, sys_code: null,
      dag_id: null, gmt_created: '2025-01-01 00:00:00', gmt_modified: '2025-01-02 00:00:00', metadata: null, variables: null,
      authors: null, flow_data: null,
    });
    expect(dbgptExport({ uid: 'u', name: 'n', label: 'l', editable: false, state: 'deployed' }, DERIVED).flow).toMatchObject({ editable: false, state: 'deployed', error_message: null });
  });
});

describe('every corpus flow round-trips import → YAML → parseYaml → export', () => {
  for (const file of DISTINCT) {
    it(file, () => {
      const src = source(file);
      const text = formatFlow(flowFileFromDbgpt({ flow: src }), { schemaRef: '../schemas/flow.schema.json' });
      const parsed = parseYaml(text);
      expect(parsed.fast).toBe(true);
      expect(parsed.findings).toEqual([]);
      const out = dbgptExport(parsed.value as unknown as FlowFile, DERIVED).flow;
      expect(out.flow_data).toEqual(src.flow_data);
      for (const key of FLOW_FILE_KEYS) {
        const expected = key === 'dag_id' && src.dag_id === null ? dagIdFor(src.name as string, src.uid as string) : src[key];
        expect(out[key], key).toEqual(expected);
      }
      expect(Object.keys(out)).toEqual(Object.keys(src).filter((k) => k !== 'flow_data').concat('flow_data'));
    });
  }
});

describe('flowreg import', () => {
  it('imports the corpus, refusing the byte-identical duplicate and naming both files', async () => {
    const repo = tempRepo();
    const args = corpusFiles.map((f) => join(CORPUS, f));
    const run = await runCli(['import', ...args], repo);
    expect(run.code).toBe(1);
    expect(readdirSync(join(repo, 'flows')).sort()).toEqual([
      'chat_data_awel_flow_template.yaml',
      'embedding_process_workflow.yaml',
      'knowledge_graph_process_workflow.yaml',
      'rag_chat_awel_flow_template.yaml',
      'simple_streaming_chat_workflow.yaml',
    ]);
    expect(run.out.trim().split('\n')).toHaveLength(5);
    const refusal = run.err.split('\n')[0] as string;
    expect(refusal).toContain('hybrid-knowledge-process-template.json');
    expect(refusal).toContain('uid cdc54643-3580-4336-b60f-98ffc2e8d02f already exists');
    expect(refusal).toContain('kg-knowledge-process-flow-template.json');
    expect(refusal).toContain('flows/knowledge_graph_process_workflow.yaml');
    const text = readFileSync(join(repo, 'flows/rag_chat_awel_flow_template.yaml'), 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=../schemas/flow.schema.json\nuid: "33709cab-6fb8-4b5a-a637-d5022bb82ee5"\nname: rag_chat_awel_flow_template\n')).toBe(true);

    // Importing again refuses every file: each uid is already in the folder.
    const again = await runCli(['import', join(CORPUS, 'rag-chat-awel-flow-template.json')], repo);
    expect(again.code).toBe(1);
    expect(again.err).toContain('uid 33709cab-6fb8-4b5a-a637-d5022bb82ee5 already exists in flows/rag_chat_awel_flow_template.yaml');
    expect(readFileSync(join(repo, 'flows/rag_chat_awel_flow_template.yaml'), 'utf8')).toBe(text);
  });

  it('refuses a name taken by another uid, a bad name, a taken file, bad JSON and a missing uid; imports the rest', async () => {
    const dir = tempDir();
    const flow = (uid: string, name: string): string => JSON.stringify({ flow: { uid, name, label: name, flow_data: { nodes: [], edges: [], viewport: { x: 0, y: 0, zoom: 1 } } } });
    writeFiles(dir, {
      'in/a.json': flow('uid-a', 'alpha'),
      'in/a2.json': flow('uid-a2', 'alpha'),
      'in/bad-name.json': flow('uid-b', 'has space/slash'),
      'in/not.json': '{"flow": ',
      'in/nouid.json': JSON.stringify({ flow: { name: 'x', label: 'x' } }),
      'in/ok.json': flow('uid-ok', 'ok-flow_1'),
      'in/taken.json': flow('uid-t', 'taken'),
      'flows/taken.yaml': 'not: [valid',
    });
    const files = ['a', 'a2', 'bad-name', 'not', 'nouid', 'ok', 'taken'].map((f) => `in/${f}.json`);
    const run = await runCli(['import', '--dir', 'flows', ...files], dir);
    expect(run.code).toBe(1);
    expect(run.out).toBe('imported in/a.json → flows/alpha.yaml\nimported in/ok.json → flows/ok-flow_1.yaml\n');
    const lines = run.err.trim().split('\n');
    expect(lines).toEqual([
      'flowreg import: in/a2.json: name alpha already exists in in/a.json earlier in this import (→ flows/alpha.yaml)',
      'flowreg import: in/bad-name.json: name "has space/slash" does not match ^[a-zA-Z0-9_\\-]+$ (letters, digits, _ and - only); rename the flow in the file',
      expect.stringMatching(/^flowreg import: in\/not\.json: not valid JSON: /),
      'flowreg import: in/nouid.json: the flow has no uid: expected a non-empty string "uid", found no "uid" key',
      'flowreg import: in/taken.json: flows/taken.yaml already exists (it holds another flow or does not parse)',
      'flowreg import: 5 of 7 file(s) refused',
    ]);
    expect(readFileSync(join(dir, 'flows/taken.yaml'), 'utf8')).toBe('not: [valid');
    const ok = parseYaml(readFileSync(join(dir, 'flows/ok-flow_1.yaml'), 'utf8'));
    expect(ok.value).toEqual({ uid: 'uid-ok', name: 'ok-flow_1', label: 'ok-flow_1', dag_id: 'flow_dag_ok-flow_1_uid-ok', flow_data: { nodes: [], edges: [], viewport: { x: 0, y: 0, zoom: 1 } } });
  });

  it('refuses a name already used by a flow file in the folder, naming that file', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'flows/team/other.yaml': 'uid: other-uid\nname: shared\nlabel: x\n',
      'in.json': JSON.stringify({ flow: { uid: 'new-uid', name: 'shared', label: 'x' } }),
    });
    const run = await runCli(['import', 'in.json', '--dir', 'flows'], dir);
    expect(run.code).toBe(1);
    expect(run.err).toContain('in.json: name shared already exists in flows/team/other.yaml');
  });

  it('refuses very deeply nested JSON with a message naming the file, exit 1, no stack trace; imports the rest', async () => {
    const dir = tempDir();
    const n = 100_000;
    const deep = (inner: string): string => JSON.stringify({ flow: { uid: 'uid-d', name: 'deep', label: 'deep', flow_data: '@' } }).replace('"@"', inner);
    writeFiles(dir, {
      'in/deep.json': deep(`${'['.repeat(n)}${']'.repeat(n)}`),
      'in/bare.json': `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
      'in/just-over.json': deep(`${'['.repeat(63)}${']'.repeat(63)}`),
      'in/ok.json': JSON.stringify({ flow: { uid: 'uid-ok', name: 'ok', label: 'ok' } }),
    });
    const run = await runCli(['import', '--dir', 'flows', 'in/deep.json', 'in/bare.json', 'in/just-over.json', 'in/ok.json'], dir);
    expect(run.code).toBe(1);
    expect(run.out).toBe('imported in/ok.json → flows/ok.yaml\n');
    const why = 'nests objects and arrays more than 64 levels deep; a DB-GPT export needs far fewer, so this is not one';
    expect(run.err.trim().split('\n')).toEqual([
      `flowreg import: in/deep.json: ${why}`,
      `flowreg import: in/bare.json: ${why}`,
      `flowreg import: in/just-over.json: ${why}`,
      'flowreg import: 3 of 4 file(s) refused',
    ]);
    expect(run.err).not.toMatch(/RangeError|\n\s+at /);
    expect(readdirSync(join(dir, 'flows'))).toEqual(['ok.yaml']);
  });

  it('refuses names Windows reserves and names that differ only in case from a taken one', async () => {
    const dir = tempDir();
    const flow = (uid: string, name: string): string => JSON.stringify({ flow: { uid, name, label: name } });
    writeFiles(dir, {
      'flows/team/Chat.yaml': 'uid: other-uid\nname: Chat\nlabel: x\n',
      'in/con.json': flow('uid-con', 'con'),
      'in/lpt9.json': flow('uid-lpt', 'LPT9'),
      'in/chat.json': flow('uid-chat', 'chat'),
      'in/twin.json': flow('uid-twin', 'Twin'),
      'in/twin2.json': flow('uid-twin2', 'twin'),
    });
    const run = await runCli(['import', '--dir', 'flows', 'in/con.json', 'in/lpt9.json', 'in/chat.json', 'in/twin.json', 'in/twin2.json'], dir);
    expect(run.code).toBe(1);
    expect(run.out).toBe('imported in/twin.json → flows/Twin.yaml\n');
    expect(run.err.trim().split('\n')).toEqual([
      'flowreg import: in/con.json: name "con" is a device name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, in any case), so con.yaml could not be checked out there; rename the flow in the file',
      'flowreg import: in/lpt9.json: name "LPT9" is a device name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, in any case), so LPT9.yaml could not be checked out there; rename the flow in the file',
      'flowreg import: in/chat.json: name chat already exists in flows/team/Chat.yaml (as Chat: names are unique regardless of case)',
      'flowreg import: in/twin2.json: name twin already exists in in/twin.json earlier in this import (→ flows/Twin.yaml) (as Twin: names are unique regardless of case)',
      'flowreg import: 4 of 5 file(s) refused',
    ]);
  });

  it('writes the modeline relative to the repository root, also in a sub-folder', async () => {
    const repo = tempRepo();
    writeFiles(repo, { 'in.json': JSON.stringify({ uid: 'u', name: 'n', label: 'l' }) });
    const run = await runCli(['import', 'in.json', '--dir', 'flows/team-a'], repo);
    expect(run.code).toBe(0);
    expect(readFileSync(join(repo, 'flows/team-a/n.yaml'), 'utf8')).toBe(
      '# yaml-language-server: $schema=../../schemas/flow.schema.json\nuid: u\nname: "n"\nlabel: l\ndag_id: flow_dag_n_u\n',
    );
  });

  it('is a usage error (exit 2) without files', async () => {
    expect((await runCli(['import'], tempDir())).code).toBe(2);
  });
});

describe('flowreg export', () => {
  const flowText = (uid: string, name: string, label: string): string =>
    formatFlow(flowFileFromDbgpt({ uid, name, label, flow_data: { nodes: [], edges: [], viewport: { x: 1.5, y: 0, zoom: 1 } } }), { schemaRef: '../schemas/flow.schema.json' });

  it("writes DB-GPT's export JSON with version and times from git, by name or uid, to stdout or a file", async () => {
    const repo = tempRepo({ 'flows/one.yaml': flowText('uid-1', 'one', 'Ünïcode 中文 flow') });
    const created = git(repo, ['rev-parse', 'HEAD']);
    writeFileSync(join(repo, 'flows/one.yaml'), flowText('uid-1', 'one', 'Ünïcode 中文 flow, edited'));
    git(repo, ['commit', '-q', '-am', 'edit'], { GIT_COMMITTER_DATE: '2026-03-04T05:06:07Z', GIT_AUTHOR_DATE: '2026-03-04T05:06:07Z' });
    const head = git(repo, ['rev-parse', 'HEAD']);
    expect(head).not.toBe(created);

    const byName = await runCli(['export', 'one'], repo);
    expect(byName.code).toBe(0);
    expect(byName.out.startsWith('{\n    "flow": {\n        "uid": "uid-1",\n        "label": "Ünïcode 中文 flow, edited",')).toBe(true);
    const flow = (JSON.parse(byName.out) as { flow: JsonObject }).flow;
    expect(Object.keys(flow)).toEqual([...DBGPT_FLOW_KEYS]);
    expect(flow.version).toBe(head);
    expect(flow.gmt_created).toBe(localTime(Date.parse('2026-01-02T03:04:05Z') / 1000));
    expect(flow.gmt_modified).toBe(localTime(Date.parse('2026-03-04T05:06:07Z') / 1000));
    expect(flow.gmt_modified).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(flow.flow_data).toEqual({ nodes: [], edges: [], viewport: { x: 1.5, y: 0, zoom: 1 } });

    const toFile = await runCli(['export', 'uid-1', '-o', 'x.json'], repo);
    expect(toFile.code).toBe(0);
    expect(toFile.out).toBe('');
    expect(readFileSync(join(repo, 'x.json'), 'utf8')).toBe(byName.out);
  });

  it('marks a modified working file -dirty and a never-committed one uncommitted', async () => {
    const repo = tempRepo({ 'flows/one.yaml': flowText('uid-1', 'one', 'One') });
    const head = git(repo, ['rev-parse', 'HEAD']);
    writeFileSync(join(repo, 'flows/one.yaml'), flowText('uid-1', 'one', 'Changed'));
    writeFileSync(join(repo, 'flows/two.yaml'), flowText('uid-2', 'two', 'Two'));
    const dirty = JSON.parse((await runCli(['export', 'one'], repo)).out) as { flow: JsonObject };
    expect(dirty.flow.version).toBe(`${head}-dirty`);
    expect(dirty.flow.label).toBe('Changed');
    const fresh = JSON.parse((await runCli(['export', 'uid-2'], repo)).out) as { flow: JsonObject };
    expect([fresh.flow.version, fresh.flow.gmt_created, fresh.flow.gmt_modified]).toEqual(['uncommitted', null, null]);
  });

  it('works outside git with version uncommitted', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'flows/one.yaml': flowText('uid-1', 'one', 'One') });
    const run = await runCli(['export', 'one', '--dir', 'flows'], dir);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.out) as { flow: JsonObject }).flow.version).toBe('uncommitted');
  });

  it('exits 1 with a clear message when the flow is not found or the name is ambiguous', async () => {
    const dir = tempRepo({ 'flows/a.yaml': flowText('uid-a', 'dup', 'A'), 'flows/b.yaml': flowText('uid-b', 'dup', 'B') });
    const missing = await runCli(['export', 'nope'], dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('flowreg: no flow with name or uid "nope" in flows\n');
    const ambiguous = await runCli(['export', 'dup'], dir);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.err).toBe('flowreg: "dup" names more than one flow (flows/a.yaml, flows/b.yaml); export by uid\n');
    expect((await runCli(['export', 'uid-b'], dir)).code).toBe(0);
    const noDir = await runCli(['export', 'x', '--dir', 'nowhere'], dir);
    expect(noDir.code).toBe(1);
    expect(noDir.err).toContain('the folder nowhere does not exist');
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });
});
