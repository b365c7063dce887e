/**
 * Semantic diff of two versions of one flow: what a reviewer needs to know (nodes, parameters,
 * edges, flow fields), without the layout noise of dragging nodes on DB-GPT's canvas.
 */
import { DERIVED_KEYS, FLOW_FILE_KEYS, type FlowFile, type Json } from './types.ts';
import { renderNodeLabel } from './renderNodeLabel.ts';
import { arr, rec, str, type Rec } from './jsonAccess.ts';

/** What happened to a flow as a whole. */
export type FlowDiffStatus = 'added' | 'deleted' | 'renamed' | 'modified' | 'unchanged';

/** A node as a change names it. */
export interface NodeRef {
  id: string;
  label: string;
  /** `data.flow_type`: "operator" or "resource" (null when missing). */
  flowType: string | null;
  /** `data.category` (for example "llm", "trigger", "prompt"). */
  category: string | null;
}

/** One end of an edge: an input, output or (resource) parameter handle of a node. */
export interface PortRef {
  side: 'inputs' | 'outputs' | 'parameters';
  index: number;
  /** The IO field's or parameter's `name`, when the node has one at that index. */
  name: string | null;
}

/** An edge as a change names it. */
export interface EdgeRef {
  id: string;
  source: string;
  sourceLabel: string;
  sourcePort: PortRef | null;
  target: string;
  targetLabel: string;
  targetPort: PortRef | null;
}

/** One semantic change; `before`/`after` are `null` where a value is absent. */
export type FlowChange =
  | { kind: 'flow-field'; field: string; before: Json; after: Json }
  | { kind: 'node-added'; node: NodeRef }
  | { kind: 'node-removed'; node: NodeRef }
  | { kind: 'node-field'; node: NodeRef; field: string; before: Json; after: Json }
  | { kind: 'parameter-value'; node: NodeRef; parameter: string; parameterLabel: string; before: Json; after: Json }
  | { kind: 'parameter-added' | 'parameter-removed'; node: NodeRef; parameter: string; parameterLabel: string }
  | { kind: 'parameter-field'; node: NodeRef; parameter: string; parameterLabel: string; field: string; before: Json; after: Json }
  | { kind: 'io-added' | 'io-removed'; node: NodeRef; side: 'inputs' | 'outputs'; index: number; name: string }
  | { kind: 'io-field'; node: NodeRef; side: 'inputs' | 'outputs'; index: number; name: string; field: string; before: Json; after: Json }
  | { kind: 'edge-added' | 'edge-removed'; edge: EdgeRef }
  | { kind: 'edge-rewired'; before: EdgeRef; after: EdgeRef }
  | { kind: 'edge-field'; edge: EdgeRef; field: string; before: Json; after: Json }
  | { kind: 'layout'; node: NodeRef | null; field: 'position' | 'size' | 'ui_size' | 'viewport'; before: Json; after: Json };

/** Totals of a diff, as the summary table shows them. */
export interface FlowDiffCounts {
  flowFields: number;
  nodesAdded: number;
  nodesRemoved: number;
  /** Distinct nodes that are neither added nor removed and have at least one non-layout change. */
  nodesChanged: number;
  /** Parameter values changed (`parameter-value`). */
  parameterValues: number;
  /** Parameters added or removed, or changed in anything but their value (options, default, …). */
  parameterOther: number;
  io: number;
  edgesAdded: number;
  edgesRemoved: number;
  /** Edges rewired to other handles, or changed in another field. */
  edgesChanged: number;
  layout: number;
}

/** Status of a node or edge in the drawn diff graph. */
export type GraphStatus = 'added' | 'removed' | 'changed' | 'moved' | 'unchanged';

/** A node of the union graph of both versions. */
export interface DiffGraphNode {
  id: string;
  label: string;
  flowType: string | null;
  category: string | null;
  status: GraphStatus;
}

