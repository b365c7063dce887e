/**
 * Draws a flow as DB-GPT's canvas shows it, as a standalone SVG: node boxes at their stored
 * positions and sizes, inputs on the left, outputs on the right, parameters with resource handles,
 * and edges as curves between the handles they connect.
 */
import { renderNodeLabel } from './renderNodeLabel.ts';
import type { FlowFile } from './types.ts';
import { arr, rec, str, type Rec } from './jsonAccess.ts';


/** A point where an edge may attach. */
interface Point {
  x: number;
  y: number;
}

/** One line of text inside a node, with an optional handle on its left or right. */
interface Row {
  text: string;
  /** A section title, a handle row, a parameter's label, or its value drawn as an input box. */
  kind: 'section' | 'row' | 'param' | 'value';
  handle?: { side: 'left' | 'right'; key: string; resource: boolean };
}

interface Box {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
  node: Rec;
  data: Rec;
  rows: Row[];
}

const HEADER = 48;
const HEIGHTS: Record<Row['kind'], number> = { section: 20, row: 22, param: 18, value: 26 };
/** Rows spread over a tall box up to this factor, as DB-GPT's form widgets do, then blank space. */
const MAX_SPREAD = 2;
const PAD = 8;
const HANDLE_R = 5;
const MARGIN = 40;
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
/** Average glyph width of a sans-serif font, as a share of its size: enough to decide on cutting. */
const GLYPH = 0.58;

/**
 * The SVG of a flow: same flow → same bytes. Every text is escaped (and stripped of characters XML
 * cannot hold); a node's label is never cut, only narrowed, so it can always be found in the page.
 */
export function renderSvg(flow: FlowFile): string {
  const data = rec(flow.flow_data) ?? {};
  const boxes = arr(data['nodes']).flatMap((n, i) => {
    const node = rec(n);
    return node === undefined ? [] : [layoutNode(node, i)];
  });
  const handles = new Map<string, Point>();
  const parts: string[] = [];
  const nodeSvg = boxes.map((b) => drawNode(b, handles));
  const edgeSvg: string[] = [];
  const bounds = new Bounds();
  for (const b of boxes) {
    bounds.add(b.x - HANDLE_R * 2, b.y);
    bounds.add(b.x + b.w + HANDLE_R * 2, b.y + b.h);
  }
  for (const e of arr(data['edges'])) {
    const edge = rec(e);
    if (edge === undefined) continue;
    const from = endPoint(edge, 'source', boxes, handles);
    const to = endPoint(edge, 'target', boxes, handles);
    if (from === null || to === null) continue;
    // The curve of React Flow's bezier edges: horizontal tangents at both handles.
    const dx = Math.max(40, Math.abs(to.x - from.x) / 2);
    const c1 = { x: from.x + dx, y: from.y };
    const c2 = { x: to.x - dx, y: to.y };
    for (const p of [from, c1, c2, to]) bounds.add(p.x, p.y);
    const id = typeof edge['id'] === 'string' ? edge['id'] : '';
    edgeSvg.push(
      `<path class="edge" data-edge-id="${esc(id)}" d="M${num(from.x)},${num(from.y)} C${num(c1.x)},${num(c1.y)} ${num(c2.x)},${num(c2.y)} ${num(to.x)},${num(to.y)}" marker-end="url(#arrow)"/>`,
    );
  }
  if (boxes.length === 0) {
    bounds.add(0, 0);
    bounds.add(240, 60);
  }
  const vx = bounds.minX - MARGIN;
  const vy = bounds.minY - MARGIN;
  const vw = bounds.maxX - bounds.minX + 2 * MARGIN;
  const vh = bounds.maxY - bounds.minY + 2 * MARGIN;
  const title = typeof flow.label === 'string' && flow.label !== '' ? flow.label : String(flow.name ?? 'flow');
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${num(vx)} ${num(vy)} ${num(vw)} ${num(vh)}" width="${num(vw)}" height="${num(vh)}" font-family="${FONT}" role="img" aria-label="${esc(title)}">`,
    `<title>${esc(title)}</title>`,
    '<defs>',
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker>',
    '<style>',
    '.edge{fill:none;stroke:#94a3b8;stroke-width:2}',
    '.box{fill:#ffffff;stroke:#cbd5e1;stroke-width:1}',
    '.head-operator{fill:#e0ecff}.head-resource{fill:#fdebd8}',
    '.label{font-size:14px;font-weight:600;fill:#0f172a}',
    '.kind{font-size:11px;fill:#475569}',
    '.section{font-size:10px;font-weight:600;fill:#64748b;letter-spacing:0.04em}',
    '.row{font-size:12px;fill:#1e293b}.param{font-size:11px;fill:#334155}.value{font-size:12px;fill:#475569}',
    '.input{fill:#f8fafc;stroke:#e2e8f0;stroke-width:1}',
    '.handle{fill:#ffffff;stroke:#64748b;stroke-width:1.5}.handle-resource{fill:#fdebd8;stroke:#c2410c;stroke-width:1.5}',
    '</style>',
    '</defs>',
    `<rect x="${num(vx)}" y="${num(vy)}" width="${num(vw)}" height="${num(vh)}" fill="#f8fafc"/>`,
  );
  if (boxes.length === 0) parts.push(`<text class="kind" x="0" y="30">(no nodes)</text>`);
  parts.push('<g class="edges">', ...edgeSvg, '</g>', '<g class="nodes">', ...nodeSvg, '</g>', '</svg>');
  return parts.join('\n') + '\n';
}

