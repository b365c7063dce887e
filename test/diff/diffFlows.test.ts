import { describe, expect, it } from 'vitest';
import { diffFlows, graphOfFlow, type FlowChange } from '../../src/core/diffFlows.ts';
import type { FlowEdge, FlowFile, FlowNode, JsonObject } from '../../src/core/types.ts';
import { clone, corpusFiles, corpusFlow } from './corpus.ts';

const files = corpusFiles();

function nodesOf(flow: FlowFile): FlowNode[] {
  return flow.flow_data?.nodes ?? [];
}

function edgesOf(flow: FlowFile): FlowEdge[] {
  return flow.flow_data?.edges ?? [];
}

function paramsOf(node: FlowNode): JsonObject[] {
  return node.data['parameters'] as JsonObject[];
}

/** The first node with a common (non-resource) parameter, and that parameter's index. */
function firstCommonParameter(flow: FlowFile): { node: FlowNode; index: number } {
  for (const node of nodesOf(flow)) {
    const index = paramsOf(node).findIndex((p) => p['category'] === 'common');
    if (index >= 0) return { node, index };
  }
  throw new Error(`no common parameter in ${flow.name}`);
}

/** Two operator nodes not yet joined by an edge, the source having an output and the target an input. */
function unconnectedPair(flow: FlowFile): { source: FlowNode; target: FlowNode } {
  const ops = nodesOf(flow).filter((n) => n.data['flow_type'] === 'operator');
  for (const source of ops) {
    if ((source.data['outputs'] as unknown[]).length === 0) continue;
    for (const target of ops) {
      if (target === source || (target.data['inputs'] as unknown[]).length === 0) continue;
      if (!edgesOf(flow).some((e) => e.source === source.id && e.target === target.id)) return { source, target };
    }
  }
  throw new Error(`no unconnected pair in ${flow.name}`);
}

