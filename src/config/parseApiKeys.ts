import { FlowregError } from '../errors/index.ts';

/** One accepted API key; a named key's name becomes the commit author of the writes made with it. */
export interface ApiKey {
  name: string | null;
  key: string;
}

/** Key names become git author names and the local part of `<name>@flowreg`, so they stay plain. */
export const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function entry(text: string, where: string): ApiKey {
  const trimmed = text.trim();
  const eq = trimmed.indexOf('=');
  // A base64 key may end in "=" padding: "abc==" is a bare key, not the name "abc" with key "=".
  if (eq > 0 && !/^=*$/.test(trimmed.slice(eq + 1))) {
    const name = trimmed.slice(0, eq).trim();
    const key = trimmed.slice(eq + 1).trim();
    if (!KEY_NAME_RE.test(name)) {
      throw new FlowregError('USAGE', `${where}: key name ${JSON.stringify(name)} may only hold letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)`);
    }
    return { name, key };
  }
  return { name: null, key: trimmed };
}

/**
 * API keys from DB-GPT's comma-separated form (`k1,k2`), named entries (`alice=k1,bob=k2`, mixed
 * freely), a JSON array of such entries, or a JSON object `{ "alice": "k1" }`. Blank entries of a
 * comma list are skipped as DB-GPT's own parser tolerates them; no key at all (`""`, `","`, `" "`,
 * `[]`, `{}`), an empty key, a bad name or a key given twice is a USAGE error naming `where`.
 */
export function parseApiKeys(raw: unknown, where: string): ApiKey[] {
  let keys: ApiKey[];
  if (typeof raw === 'string') {
    keys = raw
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => entry(s, where));
  } else if (Array.isArray(raw)) {
    keys = raw.map((item, i) => {
      if (typeof item !== 'string' || item.trim() === '') throw new FlowregError('USAGE', `${where}[${i}]: expected a non-empty string "key" or "name=key"`);
      return entry(item, where);
    });
  } else if (typeof raw === 'object' && raw !== null) {
    keys = Object.entries(raw).map(([name, key]) => {
      if (!KEY_NAME_RE.test(name)) throw new FlowregError('USAGE', `${where}: key name ${JSON.stringify(name)} may only hold letters, digits, ".", "_" and "-"`);
      if (typeof key !== 'string' || key.trim() === '') throw new FlowregError('USAGE', `${where}.${name}: expected a non-empty string key`);
      return { name, key: key.trim() };
    });
  } else {
    throw new FlowregError('USAGE', `${where}: expected "k1,k2" or "name=key" entries, a list of them, or an object {"name": "key"}`);
  }
  // An empty list would start the daemon without authentication: a `--api-keys "$KEYS"` whose
  // variable is unset, or `,` left by a template, must not silently turn auth off.
  if (keys.length === 0) {
    throw new FlowregError('USAGE', `${where}: the list of API keys is empty, which would turn authentication off; give at least one key, or leave the option out to run without authentication`);
  }
  const seen = new Set<string>();
  for (const k of keys) {
    if (k.key === '') throw new FlowregError('USAGE', `${where}: an API key is empty`);
    if (seen.has(k.key)) throw new FlowregError('USAGE', `${where}: the same API key is given twice`);
    seen.add(k.key);
  }
  return keys;
}
