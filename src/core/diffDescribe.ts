/**
 * Turns a flow diff into human sentences: one line per change (for text and Markdown tables) and a
 * one-line summary of the counts. Shared by diffText and diffMarkdown so both say the same thing.
 */
import type { EdgeRef, FlowChange, FlowDiff, FlowDiffCounts, NodeRef, PortRef } from './diffFlows.ts';
import type { Json } from './types.ts';

/** One change as a reader sees it: `+` added, `-` removed, `~` changed. */
export interface DescribedChange {
  op: '+' | '-' | '~';
  /** What changed: "flow", a node's label, an edge "A → B", "viewport". */
  subject: string;
  /** Which part of it: "parameter model (Model Name)", "node added", "rewired". */
  what: string;
  before: string | null;
  after: string | null;
}

/** Options of diffDescribe. */
export interface DescribeOptions {
  /** Longest value shown before it is cut with "…" (default 120). */
  maxValue?: number;
}

/**
 * Describes every change of a diff, in the diff's order. A node is named by its label, with its
 * id added only when another node of the flow has the same label.
 */
export function diffDescribe(d: Pick<FlowDiff, 'changes' | 'graph'>, opts: DescribeOptions = {}): DescribedChange[] {
  const max = opts.maxValue ?? 120;
  const seen = new Map<string, number>();
  for (const n of d.graph.nodes) seen.set(n.label, (seen.get(n.label) ?? 0) + 1);
  const node = (n: NodeRef): string => ((seen.get(n.label) ?? 0) > 1 ? `${n.label} (${n.id})` : n.label);
  const val = (v: Json): string => formatValue(v, max);
  return d.changes.map((c) => describe(c, node, val));
}

function describe(c: FlowChange, node: (n: NodeRef) => string, val: (v: Json) => string): DescribedChange {
  switch (c.kind) {
    case 'flow-field': {
      const op = c.before === null ? '+' : c.after === null ? '-' : '~';
      return { op, subject: 'flow', what: c.field, before: c.before === null ? null : val(c.before), after: c.after === null ? null : val(c.after) };
    }
    case 'node-added':
    case 'node-removed':
      return { op: c.kind === 'node-added' ? '+' : '-', subject: node(c.node), what: `${c.kind === 'node-added' ? 'node added' : 'node removed'}${kindOf(c.node)}`, before: null, after: null };
    case 'node-field':
      return { op: '~', subject: node(c.node), what: c.field, before: val(c.before), after: val(c.after) };
    case 'parameter-value':
      return { op: '~', subject: node(c.node), what: `parameter ${param(c.parameter, c.parameterLabel)}`, before: val(c.before), after: val(c.after) };
    case 'parameter-added':
    case 'parameter-removed':
      return { op: c.kind === 'parameter-added' ? '+' : '-', subject: node(c.node), what: `parameter ${param(c.parameter, c.parameterLabel)} ${c.kind === 'parameter-added' ? 'added' : 'removed'}`, before: null, after: null };
    case 'parameter-field':
      return { op: '~', subject: node(c.node), what: `parameter ${param(c.parameter, c.parameterLabel)}: ${c.field}`, before: val(c.before), after: val(c.after) };
    case 'io-added':
    case 'io-removed':
      return { op: c.kind === 'io-added' ? '+' : '-', subject: node(c.node), what: `${ioName(c.side, c.index, c.name)} ${c.kind === 'io-added' ? 'added' : 'removed'}`, before: null, after: null };
    case 'io-field':
      return { op: '~', subject: node(c.node), what: `${ioName(c.side, c.index, c.name)}: ${c.field}`, before: val(c.before), after: val(c.after) };
    case 'edge-added':
    case 'edge-removed':
      return { op: c.kind === 'edge-added' ? '+' : '-', subject: edgeName(c.edge), what: `edge ${c.kind === 'edge-added' ? 'added' : 'removed'} (${wire(c.edge)})`, before: null, after: null };
    case 'edge-rewired':
      return { op: '~', subject: edgeName(c.after), what: 'edge rewired', before: wire(c.before), after: wire(c.after) };
    case 'edge-field':
      return { op: '~', subject: edgeName(c.edge), what: `edge ${c.field}`, before: val(c.before), after: val(c.after) };
    case 'layout':
      return { op: '~', subject: c.node === null ? 'canvas' : node(c.node), what: c.field, before: layoutValue(c.before), after: layoutValue(c.after) };
  }
}

/** A one-line summary of a diff's counts, e.g. "1 node added, 2 changed; 3 parameter values; 1 edge removed". */
export function describeCounts(c: FlowDiffCounts): string {
  const parts: string[] = [];
  const nodes = joinNonZero([[c.nodesAdded, 'added'], [c.nodesRemoved, 'removed'], [c.nodesChanged, 'changed']]);
  if (nodes !== '') parts.push(`${plural(c.nodesAdded + c.nodesRemoved + c.nodesChanged, 'node')}: ${nodes}`);
  if (c.parameterValues > 0) parts.push(plural(c.parameterValues, 'parameter value') + ' changed');
  if (c.parameterOther > 0) parts.push(plural(c.parameterOther, 'other parameter change'));
  if (c.io > 0) parts.push(plural(c.io, 'input/output change'));
  const edges = joinNonZero([[c.edgesAdded, 'added'], [c.edgesRemoved, 'removed'], [c.edgesChanged, 'rewired']]);
  if (edges !== '') parts.push(`${plural(c.edgesAdded + c.edgesRemoved + c.edgesChanged, 'edge')}: ${edges}`);
  if (c.flowFields > 0) parts.push(plural(c.flowFields, 'flow field') + ' changed');
  if (c.layout > 0) parts.push(plural(c.layout, 'layout change'));
  return parts.join('; ');
}

/** A JSON value on one line: strings quoted, long values cut with "…". */
export function formatValue(v: Json, max = 120): string {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s;
}

function joinNonZero(items: Array<[number, string]>): string {
  return items.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`).join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function kindOf(n: NodeRef): string {
  const parts = [n.flowType, n.category].filter((x): x is string => x !== null);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

function param(name: string, label: string): string {
  return label !== name ? `${name} (${label})` : name;
}

function ioName(side: 'inputs' | 'outputs', index: number, name: string): string {
  return `${side === 'inputs' ? 'input' : 'output'} ${index} ${name}`;
}

function edgeName(e: EdgeRef): string {
  return `${e.sourceLabel} → ${e.targetLabel}`;
}

function port(p: PortRef | null): string {
  if (p === null) return '?';
  const side = p.side === 'inputs' ? 'input' : p.side === 'outputs' ? 'output' : 'parameter';
  return p.name === null ? `${side} ${p.index}` : `${side} ${p.index} ${p.name}`;
}

function wire(e: EdgeRef): string {
  return `${port(e.sourcePort)} → ${port(e.targetPort)}`;
}

/** Positions as `(x, y)` rounded to one decimal: canvas coordinates carry 15 digits of noise. */
function layoutValue(v: Json): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const r = (k: string): string => {
      const x = v[k];
      return typeof x === 'number' ? String(Math.round(x * 10) / 10) : String(x);
    };
    if ('x' in v && 'y' in v) return `(${r('x')}, ${r('y')}${'zoom' in v ? `, zoom ${r('zoom')}` : ''})`;
    if ('width' in v) return `${r('width')}×${r('height')}`;
  }
  return formatValue(v);
}
