import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalFlow } from '../../src/core/canonicalFlow.ts';
import { parseYaml } from '../../src/core/parseYaml.ts';
import type { JsonObject } from '../../src/core/types.ts';
import { runCli } from '../importExport/cliIo.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { writeFiles } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FLOWS = join(ROOT, 'flows');
const flowNames = readdirSync(FLOWS).filter((f) => f.endsWith('.yaml')).sort();

/** A throwaway repository holding a copy of this repository's flows/ (and an empty schemas/). */
async function repoWithFlows(): Promise<string> {
  const repo = await inProcessRepo({ 'schemas/.keep': '' });
  cpSync(FLOWS, join(repo, 'flows'), { recursive: true });
  return repo;
}

const read = (repo: string, rel: string): string => readFileSync(join(repo, rel), 'utf8');

describe("this repository's flows/", () => {
  it('holds the five distinct corpus flows', () => {
    expect(flowNames).toEqual([
      'chat_data_awel_flow_template.yaml',
      'embedding_process_workflow.yaml',
      'knowledge_graph_process_workflow.yaml',
      'rag_chat_awel_flow_template.yaml',
      'simple_streaming_chat_workflow.yaml',
    ]);
  });

  it('passes fmt --check', async () => {
    const run = await runCli(['fmt', '--check', 'flows'], ROOT);
    expect(run).toEqual({ code: 0, out: '', err: '' });
  });

  it('is read by the fast path, every file', () => {
    for (const name of flowNames) {
      const parsed = parseYaml(readFileSync(join(FLOWS, name), 'utf8'));
      expect(parsed.fast, name).toBe(true);
      expect(parsed.findings, name).toEqual([]);
    }
  });
});

describe('flowreg fmt', () => {
  it('changes nothing on canonical files, run twice', async () => {
    const repo = await repoWithFlows();
    const before = flowNames.map((n) => read(repo, `flows/${n}`));
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['fmt'], repo);
      expect(run).toEqual({ code: 0, out: '', err: '' });
    }
    expect(flowNames.map((n) => read(repo, `flows/${n}`))).toEqual(before);
  });

  it('--check fails on a reordered and on a re-quoted copy, writes nothing; fmt restores the canonical text', async () => {
    const repo = await repoWithFlows();
    const rel = 'flows/rag_chat_awel_flow_template.yaml';
    const canonical = read(repo, rel);
    const lines = canonical.split('\n');
    // swap the uid and name lines
    const reordered = [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n');
    const requoted = canonical.replace('\nname: rag_chat_awel_flow_template\n', "\nname: 'rag_chat_awel_flow_template'\n");
    expect(requoted).not.toBe(canonical);
    for (const variant of [reordered, requoted]) {
      writeFileSync(join(repo, rel), variant);
      const check = await runCli(['fmt', '--check'], repo);
      expect(check.code).toBe(1);
      expect(check.out).toBe(`${rel}\n`);
      expect(check.err).toBe('flowreg fmt: 1 file(s) not in canonical form; run flowreg fmt\n');
      expect(read(repo, rel)).toBe(variant);
      const fix = await runCli(['fmt', rel], repo);
      expect(fix).toEqual({ code: 0, out: `formatted ${rel}\n`, err: '' });
      expect(read(repo, rel)).toBe(canonical);
    }
  });

  it('rewrites hand-written YAML into canonical form without losing data', async () => {
    const repo = await inProcessRepo();
    const text = [
      '# my flow',
      'flow_data: {edges: [], viewport: {zoom: 1, x: 0, y: 0}, nodes: [{id: a, width: 1, height: 2, data: {z: null, label: A}}]}',
      "name: 'x_flow'",
      'uid: "u-1"   # the uid',
      'version: "0.1.1"',
      'gmt_created: 2024-01-01 00:00:00',
      'description: null',
      'label: >-',
      '  folded',
      '  label',
      'custom: {b: 2, a: 1.50}',
      '',
    ].join('\n');
    writeFiles(repo, { 'flows/team-a/x_flow.yaml': text });
    const run = await runCli(['fmt'], repo);
    expect(run).toEqual({ code: 0, out: 'formatted flows/team-a/x_flow.yaml\n', err: '' });
    const after = read(repo, 'flows/team-a/x_flow.yaml');
    expect(after).toBe(
      [
        '# yaml-language-server: $schema=../../schemas/flow.schema.json',
        'uid: u-1',
        'name: x_flow',
        'label: folded label',
        'custom:',
        '  b: 2',
        '  a: 1.5',
        'flow_data:',
        '  nodes:',
        '    - id: a',
        '      width: 1',
        '      height: 2',
        '      data:',
        '        label: A',
        '        z: null',
        '  edges: []',
        '  viewport:',
        '    x: 0',
        '    "y": 0',
        '    zoom: 1',
        '',
      ].join('\n'),
    );
    const original = parseYaml(text).value as JsonObject;
    expect(parseYaml(after).value).toEqual(canonicalFlow(original));
  });

  it('reports a file that does not parse as file:line:col, leaves it untouched, formats the others, exits 1', async () => {
    const repo = await inProcessRepo();
    writeFiles(repo, { 'flows/bad.yaml': 'uid: a\nname: b: c\n', 'flows/good.yaml': 'uid: "1"\nname: good\n' });
    const run = await runCli(['fmt'], repo);
    expect(run.code).toBe(1);
    expect(run.err).toBe('flows/bad.yaml:2:7: Nested mappings are not allowed in compact mappings (YAML_SYNTAX)\n');
    expect(run.out).toBe('formatted flows/good.yaml\n');
    expect(read(repo, 'flows/bad.yaml')).toBe('uid: a\nname: b: c\n');
    expect(read(repo, 'flows/good.yaml')).toBe('# yaml-language-server: $schema=../schemas/flow.schema.json\nuid: "1"\nname: good\n');
    const check = await runCli(['fmt', '--check'], repo);
    expect(check.code).toBe(1);
    expect(check.out).toBe('');
  });

  it('uses the repository flows/ by default, also from a sub-folder, and fixes a wrong modeline', async () => {
    const repo = await inProcessRepo();
    writeFiles(repo, { 'flows/a.yaml': '# yaml-language-server: $schema=wrong.json\nuid: u\n', 'src/deep/.keep': '' });
    const run = await runCli(['fmt'], join(repo, 'src/deep'));
    expect(run).toEqual({ code: 0, out: 'formatted ../../flows/a.yaml\n', err: '' });
    expect(read(repo, 'flows/a.yaml')).toBe('# yaml-language-server: $schema=../schemas/flow.schema.json\nuid: u\n');
  });

  it('is a usage error (exit 2) for a path that does not exist', async () => {
    const run = await runCli(['fmt', 'missing'], await inProcessRepo());
    expect(run.code).toBe(2);
    expect(run.err).toBe('flowreg: fmt: no such file or folder: missing\n');
  });
});
