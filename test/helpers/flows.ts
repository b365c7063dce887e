import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FlowFile } from '../../src/core/types.ts';

/** The corpus of real DB-GPT flow exports (DB-GPT's English templates, MIT). */
export const CORPUS_DIR = resolve(import.meta.dirname, '../fixtures/corpus');

/** Every corpus export file name, sorted. */
export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR).filter((n) => n.endsWith('.json')).sort();
}

/** The `flow` object of a corpus export, as DB-GPT wrote it. */
export function corpusFlow(file: string): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as { flow: Record<string, unknown> }).flow;
}

/** A small valid flow: an HTTP trigger feeding one operator. */
export function smallFlow(uid: string, name: string, extra: Partial<FlowFile> = {}): FlowFile {
  const node = (id: string, label: string, inputs: number, outputs: number, x: number) => ({
    id,
    type: 'customNode',
    width: 320,
    height: 200,
    position: { x, y: 0, zoom: 0 },
    position_absolute: { x, y: 0, zoom: 0 },
    data: {
      label,
      name: label.toLowerCase().replace(/ /g, '_'),
      description: `${label} operator`,
      category: 'common',
      flow_type: 'operator',
      id,
      operator_type: 'map',
      inputs: Array.from({ length: inputs }, (_, i) => ({ type_name: 'str', type_cls: 'builtins.str', label: `In ${i}`, name: `in_${i}`, description: 'input' })),
      outputs: Array.from({ length: outputs }, (_, i) => ({ type_name: 'str', type_cls: 'builtins.str', label: `Out ${i}`, name: `out_${i}`, description: 'output' })),
      parameters: [],
    },
  });
  return {
    uid,
    name,
    label: name.replace(/_/g, ' '),
    description: `the ${name} flow`,
    state: 'initializing',
    editable: true,
    define_type: 'json',
    flow_data: {
      nodes: [node('operator_a_0', 'Step A', 0, 1, 0), node('operator_b_0', 'Step B', 1, 1, 400)],
      edges: [
        {
          id: 'operator_a_0|operator_b_0',
          source: 'operator_a_0',
          source_order: 0,
          source_handle: 'operator_a_0|outputs|0',
          target: 'operator_b_0',
          target_order: 0,
          target_handle: 'operator_b_0|inputs|0',
          type: 'buttonedge',
        },
      ],
      viewport: { x: 0, y: 0, zoom: 1 },
    },
    ...extra,
  } as FlowFile;
}
