import { FINDING_CODES, type FindingCode } from './findingCodes.ts';
import { laxInt } from './flowSchema.ts';
import type { FlowData, FlowEdge, FlowNode, Finding, Json } from './types.ts';

function finding(code: FindingCode, path: string, message: string): Finding {
  return { code, severity: FINDING_CODES[code].severity, path, file: '', line: 0, col: 0, message };
}

const INDEX_RE = /^(0|[1-9][0-9]*)$/;

type Side = 'source' | 'target';
type HandleKind = 'outputs' | 'inputs' | 'parameters';

function listOf(data: Record<string, Json>, key: string): Json[] {
  const v = data[key];
  return Array.isArray(v) ? v : [];
}

function isOperator(node: FlowNode): boolean {
  return node.data.flow_type === 'operator';
}

function kindWord(node: FlowNode): string {
  return isOperator(node) ? 'operator' : 'resource';
}

/**
 * The order DB-GPT uses for one side of an edge: `<side>_order` when present, else the integer
 * after the last `|` of the handle (FlowEdgeData.pre_fill); undefined when neither gives one.
 */
function effectiveOrder(edge: FlowEdge, side: Side): number | undefined {
  const order = edge[`${side}_order`];
  if (order !== undefined) return laxInt(order);
  const handle = edge[`${side}_handle`];
  if (typeof handle !== 'string') return undefined;
  const last = handle.split('|').pop() ?? '';
  return /^\s*[+-]?[0-9](?:_?[0-9])*\s*$/.test(last) ? Number(last.replace(/[\s_]/g, '')) : undefined;
}

/**
 * The graph rules of docs/validation.md over a schema-valid `flow_data`: at least one node,
 * unique node ids, `data.id` equal to the node id, edges between existing nodes, handles well
 * formed and in range, orders that agree with handles, resource edges on `resource` parameters,
 * no operator→resource edge, no cycle. Paths point into the file (`/flow_data/...`).
 */
export function checkGraph(flowData: FlowData): Finding[] {
  const out: Finding[] = [];
  const nodes = flowData.nodes;
  if (nodes.length === 0) {
    out.push(finding('GRAPH_EMPTY', '/flow_data/nodes', 'flow_data.nodes is empty; DB-GPT needs at least one operator or resource node'));
  }
  const byId = new Map<string, { index: number; node: FlowNode }>();
  nodes.forEach((node, i) => {
    const first = byId.get(node.id);
    if (first !== undefined) {
      out.push(finding('NODE_ID_DUPLICATE', `/flow_data/nodes/${i}/id`, `node id "${node.id}" is used twice: by nodes[${first.index}] and nodes[${i}]`));
    } else {
      byId.set(node.id, { index: i, node });
    }
    // DB-GPT fills a missing data.id itself and never compares it with the node id, so this is
    // a warning: a present one normally agrees, except after DB-GPT renamed a class.
    const dataId = node.data.id;
    if (dataId !== undefined && dataId !== node.id) {
      out.push(finding('NODE_DATA_ID_MISMATCH', `/flow_data/nodes/${i}/data/id`, `nodes[${i}].data.id is ${JSON.stringify(dataId)}, but the node id is "${node.id}"; DB-GPT's UI keeps them equal`));
    }
  });

  const adjacency = new Map<string, { to: string; edge: number }[]>();
  flowData.edges.forEach((edge, k) => {
    const base = `/flow_data/edges/${k}`;
    const name = `edge "${edge.id}"`;
    const source = byId.get(edge.source)?.node;
    const target = byId.get(edge.target)?.node;
    if (source === undefined) out.push(finding('EDGE_SOURCE_MISSING', `${base}/source`, `${name} starts at node "${edge.source}", which does not exist`));
    if (target === undefined) out.push(finding('EDGE_TARGET_MISSING', `${base}/target`, `${name} points at node "${edge.target}", which does not exist`));
    if (source === undefined || target === undefined) return;
    if (isOperator(source) && !isOperator(target)) {
      out.push(finding('EDGE_OPERATOR_TO_RESOURCE', base, `${name} goes from operator "${source.id}" to resource "${target.id}"; only resources feed operators and resources`));
      return; // DB-GPT stops here, before its cycle check: keep this edge out of ours too
    }
    const list = adjacency.get(edge.source) ?? [];
    list.push({ to: edge.target, edge: k });
    adjacency.set(edge.source, list);
    const resourceEdge = !isOperator(source);
    // Source side: an operator's outputs; a resource has exactly one output handle, index 0.
    out.push(...checkSide(edge, k, 'source', source, 'outputs', isOperator(source) ? listOf(source.data, 'outputs').length : 1));
    const targetKind: HandleKind = resourceEdge ? 'parameters' : 'inputs';
    const targetList = listOf(target.data, targetKind);
    const targetFindings = checkSide(edge, k, 'target', target, targetKind, targetList.length);
    out.push(...targetFindings);
    // One finding per target: a resource edge's parameter is judged only once its handle is sound.
    if (resourceEdge && targetFindings.length === 0) out.push(...checkResourceTarget(edge, k, target, targetList));
  });

  out.push(...unconnectedResources(nodes, flowData.edges));
  const cycle = findCycle(nodes.map((n) => n.id), adjacency);
  if (cycle !== undefined) {
    out.push(finding('GRAPH_CYCLE', `/flow_data/edges/${cycle.edge}`, `the edges form a cycle: ${cycle.nodes.map((id) => `"${id}"`).join(' → ')}`));
  }
  return out;
}

