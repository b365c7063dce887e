import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { main } from '../../src/cli/main.ts';
import type { FlowSetDiff } from '../../src/core/diffFlowSets.ts';
import { DIFF_MARKER } from '../../src/core/diffMarkdown.ts';
import type { FlowFile, JsonObject } from '../../src/core/types.ts';
import { GIT_ENV, git, tempRepo, writeFiles } from '../helpers/tmp.ts';
import { clone, corpusFlow, flowText } from './corpus.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function flowreg(cwd: string, ...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { cwd, env: { ...process.env, ...GIT_ENV }, stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Canonical text of a flow file directly under flows/ (every file of these tests is). */
const yaml = (f: FlowFile): string => flowText('flows/f.yaml', f);
const simple = corpusFlow('simple_streaming_chat_flow.json');
const rag = corpusFlow('rag-chat-awel-flow-template.json');
const kg = corpusFlow('kg-knowledge-process-flow-template.json');
const embedding = corpusFlow('embedded-knowledge-process-flow-template.json');

/** Sets the value of parameter `name` of the node labelled `label`. */
function setParam(flow: FlowFile, label: string, name: string, value: string): void {
  const node = flow.flow_data!.nodes.find((n) => n.data['label'] === label);
  const p = (node?.data['parameters'] as JsonObject[]).find((x) => x['name'] === name) as JsonObject;
  p['value'] = value;
}

/**
 * A repository whose `main` holds three flows and whose branch `feature` renames one (git mv and a
 * new name), deletes one, adds one and changes a parameter of the last.
 */
function featureRepo(): string {
  const dir = tempRepo({
    'flows/simple_streaming_chat_workflow.yaml': yaml(simple),
    'flows/rag_chat_awel_flow_template.yaml': yaml(rag),
    'flows/knowledge_graph_process_workflow.yaml': yaml(kg),
    'README.md': 'flows\n',
  });
  git(dir, ['checkout', '-q', '-b', 'feature']);
  git(dir, ['mv', 'flows/simple_streaming_chat_workflow.yaml', 'flows/simple_chat.yaml']);
  const renamed = clone(simple);
  renamed.name = 'simple_chat';
  const changed = clone(rag);
  setParam(changed, 'Streaming LLM Operator', 'model', 'gpt-4o');
  writeFiles(dir, { 'flows/simple_chat.yaml': yaml(renamed), 'flows/rag_chat_awel_flow_template.yaml': yaml(changed), 'flows/embedding_process_workflow.yaml': yaml(embedding) });
  git(dir, ['rm', '-q', 'flows/knowledge_graph_process_workflow.yaml']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'feature work']);
  return dir;
}

