import { describe, expect, it } from 'vitest';
import { diffFlowSets, type FlowSetDiff, type FlowText } from '../../src/core/diffFlowSets.ts';
import { DIFF_MARKER, GITHUB_COMMENT_LIMIT, MERMAID_MAX_EDGES, MERMAID_MAX_TEXT, diffMarkdown } from '../../src/core/diffMarkdown.ts';
import { diffText } from '../../src/core/diffText.ts';
import type { FlowFile, FlowNode, JsonObject } from '../../src/core/types.ts';
import { bigFlow, fiftyNodeChange } from './bigFlow.ts';
import { clone, corpusFlow } from './corpus.ts';

function mermaidBlocks(md: string): string[] {
  return [...md.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** Lines a diagram of renderMermaid may have: a node, a link, a class definition or use, a link style. */
const MERMAID_LINE = [
  /^flowchart LR$/,
  /^  n\d+(\["[^"]*"\]|\("[^"]*"\))$/,
  /^  n\d+ (-->|-\.->)(\|"[^"|]*"\|)? n\d+$/,
  /^  classDef (added|changed|removed|moved) [-a-z]+:[^ ,]+( \d+)?(,[-a-z]+:[^ ,]+( \d+)?)*$/,
  /^  class n\d+(,n\d+)* (added|changed|removed|moved)$/,
  /^  linkStyle \d+(,\d+)* [-a-z]+:[^ ,]+( \d+)?(,[-a-z]+:[^ ,]+( \d+)?)*$/,
];

function badMermaidLines(block: string): string[] {
  return block.trimEnd().split('\n').filter((l) => !MERMAID_LINE.some((re) => re.test(l)));
}

/** Links drawn by a Mermaid flowchart: `a --> b`, `a -.-> b`, with or without a label. */
function linkCount(block: string): number {
  return block.split('\n').filter((l) => /^\s+n\d+ (-->|-\.->)/.test(l)).length;
}

/** Node ids in a `class a,b,c <status>` line of the block. */
function classMembers(block: string, status: string): string[] {
  const line = block.split('\n').find((l) => l.trim().startsWith('class ') && l.trim().endsWith(` ${status}`));
  return line === undefined ? [] : (line.trim().split(' ')[1] as string).split(',');
}

/** A flow at a path, given as a value: YAML text would only slow these tests down. */
function texts(path: string, flow: FlowFile): FlowText[] {
  return [{ path, flow }];
}

describe('diffMarkdown', () => {
  it('keeps a 50-node change within GitHub\'s comment limit and Mermaid\'s limits, with the graph drawn', () => {
    const { before, after } = fiftyNodeChange();
    const set = diffFlowSets(texts('flows/big_flow.yaml', before), texts('flows/big_flow.yaml', after), { base: 'main', head: 'HEAD' });
    const md = diffMarkdown(set);
    expect(md.startsWith(DIFF_MARKER + '\n')).toBe(true);
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    const blocks = mermaidBlocks(md);
    expect(blocks).toHaveLength(1);
    const block = blocks[0] as string;
    expect(block.length).toBeLessThanOrEqual(MERMAID_MAX_TEXT);
    expect(linkCount(block)).toBeLessThanOrEqual(MERMAID_MAX_EDGES);
    expect(block.startsWith('flowchart LR\n')).toBe(true);
    expect(badMermaidLines(block)).toEqual([]);
    // All 63 + 10 nodes drawn: 30 changed, 10 added, 10 removed.
    expect(classMembers(block, 'changed')).toHaveLength(30);
    expect(classMembers(block, 'added')).toHaveLength(10);
    expect(classMembers(block, 'removed')).toHaveLength(10);
    expect(block.match(/^\s+n\d+[[(]/gm)).toHaveLength(73);
    expect(md).toContain('| `big_flow` | `flows/big_flow.yaml` | modified | +10 −10 ~30 | 30 values |');
    // The long values are cut in the table, not carried whole.
    expect(md).toContain('<code>"value 0 xxxx');
    expect(md).not.toContain('x'.repeat(200));
  });

  it('falls back to a neighbourhood, then to a table, when a graph passes Mermaid\'s limits', () => {
    const before = bigFlow(50, 'huge'); // 450 nodes, 600 edges: over maxEdges
    const after = clone(before);
    const p = (after.flow_data!.nodes[0]!.data['parameters'] as JsonObject[]).find((x) => x['category'] === 'common') as JsonObject;
    p['value'] = 'changed';
    const md = diffMarkdown(diffFlowSets(texts('flows/huge.yaml', before), texts('flows/huge.yaml', after), { base: 'main', head: null }));
    const blocks = mermaidBlocks(md);
    expect(blocks).toHaveLength(1);
    expect(md).toMatch(/Changed nodes and their neighbours \(\d+ of 450 nodes\)/);
    expect(linkCount(blocks[0] as string)).toBeLessThan(20);
    expect(classMembers(blocks[0] as string, 'changed')).toHaveLength(1);

    // Every node changed: even the neighbourhood is too big, so only the table remains.
    const all = clone(before);
    for (const n of all.flow_data!.nodes) n.data['custom_label'] = `${n.id} relabelled`;
    const md2 = diffMarkdown(diffFlowSets(texts('flows/huge.yaml', before), texts('flows/huge.yaml', all), { base: 'main', head: null }));
    expect(mermaidBlocks(md2)).toEqual([]);
    expect(md2).toContain("Graph not drawn: 450 nodes and 600 edges pass Mermaid's limits (50,000 characters, 500 edges)");
    expect(md2).toContain('| | _… and 300 more changes_ | | | |');
    expect(md2.length).toBeLessThanOrEqual(60_000);
  });

  it('truncates a comment over GitHub\'s limit gracefully, flow by flow, with a note', () => {
    const before: FlowText[] = [];
    const after: FlowText[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `big_${String(i).padStart(2, '0')}`;
      const { before: b, after: a } = fiftyNodeChange(name);
      before.push(...texts(`flows/${name}.yaml`, b));
      after.push(...texts(`flows/${name}.yaml`, a));
    }
    const set = diffFlowSets(before, after, { base: 'main', head: 'HEAD' });
    expect(set.flows).toHaveLength(40);
    const md = diffMarkdown(set);
    expect(md.length).toBeLessThanOrEqual(60_000);
    expect(md).toMatch(/_\d+ more flows not shown: the comment would pass GitHub's 65,536-character limit\. Run `flowreg diff` locally for the full diff\._\n$/);
    // Every flow is still in the summary table; the sections stop at a flow boundary.
    for (let i = 0; i < 40; i++) expect(md).toContain(`| \`big_${String(i).padStart(2, '0')}\` |`);
    for (const block of mermaidBlocks(md)) {
      expect(badMermaidLines(block)).toEqual([]);
      expect(block.length).toBeLessThanOrEqual(MERMAID_MAX_TEXT);
      expect(block.trimEnd().split('\n').at(-1)).toMatch(/^\s+(linkStyle|class) /);
    }
    expect((md.match(/```/g) ?? []).length % 2).toBe(0);
  });

  it('escapes labels for Mermaid and values for Markdown tables', () => {
    const before = corpusFlow('simple_streaming_chat_flow.json');
    const after = clone(before);
    const n = after.flow_data!.nodes[0] as FlowNode;
    n.data['custom_label'] = 'Say "hi" <b>#1</b> | `x` & more';
    (n.data['parameters'] as JsonObject[])[0]!['value'] = 'a|b <i>`c`</i>';
    const md = diffMarkdown(diffFlowSets(texts('flows/s.yaml', before), texts('flows/s.yaml', after), { base: 'main', head: null }));
    const block = mermaidBlocks(md)[0] as string;
    expect(badMermaidLines(block)).toEqual([]);
    expect(block).toContain('n0["Say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt; #124; #96;x#96; #amp; more"]');
    expect(md).toContain('| ✏️ | Say "hi" &lt;b&gt;#1&lt;/b&gt; \\| \\`x\\` &amp; more | parameter endpoint (API Endpoint) | <code>null</code> | <code>"a&#124;b &lt;i&gt;`c`&lt;/i&gt;"</code> |');
  });

  it('says "no flow changes" and "layout only" in words', () => {
    const flow = corpusFlow('simple_streaming_chat_flow.json');
    const empty: FlowSetDiff = { base: 'main', head: null, flows: [] };
    expect(diffMarkdown(empty)).toBe(`${DIFF_MARKER}\n## flowreg: flow changes\n\nNo flow changes (\`main\` → working tree).\n`);
    expect(diffText(empty)).toBe('No flow changes (main..working tree).\n');
    const moved = clone(flow);
    for (const n of moved.flow_data!.nodes) n.position.x += 50;
    const set = diffFlowSets(texts('flows/s.yaml', flow), texts('flows/s.yaml', moved), { base: 'main', head: null });
    expect(set.flows).toHaveLength(1);
    expect(set.flows[0]?.changes).toEqual([]);
    expect(diffMarkdown(set)).toContain('| `simple_streaming_chat_workflow` | `flows/s.yaml` | layout only | – | – | – |');
    expect(diffMarkdown(set)).toContain('Only positions, sizes or the viewport changed');
    expect(mermaidBlocks(diffMarkdown(set))).toEqual([]);
    expect(diffText(set)).toContain('flows/s.yaml  layout only (positions, sizes or viewport; --layout lists them)');
    const withLayout = diffFlowSets(texts('flows/s.yaml', flow), texts('flows/s.yaml', moved), { base: 'main', head: null, layout: true });
    expect(diffText(withLayout)).toContain('flows/s.yaml  layout only: 3 layout changes');
    expect(diffText(withLayout)).toMatch(/~ Common LLM Http Trigger: position: \(-635, -28\.5\) → \(-585, -28\.5\)/);
  });
});
