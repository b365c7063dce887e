import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { FINDING_CODES, isFindingCode } from './findingCodes.ts';
import type { Finding } from './types.ts';

type Position = { line: number; col: number };

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/**
 * Walks a JSON pointer through the YAML node tree. Returns the node of the last segment found, and
 * for a mapping entry also its key; a segment that is not there (a missing key) stops the walk at
 * its parent, which is where a missing-key finding points.
 */
function walk(doc: Document, pointer: string): { node: YamlNode | null; key?: YamlNode; complete: boolean } {
  let node = doc.contents as YamlNode | null;
  let key: YamlNode | undefined;
  if (pointer === '') return { node, complete: true };
  for (const raw of pointer.slice(1).split('/')) {
    if (isAlias(node)) node = (node.resolve(doc) as YamlNode | undefined) ?? node;
    const seg = unescapePointer(raw);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === seg);
      if (pair === undefined) return { node, complete: false };
      key = pair.key as YamlNode;
      // `key:` with nothing after it has no value node: the key is the closest place.
      node = (pair.value as YamlNode | null) ?? null;
      const empty = node === null || (isScalar(node) && node.range !== undefined && node.range !== null && node.range[0] === node.range[1]);
      if (empty) return { node: key, key, complete: true };
    } else if (isSeq(node)) {
      const item = /^(0|[1-9][0-9]*)$/.test(seg) ? node.items[Number(seg)] : undefined;
      if (item === undefined) return { node, complete: false };
      key = undefined;
      node = item as YamlNode;
    } else {
      return { node, complete: false };
    }
  }
  return { node, key, complete: true };
}

function positionOf(node: YamlNode | null | undefined, lines: LineCounter): Position {
  const offset = node?.range?.[0];
  if (offset === undefined) return { line: 1, col: 1 };
  const pos = lines.linePos(offset);
  return { line: Math.max(pos.line, 1), col: Math.max(pos.col, 1) };
}

/**
 * Fills `line`/`col` of findings from the YAML text they are about (1-based): the key for
 * unknown-key findings, the parent mapping for missing keys, the value for everything else.
 * Findings that already have a position keep it. The text is parsed again, so callers do this
 * only for files that have findings.
 */
export function locateFindings(text: string, findings: Finding[]): Finding[] {
  if (findings.every((f) => f.line > 0)) return findings;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  return findings.map((f) => {
    if (f.line > 0) return f;
    const at = isFindingCode(f.code) ? FINDING_CODES[f.code].at : 'value';
    const found = walk(doc, f.path);
    const target = found.complete && at === 'key' && found.key !== undefined ? found.key : found.node;
    return { ...f, ...positionOf(target, lines) };
  });
}
