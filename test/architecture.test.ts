import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

const ALLOWED: Record<string, string[]> = {
  errors: [],
  core: ['errors'],
  store: ['errors', 'core'],
  watch: ['errors', 'core'],
  config: ['errors', 'core'],
  service: ['errors', 'core', 'store', 'watch', 'config'],
  runtime: ['errors', 'core', 'store', 'watch', 'config', 'service'],
  server: ['errors', 'core', 'config', 'service', 'runtime'],
  daemon: ['errors', 'core', 'store', 'watch', 'config', 'service', 'runtime', 'server'],
  cli: ['errors', 'core', 'store', 'watch', 'config', 'service', 'runtime', 'server', 'daemon'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2]) as string);
  }
  return out;
}

const files = walk(src);

describe('architecture', () => {
  it('has a layer for every folder of src/', () => {
    const layers = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
    expect(layers.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it('imports only go down the layer table of docs/architecture.md', () => {
    const bad: string[] = [];
    for (const file of files) {
      const layer = relative(src, file).split('/')[0] as string;
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        const rel = relative(src, target);
        if (rel.startsWith('..')) continue; // schemas/ and package files
        const targetLayer = rel.split('/')[0] as string;
        if (targetLayer !== layer && !ALLOWED[layer]?.includes(targetLayer)) bad.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('keeps src/core pure: no file system, git, network or process', () => {
    const bad: string[] = [];
    const forbidden = /^(node:)?(fs|fs\/promises|child_process|http|https|net|os|process)$|^(isomorphic-git|express|chokidar|pino)/;
    for (const file of files.filter((f) => relative(src, f).startsWith('core/'))) {
      for (const spec of importsOf(file)) if (forbidden.test(spec)) bad.push(`${relative(root, file)} imports ${spec}`);
      if (/\bprocess\./.test(readFileSync(file, 'utf8'))) bad.push(`${relative(root, file)} uses process`);
    }
    expect(bad).toEqual([]);
  });

  it('lets no layer reach around the store: no `x.store.y` chains, no public store fields', () => {
    const bad: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\b(\w+)\s*\.\s*store\s*\.\s*\w/g)) if (m[1] !== 'this') bad.push(`${relative(root, file)}: ${m[0]}`);
      for (const m of text.matchAll(/^\s*(?:public\s+)?readonly\s+store\b.*$/gm)) bad.push(`${relative(root, file)}: ${m[0].trim()}`);
    }
    expect(bad).toEqual([]);
    // the check itself finds what it must
    expect('svc.store.refresh()'.match(/\b(\w+)\s*\.\s*store\s*\.\s*\w/)?.[1]).toBe('svc');
  });

  it('has the table of docs/architecture.md name every layer', () => {
    const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    for (const layer of Object.keys(ALLOWED)) expect(doc).toContain(`\`src/${layer}\``);
  });
});
