import { beforeAll, describe, expect, it } from 'vitest';
import { diffFlowSets, type FlowText } from '../../src/core/diffFlowSets.ts';
import { diffFlows, graphOfFlow, type DiffGraph } from '../../src/core/diffFlows.ts';
import { MERMAID_MAX_EDGES, diffMarkdown } from '../../src/core/diffMarkdown.ts';
import { renderMermaid } from '../../src/core/renderMermaid.ts';
import type { FlowFile, FlowNode, JsonObject } from '../../src/core/types.ts';
import { bigFlow, fiftyNodeChange } from '../diff/bigFlow.ts';
import { clone, corpusFiles, corpusFlow } from '../diff/corpus.ts';
import { CHROMIUM, haveChromium } from './chromium.ts';
import { renderWithMermaid, type MermaidResult } from './mermaidPage.ts';
import { nastyFlow } from './nastyFlow.ts';

/**
 * The Mermaid that flowreg writes (`render --format mermaid`, and the graphs of the pull-request
 * comment) drawn by Mermaid itself, so that "GitHub shows it" is seen rather than assumed: every
 * diagram parses, every node is drawn with its label and its status class, every link is drawn.
 */

const blocks = (md: string): string[] => [...md.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const texts = (path: string, flow: FlowFile): FlowText[] => [{ path, flow }];

/** The label Mermaid shows for a graph node: line breaks and tabs become spaces, other control characters go. */
const shown = (label: string): string => label.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').trim();

interface Case {
  name: string;
  diagram: string;
  /** The graph the diagram was drawn from, and which of its nodes it holds (all when absent). */
  graph: DiffGraph;
  only?: ReadonlySet<string>;
}

const cases: Case[] = [];
let results: MermaidResult[] = [];

function addCase(name: string, graph: DiffGraph, diagram: string, only?: ReadonlySet<string>): void {
  cases.push({ name, diagram, graph, ...(only ? { only } : {}) });
}

// every corpus flow on its own, as `flowreg render --format mermaid` prints it
for (const file of corpusFiles()) {
  const graph = graphOfFlow(corpusFlow(file));
  addCase(`render ${file}`, graph, renderMermaid(graph).text);
}
addCase('render escaping', graphOfFlow(nastyFlow()), renderMermaid(graphOfFlow(nastyFlow())).text);

// the comment's graph of a 50-node change: 30 changed, 10 added, 10 removed
{
  const { before, after } = fiftyNodeChange();
  const md = diffMarkdown(diffFlowSets(texts('flows/big_flow.yaml', before), texts('flows/big_flow.yaml', after), { base: 'main', head: 'HEAD' }));
  expect(blocks(md)).toHaveLength(1);
  addCase('comment: 50-node change', diffFlows(before, after).graph, blocks(md)[0] as string);
}

// the comment's neighbourhood of one change in a flow too big to draw whole
{
  const before = bigFlow(50, 'huge');
  const after = clone(before);
  const p = (after.flow_data!.nodes[0]!.data['parameters'] as JsonObject[]).find((x) => x['category'] === 'common') as JsonObject;
  p['value'] = 'changed';
  const md = diffMarkdown(diffFlowSets(texts('flows/huge.yaml', before), texts('flows/huge.yaml', after), { base: 'main', head: null }));
  const graph = diffFlows(before, after).graph;
  // the changed node and the nodes one edge away from it
  const changed = graph.nodes.filter((n) => n.status !== 'unchanged').map((n) => n.id);
  expect(changed).toHaveLength(1);
  const near = new Set(changed);
  for (const e of graph.edges) {
    if (changed.includes(e.source)) near.add(e.target);
    if (changed.includes(e.target)) near.add(e.source);
  }
  expect(md).toContain(`Changed nodes and their neighbours (${near.size} of 450 nodes)`);
  addCase('comment: neighbourhood of a change in 450 nodes', graph, blocks(md)[0] as string, near);
}

// a change with labels that need escaping, edges added, rewired and removed
{
  const before = corpusFlow('simple_streaming_chat_flow.json');
  const after = clone(before);
  const [a, b] = after.flow_data!.nodes as [FlowNode, FlowNode];
  a.data['custom_label'] = 'Say "hi" <b>#1</b> | `x` & more';
  b.data['custom_label'] = 'Tom & "Jerry" ]]> 🙂 #quot; %% end';
  after.flow_data!.edges = after.flow_data!.edges.slice(1);
  const md = diffMarkdown(diffFlowSets(texts('flows/s.yaml', before), texts('flows/s.yaml', after), { base: 'main', head: null }));
  addCase('comment: escaping and a removed edge', diffFlows(before, after).graph, blocks(md)[0] as string);
}

describe('Mermaid output drawn by Mermaid in headless Chromium', () => {
  beforeAll(async () => {
    expect(haveChromium(), `${CHROMIUM} is missing: install Debian's chromium package`).toBe(true);
    // one page for every diagram: starting Chromium is the slow part
    results = await renderWithMermaid(cases.map((c) => c.diagram));
  }, 120_000);

  it.each(cases.map((c, i) => [c.name, i] as const))('%s: parses, draws every node with its label and status, every link', (_name, i) => {
    const c = cases[i] as Case;
    const r = results[i] as MermaidResult;
    expect(r.error).toBeNull();
    const nodes = c.graph.nodes.filter((n) => c.only === undefined || c.only.has(n.id));
    expect(nodes.length).toBeGreaterThan(0);
    expect([...r.labels].sort()).toEqual(nodes.map((n) => shown(n.label)).sort());
    const edges = c.graph.edges.filter((e) => nodes.some((n) => n.id === e.source) && nodes.some((n) => n.id === e.target));
    expect(r.links).toBe(edges.length);
    // each node drawn carries its status as a class (Mermaid keeps the diagram's node order)
    for (const status of ['added', 'changed', 'removed'] as const) {
      const want = nodes.filter((n) => n.status === status).map((n) => shown(n.label)).sort();
      const got = r.labels.filter((_l, k) => (r.classes[k] ?? '').split(' ').includes(status)).sort();
      expect({ status, labels: got }).toEqual({ status, labels: want });
    }
  });

  it('has cases that exercise every status the comment colours', () => {
    const statuses = new Set(cases.flatMap((c) => c.graph.nodes.map((n) => n.status)));
    for (const s of ['added', 'changed', 'removed', 'unchanged']) expect(statuses).toContain(s);
  });

  it('refuses a diagram over Mermaid\'s edge limit, which is why the comment falls back', async () => {
    const graph = graphOfFlow(bigFlow(50, 'huge'));
    const full = renderMermaid(graph);
    expect(full.edges).toBeGreaterThan(MERMAID_MAX_EDGES);
    const [r] = await renderWithMermaid([full.text]);
    expect(r?.error).toMatch(/edges/i);
  }, 120_000);
});