/** An edge of the union graph of both versions; `label` names the target handle. */
export interface DiffGraphEdge {
  id: string;
  source: string;
  target: string;
  label: string | null;
  status: GraphStatus;
}

/** Both versions drawn as one graph: every node and edge of either side, with its status. */
export interface DiffGraph {
  nodes: DiffGraphNode[];
  edges: DiffGraphEdge[];
}

/** The semantic difference between two versions of a flow; plain JSON. */
export interface FlowDiff {
  status: FlowDiffStatus;
  uid: string | null;
  /** The flow's name after the change (before it, for a deleted flow). */
  name: string | null;
  /** The name before the change, when it differs. */
  previousName: string | null;
  label: string | null;
  changes: FlowChange[];
  counts: FlowDiffCounts;
  /** True when positions, sizes or the viewport changed, whether or not `layout` was asked for. */
  layoutChanged: boolean;
  graph: DiffGraph;
}

/** Options of diffFlows. */
export interface DiffFlowsOptions {
  /** Report positions, sizes and the viewport as `layout` changes. */
  layout?: boolean;
}


/** Node keys that only say where the node sits on the canvas (or UI selection state). */
const NODE_LAYOUT_KEYS = new Set(['position', 'position_absolute', 'width', 'height', 'selected', 'dragging']);
const DATA_STRUCT_KEYS = new Set(['parameters', 'inputs', 'outputs']);
const FLOW_IGNORED_KEYS = new Set<string>(['flow_data', ...DERIVED_KEYS]);
const EDGE_WIRE_KEYS = ['source', 'target', 'source_handle', 'target_handle', 'source_order', 'target_order'] as const;

/**
 * Compares two versions of a flow (null = absent: added or deleted). Nodes match by id,
 * parameters by name, inputs/outputs by index, edges by id, then by source→target.
 * Never throws on malformed flows: missing or odd parts compare as empty.
 */
export function diffFlows(before: FlowFile | null, after: FlowFile | null, opts: DiffFlowsOptions = {}): FlowDiff {
  const b = before === null ? null : flowParts(before);
  const a = after === null ? null : flowParts(after);
  const changes: FlowChange[] = [];
  if (b !== null && a !== null) changes.push(...flowFieldChanges(before as Rec, after as Rec));

  const bNodes = b?.nodes ?? new Map<string, Rec>();
  const aNodes = a?.nodes ?? new Map<string, Rec>();
  for (const [id, node] of bNodes) if (!aNodes.has(id)) changes.push({ kind: 'node-removed', node: nodeRef(node) });
  for (const [id, node] of aNodes) if (!bNodes.has(id)) changes.push({ kind: 'node-added', node: nodeRef(node) });
  for (const [id, node] of aNodes) {
    const old = bNodes.get(id);
    if (old !== undefined) changes.push(...nodeChanges(old, node));
  }
  changes.push(...edgeChanges(b?.edges ?? [], bNodes, a?.edges ?? [], aNodes));

  const layout = b !== null && a !== null ? layoutChanges(b, a) : [];
  if (opts.layout === true) changes.push(...layout);

  const oldName = b !== null ? str(b.flow['name']) : null;
  const newName = a !== null ? str(a.flow['name']) : null;
  const status: FlowDiffStatus =
    b === null && a === null ? 'unchanged'
    : b === null ? 'added'
    : a === null ? 'deleted'
    : oldName !== newName ? 'renamed'
    : changes.length > 0 ? 'modified'
    : 'unchanged';
  const side = (a ?? b)?.flow;
  return {
    status,
    uid: side === undefined ? null : str(side['uid']),
    name: newName ?? oldName,
    previousName: b !== null && a !== null && oldName !== newName ? oldName : null,
    label: side === undefined ? null : str(side['label']),
    changes,
    counts: countChanges(changes),
    layoutChanged: layout.length > 0,
    graph: diffGraph(bNodes, aNodes, b?.edges ?? [], a?.edges ?? [], changes, opts.layout === true ? layout : []),
  };
}