describe('diffFlows on the corpus', () => {
  it.each(files)('%s against itself is unchanged', (file) => {
    const flow = corpusFlow(file);
    const d = diffFlows(flow, clone(flow));
    expect(d.status).toBe('unchanged');
    expect(d.changes).toEqual([]);
    expect(d.layoutChanged).toBe(false);
    expect(d.graph.nodes.map((n) => n.status).every((s) => s === 'unchanged')).toBe(true);
    expect(d.graph.nodes).toHaveLength(nodesOf(flow).length);
    expect(d.graph.edges).toHaveLength(edgesOf(flow).length);
  });

  it.each(files)('%s: one parameter value changed gives exactly one parameter-value entry', (file) => {
    const before = corpusFlow(file);
    const after = clone(before);
    const { node, index } = firstCommonParameter(after);
    const param = paramsOf(node)[index] as JsonObject;
    const old = param['value'] ?? null;
    param['value'] = 'changed-by-test';
    const d = diffFlows(before, after);
    expect(d.status).toBe('modified');
    expect(d.changes).toEqual([
      {
        kind: 'parameter-value',
        node: {
          id: node.id,
          label: (node.data['custom_label'] as string | null) ?? node.data['label'],
          flowType: node.data['flow_type'],
          category: node.data['category'],
        },
        parameter: param['name'],
        parameterLabel: param['label'],
        before: old,
        after: 'changed-by-test',
      },
    ]);
    expect(d.counts).toMatchObject({ parameterValues: 1, nodesChanged: 1, parameterOther: 0, edgesAdded: 0 });
    expect(d.graph.nodes.filter((n) => n.status !== 'unchanged')).toEqual([expect.objectContaining({ id: node.id, status: 'changed' })]);
  });

  it.each(files)('%s: moving every node and the viewport is layout only', (file) => {
    const before = corpusFlow(file);
    const after = clone(before);
    for (const [i, n] of nodesOf(after).entries()) {
      n.position.x += 100 + i;
      n.position.y -= 37.5;
      n.position_absolute.x += 100 + i;
      n.position_absolute.y -= 37.5;
    }
    after.flow_data!.viewport = { x: 1, y: 2, zoom: 0.5 };
    const d = diffFlows(before, after);
    expect(d.status).toBe('unchanged');
    expect(d.changes).toEqual([]);
    expect(d.layoutChanged).toBe(true);

    const withLayout = diffFlows(before, after, { layout: true });
    expect(withLayout.changes).toHaveLength(nodesOf(before).length + 1);
    expect(withLayout.changes.every((c) => c.kind === 'layout')).toBe(true);
    const first = nodesOf(before)[0] as FlowNode;
    expect(withLayout.changes[0]).toEqual({
      kind: 'layout',
      node: expect.objectContaining({ id: first.id }),
      field: 'position',
      before: { x: first.position.x, y: first.position.y },
      after: { x: first.position.x + 100, y: first.position.y - 37.5 },
    });
    expect(withLayout.changes.at(-1)).toMatchObject({ kind: 'layout', node: null, field: 'viewport', after: { x: 1, y: 2, zoom: 0.5 } });
    expect(withLayout.counts.layout).toBe(nodesOf(before).length + 1);
    expect(withLayout.graph.nodes.every((n) => n.status === 'moved')).toBe(true);
  });

  it.each(files)('%s: adding one edge gives exactly one edge-added entry', (file) => {
    const before = corpusFlow(file);
    const after = clone(before);
    const { source, target } = unconnectedPair(after);
    edgesOf(after).push({
      source: source.id,
      source_order: 0,
      target: target.id,
      target_order: 0,
      id: `${source.id}|${target.id}`,
      source_handle: `${source.id}|outputs|0`,
      target_handle: `${target.id}|inputs|0`,
      type: 'buttonedge',
    });
    const d = diffFlows(before, after);
    expect(d.changes).toHaveLength(1);
    const [only] = d.changes as [FlowChange];
    expect(only.kind).toBe('edge-added');
    expect(only).toMatchObject({
      edge: {
        id: `${source.id}|${target.id}`,
        source: source.id,
        target: target.id,
        sourcePort: { side: 'outputs', index: 0, name: (source.data['outputs'] as JsonObject[])[0]?.['name'] },
        targetPort: { side: 'inputs', index: 0, name: (target.data['inputs'] as JsonObject[])[0]?.['name'] },
      },
    });
    expect(d.counts).toMatchObject({ edgesAdded: 1, edgesRemoved: 0, edgesChanged: 0, nodesChanged: 0 });
    expect(d.graph.edges.filter((e) => e.status !== 'unchanged')).toEqual([expect.objectContaining({ status: 'added', source: source.id, target: target.id })]);
  });

  it.each(files)('%s: a new flow lists every node and edge as added; a deleted one as removed', (file) => {
    const flow = corpusFlow(file);
    const added = diffFlows(null, flow);
    expect(added.status).toBe('added');
    expect(added.uid).toBe(flow.uid);
    expect(added.counts).toMatchObject({ nodesAdded: nodesOf(flow).length, edgesAdded: edgesOf(flow).length, flowFields: 0 });
    expect(added.graph.nodes.every((n) => n.status === 'added')).toBe(true);
    const deleted = diffFlows(flow, null);
    expect(deleted.status).toBe('deleted');
    expect(deleted.name).toBe(flow.name);
    expect(deleted.counts).toMatchObject({ nodesRemoved: nodesOf(flow).length, edgesRemoved: edgesOf(flow).length });
    expect(deleted.graph.edges.every((e) => e.status === 'removed')).toBe(true);
  });

  it.each(files)('%s: the diff is plain JSON', (file) => {
    const before = corpusFlow(file);
    const after = clone(before);
    nodesOf(after).pop();
    after.label = 'Relabelled';
    const d = diffFlows(before, after, { layout: true });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

describe('diffFlows kinds of change', () => {
  const base = (): FlowFile => corpusFlow('chat-data-awel-flow-template.json');
  const node = (flow: FlowFile, label: string): FlowNode => nodesOf(flow).find((n) => n.data['label'] === label) as FlowNode;

  it('reports flow-level fields and a rename', () => {
    const before = base();
    const after = clone(before);
    after.name = 'chat_data_renamed';
    after.label = 'Chat Data (renamed)';
    after.description = 'new description';
    after.state = 'deployed';
    after.editable = false;
    after.flow_category = 'common';
    const d = diffFlows(before, after);
    expect(d.status).toBe('renamed');
    expect(d.previousName).toBe('chat_data_awel_flow_template');
    expect(d.name).toBe('chat_data_renamed');
    expect(d.changes.map((c) => (c.kind === 'flow-field' ? [c.field, c.before, c.after] : c.kind))).toEqual([
      ['name', 'chat_data_awel_flow_template', 'chat_data_renamed'],
      ['label', before.label, 'Chat Data (renamed)'],
      ['description', before.description, 'new description'],
      ['flow_category', 'chat_flow', 'common'],
      ['state', before.state, 'deployed'],
      ['editable', before.editable, false],
    ]);
    expect(d.counts.flowFields).toBe(6);
  });

  it('matches variables by key and ignores derived fields', () => {
    const before = base();
    before.variables = [
      { key: 'a', label: 'A', category: 'common', scope: 'global', value: '1' },
      { key: 'b', label: 'B', category: 'common', scope: 'global', value: '2' },
    ];
    const after = clone(before);
    after.variables = [
      { key: 'b', label: 'B', category: 'common', scope: 'global', value: '3' },
      { key: 'a', label: 'A', category: 'common', scope: 'global', value: '1' },
    ];
    after['version'] = 'abc';
    after['gmt_modified'] = '2026-01-01 00:00:00';
    const d = diffFlows(before, after);
    expect(d.changes).toEqual([
      {
        kind: 'flow-field',
        field: 'variables.b',
        before: { key: 'b', label: 'B', category: 'common', scope: 'global', value: '2' },
        after: { key: 'b', label: 'B', category: 'common', scope: 'global', value: '3' },
      },
    ]);
  });

  it('tells parameter options, defaults, additions and removals apart from values', () => {
    const before = base();
    const after = clone(before);
    const trigger = node(after, 'Common LLM Http Trigger');
    const params = paramsOf(trigger);
    const methods = params.find((p) => p['name'] === 'methods') as JsonObject;
    methods['options'] = [{ label: 'HTTP Method GET', name: 'http_get', value: 'GET', children: null }];
    methods['default'] = 'GET';
    const removed = params.splice(params.findIndex((p) => p['name'] === 'endpoint'), 1)[0] as JsonObject;
    params.push({ ...removed, name: 'endpoint_v2', label: 'API Endpoint v2' });
    const d = diffFlows(before, after);
    const ref = expect.objectContaining({ id: trigger.id, label: 'Common LLM Http Trigger' });
    expect(d.changes).toEqual([
      { kind: 'parameter-removed', node: ref, parameter: 'endpoint', parameterLabel: 'API Endpoint' },
      { kind: 'parameter-field', node: ref, parameter: 'methods', parameterLabel: 'Http Methods', field: 'default', before: 'POST', after: 'GET' },
      expect.objectContaining({ kind: 'parameter-field', parameter: 'methods', field: 'options', after: [{ label: 'HTTP Method GET', name: 'http_get', value: 'GET', children: null }] }),
      { kind: 'parameter-added', node: ref, parameter: 'endpoint_v2', parameterLabel: 'API Endpoint v2' },
    ]);
    expect(d.counts).toMatchObject({ parameterValues: 0, parameterOther: 4, nodesChanged: 1 });
  });

  it('reports inputs and outputs by index, and node data fields', () => {
    const before = base();
    const after = clone(before);
    const join = node(after, 'String Join Operator');
    (join.data['inputs'] as JsonObject[])[1]!['label'] = 'Second string';
    (join.data['outputs'] as JsonObject[]).push({ type_name: 'str', type_cls: 'builtins.str', label: 'Extra', name: 'extra', description: 'x', dynamic: false, dynamic_minimum: 0, is_list: false, mappers: null });
    join.data['custom_label'] = 'Join them';
    const d = diffFlows(before, after);
    const ref = { id: join.id, label: 'Join them', flowType: 'operator', category: 'common' };
    expect(d.changes).toEqual([
      { kind: 'node-field', node: ref, field: 'data.custom_label', before: null, after: 'Join them' },
      { kind: 'io-field', node: ref, side: 'inputs', index: 1, name: (join.data['inputs'] as JsonObject[])[1]!['name'], field: 'label', before: (node(before, 'String Join Operator').data['inputs'] as JsonObject[])[1]!['label'], after: 'Second string' },
      { kind: 'io-added', node: ref, side: 'outputs', index: 1, name: 'extra' },
    ]);
  });

  it('reports a removed node with its edges, and a rewired edge', () => {
    const before = base();
    const after = clone(before);
    const parser = node(after, 'SQL Output Parser');
    after.flow_data!.nodes = nodesOf(after).filter((n) => n !== parser);
    after.flow_data!.edges = edgesOf(after).filter((e) => e.source !== parser.id && e.target !== parser.id);
    // Report Analyst's second input comes from the executor's output 1; move it to output 0.
    const rewired = edgesOf(after).find((e) => e.target_handle?.endsWith('report_analyst___$$___database___$$___v1_0|inputs|1')) as FlowEdge;
    rewired.source_handle = `${rewired.source}|outputs|0`;
    rewired.source_order = 0;
    const d = diffFlows(before, after);
    expect(d.changes.map((c) => c.kind)).toEqual(['node-removed', 'edge-removed', 'edge-removed', 'edge-rewired']);
    expect(d.changes[0]).toMatchObject({ node: { id: parser.id, label: 'SQL Output Parser' } });
    expect(d.changes[3]).toMatchObject({
      before: { id: rewired.id, sourcePort: { side: 'outputs', index: 1 }, targetPort: { side: 'inputs', index: 1 } },
      after: { id: rewired.id, sourcePort: { side: 'outputs', index: 0 }, targetPort: { side: 'inputs', index: 1 } },
    });
    expect(d.graph.nodes.find((n) => n.id === parser.id)?.status).toBe('removed');
    expect(d.graph.edges.filter((e) => e.id === rewired.id).map((e) => e.status).sort()).toEqual(['changed', 'removed']);
    expect(d.counts).toMatchObject({ nodesRemoved: 1, edgesRemoved: 2, edgesChanged: 1 });
  });

  it('sees a rewiring to another handle with a new edge id as rewired, not removed + added', () => {
    const before = base();
    const after = clone(before);
    const edge = edgesOf(after)[0] as FlowEdge;
    edge.id = `${edge.id}-v2`;
    edge.target_handle = `${edge.target}|inputs|0`;
    edge.target_order = 0;
    const d = diffFlows(before, after);
    expect(d.changes.map((c) => c.kind)).toEqual(['edge-rewired']);
  });

  it('ignores reordering of nodes, edges and parameters, sizes and ui_size unless asked', () => {
    const before = base();
    const after = clone(before);
    after.flow_data!.nodes.reverse();
    after.flow_data!.edges.reverse();
    for (const n of nodesOf(after)) paramsOf(n).reverse();
    const n0 = nodesOf(after)[0] as FlowNode;
    n0.width += 10;
    (n0.data['tags'] as JsonObject)['ui_size'] = 'large';
    const d = diffFlows(before, after);
    expect(d.changes).toEqual([]);
    expect(d.layoutChanged).toBe(true);
    expect(diffFlows(before, after, { layout: true }).changes.map((c) => (c.kind === 'layout' ? c.field : c.kind))).toEqual(['size', 'ui_size']);
  });

  it('treats an absent key and an explicit null alike', () => {
    const before = base();
    const after = clone(before);
    for (const n of nodesOf(after)) for (const p of paramsOf(n)) if (p['placeholder'] === null) delete p['placeholder'];
    delete after.source_url;
    expect(diffFlows(before, after).changes).toEqual([]);
  });

  it('never throws on malformed flows', () => {
    const good = base();
    const broken = { uid: good.uid, name: good.name, label: good.label, flow_data: { nodes: 'oops', edges: [null, 3] } } as unknown as FlowFile;
    const d = diffFlows(good, broken);
    expect(d.counts.nodesRemoved).toBe(nodesOf(good).length);
    expect(diffFlows(broken, broken).status).toBe('unchanged');
    expect(diffFlows({ uid: 'x', name: 'x', label: 'x', flow_data: null }, null).status).toBe('deleted');
  });

  it('draws a flow on its own with graphOfFlow', () => {
    const flow = base();
    const g = graphOfFlow(flow);
    expect(g.nodes.map((n) => n.label)).toEqual(nodesOf(flow).map((n) => n.data['label']));
    expect(g.edges).toHaveLength(12);
    const prompt = g.edges.find((e) => e.source.startsWith('resource_dbgpt.core.interface.operators.prompt_operator'));
    expect(prompt?.label).toBe('prompt_template');
  });
});