/** A node's box and the rows DB-GPT's node card shows, top to bottom. */
function layoutNode(node: Rec, index: number): Box {
  const id = typeof node['id'] === 'string' ? node['id'] : `#${index}`;
  const data = rec(node['data']) ?? {};
  const pos = rec(node['position']) ?? {};
  const rows: Row[] = [];
  const inputs = arr(data['inputs']).map(rec);
  const outputs = arr(data['outputs']).map(rec);
  const params = arr(data['parameters']).map(rec);
  if (inputs.length > 0) {
    rows.push({ text: 'INPUTS', kind: 'section' });
    inputs.forEach((f, i) => rows.push({ text: ioText(f, i), kind: 'row', handle: { side: 'left', key: `${id}|inputs|${i}`, resource: false } }));
  }
  if (params.length > 0) {
    rows.push({ text: 'PARAMETERS', kind: 'section' });
    params.forEach((p, k) => {
      const label = str(p?.['label']) ?? str(p?.['name']) ?? `#${k}`;
      if (p?.['category'] === 'resource') {
        // Resource parameters are where resource nodes plug in: they get a handle, no value.
        rows.push({ text: `${label} (${str(p['type_name']) ?? 'resource'})`, kind: 'row', handle: { side: 'left', key: `${id}|parameters|${k}`, resource: true } });
      } else {
        // DB-GPT shows the label over an input widget holding the value (or the default).
        const v = p?.['value'] ?? p?.['default'] ?? null;
        rows.push({ text: p?.['optional'] === false ? `${label} *` : label, kind: 'param' });
        rows.push({ text: v === null ? '' : valueText(v), kind: 'value' });
      }
    });
  }
  if (data['flow_type'] === 'resource') {
    // A resource has no outputs list; DB-GPT gives it one output handle: the resource itself.
    rows.push({ text: 'OUTPUT', kind: 'section' });
    rows.push({ text: str(data['type_name']) ?? 'resource', kind: 'row', handle: { side: 'right', key: `${id}|outputs|0`, resource: true } });
  } else if (outputs.length > 0) {
    rows.push({ text: 'OUTPUTS', kind: 'section' });
    outputs.forEach((f, i) => rows.push({ text: ioText(f, i), kind: 'row', handle: { side: 'right', key: `${id}|outputs|${i}`, resource: false } }));
  }
  return {
    id,
    x: finite(pos['x'], 0),
    y: finite(pos['y'], 0),
    w: Math.max(80, finite(node['width'], 320)),
    h: Math.max(HEADER, finite(node['height'], HEADER + PAD + rows.reduce((s, r) => s + HEIGHTS[r.kind], 0))),
    node,
    data,
    rows,
  };
}

