import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowFileFromDbgpt } from '../../src/core/dbgptFlow.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { schemaRefFor } from '../../src/core/schemaRef.ts';
import type { FlowFile } from '../../src/core/types.ts';
import { CORPUS_DIR, corpusFiles } from '../helpers/flows.ts';

export { corpusFiles };

/**
 * One corpus flow (a DB-GPT export) as the flow file `flowreg import` would store. A fresh value
 * each call, so tests may mutate it.
 */
export function corpusFlow(file: string): FlowFile {
  return flowFileFromDbgpt(JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')));
}

/** A flow file's canonical text at a repository path, as flowreg writes it. */
export function flowText(path: string, flow: FlowFile): string {
  return formatFlow(flow, { schemaRef: schemaRefFor(path) });
}

/** A deep copy of a JSON value. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
