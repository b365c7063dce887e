import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.ts';
import { dumpDom } from './chromium.ts';

/** What Mermaid made of one diagram: its error, or the nodes and links of the SVG it drew. */
export interface MermaidResult {
  error: string | null;
  /** Text of each drawn node, in the order Mermaid drew them. */
  labels: string[];
  /** Class attribute of each drawn node (Mermaid adds the diagram's `class` assignments to it). */
  classes: string[];
  links: number;
}

const MERMAID_JS = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');

/**
 * Renders Mermaid diagrams with Mermaid itself (the pinned package's browser build, the code
 * GitHub runs on a ```mermaid block) in headless Chromium, with its default limits
 * (maxTextSize 50,000, maxEdges 500), and reports what it drew.
 */
export async function renderWithMermaid(diagrams: string[]): Promise<MermaidResult[]> {
  const dir = tempDir('flowreg-mermaid-');
  const page = join(dir, 'page.html');
  // the diagrams travel as JSON inside a script element: `<` escaped so no text can close it
  const data = JSON.stringify(diagrams).replace(/</g, '\\u003c');
  writeFileSync(
    page,
    `<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre id="out">pending</pre>
<script id="diagrams" type="application/json">${data}</script>
<script src="${pathToFileURL(MERMAID_JS).href}"></script>
<script>
(async () => {
  const out = [];
  try {
    mermaid.initialize({ startOnLoad: false });
    const diagrams = JSON.parse(document.getElementById('diagrams').textContent);
    for (let i = 0; i < diagrams.length; i++) {
      try {
        await mermaid.parse(diagrams[i]);
        const { svg } = await mermaid.render('diagram' + i, diagrams[i]);
        const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
        const nodes = [...doc.querySelectorAll('g.node')];
        out.push({
          error: null,
          labels: nodes.map((n) => n.textContent.trim()),
          classes: nodes.map((n) => n.getAttribute('class') || ''),
          links: doc.querySelectorAll('path.flowchart-link').length,
        });
      } catch (e) {
        out.push({ error: String((e && e.message) || e), labels: [], classes: [], links: 0 });
      }
    }
  } catch (e) {
    out.push({ error: 'page: ' + String((e && e.message) || e), labels: [], classes: [], links: 0 });
  }
  document.getElementById('out').textContent = JSON.stringify(out);
})();
</script></body></html>`,
  );
  const dom = await dumpDom(page, ['--virtual-time-budget=60000', '--allow-file-access-from-files']);
  const m = /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom);
  const text = (m?.[1] ?? 'missing').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  if (!text.startsWith('[')) throw new Error(`Mermaid did not finish in Chromium (${text.slice(0, 200)})`);
  return JSON.parse(text) as MermaidResult[];
}