function drawNode(b: Box, handles: Map<string, Point>): string {
  const label = renderNodeLabel(b.node);
  const flowType = str(b.data['flow_type']) ?? 'operator';
  const category = str(b.data['category_label']) ?? str(b.data['category']);
  const kind = [flowType === 'resource' ? 'Resource' : 'Operator', category].filter((x) => x !== null).join(' · ');
  const head = flowType === 'resource' ? 'head-resource' : 'head-operator';
  const out: string[] = [`<g class="node ${flowType === 'resource' ? 'resource' : 'operator'}" data-node-id="${esc(b.id)}">`];
  const description = str(b.data['description']);
  if (description !== null && description !== '') out.push(`<title>${esc(description)}</title>`);
  out.push(
    `<rect class="box" x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" rx="8"/>`,
    `<path class="${head}" d="M${num(b.x + 0.5)},${num(b.y + HEADER)} V${num(b.y + 8)} Q${num(b.x + 0.5)},${num(b.y + 0.5)} ${num(b.x + 8)},${num(b.y + 0.5)} H${num(b.x + b.w - 8)} Q${num(b.x + b.w - 0.5)},${num(b.y + 0.5)} ${num(b.x + b.w - 0.5)},${num(b.y + 8)} V${num(b.y + HEADER)} Z"/>`,
    textEl('label', b.x + 12, b.y + 21, label, b.w - 24, 14, true),
    textEl('kind', b.x + 12, b.y + 38, kind, b.w - 24, 11, false),
  );
  // Rows spread over the stored height like DB-GPT's widgets (up to MAX_SPREAD), and are squeezed
  // when they do not fit, so every handle stays inside the box the canvas measured.
  const natural = b.rows.reduce((s, r) => s + HEIGHTS[r.kind], 0);
  const room = Math.max(0, b.h - HEADER - PAD);
  const scale = natural > 0 ? Math.min(MAX_SPREAD, room / natural) : 1;
  let y = b.y + HEADER;
  for (const r of b.rows) {
    const h = HEIGHTS[r.kind] * scale;
    const mid = y + h / 2;
    const shrink = Math.min(1, Math.max(scale, 0.5));
    const size = (r.kind === 'section' ? 10 : r.kind === 'param' ? 11 : 12) * shrink;
    if (r.kind === 'section') {
      out.push(`<line x1="${num(b.x)}" y1="${num(y)}" x2="${num(b.x + b.w)}" y2="${num(y)}" stroke="#e2e8f0"/>`);
    }
    if (r.kind === 'value') {
      const bh = Math.min(h - 4 * shrink, 22 * shrink);
      out.push(`<rect class="input" x="${num(b.x + 12)}" y="${num(mid - bh / 2)}" width="${num(b.w - 24)}" height="${num(Math.max(0, bh))}" rx="4"/>`);
    }
    const right = r.handle?.side === 'right';
    const tx = right ? b.x + b.w - 14 : r.kind === 'value' ? b.x + 18 : b.x + 14;
    if (r.text !== '') out.push(textEl(r.kind, tx, mid + size * 0.35, r.text, b.w - (r.kind === 'value' ? 36 : 28), size, false, right ? 'end' : undefined, shrink < 1 ? size : undefined));
    if (r.handle !== undefined) {
      const hx = right ? b.x + b.w : b.x;
      handles.set(r.handle.key, { x: hx, y: mid });
      out.push(`<circle class="${r.handle.resource ? 'handle-resource' : 'handle'}" cx="${num(hx)}" cy="${num(mid)}" r="${HANDLE_R}"/>`);
    }
    y += h;
  }
  out.push('</g>');
  return out.join('\n');
}

/**
 * One `<text>`: cut with "…" when it would not fit, except a node label (`keep`), which is
 * narrowed with textLength instead so the whole label stays in the page.
 */
function textEl(cls: string, x: number, y: number, text: string, width: number, size: number, keep: boolean, anchor?: 'end', fontSize?: number): string {
  const chars = Array.from(oneLine(text));
  const fits = Math.max(1, Math.floor(width / (size * GLYPH)));
  const attrs = [`class="${cls}"`, `x="${num(x)}"`, `y="${num(y)}"`];
  if (anchor !== undefined) attrs.push(`text-anchor="${anchor}"`);
  if (fontSize !== undefined) attrs.push(`font-size="${num(fontSize)}"`);
  let shown = chars.join('');
  if (chars.length > fits) {
    if (keep) attrs.push(`textLength="${num(width)}"`, 'lengthAdjust="spacingAndGlyphs"');
    else shown = chars.slice(0, Math.max(1, fits - 1)).join('') + '…';
  }
  return `<text ${attrs.join(' ')}>${esc(shown)}</text>`;
}

/** Where an edge end attaches: its handle when the node draws one, else the middle of the node's side. */
function endPoint(edge: Rec, end: 'source' | 'target', boxes: Box[], handles: Map<string, Point>): Point | null {
  const nodeId = str(edge[end]);
  const box = boxes.find((b) => b.id === nodeId);
  if (box === undefined) return null;
  const handle = str(edge[`${end}_handle`]);
  if (handle !== null) {
    const p = handles.get(handle);
    if (p !== undefined) return p;
  }
  const order = edge[`${end}_order`];
  if (typeof order === 'number') {
    const sides = end === 'source' ? ['outputs'] : ['inputs', 'parameters'];
    for (const side of sides) {
      const p = handles.get(`${box.id}|${side}|${order}`);
      if (p !== undefined) return p;
    }
  }
  return end === 'source' ? { x: box.x + box.w, y: box.y + box.h / 2 } : { x: box.x, y: box.y + box.h / 2 };
}

function ioText(f: Rec | undefined, i: number): string {
  const label = str(f?.['custom_label']) ?? str(f?.['label']) ?? str(f?.['name']) ?? `#${i}`;
  const type = str(f?.['type_name']);
  return type === null ? label : `${label} (${type})`;
}

function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

class Bounds {
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;
  add(x: number, y: number): void {
    this.minX = Math.min(this.minX, x);
    this.minY = Math.min(this.minY, y);
    this.maxX = Math.max(this.maxX, x);
    this.maxY = Math.max(this.maxY, y);
  }
}

/** Coordinates rounded to hundredths, printed without exponent or negative zero: stable bytes. */
function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Text as XML character data or attribute value: escaped, without characters XML 1.0 forbids. */
function esc(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function finite(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

