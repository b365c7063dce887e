import { parseYaml } from '../core/parseYaml.ts';
import type { Finding, FlowFile } from '../core/types.ts';
import { validateFlowText } from '../core/validateFlow.ts';

/** What the store learns from one flow file's text. */
export interface Inspection {
  /** The parsed mapping, also when it did not pass validation (its uid still identifies the flow). */
  value?: FlowFile;
  findings: Finding[];
}

/** Parses and validates one flow file's text with the one validator of src/core. */
export function inspectFlow(text: string, file: string): Inspection {
  const checked = validateFlowText(text, { file });
  if (checked.value) return { value: checked.value, findings: checked.findings };
  // invalid files are rare: parse again only to learn which flow the file meant to be
  const v = parseYaml(text).value;
  if (v && typeof v === 'object' && !Array.isArray(v)) return { value: v as FlowFile, findings: checked.findings };
  return { findings: checked.findings };
}
