/** How a flow node is named to a human: the same text DB-GPT's canvas shows in the node header. */
import { rec } from './jsonAccess.ts';

/** A flow node's display label: `data.custom_label`, else `data.label`, else the node id. */
export function renderNodeLabel(node: unknown): string {
  const n = rec(node);
  const data = rec(n?.['data']);
  for (const candidate of [data?.['custom_label'], data?.['label'], n?.['id']]) {
    // An empty custom label means "not customised" in DB-GPT's UI, so it falls through too.
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate;
  }
  return '(unnamed node)';
}
