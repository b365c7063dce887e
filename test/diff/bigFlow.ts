import type { FlowEdge, FlowFile, FlowNode } from '../../src/core/types.ts';
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
      c.source_handle = e.source_handle!.replace(e.source, c.source);
      c.target_handle = e.target_handle!.replace(e.target, c.target);
      edges.push(c);
    }
  }
  return { ...clone(template), uid: `uid-${name}`, name, label: name, flow_data: { nodes, edges, viewport: { x: 0, y: 0, zoom: 1 } } };
}