describe('flowreg diff', () => {
  const repo = featureRepo();

  it('shows a renamed flow as renamed, with added, deleted and modified flows (JSON)', async () => {
    const r = await flowreg(repo, 'diff', 'main..feature', '--format', 'json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const set = JSON.parse(r.stdout) as FlowSetDiff & { baseCommit: string; headCommit: string };
    expect(set.baseCommit).toBe(git(repo, ['rev-parse', 'main']));
    expect(set.headCommit).toBe(git(repo, ['rev-parse', 'feature']));
    expect(set.base).toBe(`main (${set.baseCommit.slice(0, 12)})`);
    expect(set.flows.map((f) => [f.status, f.beforePath, f.afterPath, f.uid])).toEqual([
      ['added', null, 'flows/embedding_process_workflow.yaml', embedding.uid],
      ['deleted', 'flows/knowledge_graph_process_workflow.yaml', null, kg.uid],
      ['modified', 'flows/rag_chat_awel_flow_template.yaml', 'flows/rag_chat_awel_flow_template.yaml', rag.uid],
      ['renamed', 'flows/simple_streaming_chat_workflow.yaml', 'flows/simple_chat.yaml', simple.uid],
    ]);
    const renamed = set.flows[3];
    expect([renamed?.previousName, renamed?.name]).toEqual(['simple_streaming_chat_workflow', 'simple_chat']);
    expect(set.flows[2]?.changes).toEqual([
      expect.objectContaining({ kind: 'parameter-value', parameter: 'model', before: null, after: 'gpt-4o', node: expect.objectContaining({ label: 'Streaming LLM Operator' }) }),
    ]);
  });

  it('prints text by default, and limits the diff to the given paths', async () => {
    const r = await flowreg(repo, 'diff', 'main..feature', 'flows/rag_chat_awel_flow_template.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      `1 flow changed (main (${git(repo, ['rev-parse', 'main']).slice(0, 12)})..feature (${git(repo, ['rev-parse', 'feature']).slice(0, 12)}))`,
      '',
      'flows/rag_chat_awel_flow_template.yaml  modified: 1 node: 1 changed; 1 parameter value changed',
      '  ~ Streaming LLM Operator: parameter model (Model Name): null → "gpt-4o"',
      '',
    ].join('\n'));
  });

  it('writes Markdown to a file with -o', async () => {
    const r = await flowreg(repo, 'diff', 'main..feature', '--format', 'markdown', '-o', 'flow-diff.md');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const md = readFileSync(join(repo, 'flow-diff.md'), 'utf8');
    rmSync(join(repo, 'flow-diff.md'));
    expect(md.startsWith(`${DIFF_MARKER}\n`)).toBe(true);
    expect(md).toContain('| `simple_chat` | `flows/simple_streaming_chat_workflow.yaml` → `flows/simple_chat.yaml` | renamed from simple\\_streaming\\_chat\\_workflow | – | – | – |');
    expect(md).toContain('| `knowledge_graph_process_workflow` | `flows/knowledge_graph_process_workflow.yaml` | deleted | −7 | – | −6 |');
    expect(md).toContain('| `embedding_process_workflow` | `flows/embedding_process_workflow.yaml` | added | +7 | – | +6 |');
    expect(md.match(/```mermaid/g)).toHaveLength(3);
  });

  it('defaults to the merge-base with main against the working tree, untracked files included', async () => {
    const dir = featureRepo();
    // main moves on after feature branched: its change must not show up in feature's diff.
    git(dir, ['checkout', '-q', 'main']);
    writeFiles(dir, { 'flows/on_main.yaml': yaml({ ...clone(simple), uid: 'uid-main', name: 'on_main' }) });
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'main moves on']);
    git(dir, ['checkout', '-q', 'feature']);
    writeFiles(dir, { 'flows/extra.yaml': yaml({ ...clone(simple), uid: 'uid-extra', name: 'extra' }) });
    const moved = clone(embedding);
    moved.description = 'edited, not committed';
    writeFiles(dir, { 'flows/embedding_process_workflow.yaml': yaml(moved) });
    renameSync(join(dir, 'flows/rag_chat_awel_flow_template.yaml'), join(dir, 'flows/rag_renamed_on_disk.yaml'));
    const r = await flowreg(join(dir, 'flows'), 'diff', '--format', 'json');
    expect(r.code).toBe(0);
    const set = JSON.parse(r.stdout) as FlowSetDiff;
    expect(set.head).toBeNull();
    expect(set.base).toMatch(/^merge-base of HEAD and main \([0-9a-f]{12}\)$/);
    expect(set.flows.map((f) => [f.status, f.beforePath, f.afterPath])).toEqual([
      ['added', null, 'flows/embedding_process_workflow.yaml'],
      ['added', null, 'flows/extra.yaml'],
      ['deleted', 'flows/knowledge_graph_process_workflow.yaml', null],
      ['renamed', 'flows/rag_chat_awel_flow_template.yaml', 'flows/rag_renamed_on_disk.yaml'],
      ['renamed', 'flows/simple_streaming_chat_workflow.yaml', 'flows/simple_chat.yaml'],
    ]);
    const text = await flowreg(dir, 'diff', 'feature..');
    expect(text.stdout).toContain('flows/embedding_process_workflow.yaml  modified: 1 flow field changed\n  ~ flow: description: ');
    expect(text.stdout).toContain('flows/rag_chat_awel_flow_template.yaml → flows/rag_renamed_on_disk.yaml  renamed\n');
    expect(text.stdout).not.toContain('on_main');
  });

  it('reports layout-only changes, and lists them with --layout', async () => {
    const dir = tempRepo({ 'flows/simple_streaming_chat_workflow.yaml': yaml(simple) });
    const moved = clone(simple);
    for (const n of moved.flow_data!.nodes) n.position.y += 10;
    writeFileSync(join(dir, 'flows/simple_streaming_chat_workflow.yaml'), yaml(moved));
    expect((await flowreg(dir, 'diff')).stdout).toContain('flows/simple_streaming_chat_workflow.yaml  layout only (positions, sizes or viewport; --layout lists them)');
    const withLayout = await flowreg(dir, 'diff', '--layout');
    expect(withLayout.stdout.match(/~ .*: position: /g)).toHaveLength(3);
    expect((await flowreg(dir, 'diff', '--exit-code')).code).toBe(1);
    git(dir, ['checkout', '--', '.']);
    expect(await flowreg(dir, 'diff', '--exit-code')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^No flow changes \(HEAD \([0-9a-f]{12}\)\.\.working tree\)\.\n$/) });
  });

  it('takes a three-dot range from the merge-base, and a single revision as the base', async () => {
    const threeDot = JSON.parse((await flowreg(repo, 'diff', 'main...feature', '--format', 'json')).stdout) as FlowSetDiff;
    expect(threeDot.base).toMatch(/^merge-base of main and feature /);
    expect(threeDot.flows).toHaveLength(4);
    const single = JSON.parse((await flowreg(repo, 'diff', 'main', '--format', 'json')).stdout) as FlowSetDiff;
    expect(single.head).toBeNull();
    expect(single.flows).toHaveLength(4);
  });

  it('fails with usage errors on an unknown revision or format, and outside a repository', async () => {
    expect(await flowreg(repo, 'diff', 'nope..feature')).toMatchObject({ code: 2, stderr: 'flowreg: unknown revision: nope\n' });
    expect((await flowreg(repo, 'diff', '--format', 'html')).code).toBe(2);
    const outside = await flowreg(join(repo, '..'), 'diff');
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/^flowreg: not inside a git repository/);
  });
});