function countWord(n: number, kind: HandleKind): string {
  const singular = { outputs: 'output', inputs: 'input', parameters: 'parameter' }[kind];
  return `${n} ${n === 1 ? singular : kind}`;
}

/** Handle form and range, and agreement of the order with the handle, for one side of an edge. */
function checkSide(edge: FlowEdge, k: number, side: Side, node: FlowNode, kind: HandleKind, count: number): Finding[] {
  const base = `/flow_data/edges/${k}`;
  const handleKey = `${side}_handle` as const;
  const orderKey = `${side}_order` as const;
  const handle = edge[handleKey];
  const order = edge[orderKey];
  const of = `${kindWord(node)} "${node.id}"`;
  if (typeof handle !== 'string') {
    // No handle (DB-GPT's UI always writes one): the order alone must be in range.
    const n = laxInt(order);
    if (n !== undefined && (n < 0 || n >= count)) {
      return [finding('EDGE_HANDLE_OUT_OF_RANGE', `${base}/${orderKey}`, `${orderKey} ${n} of edge "${edge.id}" points past the ${kind} of ${of}, which has ${countWord(count, kind)}`)];
    }
    return [];
  }
  const parts = handle.split('|');
  const expected = `"${node.id}|${kind}|<index>"`;
  if (parts.length < 3) {
    return [finding('EDGE_HANDLE_MALFORMED', `${base}/${handleKey}`, `${handleKey} ${JSON.stringify(handle)} is not of the form ${expected}`)];
  }
  const index = parts.pop() as string;
  const handleKind = parts.pop() as string;
  const prefix = parts.join('|');
  if (prefix !== node.id) {
    return [finding('EDGE_HANDLE_MALFORMED', `${base}/${handleKey}`, `${handleKey} ${JSON.stringify(handle)} names node "${prefix}", but the edge's ${side} is "${node.id}"`)];
  }
  if (handleKind !== kind) {
    if (side === 'target' && kind === 'parameters') {
      return [finding('EDGE_RESOURCE_TARGET', `${base}/${handleKey}`, `resource edge "${edge.id}" must end on a parameter handle ${expected}, found ${JSON.stringify(handle)}`)];
    }
    return [finding('EDGE_HANDLE_MALFORMED', `${base}/${handleKey}`, `${handleKey} ${JSON.stringify(handle)} is not of the form ${expected}`)];
  }
  if (!INDEX_RE.test(index)) {
    return [finding('EDGE_HANDLE_MALFORMED', `${base}/${handleKey}`, `${handleKey} ${JSON.stringify(handle)} does not end in an index (${expected})`)];
  }
  const i = Number(index);
  const out: Finding[] = [];
  if (i >= count) {
    out.push(finding('EDGE_HANDLE_OUT_OF_RANGE', `${base}/${handleKey}`, `${handleKey} ${JSON.stringify(handle)} points at ${kind.replace(/s$/, '')} ${i} of ${of}, which has ${countWord(count, kind)}`));
  }
  const n = order === undefined ? undefined : laxInt(order);
  if (n !== undefined && n !== i) {
    out.push(finding('EDGE_ORDER_MISMATCH', `${base}/${orderKey}`, `${orderKey} of edge "${edge.id}" is ${n}, but its ${handleKey} ${JSON.stringify(handle)} says ${i}`));
  }
  return out;
}

