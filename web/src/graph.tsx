/**
 * A flow's graph, drawn by flowreg's own renderer (src/core/renderSvg.ts, the same SVG as
 * `flowreg render`), with pan (drag), zoom (wheel or the buttons) and a click on a node to pick it.
 * In a compare, nodes and edges carry their status from the semantic diff: added, removed and
 * changed are coloured; `moved` (layout only) is drawn as unchanged.
 */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { renderSvg } from '../../src/core/renderSvg.ts';
import type { FlowFile } from '../../src/core/types.ts';

export type Status = 'added' | 'removed' | 'changed' | 'moved' | 'unchanged';

interface Props {
  flow: Record<string, unknown>;
  /** Node and edge statuses by id (a compare); absent: a plain graph. */
  nodeStatus?: Map<string, Status>;
  edgeStatus?: Map<string, Status>;
  selected?: string | null;
  onNode?: (id: string) => void;
  label: string;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function GraphView({ flow, nodeStatus, edgeStatus, selected, onNode, label }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<{ initial: Box; now: Box } | null>(null);
  const svgText = useMemo(() => renderSvg(flow as unknown as FlowFile), [flow]);

  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    el.innerHTML = svgText;
    const svg = el.querySelector('svg');
    if (svg === null) return;
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    svg.setAttribute('aria-label', label);
    const [x, y, w, h] = (svg.getAttribute('viewBox') ?? '0 0 100 100').split(/\s+/).map(Number) as [number, number, number, number];
    view.current = { initial: { x, y, w, h }, now: { x, y, w, h } };
    if (nodeStatus) for (const g of svg.querySelectorAll<SVGGElement>('[data-node-id]')) g.classList.add(`st-${nodeStatus.get(g.dataset.nodeId ?? '') ?? 'unchanged'}`);
    if (edgeStatus) for (const p of svg.querySelectorAll<SVGPathElement>('[data-edge-id]')) p.classList.add(`st-${edgeStatus.get(p.dataset.edgeId ?? '') ?? 'unchanged'}`);
  }, [svgText, nodeStatus, edgeStatus, label]);

  useEffect(() => {
    const svg = host.current?.querySelector('svg');
    if (!svg) return;
    for (const g of svg.querySelectorAll<SVGGElement>('[data-node-id]')) g.classList.toggle('picked', g.dataset.nodeId === selected);
  }, [selected, svgText]);

  const apply = (b: Box): void => {
    const svg = host.current?.querySelector('svg');
    if (!svg || !view.current) return;
    view.current.now = b;
    svg.setAttribute('viewBox', `${b.x} ${b.y} ${b.w} ${b.h}`);
  };
  const zoom = (factor: number, cx = 0.5, cy = 0.5): void => {
    const v = view.current;
    if (!v) return;
    const b = v.now;
    const w = Math.min(v.initial.w * 20, Math.max(v.initial.w / 20, b.w * factor));
    const h = (b.h * w) / b.w;
    apply({ x: b.x + (b.w - w) * cx, y: b.y + (b.h - h) * cy, w, h });
  };

  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    let drag: { x: number; y: number; box: Box; moved: boolean } | null = null;
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
    };
    const onDown = (e: PointerEvent): void => {
      if (!view.current) return;
      drag = { x: e.clientX, y: e.clientY, box: { ...view.current.now }, moved: false };
    };
    const onMove = (e: PointerEvent): void => {
      if (!drag || !view.current) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) el.setPointerCapture(e.pointerId);
      drag.moved = true;
      const r = el.getBoundingClientRect();
      const scale = Math.max(drag.box.w / r.width, drag.box.h / r.height);
      apply({ ...drag.box, x: drag.box.x - dx * scale, y: drag.box.y - dy * scale });
    };
    const onUp = (e: PointerEvent): void => {
      const d = drag;
      drag = null;
      if (d === null || d.moved) return;
      const node = (e.target as Element | null)?.closest?.('[data-node-id]');
      const id = node?.getAttribute('data-node-id');
      if (id && onNode) onNode(id);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    el.addEventListener('pointerdown', onDown);
    el.addEventListener('pointermove', onMove);
    el.addEventListener('pointerup', onUp);
    return () => {
      el.removeEventListener('wheel', onWheel);
      el.removeEventListener('pointerdown', onDown);
      el.removeEventListener('pointermove', onMove);
      el.removeEventListener('pointerup', onUp);
    };
  }, [onNode]);

  return (
    <figure class="graph">
      <div class="graph-tools" role="toolbar" aria-label="Graph view">
        <button type="button" onClick={() => zoom(1 / 1.4)}>Zoom in</button>
        <button type="button" onClick={() => zoom(1.4)}>Zoom out</button>
        <button type="button" onClick={() => view.current && apply({ ...view.current.initial })}>Fit</button>
        <span class="hint">drag to pan, wheel to zoom, click a node for its parameters</span>
      </div>
      <div class="graph-canvas" ref={host} data-testid="graph" />
    </figure>
  );
}

type Rec = Record<string, unknown>;
const nodesOf = (f: Rec | null): Rec[] => ((f?.flow_data as Rec | undefined)?.nodes as Rec[] | undefined) ?? [];
const edgesOf = (f: Rec | null): Rec[] => ((f?.flow_data as Rec | undefined)?.edges as Rec[] | undefined) ?? [];

/** Both versions as one flow to draw: the newer one, plus what only the older one has (removed nodes and edges). */
export function unionFlow(before: Rec | null, after: Rec | null): Rec {
  const base = after ?? before ?? {};
  const nodes = [...nodesOf(after)];
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodesOf(before)) if (!ids.has(n.id)) nodes.push(n);
  const edges = [...edgesOf(after)];
  const eids = new Set(edges.map((e) => e.id));
  for (const e of edgesOf(before)) if (!eids.has(e.id)) edges.push(e);
  return { ...base, flow_data: { ...((base.flow_data as Rec | undefined) ?? {}), nodes, edges } };
}
