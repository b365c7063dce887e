/**
 * The worker thread of inspectPool.ts: parses and validates one large flow file text off the
 * daemon's event loop, with the same inspectFlow the main thread uses (`inspect`), or parses one
 * (`parse`: the value, for serving the flow's content).
 */
import { parentPort } from 'node:worker_threads';
import { isObject } from '../core/jsonAccess.ts';
import { parseYaml } from '../core/parseYaml.ts';
import type { FlowFile } from '../core/types.ts';
import { inspectFlow, type TextInspection } from './inspectFlow.ts';

/**
 * What the store keeps of an inspection (summaryCache.ts): the flow without its graph, but for
 * the node ids. Sending only that keeps the copy back to the main thread small.
 */
function slim(r: TextInspection): TextInspection {
  if (!r.value) return r;
  const { flow_data: fd, ...rest } = r.value as unknown as Record<string, unknown>;
  const nodes = isObject(fd) && Array.isArray(fd.nodes) ? fd.nodes.filter(isObject).map((n) => ({ id: n.id })) : [];
  return { value: { ...rest, flow_data: { nodes, edges: [] } } as unknown as FlowFile, findings: r.findings };
}

parentPort?.on('message', (job: { id: number; kind: 'inspect' | 'parse'; text: string; file: string }) => {
  try {
    const result = job.kind === 'parse' ? { value: parseYaml(job.text).value } : slim(inspectFlow(job.text, job.file));
    parentPort?.postMessage({ id: job.id, result });
  } catch (err) {
    parentPort?.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
