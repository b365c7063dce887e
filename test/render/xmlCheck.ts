/**
 * A strict, small well-formedness check of an XML document (no DTD): one root element, balanced
 * tags, quoted attributes without `<`, unique attribute names, and `&` only in entity references.
 * Returns the first problem, or null when the document is well formed.
 */
export function xmlProblem(xml: string): string | null {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const name = '[A-Za-z_:][-A-Za-z0-9_:.]*';
  const entity = /^&(?:[A-Za-z_][A-Za-z0-9_.-]*|#[0-9]+|#x[0-9A-Fa-f]+);/;
  const textProblem = (text: string, at: number): string | null => {
    for (let k = text.indexOf('&'); k >= 0; k = text.indexOf('&', k + 1)) {
      if (!entity.test(text.slice(k))) return `bare & at ${at + k}`;
    }
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(text)) return `control character near ${at}`;
    return null;
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    const tp = textProblem(text, i);
    if (tp !== null) return tp;
    if (stack.length === 0 && text.trim() !== '') return `text outside the root at ${i}`;
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end < 0) return 'unclosed comment';
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt);
      if (end < 0 || stack.length === 0) return 'bad CDATA';
      i = end + 3;
      continue;
    }
    const close = new RegExp(`^</(${name})\\s*>`).exec(xml.slice(lt));
    if (close !== null) {
      if (stack.pop() !== close[1]) return `mismatched </${close[1]}> at ${lt}`;
      i = lt + close[0].length;
      continue;
    }
    const open = new RegExp(`^<(${name})((?:\\s+${name}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`).exec(xml.slice(lt));
    if (open === null) return `malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`;
    const attrs = [...(open[2] ?? '').matchAll(new RegExp(`(${name})\\s*=\\s*("[^"]*"|'[^']*')`, 'g'))];
    const names = attrs.map((a) => a[1]);
    if (new Set(names).size !== names.length) return `duplicate attribute at ${lt}`;
    for (const a of attrs) {
      const p = textProblem((a[2] as string).slice(1, -1), lt);
      if (p !== null) return p;
    }
    if (stack.length === 0) roots++;
    if (roots > 1) return `second root element at ${lt}`;
    if (open[3] !== '/') stack.push(open[1] as string);
    i = lt + open[0].length;
  }
  if (stack.length > 0) return `unclosed <${stack.at(-1)}>`;
  return roots === 1 ? null : 'no root element';
}

/** The text content of every `<text>` element of an SVG, entities decoded. */
export function svgTexts(xml: string): string[] {
  return [...xml.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)].map((m) => decodeXml((m[1] as string).replace(/<[^>]*>/g, '')));
}

/** Decodes XML's predefined and numeric entities. */
export function decodeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/g, (_, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}