/** The graph of one flow with every node and edge unchanged, for drawing a flow on its own. */
export function graphOfFlow(flow: FlowFile): DiffGraph {
  const p = flowParts(flow);
  return diffGraph(p.nodes, p.nodes, p.edges, p.edges, [], []);
}

// ---------------------------------------------------------------------------------------------
// flow parts

interface FlowParts {
  flow: Rec;
  data: Rec;
  nodes: Map<string, Rec>;
  edges: Rec[];
}

function flowParts(flow: FlowFile): FlowParts {
  const data = rec(flow.flow_data) ?? {};
  const nodes = new Map<string, Rec>();
  for (const n of arr(data['nodes'])) {
    const node = rec(n);
    const id = node === undefined ? null : str(node['id']);
    // A duplicate id is a validation error; the diff keeps the first so it stays stable.
    if (node !== undefined && id !== null && !nodes.has(id)) nodes.set(id, node);
  }
  const edges = arr(data['edges']).flatMap((e) => {
    const edge = rec(e);
    return edge === undefined ? [] : [edge];
  });
  return { flow: flow as Rec, data, nodes, edges };
}

function nodeRef(node: Rec): NodeRef {
  const data = rec(node['data']);
  return {
    id: str(node['id']) ?? '',
    label: renderNodeLabel(node),
    flowType: str(data?.['flow_type']),
    category: str(data?.['category']),
  };
}

// ---------------------------------------------------------------------------------------------
// flow-level fields

function flowFieldChanges(before: Rec, after: Rec): FlowChange[] {
  const out: FlowChange[] = [];
  for (const key of orderedKeys(before, after, FLOW_FILE_KEYS)) {
    if (FLOW_IGNORED_KEYS.has(key)) continue;
    if (key === 'variables') {
      out.push(...variableChanges(before[key], after[key]));
      continue;
    }
    if (!sameJson(before[key], after[key])) out.push({ kind: 'flow-field', field: key, before: json(before[key]), after: json(after[key]) });
  }
  const bData = rec(before['flow_data']) ?? {};
  const aData = rec(after['flow_data']) ?? {};
  for (const key of orderedKeys(bData, aData, [])) {
    if (key === 'nodes' || key === 'edges' || key === 'viewport') continue;
    if (!sameJson(bData[key], aData[key])) out.push({ kind: 'flow-field', field: `flow_data.${key}`, before: json(bData[key]), after: json(aData[key]) });
  }
  return out;
}

