/** Small flows for the validator's tests: valid as built, so each test breaks one thing. */
import type { JsonObject } from '../../src/core/types.ts';

/** A flow as tests build and break it: plain JSON, with the graph lists typed for easy access. */
export type TestFlow = JsonObject & { flow_data: JsonObject & { nodes: JsonObject[]; edges: JsonObject[]; viewport: JsonObject } };

const io = (name: string): JsonObject => ({ type_name: 'str', type_cls: 'builtins.str', label: name, name, description: `The ${name}.` });

const param = (name: string, category: string, extra: JsonObject = {}): JsonObject => ({
  type_name: 'str',
  type_cls: 'builtins.str',
  label: name,
  name,
  category,
  optional: true,
  ...extra,
});

const position = (): JsonObject => ({ x: 0, y: 0, zoom: 0 });

/** An operator node whose data.id equals its id, with `inputs`/`outputs` simple str fields. */
export function operatorNode(id: string, inputs: number, outputs: number, parameters: JsonObject[] = []): JsonObject {
  return {
    id,
    type: 'customNode',
    width: 320,
    height: 240,
    position: position(),
    position_absolute: position(),
    data: {
      label: id,
      name: id,
      description: `Operator ${id}.`,
      category: 'common',
      flow_type: 'operator',
      id,
      inputs: Array.from({ length: inputs }, (_, i) => io(`in_${i}`)),
      outputs: Array.from({ length: outputs }, (_, i) => io(`out_${i}`)),
      parameters,
    },
  };
}

/** The `data` of a node, for tests that change it. */
export function dataOf(node: JsonObject | undefined): JsonObject {
  const data = node?.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('node without data');
  return data;
}

/** A resource node with the given parameters. */
export function resourceNode(id: string, parameters: JsonObject[] = []): JsonObject {
  return {
    id,
    width: 320,
    height: 160,
    position: position(),
    position_absolute: position(),
    data: { label: id, name: id, description: `Resource ${id}.`, category: 'common', flow_type: 'resource', id, type_name: 'R', type_cls: 'example.R', parameters },
  };
}

/** An edge with orders and handles: `kind` is `inputs` for operator targets, `parameters` for resource edges. */
export function edge(source: string, so: number, target: string, to: number, kind: 'inputs' | 'parameters' = 'inputs'): JsonObject {
  return {
    id: `${source}|${target}`,
    source,
    source_order: so,
    source_handle: `${source}|outputs|${so}`,
    target,
    target_order: to,
    target_handle: `${target}|${kind}|${to}`,
  };
}

export { param };

/**
 * A valid flow named `name`: operator `a` (1 output) → operator `b` (1 input, 1 output, a
 * resource parameter at index 0 and a common one at 1), and resource `r` → `b`'s parameter 0.
 */
export function baseFlow(name = 'base'): TestFlow {
  return {
    uid: `uid-${name}`,
    name,
    label: `Flow ${name}`,
    flow_data: {
      nodes: [operatorNode('a', 0, 1), operatorNode('b', 1, 1, [param('llm', 'resource'), param('temperature', 'common')]), resourceNode('r')],
      edges: [edge('a', 0, 'b', 0), edge('r', 0, 'b', 0, 'parameters')],
      viewport: { x: 0, y: 0, zoom: 1 },
    },
  };
}
