/**
 * Markdown rendering of a flow set diff for a pull-request comment: a summary table, then per
 * changed flow a Mermaid graph coloured by status and a table of changes, kept within GitHub's
 * comment limit and Mermaid's default limits.
 */
import { describeCounts, diffDescribe, type DescribedChange } from './diffDescribe.ts';
import type { FlowFileDiff, FlowSetDiff } from './diffFlowSets.ts';
import type { DiffGraph } from './diffFlows.ts';
import { renderMermaid, type MermaidOutput } from './renderMermaid.ts';

/** Hidden marker the CI workflow looks for to update its one comment in place. */
export const DIFF_MARKER = '<!-- flowreg-diff -->';
/** GitHub refuses issue and pull-request comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** Mermaid's default `maxTextSize`: a longer diagram is not drawn. */
export const MERMAID_MAX_TEXT = 50_000;
/** Mermaid's default `maxEdges`. */
export const MERMAID_MAX_EDGES = 500;

/** Options of diffMarkdown; the defaults keep a margin below every limit. */
export interface DiffMarkdownOptions {
  /** Longest comment produced (default 60,000: GitHub's 65,536 less a margin). */
  maxChars?: number;
  /** Longest Mermaid diagram drawn (default 45,000: Mermaid's 50,000 less a margin). */
  mermaidMaxText?: number;
  /** Most edges in one diagram (default 500, Mermaid's limit). */
  mermaidMaxEdges?: number;
  /** Most rows in one flow's table of changes (default 150). */
  maxRows?: number;
}

/** Room kept at the end for the truncation note. */
const NOTE_RESERVE = 400;

/** The diff as a GitHub comment; starts with DIFF_MARKER and never exceeds `maxChars`. */
export function diffMarkdown(set: FlowSetDiff, opts: DiffMarkdownOptions = {}): string {
  const maxChars = opts.maxChars ?? 60_000;
  const mermaidMaxText = opts.mermaidMaxText ?? MERMAID_MAX_TEXT - 5_000;
  const mermaidMaxEdges = opts.mermaidMaxEdges ?? MERMAID_MAX_EDGES;
  const maxRows = opts.maxRows ?? 150;
  const range = `${code(set.base ?? '?')} → ${set.head === null ? 'working tree' : code(set.head)}`;

  const head = [DIFF_MARKER, '## flowreg: flow changes', ''];
  if (set.flows.length === 0) {
    return [...head, `No flow changes (${range}).`, ''].join('\n');
  }
  head.push(`${set.flows.length} flow${set.flows.length === 1 ? '' : 's'} changed (${range}). Positions, sizes and the viewport are not compared unless \`--layout\` is given.`, '');

  let out = head.join('\n') + '\n';
  const budget = maxChars - NOTE_RESERVE;
  // The summary table may take half of the comment; past that, the rest is counted in a note.
  const table = ['| Flow | File | Change | Nodes | Parameters | Edges |', '|---|---|---|---|---|---|'];
  let tableRows = 0;
  for (const f of set.flows) {
    const row = summaryRow(f);
    if (out.length + table.join('\n').length + row.length + 1 > budget / 2) break;
    table.push(row);
    tableRows++;
  }
  out += table.join('\n') + '\n';
  if (tableRows < set.flows.length) out += `\n_… and ${set.flows.length - tableRows} more flows not listed._\n`;

  const notes: string[] = [];
  let shown = 0;
  for (const f of set.flows) {
    const variants = sectionVariants(f, { mermaidMaxText, mermaidMaxEdges, maxRows });
    const fitting = variants.find((v) => out.length + v.text.length + 1 <= budget);
    if (fitting === undefined) break;
    out += '\n' + fitting.text;
    if (fitting.shrunk) notes.push(f.name ?? f.afterPath ?? '?');
    shown++;
  }
  const tail: string[] = [];
  if (shown < set.flows.length) {
    tail.push(`_${set.flows.length - shown} more flow${set.flows.length - shown === 1 ? '' : 's'} not shown: the comment would pass GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character limit. Run \`flowreg diff\` locally for the full diff._`);
  } else if (notes.length > 0) {
    tail.push(`_Shortened to fit GitHub's comment limit: ${notes.slice(0, 5).map(code).join(', ')}${notes.length > 5 ? ', …' : ''}. Run \`flowreg diff\` locally for the full diff._`);
  }
  if (tail.length > 0) out += '\n' + tail.join('\n') + '\n';
  return out.length <= maxChars ? out : out.slice(0, maxChars);
}

interface Limits {
  mermaidMaxText: number;
  mermaidMaxEdges: number;
  maxRows: number;
}

interface Variant {
  text: string;
  /** True when this variant leaves out something the fullest one had, for lack of room. */
  shrunk: boolean;
}

