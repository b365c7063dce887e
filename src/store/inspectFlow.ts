import { parseYaml } from '../core/parseYaml.ts';
import type { Finding, FlowFile } from '../core/types.ts';

/** What the store learns from one flow file's text. */
export interface Inspection {
  value?: FlowFile;
  findings: Finding[];
}

/** Parses and validates one flow file's text (the one validator of src/core). */
export function inspectFlow(text: string, file: string): Inspection {
  const parsed = parseYaml(text);
  const v = parsed.value;
  if (v && typeof v === 'object' && !Array.isArray(v)) return { value: v as FlowFile, findings: parsed.findings };
  return { findings: parsed.findings };
}