/**
 * A resource edge fills the target parameter at the edge's target order (FlowFactory.build): it
 * must exist (the handle range check reports it when a handle is there) and be a resource parameter.
 */
function checkResourceTarget(edge: FlowEdge, k: number, target: FlowNode, params: Json[]): Finding[] {
  const order = effectiveOrder(edge, 'target');
  if (order === undefined) return [];
  const param = order >= 0 ? params[order] : undefined;
  const at = `/flow_data/edges/${k}/${typeof edge.target_handle === 'string' ? 'target_handle' : 'target_order'}`;
  if (param === undefined || param === null || typeof param !== 'object' || Array.isArray(param)) return [];
  if (param.category !== 'resource') {
    const pname = typeof param.name === 'string' ? ` ("${param.name}")` : '';
    return [
      finding(
        'EDGE_RESOURCE_TARGET',
        at,
        `resource edge "${edge.id}" ends on parameter ${order}${pname} of ${kindWord(target)} "${target.id}", whose category is ${JSON.stringify(param.category)}, not "resource"`,
      ),
    ];
  }
  return [];
}

/**
 * DB-GPT sorts resource nodes by topological order, or by id for a node without edges; a mix of
 * both makes Python compare a number with a string, and the flow fails to build. So when any
 * resource is connected, every resource must be.
 */
function unconnectedResources(nodes: FlowNode[], edges: FlowEdge[]): Finding[] {
  const connected = new Set<string>();
  for (const e of edges) {
    connected.add(e.source);
    connected.add(e.target);
  }
  const resources = nodes.map((node, i) => ({ node, i })).filter(({ node }) => !isOperator(node));
  if (!resources.some(({ node }) => connected.has(node.id))) return [];
  return resources
    .filter(({ node }) => !connected.has(node.id))
    .map(({ node, i }) =>
      finding('NODE_RESOURCE_UNCONNECTED', `/flow_data/nodes/${i}/id`, `resource node "${node.id}" has no edge; DB-GPT cannot build a flow in which some resources are connected and others are not`),
    );
}

/** One cycle of the graph (node ids, first repeated last) and the edge that closes it. */
function findCycle(ids: string[], adjacency: Map<string, { to: string; edge: number }[]>): { nodes: string[]; edge: number } | undefined {
  const state = new Map<string, 1 | 2>(); // 1 on the current path, 2 done
  for (const start of ids) {
    if (state.has(start)) continue;
    // Iterative DFS: flows are small, but a recursive walk would still be a stack risk on generated ones.
    const path: string[] = [start];
    const cursor: number[] = [0];
    state.set(start, 1);
    while (path.length > 0) {
      const at = path[path.length - 1] as string;
      const next = adjacency.get(at) ?? [];
      const i = cursor[cursor.length - 1] as number;
      if (i >= next.length) {
        state.set(at, 2);
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[cursor.length - 1] = i + 1;
      const step = next[i] as { to: string; edge: number };
      const s = state.get(step.to);
      if (s === 1) {
        const from = path.indexOf(step.to);
        return { nodes: [...path.slice(from), step.to], edge: step.edge };
      }
      if (s === undefined) {
        state.set(step.to, 1);
        path.push(step.to);
        cursor.push(0);
      }
    }
  }
  return undefined;
}
