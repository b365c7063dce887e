import { parseDocument } from 'yaml';
import type { Finding, Json } from './types.ts';

/** The outcome of parsing one YAML text: the value when it parsed, and YAML findings otherwise. */
export interface YamlParseResult {
  value?: Json;
  findings: Finding[];
}

/**
 * Parses YAML text (YAML 1.2 core schema, duplicate keys refused) into a JSON value; never throws.
 * Placeholder implementation on the `yaml` package; a fast path for canonical files replaces it.
 */
export function parseYaml(text: string): YamlParseResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    return {
      findings: doc.errors.map((e) => ({
        code: e.code === 'DUPLICATE_KEY' ? 'YAML_DUPLICATE_KEY' : 'YAML_SYNTAX',
        severity: 'error',
        path: '',
        file: '',
        line: e.linePos?.[0]?.line ?? 0,
        col: e.linePos?.[0]?.col ?? 0,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  return { value: doc.toJS({ maxAliasCount: 100 }) as Json, findings: [] };
}
