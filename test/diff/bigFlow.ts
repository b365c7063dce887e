import type { FlowEdge, FlowFile, FlowNode, JsonObject } from '../../src/core/types.ts';
import { clone, corpusFlow } from './corpus.ts';

/**
 * A large flow made of `copies` copies of the chat-data template (9 nodes, 12 edges each), laid
 * side by side, with node and edge ids suffixed by the copy number.
 */
export function bigFlow(copies: number, name = 'big_flow'): FlowFile {
  const template = corpusFlow('chat-data-awel-flow-template.json');
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  for (let k = 0; k < copies; k++) {
    const rename = (id: string): string => `${id}_c${k}`;
    for (const n of template.flow_data!.nodes) {
      const c = clone(n);
      c.id = rename(n.id);
      c.data['id'] = c.id;
      c.position.y += k * 2500;
      c.position_absolute.y += k * 2500;
      nodes.push(c);
    }
    for (const e of template.flow_data!.edges) {
      const c = clone(e);
      c.source = rename(e.source);
      c.target = rename(e.target);
      c.id = `${c.source}|${c.target}`;
      c.source_handle = e.source_handle!.replace(e.source, () => c.source);
      c.target_handle = e.target_handle!.replace(e.target, () => c.target);
      edges.push(c);
    }
  }
  return { ...clone(template), uid: `uid-${name}`, name, label: name, flow_data: { nodes, edges, viewport: { x: 0, y: 0, zoom: 1 } } };
}

/** The chat-data flow copied 7 times (63 nodes), changed in 50 nodes: 30 values, 10 removed, 10 added. */
export function fiftyNodeChange(name = 'big_flow'): { before: FlowFile; after: FlowFile } {
  const before = bigFlow(7, name);
  const after = clone(before);
  const nodes = after.flow_data!.nodes;
  let changed = 0;
  for (const n of nodes) {
    const p = (n.data['parameters'] as JsonObject[]).find((x) => x['category'] === 'common');
    if (p === undefined || changed === 30) continue;
    // Long values, like the prompt templates real flows carry, must not blow up the comment.
    p['value'] = `value ${changed} ` + 'x'.repeat(3000);
    changed++;
  }
  if (changed !== 30) throw new Error(`the template has too few nodes with a common parameter (${changed})`);
  const removed = nodes.slice(-10).map((n) => n.id);
  after.flow_data!.nodes = nodes.filter((n) => !removed.includes(n.id));
  after.flow_data!.edges = after.flow_data!.edges.filter((e) => !removed.includes(e.source) && !removed.includes(e.target));
  for (let i = 0; i < 10; i++) {
    const n = clone(nodes[i] as FlowNode);
    n.id = `${n.id}_new${i}`;
    n.data['id'] = n.id;
    after.flow_data!.nodes.push(n);
  }
  return { before, after };
}
