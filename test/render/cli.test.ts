import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { main } from '../../src/cli/main.ts';
import { renderSvg } from '../../src/core/renderSvg.ts';
import { corpusFlow, flowText } from '../diff/corpus.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';

async function flowreg(cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { cwd, env: process.env, stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('flowreg render', () => {
  const rag = corpusFlow('rag-chat-awel-flow-template.json');
  let repo = '';
  beforeAll(async () => {
    repo = await inProcessRepo({
      'flows/team-a/rag_chat_awel_flow_template.yaml': flowText('flows/team-a/rag_chat_awel_flow_template.yaml', rag),
      'flows/broken.yaml': 'uid: [\n',
      'schemas/.keep': '',
    });
  });

  it('renders a flow found by name under flows/ as the same SVG as renderSvg', async () => {
    const r = await flowreg(join(repo, 'schemas'), 'render', 'rag_chat_awel_flow_template');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(renderSvg(rag));
  });

  it('renders a file path as Mermaid, to a file with -o', async () => {
    const r = await flowreg(repo, 'render', 'flows/team-a/rag_chat_awel_flow_template.yaml', '--format', 'mermaid', '-o', 'out.mmd');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const text = readFileSync(join(repo, 'out.mmd'), 'utf8');
    expect(text.split('\n').slice(0, 7)).toEqual([
      'flowchart LR',
      '  n0["Common LLM Http Trigger"]',
      '  n1["Streaming LLM Operator"]',
      '  n2["Knowledge Space Operator"]',
      '  n3("Common Chat Prompt Template")',
      '  n4["OpenAI Streaming Output Operator"]',
      '  n0 -->|"common_llm_request_body"| n1',
    ]);
    expect(text).not.toContain('classDef');
  });

  it('fails with exit 1 for an unknown name or an unreadable file, and 2 for a bad format', async () => {
    const missing = await flowreg(repo, 'render', 'nope');
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: 'flowreg: no flow file or flow named nope (looked in flows)\n' });
    const broken = await flowreg(repo, 'render', 'broken');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^flowreg: flows\/broken\.yaml:\d+:\d+: /);
    expect((await flowreg(repo, 'render', 'broken', '--format', 'png')).code).toBe(2);
  });
});
