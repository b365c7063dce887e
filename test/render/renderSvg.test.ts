import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderNodeLabel } from '../../src/core/renderNodeLabel.ts';
import { renderSvg } from '../../src/core/renderSvg.ts';
import type { FlowFile, FlowNode } from '../../src/core/types.ts';
import { clone, corpusFiles, corpusFlow } from '../diff/corpus.ts';
import { tempDir } from '../helpers/tmp.ts';
import { CHROMIUM, dumpDom, haveChromium } from './chromium.ts';
import { nastyFlow } from './nastyFlow.ts';
import { svgTexts, xmlProblem } from './xmlCheck.ts';

const files = corpusFiles();
const nodesOf = (f: FlowFile): FlowNode[] => f.flow_data?.nodes ?? [];

/** Node labels as they must appear in the page: XML cannot carry control characters, so none. */
function expectedLabels(flow: FlowFile): string[] {
  return nodesOf(flow).map((n) => renderNodeLabel(n).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ''));
}

function numbers(s: string): number[] {
  return s.trim().split(/[\s,]+/).map(Number);
}

describe('renderSvg', () => {
  it.each(files)('%s: deterministic, well-formed, every node label in a text element', (file) => {
    const flow = corpusFlow(file);
    const svg = renderSvg(flow);
    expect(renderSvg(clone(flow))).toBe(svg);
    expect(xmlProblem(svg)).toBeNull();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="')).toBe(true);
    const texts = svgTexts(svg);
    for (const label of expectedLabels(flow)) expect(texts).toContain(label);
    expect(svg.match(/<g class="node /g)).toHaveLength(nodesOf(flow).length);
    expect(svg.match(/<path class="edge"/g)).toHaveLength(flow.flow_data!.edges.length);
  });

  it.each(files)('%s: the viewBox holds every node box at its stored position and size', (file) => {
    const flow = corpusFlow(file);
    const svg = renderSvg(flow);
    const [vx, vy, vw, vh] = numbers(/viewBox="([^"]+)"/.exec(svg)?.[1] ?? '') as [number, number, number, number];
    for (const n of nodesOf(flow)) {
      const rect = new RegExp(`data-node-id="${n.id.replace(/[$.]/g, '\\$&')}">(?:\\n<title>[^<]*</title>)?\\n<rect class="box" x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"`).exec(svg);
      expect(rect, n.id).not.toBeNull();
      const [x, y, w, h] = (rect as RegExpExecArray).slice(1).map(Number) as [number, number, number, number];
      expect([x, y, w, h]).toEqual([n.position.x, n.position.y, n.width, n.height].map((v) => Math.round(v * 100) / 100));
      expect(x).toBeGreaterThanOrEqual(vx);
      expect(y).toBeGreaterThanOrEqual(vy);
      expect(x + w).toBeLessThanOrEqual(vx + vw);
      expect(y + h).toBeLessThanOrEqual(vy + vh);
    }
    // Fitted: the margin around the outermost nodes is small, not the whole canvas.
    const minX = Math.min(...nodesOf(flow).map((n) => n.position.x));
    expect(minX - vx).toBeLessThan(60);
  });

  it.each(files)('%s: every edge runs from a right-hand handle to a left-hand handle', (file) => {
    const svg = renderSvg(corpusFlow(file));
    const circles = [...svg.matchAll(/<circle class="handle(?:-resource)?" cx="([^"]+)" cy="([^"]+)"/g)].map((m) => `${m[1]},${m[2]}`);
    const edges = [...svg.matchAll(/<path class="edge" data-edge-id="[^"]*" d="M([^ ]+) C[^ ]+ [^ ]+ ([^"]+)"/g)];
    expect(edges.length).toBeGreaterThan(0);
    for (const e of edges) {
      expect(circles).toContain(e[1]);
      expect(circles).toContain(e[2]);
    }
  });

  it('puts source output i and target input j or parameter k where the edge handles say', () => {
    const flow = corpusFlow('chat-data-awel-flow-template.json');
    const svg = renderSvg(flow);
    // Datasource Resource output 0 → Datasource Retriever parameter 0 (a resource handle).
    const edge = flow.flow_data!.edges.find((e) => e.target_handle?.endsWith('datasource_retriever_operator___$$___database___$$___v1_0|parameters|0'));
    const path = new RegExp(`data-edge-id="${edge!.id.replace(/[$.|]/g, '\\$&')}" d="M([^ ]+) C[^ ]+ [^ ]+ ([^"]+)"`).exec(svg);
    const retriever = nodesOf(flow).find((n) => n.id === edge!.target) as FlowNode;
    const resource = nodesOf(flow).find((n) => n.id === edge!.source) as FlowNode;
    const [sx] = numbers(path![1]!);
    const [tx] = numbers(path![2]!);
    expect(sx).toBe(Math.round((resource.position.x + resource.width) * 100) / 100);
    expect(tx).toBe(Math.round(retriever.position.x * 100) / 100);
    expect(svg).toContain(`<circle class="handle-resource" cx="${path![2]!.split(',')[0]}" cy="${path![2]!.split(',')[1]}"`);
  });

  it('escapes text and drops what XML cannot hold, without cutting node labels', () => {
    const flow = nastyFlow();
    const svg = renderSvg(flow);
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain('<title>&lt;Flow &amp; &quot;label&quot;&gt;</title>');
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<text>injected');
    const texts = svgTexts(svg);
    for (const label of expectedLabels(flow)) expect(texts).toContain(label);
    expect(svg).toMatch(/textLength="296" lengthAdjust="spacingAndGlyphs">A label far too long/);
  });

  it('draws an empty or broken flow without throwing', () => {
    const empty = renderSvg({ uid: 'u', name: 'empty', label: 'Empty', flow_data: { nodes: [], edges: [], viewport: { x: 0, y: 0 } } });
    expect(xmlProblem(empty)).toBeNull();
    expect(svgTexts(empty)).toEqual(['(no nodes)']);
    const broken = renderSvg({ uid: 'u', name: 'b', label: 'B', flow_data: { nodes: [{ id: 'a', data: 7 }, null], edges: [{ source: 'a', target: 'zz' }] } } as unknown as FlowFile);
    expect(xmlProblem(broken)).toBeNull();
    expect(svgTexts(broken)).toContain('a');
  });
});

describe.concurrent('renderSvg in headless Chromium', () => {
  const dir = tempDir('flowreg-svg-');
  const cases: Array<[string, FlowFile]> = [...files.map((f): [string, FlowFile] => [f, corpusFlow(f)]), ['escaping', nastyFlow()]];

  it.each(cases)('%s opens without errors and shows every node label', async (name, flow) => {
    expect(haveChromium(), `${CHROMIUM} is missing: install Debian's chromium package`).toBe(true);
    const file = join(dir, `${name}.svg`);
    writeFileSync(file, renderSvg(flow));
    const dom = await dumpDom(file);
    expect(dom).not.toContain('parsererror');
    expect(dom).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const texts = svgTexts(dom);
    for (const label of expectedLabels(flow)) expect(texts).toContain(label);
  });
});