/** Variables are matched by `key` so that reordering them is not a change. */
function variableChanges(before: unknown, after: unknown): FlowChange[] {
  const keyed = (v: unknown): Map<string, unknown> => {
    const m = new Map<string, unknown>();
    arr(v).forEach((item, i) => {
      const k = str(rec(item)?.['key']) ?? `#${i}`;
      m.set(m.has(k) ? `${k}#${i}` : k, item);
    });
    return m;
  };
  const b = keyed(before);
  const a = keyed(after);
  const out: FlowChange[] = [];
  for (const k of uniq([...b.keys(), ...a.keys()])) {
    if (!sameJson(b.get(k), a.get(k))) out.push({ kind: 'flow-field', field: `variables.${k}`, before: json(b.get(k)), after: json(a.get(k)) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// nodes

function nodeChanges(before: Rec, after: Rec): FlowChange[] {
  const node = nodeRef(after);
  const out: FlowChange[] = [];
  for (const key of orderedKeys(before, after, [])) {
    if (key === 'data' || key === 'id' || NODE_LAYOUT_KEYS.has(key)) continue;
    if (!sameJson(before[key], after[key])) out.push({ kind: 'node-field', node, field: key, before: json(before[key]), after: json(after[key]) });
  }
  const bData = rec(before['data']) ?? {};
  const aData = rec(after['data']) ?? {};
  for (const key of orderedKeys(bData, aData, [])) {
    if (DATA_STRUCT_KEYS.has(key)) continue;
    let bv = bData[key];
    let av = aData[key];
    // `tags.ui_size` only says how wide DB-GPT draws the node: layout, not meaning.
    if (key === 'tags') {
      bv = withoutKey(bv, 'ui_size');
      av = withoutKey(av, 'ui_size');
    }
    if (!sameJson(bv, av)) out.push({ kind: 'node-field', node, field: `data.${key}`, before: json(bv), after: json(av) });
  }
  out.push(...parameterChanges(node, bData['parameters'], aData['parameters']));
  out.push(...ioChanges(node, 'inputs', bData['inputs'], aData['inputs']));
  out.push(...ioChanges(node, 'outputs', bData['outputs'], aData['outputs']));
  return out;
}

/** Parameters are matched by name (a repeated name by its occurrence), so reordering is no change. */
function parameterChanges(node: NodeRef, before: unknown, after: unknown): FlowChange[] {
  const keyed = (v: unknown): Map<string, Rec> => {
    const m = new Map<string, Rec>();
    arr(v).forEach((item, i) => {
      const p = rec(item);
      if (p === undefined) return;
      const name = str(p['name']) ?? `#${i}`;
      let k = name;
      for (let n = 2; m.has(k); n++) k = `${name}#${n}`;
      m.set(k, p);
    });
    return m;
  };
  const b = keyed(before);
  const a = keyed(after);
  const out: FlowChange[] = [];
  for (const [name, p] of b) {
    if (!a.has(name)) out.push({ kind: 'parameter-removed', node, parameter: name, parameterLabel: str(p['label']) ?? name });
  }
  for (const [name, p] of a) {
    const parameterLabel = str(p['label']) ?? name;
    const old = b.get(name);
    if (old === undefined) {
      out.push({ kind: 'parameter-added', node, parameter: name, parameterLabel });
      continue;
    }
    if (!sameJson(old['value'], p['value'])) {
      out.push({ kind: 'parameter-value', node, parameter: name, parameterLabel, before: json(old['value']), after: json(p['value']) });
    }
    for (const key of orderedKeys(old, p, [])) {
      if (key === 'value' || key === 'name') continue;
      if (!sameJson(old[key], p[key])) {
        out.push({ kind: 'parameter-field', node, parameter: name, parameterLabel, field: key, before: json(old[key]), after: json(p[key]) });
      }
    }
  }
  return out;
}

/** Inputs and outputs are matched by index: edges attach to `<node>|inputs|<index>`. */
function ioChanges(node: NodeRef, side: 'inputs' | 'outputs', before: unknown, after: unknown): FlowChange[] {
  const b = arr(before);
  const a = arr(after);
  const out: FlowChange[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const bv = rec(b[i]);
    const av = rec(a[i]);
    if (av === undefined && bv === undefined) continue;
    if (av === undefined) {
      out.push({ kind: 'io-removed', node, side, index: i, name: ioName(bv, i) });
    } else if (bv === undefined) {
      out.push({ kind: 'io-added', node, side, index: i, name: ioName(av, i) });
    } else {
      for (const key of orderedKeys(bv, av, [])) {
        if (!sameJson(bv[key], av[key])) {
          out.push({ kind: 'io-field', node, side, index: i, name: ioName(av, i), field: key, before: json(bv[key]), after: json(av[key]) });
        }
      }
    }
  }
  return out;
}

function ioName(field: Rec | undefined, index: number): string {
  return str(field?.['name']) ?? str(field?.['label']) ?? `#${index}`;
}

// ---------------------------------------------------------------------------------------------
// edges

interface EdgeView {
  edge: Rec;
  id: string;
  ref: EdgeRef;
  /** Source, target and both ports: two edges with the same wire connect the same handles. */
  wire: string;
}

function edgeView(edge: Rec, index: number, nodes: Map<string, Rec>): EdgeView {
  const source = str(edge['source']) ?? '';
  const target = str(edge['target']) ?? '';
  const sourcePort = portOf(edge['source_handle'], edge['source_order'], 'outputs', nodes.get(source));
  const targetPort = portOf(edge['target_handle'], edge['target_order'], 'inputs', nodes.get(target));
  const id = str(edge['id']) ?? `${source}|${target}#${index}`;
  const sourceNode = nodes.get(source);
  const targetNode = nodes.get(target);
  const ref: EdgeRef = {
    id,
    source,
    sourceLabel: sourceNode === undefined ? source : renderNodeLabel(sourceNode),
    sourcePort,
    target,
    targetLabel: targetNode === undefined ? target : renderNodeLabel(targetNode),
    targetPort,
  };
  const portKey = (p: PortRef | null): string => (p === null ? '-' : `${p.side}:${p.index}`);
  return { edge, id, ref, wire: JSON.stringify([source, portKey(sourcePort), target, portKey(targetPort)]) };
}

/**
 * An edge end from its handle (`<node>|<side>|<index>`), or from its order when the handle is
 * missing (DB-GPT derives one from the other).
 */
function portOf(handle: unknown, order: unknown, defaultSide: 'inputs' | 'outputs', node: Rec | undefined): PortRef | null {
  let side: PortRef['side'] = defaultSide;
  let index: number | null = typeof order === 'number' && Number.isInteger(order) ? order : null;
  if (typeof handle === 'string') {
    const parts = handle.split('|');
    const last = parts[parts.length - 1] ?? '';
    const kind = parts[parts.length - 2];
    if (parts.length >= 3 && /^\d+$/.test(last) && (kind === 'inputs' || kind === 'outputs' || kind === 'parameters')) {
      side = kind;
      index = Number(last);
    }
  }
  if (index === null) return null;
  const list = arr(rec(node?.['data'])?.[side]);
  return { side, index, name: str(rec(list[index])?.['name']) };
}

function edgeChanges(before: Rec[], bNodes: Map<string, Rec>, after: Rec[], aNodes: Map<string, Rec>): FlowChange[] {
  const bViews = before.map((e, i) => edgeView(e, i, bNodes));
  const aViews = after.map((e, i) => edgeView(e, i, aNodes));
  const removed: EdgeView[] = [];
  const rewired: FlowChange[] = [];
  const fields: FlowChange[] = [];
  const unmatchedAfter = new Set(aViews);
  const byId = new Map<string, EdgeView[]>();
  for (const v of aViews) byId.set(v.id, [...(byId.get(v.id) ?? []), v]);
  for (const bv of bViews) {
    const av = byId.get(bv.id)?.find((v) => unmatchedAfter.has(v));
    if (av === undefined) {
      removed.push(bv);
      continue;
    }
    unmatchedAfter.delete(av);
    if (bv.wire !== av.wire) {
      rewired.push({ kind: 'edge-rewired', before: bv.ref, after: av.ref });
      continue;
    }
    // Same handles: what is left (a handle spelled out instead of derived from the order, the
    // edge type) is reported field by field.
    for (const key of orderedKeys(bv.edge, av.edge, EDGE_WIRE_KEYS)) {
      if (key === 'id' || key === 'source' || key === 'target') continue;
      if (!sameJson(bv.edge[key], av.edge[key])) fields.push({ kind: 'edge-field', edge: av.ref, field: key, before: json(bv.edge[key]), after: json(av.edge[key]) });
    }
  }
  // Second chance: same source→target, other handles (the id changed with them).
  const stillRemoved: EdgeView[] = [];
  for (const bv of removed) {
    const av = aViews.find((v) => unmatchedAfter.has(v) && v.ref.source === bv.ref.source && v.ref.target === bv.ref.target);
    if (av === undefined) {
      stillRemoved.push(bv);
      continue;
    }
    unmatchedAfter.delete(av);
    if (bv.wire === av.wire) {
      // Only the id changed: a rename of the edge, not a rewiring.
      fields.push({ kind: 'edge-field', edge: av.ref, field: 'id', before: bv.id, after: av.id });
    } else {
      rewired.push({ kind: 'edge-rewired', before: bv.ref, after: av.ref });
    }
  }
  return [
    ...stillRemoved.map((v): FlowChange => ({ kind: 'edge-removed', edge: v.ref })),
    ...aViews.filter((v) => unmatchedAfter.has(v)).map((v): FlowChange => ({ kind: 'edge-added', edge: v.ref })),
    ...rewired,
    ...fields,
  ];
}

// ---------------------------------------------------------------------------------------------
// layout

function layoutChanges(b: FlowParts, a: FlowParts): FlowChange[] {
  const out: FlowChange[] = [];
  for (const [id, node] of a.nodes) {
    const old = b.nodes.get(id);
    if (old === undefined) continue;
    const ref = nodeRef(node);
    const bp = xy(old['position']);
    const ap = xy(node['position']);
    // position_absolute follows position on DB-GPT's canvas; it only counts when it moved alone.
    if (!sameJson(bp, ap) || (!sameJson(xy(old['position_absolute']), xy(node['position_absolute'])))) {
      const field = sameJson(bp, ap) ? 'position_absolute' : 'position';
      out.push({ kind: 'layout', node: ref, field: 'position', before: json(xy(old[field])), after: json(xy(node[field])) });
    }
    const bs = { width: old['width'], height: old['height'] };
    const as = { width: node['width'], height: node['height'] };
    if (!sameJson(bs, as)) out.push({ kind: 'layout', node: ref, field: 'size', before: json(bs), after: json(as) });
    const bu = rec(rec(old['data'])?.['tags'])?.['ui_size'];
    const au = rec(rec(node['data'])?.['tags'])?.['ui_size'];
    if (!sameJson(bu, au)) out.push({ kind: 'layout', node: ref, field: 'ui_size', before: json(bu), after: json(au) });
  }
  if (!sameJson(b.data['viewport'], a.data['viewport'])) {
    out.push({ kind: 'layout', node: null, field: 'viewport', before: json(b.data['viewport']), after: json(a.data['viewport']) });
  }
  return out;
}

function xy(v: unknown): Json {
  const p = rec(v);
  return p === undefined ? null : { x: json(p['x']), y: json(p['y']) };
}

// ---------------------------------------------------------------------------------------------
// counts and graph

function countChanges(changes: FlowChange[]): FlowDiffCounts {
  const c: FlowDiffCounts = {
    flowFields: 0, nodesAdded: 0, nodesRemoved: 0, nodesChanged: 0, parameterValues: 0, parameterOther: 0,
    io: 0, edgesAdded: 0, edgesRemoved: 0, edgesChanged: 0, layout: 0,
  };
  const changedNodes = new Set<string>();
  for (const ch of changes) {
    switch (ch.kind) {
      case 'flow-field': c.flowFields++; break;
      case 'node-added': c.nodesAdded++; break;
      case 'node-removed': c.nodesRemoved++; break;
      case 'node-field': changedNodes.add(ch.node.id); break;
      case 'parameter-value': c.parameterValues++; changedNodes.add(ch.node.id); break;
      case 'parameter-added': case 'parameter-removed': case 'parameter-field': c.parameterOther++; changedNodes.add(ch.node.id); break;
      case 'io-added': case 'io-removed': case 'io-field': c.io++; changedNodes.add(ch.node.id); break;
      case 'edge-added': c.edgesAdded++; break;
      case 'edge-removed': c.edgesRemoved++; break;
      case 'edge-rewired': case 'edge-field': c.edgesChanged++; break;
      case 'layout': c.layout++; break;
    }
  }
  c.nodesChanged = changedNodes.size;
  return c;
}

function diffGraph(
  bNodes: Map<string, Rec>,
  aNodes: Map<string, Rec>,
  bEdges: Rec[],
  aEdges: Rec[],
  changes: FlowChange[],
  layout: FlowChange[],
): DiffGraph {
  const changed = new Set<string>();
  for (const ch of changes) {
    if (ch.kind === 'node-field' || ch.kind.startsWith('parameter-') || ch.kind.startsWith('io-')) {
      if ('node' in ch && ch.node !== null) changed.add(ch.node.id);
    }
  }
  const moved = new Set(layout.flatMap((ch) => (ch.kind === 'layout' && ch.node !== null ? [ch.node.id] : [])));
  const nodes: DiffGraphNode[] = [];
  for (const [id, node] of aNodes) {
    const status: GraphStatus = !bNodes.has(id) ? 'added' : changed.has(id) ? 'changed' : moved.has(id) ? 'moved' : 'unchanged';
    nodes.push({ ...nodeRef(node), status });
  }
  for (const [id, node] of bNodes) if (!aNodes.has(id)) nodes.push({ ...nodeRef(node), status: 'removed' });

  const addedIds = new Set<string>();
  const changedIds = new Set<string>();
  const removedIds = new Set<string>();
  for (const ch of changes) {
    if (ch.kind === 'edge-added') addedIds.add(ch.edge.id);
    if (ch.kind === 'edge-removed') removedIds.add(ch.edge.id);
    if (ch.kind === 'edge-field') changedIds.add(ch.edge.id);
    if (ch.kind === 'edge-rewired') {
      changedIds.add(ch.after.id);
      removedIds.add(ch.before.id);
    }
  }
  const edges: DiffGraphEdge[] = [];
  aEdges.forEach((e, i) => {
    const v = edgeView(e, i, aNodes);
    const status: GraphStatus = addedIds.has(v.id) ? 'added' : changedIds.has(v.id) ? 'changed' : 'unchanged';
    edges.push({ id: v.id, source: v.ref.source, target: v.ref.target, label: portLabel(v.ref.targetPort), status });
  });
  bEdges.forEach((e, i) => {
    const v = edgeView(e, i, bNodes);
    if (!removedIds.has(v.id)) return;
    // A rewired edge keeping its id is drawn twice: the old wire as removed, the new as changed.
    const stillThere = edges.some((x) => x.id === v.id && x.status !== 'changed');
    if (!stillThere) edges.push({ id: v.id, source: v.ref.source, target: v.ref.target, label: portLabel(v.ref.targetPort), status: 'removed' });
  });
  return { nodes, edges };
}

function portLabel(p: PortRef | null): string | null {
  if (p === null) return null;
  return p.name ?? `${p.side}[${p.index}]`;
}

// ---------------------------------------------------------------------------------------------
// JSON helpers


function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Keys of both objects: the preferred order first, then the others in order of appearance. */
function orderedKeys(a: Rec, b: Rec, preferred: readonly string[]): string[] {
  const all = uniq([...Object.keys(a), ...Object.keys(b)]);
  return [...preferred.filter((k) => all.includes(k)), ...all.filter((k) => !preferred.includes(k))];
}

function withoutKey(v: unknown, key: string): unknown {
  const r = rec(v);
  if (r === undefined || !(key in r)) return v;
  const { [key]: _dropped, ...rest } = r;
  return rest;
}

/** A value as JSON: absent becomes null; anything not JSON (never in parsed YAML) becomes its string. */
function json(v: unknown): Json {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(json);
  const r = rec(v);
  if (r !== undefined) return Object.fromEntries(Object.entries(r).map(([k, x]) => [k, json(x)]));
  return String(v);
}

/**
 * Deep equality of JSON values where an absent key equals an explicit null: DB-GPT's exports drop
 * null keys in some paths and keep them in others, which is no change to a reader.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  const ra = a as Rec;
  const rb = b as Rec;
  for (const k of uniq([...Object.keys(ra), ...Object.keys(rb)])) if (!sameJson(ra[k], rb[k])) return false;
  return true;
}
