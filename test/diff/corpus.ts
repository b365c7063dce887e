import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DERIVED_KEYS, type FlowFile } from '../../src/core/types.ts';

/** DB-GPT's English flow templates, shipped beside the checkout (see ../shared/README.md). */
export const CORPUS_DIR = resolve(import.meta.dirname, '../../../shared/corpus/dbgpt-templates/en');

/** File names of the corpus flows, sorted. */
export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json')).sort();
}

/**
 * One corpus flow as a flow file: the export's `flow` object without the fields a flow file never
 * stores. A fresh deep copy each call, so tests may mutate it.
 */
export function corpusFlow(file: string): FlowFile {
  const flow = (JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as { flow: Record<string, unknown> }).flow;
  for (const key of DERIVED_KEYS) delete flow[key];
  return flow as FlowFile;
}

/** A deep copy of a JSON value. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
