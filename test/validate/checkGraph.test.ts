import { describe, expect, it } from 'vitest';
import { checkGraph } from '../../src/core/checkGraph.ts';
import type { FlowData, Finding } from '../../src/core/types.ts';
import { baseFlow, dataOf, edge, operatorNode, resourceNode, param, type TestFlow } from './flows.ts';

const graph = (flow: TestFlow): Finding[] => checkGraph(flow.flow_data as unknown as FlowData);
const brief = (fs: Finding[]): string[] => fs.map((f) => `${f.code} ${f.path}`);

describe('checkGraph', () => {
  it('finds nothing in the base flow', () => {
    expect(graph(baseFlow())).toEqual([]);
  });

  it('needs at least one node', () => {
    const flow = baseFlow();
    flow.flow_data.nodes = [];
    flow.flow_data.edges = [];
    expect(graph(flow)).toEqual([
      { code: 'GRAPH_EMPTY', severity: 'error', path: '/flow_data/nodes', file: '', line: 0, col: 0, message: 'flow_data.nodes is empty; DB-GPT needs at least one operator or resource node' },
    ]);
  });

  it('reports a duplicate node id on the second node, naming the first', () => {
    const flow = baseFlow();
    flow.flow_data.nodes.push(operatorNode('a', 0, 1));
    const [f] = graph(flow);
    expect(f).toMatchObject({ code: 'NODE_ID_DUPLICATE', path: '/flow_data/nodes/3/id', message: 'node id "a" is used twice: by nodes[0] and nodes[3]' });
  });

  it('compares data.id with the node id only when data.id is there, as a warning', () => {
    const flow = baseFlow();
    dataOf(flow.flow_data.nodes[1]).id = 'operator_b___$$___common___$$___v1';
    expect(brief(graph(flow))).toEqual(['NODE_DATA_ID_MISMATCH /flow_data/nodes/1/data/id']);
    // DB-GPT's own templates of 2025-03 kept node ids of a renamed class (dbgpt → dbgpt_ext), and DB-GPT accepts them.
    expect(graph(flow)[0]?.severity).toBe('warning');
    delete dataOf(flow.flow_data.nodes[1]).id;
    expect(graph(flow)).toEqual([]);
  });

  it('reports edges to and from nodes that do not exist, with the edge and the node', () => {
    const flow = baseFlow();
    flow.flow_data.edges[0] = { ...edge('a', 0, 'b', 0), id: 'x|y', source: 'x', target: 'y', source_handle: null, target_handle: null };
    expect(graph(flow).map((f) => [f.code, f.path, f.message])).toEqual([
      ['EDGE_SOURCE_MISSING', '/flow_data/edges/0/source', 'edge "x|y" starts at node "x", which does not exist'],
      ['EDGE_TARGET_MISSING', '/flow_data/edges/0/target', 'edge "x|y" points at node "y", which does not exist'],
    ]);
  });

  it('refuses operator → resource edges and leaves them out of the cycle check', () => {
    const flow = baseFlow();
    flow.flow_data.edges.push(edge('b', 0, 'r', 0, 'parameters'));
    const fs = graph(flow);
    expect(brief(fs)).toEqual(['EDGE_OPERATOR_TO_RESOURCE /flow_data/edges/2']);
    expect(fs[0]?.message).toBe('edge "b|r" goes from operator "b" to resource "r"; only resources feed operators and resources');
  });

  describe('handles', () => {
    it.each([
      ['a|outputs', 'source_handle', 'EDGE_HANDLE_MALFORMED'],
      ['z|outputs|0', 'source_handle', 'EDGE_HANDLE_MALFORMED'],
      ['a|inputs|0', 'source_handle', 'EDGE_HANDLE_MALFORMED'],
      ['a|outputs|01', 'source_handle', 'EDGE_HANDLE_MALFORMED'],
      ['a|outputs|-1', 'source_handle', 'EDGE_HANDLE_MALFORMED'],
      ['a|outputs|1', 'source_handle', 'EDGE_HANDLE_OUT_OF_RANGE'],
    ])('source_handle %s → %s', (handle, key, code) => {
      const flow = baseFlow();
      const e = flow.flow_data.edges[0]!;
      e.source_handle = handle;
      delete e.source_order;
      expect(brief(graph(flow))).toEqual([`${code} /flow_data/edges/0/${key}`]);
    });

    it('says which node a handle names when it is not the edge end', () => {
      const flow = baseFlow();
      flow.flow_data.edges[0]!.target_handle = 'a|inputs|0';
      expect(graph(flow)[0]?.message).toBe('target_handle "a|inputs|0" names node "a", but the edge\'s target is "b"');
    });

    it('counts inputs for operator targets and says how many there are', () => {
      const flow = baseFlow();
      Object.assign(flow.flow_data.edges[0]!, { target_handle: 'b|inputs|1', target_order: 1 });
      expect(graph(flow)[0]).toMatchObject({
        code: 'EDGE_HANDLE_OUT_OF_RANGE',
        path: '/flow_data/edges/0/target_handle',
        message: 'target_handle "b|inputs|1" points at input 1 of operator "b", which has 1 input',
      });
    });

    it('range-checks an order when there is no handle', () => {
      const flow = baseFlow();
      Object.assign(flow.flow_data.edges[0]!, { source_handle: null, source_order: 3 });
      expect(graph(flow)[0]).toMatchObject({ code: 'EDGE_HANDLE_OUT_OF_RANGE', path: '/flow_data/edges/0/source_order', message: 'source_order 3 of edge "a|b" points past the outputs of operator "a", which has 1 output' });
    });

    it('reports an order that disagrees with its handle, reading the order as DB-GPT does', () => {
      const flow = baseFlow();
      const b = dataOf(flow.flow_data.nodes[1]);
      (b.inputs as unknown[]).push({ type_name: 'str', type_cls: 'builtins.str', label: 'in_1', name: 'in_1', description: 'x' });
      flow.flow_data.edges[0]!.target_order = '1';
      expect(graph(flow)[0]).toMatchObject({ code: 'EDGE_ORDER_MISMATCH', path: '/flow_data/edges/0/target_order', message: 'target_order of edge "a|b" is 1, but its target_handle "b|inputs|0" says 0' });
      flow.flow_data.edges[0]!.target_order = ' 0 ';
      expect(graph(flow)).toEqual([]);
    });

    it('accepts edges without any handle (DB-GPT uses the orders)', () => {
      const flow = baseFlow();
      for (const e of flow.flow_data.edges) {
        delete e.source_handle;
        delete e.target_handle;
      }
      expect(graph(flow)).toEqual([]);
    });
  });

  describe('resource edges', () => {
    it('must end on a parameter handle', () => {
      const flow = baseFlow();
      flow.flow_data.edges[1]!.target_handle = 'b|inputs|0';
      expect(graph(flow)[0]).toMatchObject({ code: 'EDGE_RESOURCE_TARGET', path: '/flow_data/edges/1/target_handle', message: 'resource edge "r|b" must end on a parameter handle "b|parameters|<index>", found "b|inputs|0"' });
    });

    it('must end on a parameter of category resource', () => {
      const flow = baseFlow();
      Object.assign(flow.flow_data.edges[1]!, { target_handle: 'b|parameters|1', target_order: 1 });
      expect(graph(flow)[0]).toMatchObject({
        code: 'EDGE_RESOURCE_TARGET',
        message: 'resource edge "r|b" ends on parameter 1 ("temperature") of operator "b", whose category is "common", not "resource"',
      });
    });

    it('uses the order derived from the handle when target_order is absent', () => {
      const flow = baseFlow();
      const e = flow.flow_data.edges[1]!;
      delete e.target_order;
      e.target_handle = 'b|parameters|1';
      expect(brief(graph(flow))).toEqual(['EDGE_RESOURCE_TARGET /flow_data/edges/1/target_handle']);
    });

    it('points at target_order when the edge has no handle', () => {
      const flow = baseFlow();
      Object.assign(flow.flow_data.edges[1]!, { target_handle: null, target_order: 1 });
      expect(brief(graph(flow))).toEqual(['EDGE_RESOURCE_TARGET /flow_data/edges/1/target_order']);
    });

    it('may feed another resource', () => {
      const flow = baseFlow();
      flow.flow_data.nodes.push(resourceNode('s', [param('inner', 'resource')]));
      flow.flow_data.edges.push(edge('r', 0, 's', 0, 'parameters'));
      expect(graph(flow)).toEqual([]);
    });

    it('every resource is connected once one is (DB-GPT cannot build the mix)', () => {
      const flow = baseFlow();
      flow.flow_data.nodes.push(resourceNode('lonely'));
      expect(graph(flow)[0]).toMatchObject({ code: 'NODE_RESOURCE_UNCONNECTED', path: '/flow_data/nodes/3/id' });
      flow.flow_data.edges.pop();
      expect(graph(flow)).toEqual([]);
    });
  });

  describe('cycles', () => {
    it('reports one cycle with its node ids, at the edge that closes it', () => {
      const flow = baseFlow();
      flow.flow_data.nodes = [operatorNode('a', 1, 1), operatorNode('b', 1, 1), operatorNode('c', 1, 1)];
      flow.flow_data.edges = [edge('a', 0, 'b', 0), edge('b', 0, 'c', 0), edge('c', 0, 'a', 0)];
      expect(graph(flow)).toEqual([
        { code: 'GRAPH_CYCLE', severity: 'error', path: '/flow_data/edges/2', file: '', line: 0, col: 0, message: 'the edges form a cycle: "a" → "b" → "c" → "a"' },
      ]);
    });

    it('sees a self-loop', () => {
      const flow = baseFlow();
      flow.flow_data.nodes = [operatorNode('a', 1, 1)];
      flow.flow_data.edges = [edge('a', 0, 'a', 0)];
      expect(graph(flow)[0]?.message).toBe('the edges form a cycle: "a" → "a"');
    });

    it('does not mistake a diamond for a cycle, and copes with long chains', () => {
      const flow = baseFlow();
      const n = 5000;
      flow.flow_data.nodes = Array.from({ length: n }, (_, i) => operatorNode(`n${i}`, 2, 1));
      flow.flow_data.edges = Array.from({ length: n - 1 }, (_, i) => edge(`n${i}`, 0, `n${i + 1}`, 0));
      flow.flow_data.edges.push(edge('n0', 0, 'n2', 1));
      expect(graph(flow)).toEqual([]);
    });
  });
});
