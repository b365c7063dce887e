/** Plain-text rendering of a flow set diff, for the terminal. */
import { describeCounts, diffDescribe } from './diffDescribe.ts';
import type { FlowFileDiff, FlowSetDiff } from './diffFlowSets.ts';

/**
 * The diff as text: a heading line per changed flow (path, status, counts), then one line per
 * change, `+` added, `-` removed, `~` changed. Ends with a newline; "No flow changes." when empty.
 */
export function diffText(set: FlowSetDiff): string {
  const range = `${set.base ?? '?'}..${set.head ?? 'working tree'}`;
  if (set.flows.length === 0) return `No flow changes (${range}).\n`;
  const out = [`${set.flows.length} flow${set.flows.length === 1 ? '' : 's'} changed (${range})`, ''];
  for (const f of set.flows) {
    out.push(`${pathOf(f)}  ${statusOf(f)}`);
    for (const e of f.errors) out.push(`  ! ${e}`);
    if (f.status === 'added' || f.status === 'deleted') {
      // Every node of a new or deleted flow would be a line: the counts say enough.
      continue;
    }
    for (const c of diffDescribe(f)) {
      const values = c.before === null && c.after === null ? '' : `: ${c.before ?? '∅'} → ${c.after ?? '∅'}`;
      out.push(`  ${c.op} ${c.subject}: ${c.what}${values}`);
    }
    out.push('');
  }
  while (out.at(-1) === '') out.pop();
  return `${out.join('\n')}\n`;
}

function pathOf(f: FlowFileDiff): string {
  if (f.beforePath !== null && f.afterPath !== null && f.beforePath !== f.afterPath) return `${f.beforePath} → ${f.afterPath}`;
  return f.afterPath ?? f.beforePath ?? f.name ?? '?';
}

/** "modified: 1 node changed; …", or "layout only" when nothing but positions moved. */
function statusOf(f: FlowFileDiff): string {
  const counts = describeCounts(f.counts);
  const rename = f.previousName !== null ? ` (name ${f.previousName} → ${f.name ?? '?'})` : '';
  if (f.status === 'invalid') return 'cannot be read as a flow';
  const semantic = f.changes.some((c) => c.kind !== 'layout');
  if (!semantic && f.layoutChanged && f.status !== 'renamed') {
    return f.counts.layout > 0 ? `layout only: ${counts}` : 'layout only (positions, sizes or viewport; --layout lists them)';
  }
  return `${f.status}${rename}${counts === '' ? '' : `: ${counts}`}`;
}