/** A flow's section from fullest to shortest; the caller takes the first that fits. */
function sectionVariants(f: FlowFileDiff, limits: Limits): Variant[] {
  const title = `### ${code(f.name ?? '?')} — ${cell(statusWord(f))}`;
  const summary = summaryLine(f);
  const rows = diffDescribe(f);
  const graph = graphBlock(f.graph, limits);
  const errors = f.errors.length === 0 ? [] : ['```text', ...f.errors.map((e) => e.replace(/`/g, "'")), '```', ''];
  const parts = (g: string | null, rowCap: number): string => {
    const body = [title, '', ...errors];
    if (summary !== '') body.push(summary, '');
    if (g !== null) body.push(g, '');
    const table = changeTable(rows, rowCap);
    if (table !== '') {
      // With a graph the table is a detail; without one it is the content.
      body.push(g !== null ? `<details><summary>${rows.length} change${rows.length === 1 ? '' : 's'}</summary>\n\n${table}\n</details>` : table, '');
    }
    return body.join('\n');
  };
  const variants: Variant[] = [];
  if (graph.block !== null) variants.push({ text: parts(graph.block, limits.maxRows), shrunk: false });
  variants.push({ text: parts(graph.note, limits.maxRows), shrunk: graph.block !== null });
  variants.push({ text: parts(graph.note, Math.min(20, limits.maxRows)), shrunk: true });
  variants.push({ text: [title, '', summary === '' ? '' : summary + ' _(details left out for size)_', ''].join('\n'), shrunk: true });
  return variants;
}

/**
 * The Mermaid block of a flow, or why there is none. The whole graph when it fits Mermaid's
 * limits; else the changed nodes and their neighbours; else nothing (the table remains).
 */
function graphBlock(graph: DiffGraph, limits: Limits): { block: string | null; note: string | null } {
  const touched = new Set(graph.nodes.filter((n) => n.status !== 'unchanged').map((n) => n.id));
  for (const e of graph.edges) {
    if (e.status !== 'unchanged') {
      touched.add(e.source);
      touched.add(e.target);
    }
  }
  if (touched.size === 0) return { block: null, note: null };
  const fits = (m: MermaidOutput): boolean => m.text.length <= limits.mermaidMaxText && m.edges <= limits.mermaidMaxEdges;
  const legend = '<sub>🟩 added · 🟨 changed · 🟥 removed (dashed) · 🟦 moved · unchanged in grey</sub>';
  const whole = renderMermaid(graph);
  if (fits(whole)) return { block: fence(whole.text) + '\n' + legend, note: null };
  const near = new Set(touched);
  for (const e of graph.edges) {
    if (touched.has(e.source)) near.add(e.target);
    if (touched.has(e.target)) near.add(e.source);
  }
  const part = renderMermaid(graph, { only: near });
  const tooBig = `_Graph not drawn: ${graph.nodes.length} nodes and ${whole.edges} edges pass Mermaid's limits (${MERMAID_MAX_TEXT.toLocaleString('en-US')} characters, ${MERMAID_MAX_EDGES} edges)._`;
  if (fits(part)) {
    return { block: `_Changed nodes and their neighbours (${part.nodes} of ${graph.nodes.length} nodes)._\n\n${fence(part.text)}\n${legend}`, note: tooBig };
  }
  return { block: null, note: tooBig };
}

function fence(mermaid: string): string {
  return '```mermaid\n' + mermaid + '```';
}

function changeTable(rows: DescribedChange[], cap: number): string {
  if (rows.length === 0) return '';
  const lines = ['| | Where | What | Before | After |', '|---|---|---|---|---|'];
  for (const r of rows.slice(0, cap)) {
    lines.push(`| ${r.op === '+' ? '➕' : r.op === '-' ? '➖' : '✏️'} | ${cell(r.subject)} | ${cell(r.what)} | ${value(r.before)} | ${value(r.after)} |`);
  }
  if (rows.length > cap) lines.push(`| | _… and ${rows.length - cap} more changes_ | | | |`);
  return lines.join('\n');
}

function summaryRow(f: FlowFileDiff): string {
  const c = f.counts;
  const pm = (a: number, r: number, ch: number): string => {
    const parts = [a > 0 ? `+${a}` : '', r > 0 ? `−${r}` : '', ch > 0 ? `~${ch}` : ''].filter((x) => x !== '');
    return parts.length === 0 ? '–' : parts.join(' ');
  };
  const params = [c.parameterValues > 0 ? `${c.parameterValues} value${c.parameterValues === 1 ? '' : 's'}` : '', c.parameterOther > 0 ? `${c.parameterOther} other` : ''].filter((x) => x !== '').join(', ') || '–';
  const file = f.beforePath !== null && f.afterPath !== null && f.beforePath !== f.afterPath
    ? `${code(f.beforePath)} → ${code(f.afterPath)}`
    : code(f.afterPath ?? f.beforePath ?? '?');
  return `| ${code(f.name ?? '?')} | ${file} | ${cell(statusWord(f))} | ${pm(c.nodesAdded, c.nodesRemoved, c.nodesChanged)} | ${params} | ${pm(c.edgesAdded, c.edgesRemoved, c.edgesChanged)} |`;
}

function statusWord(f: FlowFileDiff): string {
  if (f.status === 'invalid') return '⚠️ cannot be read';
  if (f.status === 'renamed') return f.previousName !== null ? `renamed from ${f.previousName}` : 'moved';
  if (f.status === 'unchanged' || (f.status === 'modified' && f.changes.every((c) => c.kind === 'layout'))) return 'layout only';
  return f.status;
}

function summaryLine(f: FlowFileDiff): string {
  const counts = describeCounts(f.counts);
  if (f.layoutChanged && f.changes.length === 0) return 'Only positions, sizes or the viewport changed (`flowreg diff --layout` lists them).';
  return counts === '' ? '' : counts.charAt(0).toUpperCase() + counts.slice(1) + '.';
}

/** Text for a table cell or heading: HTML and Markdown specials neutralised, one line. */
function cell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1');
}

/** A value in a table cell, as inline code that no `|` or backtick in it can break. */
function value(v: string | null): string {
  if (v === null) return '';
  return `<code>${v.replace(/[\r\n]+/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;')}</code>`;
}

/** Inline code for names and paths; a name with a backtick falls back to escaped text. */
function code(text: string): string {
  return text.includes('`') ? cell(text) : `\`${text.replace(/\|/g, '\\|')}\``;
}
