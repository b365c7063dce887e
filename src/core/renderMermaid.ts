/** Draws a flow graph (or the union graph of a diff) as a Mermaid `flowchart`, coloured by status. */
import type { DiffGraph, GraphStatus } from './diffFlows.ts';

/** Options of renderMermaid. */
export interface RenderMermaidOptions {
  /** Draw only these node ids (and the edges between them); all nodes when absent. */
  only?: ReadonlySet<string>;
}

/** What renderMermaid drew, so callers can check Mermaid's limits without parsing the text. */
export interface MermaidOutput {
  text: string;
  nodes: number;
  edges: number;
}

// GitHub's Primer palette: readable in light and dark themes.
const CLASS_DEFS: Record<Exclude<GraphStatus, 'unchanged'>, string> = {
  added: 'fill:#dafbe1,stroke:#1a7f37,color:#1f2328',
  changed: 'fill:#fff8c5,stroke:#9a6700,color:#1f2328',
  removed: 'fill:#ffebe9,stroke:#cf222e,color:#1f2328,stroke-dasharray:5 5',
  moved: 'fill:#ddf4ff,stroke:#0969da,color:#1f2328',
};
const LINK_STYLES: Record<Exclude<GraphStatus, 'unchanged'>, string> = {
  added: 'stroke:#1a7f37,stroke-width:2px',
  changed: 'stroke:#9a6700,stroke-width:2px',
  removed: 'stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5',
  moved: 'stroke:#0969da',
};

/**
 * Mermaid `flowchart LR` source of a graph: operators as boxes, resources as rounded boxes, added
 * nodes green, changed amber, removed red and dashed (removed edges dotted and red). Node ids
 * become `n0`, `n1`, … because DB-GPT's ids (`operator_x___$$___llm___$$___v1_0`) are not
 * Mermaid ids. Same graph → same text.
 */
export function renderMermaid(graph: DiffGraph, opts: RenderMermaidOptions = {}): MermaidOutput {
  const lines = ['flowchart LR'];
  const ids = new Map<string, string>();
  const byStatus = new Map<GraphStatus, string[]>();
  for (const node of graph.nodes) {
    if (ids.has(node.id) || (opts.only !== undefined && !opts.only.has(node.id))) continue;
    const mid = `n${ids.size}`;
    ids.set(node.id, mid);
    const label = quote(node.label);
    lines.push(node.flowType === 'resource' ? `  ${mid}(${label})` : `  ${mid}[${label}]`);
    byStatus.set(node.status, [...(byStatus.get(node.status) ?? []), mid]);
  }
  const linkStatus = new Map<GraphStatus, number[]>();
  let links = 0;
  for (const edge of graph.edges) {
    const s = ids.get(edge.source);
    const t = ids.get(edge.target);
    if (s === undefined || t === undefined) continue;
    const arrow = edge.status === 'removed' ? '-.->' : '-->';
    lines.push(edge.label === null ? `  ${s} ${arrow} ${t}` : `  ${s} ${arrow}|${quote(edge.label)}| ${t}`);
    linkStatus.set(edge.status, [...(linkStatus.get(edge.status) ?? []), links]);
    links++;
  }
  for (const status of Object.keys(CLASS_DEFS) as Array<keyof typeof CLASS_DEFS>) {
    const members = byStatus.get(status);
    if (members === undefined) continue;
    lines.push(`  classDef ${status} ${CLASS_DEFS[status]}`);
    lines.push(`  class ${members.join(',')} ${status}`);
  }
  for (const status of Object.keys(LINK_STYLES) as Array<keyof typeof LINK_STYLES>) {
    const members = linkStatus.get(status);
    if (members !== undefined) lines.push(`  linkStyle ${members.join(',')} ${LINK_STYLES[status]}`);
  }
  return { text: `${lines.join('\n')}\n`, nodes: ids.size, edges: links };
}

/**
 * A Mermaid string literal. Inside quotes Mermaid still reads `#…;` entity codes and HTML, so `#`
 * goes first, then the characters that would end the string, a label or the Markdown fence.
 * Control characters are dropped: Mermaid draws a label holding one empty and loses the nodes
 * defined after it.
 */
function quote(text: string): string {
  const escaped = text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/\|/g, '#124;')
    .replace(/`/g, '#96;');
  return `"${escaped}"`;
}
