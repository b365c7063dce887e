import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FlowregError, redactCredentials } from '../errors/index.ts';
import type { RuntimeTarget } from '../core/runtimeTarget.ts';

/** A runtime's name: used in status, logs and its key's variable name. */
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** The environment variable holding a runtime's API key: FLOWREG_RUNTIME_KEY_<NAME>. */
export function runtimeKeyEnv(name: string): string {
  return `FLOWREG_RUNTIME_KEY_${name.toUpperCase().replaceAll('-', '_')}`;
}

function usage(where: string, text: string): FlowregError {
  return new FlowregError('USAGE', `${where}: ${text}`);
}

/** A runtime's base URL: http(s), no credentials, query or fragment; the trailing slash dropped. */
function runtimeUrl(raw: string, where: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw usage(where, `expected the http(s) URL of a DB-GPT webserver such as http://127.0.0.1:5670, got ${JSON.stringify(redactCredentials(raw))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage(where, `a runtime URL must be http or https, got ${JSON.stringify(redactCredentials(raw))}`);
  if (u.username !== '' || u.password !== '') throw usage(where, `a runtime URL cannot hold credentials (${JSON.stringify(redactCredentials(raw))}): give the API key in ${runtimeKeyEnv('<name>')} or apiKeyFile`);
  if (u.search !== '' || u.hash !== '') throw usage(where, `a runtime URL is a base URL without ?query or #fragment, got ${JSON.stringify(raw)}`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function keyFile(raw: unknown, where: string, base: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw usage(where, 'apiKeyFile must be a file path');
  const file = resolve(base, raw.trim());
  if (!existsSync(file) || !statSync(file).isFile()) throw usage(where, `no such key file: ${file}`);
  const key = readFileSync(file, 'utf8').trim();
  if (key === '') throw usage(where, `the key file ${file} is empty`);
  return key;
}

/**
 * The runtimes of `--runtime`, FLOWREG_RUNTIMES or the config file: a comma list of `url` or
 * `name=url`, or (config file) an array of such strings and `{name, url, apiKeyFile}` objects.
 * Unnamed runtimes are `rt1`, `rt2`… by position. Keys are added by withRuntimeKeys.
 */
export function parseRuntimes(raw: unknown, where: string, base: string): RuntimeTarget[] {
  const entries: unknown[] = typeof raw === 'string' ? raw.split(',').filter((s) => s.trim() !== '') : Array.isArray(raw) ? raw : [raw];
  if (entries.length === 0) throw usage(where, 'expected at least one runtime URL');
  const out: RuntimeTarget[] = entries.map((e, i) => {
    if (typeof e === 'string') {
      const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)=(.+)$/.exec(e);
      const name = m ? m[1]! : `rt${i + 1}`;
      if (!NAME_RE.test(name)) throw usage(where, `runtime name ${JSON.stringify(name)} may hold letters, digits, _ and - (at most 32, starting with a letter)`);
      return { name, url: runtimeUrl(m ? m[2]! : e, where), apiKey: null };
    }
    if (typeof e === 'object' && e !== null && !Array.isArray(e)) {
      const o = e as Record<string, unknown>;
      const unknown = Object.keys(o).filter((k) => !['name', 'url', 'apiKeyFile'].includes(k));
      if (unknown.length > 0) throw usage(where, `unknown key ${unknown.join(', ')} in runtime ${i + 1} (known: name, url, apiKeyFile; a key itself goes in ${runtimeKeyEnv('<name>')} or apiKeyFile)`);
      const name = o.name === undefined ? `rt${i + 1}` : o.name;
      if (typeof name !== 'string' || !NAME_RE.test(name)) throw usage(where, `runtime name ${JSON.stringify(name)} may hold letters, digits, _ and - (at most 32, starting with a letter)`);
      if (typeof o.url !== 'string') throw usage(where, `runtime ${name} needs a url`);
      return { name, url: runtimeUrl(o.url, where), apiKey: o.apiKeyFile === undefined ? null : keyFile(o.apiKeyFile, `${where} (runtime ${name})`, base) };
    }
    throw usage(where, `expected a runtime URL, name=URL or {"name","url"}, got ${JSON.stringify(e)}`);
  });
  const names = new Set<string>();
  const urls = new Set<string>();
  for (const t of out) {
    if (names.has(t.name)) throw usage(where, `runtime name ${t.name} is given twice`);
    if (urls.has(t.url)) throw usage(where, `runtime ${t.url} is given twice`);
    names.add(t.name);
    urls.add(t.url);
  }
  return out;
}

/** Each runtime's key from FLOWREG_RUNTIME_KEY_<NAME> (a key file given in the config wins). */
export function withRuntimeKeys(targets: RuntimeTarget[], env: Record<string, string | undefined>): RuntimeTarget[] {
  return targets.map((t) => {
    const k = env[runtimeKeyEnv(t.name)];
    return t.apiKey === null && k !== undefined && k.trim() !== '' ? { ...t, apiKey: k.trim() } : t;
  });
}
