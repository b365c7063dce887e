import { parseYaml } from '../core/parseYaml.ts';
import type { Finding, FlowFile } from '../core/types.ts';
import { validateFlowText, validateFlowValue } from '../core/validateFlow.ts';
import { isObject } from '../core/jsonAccess.ts';

/** What the store learns from one flow file's text. */
export interface TextInspection {
  /** The parsed mapping, also when it did not pass validation (its uid still identifies the flow). */
  value?: FlowFile;
  findings: Finding[];
}

/**
 * Parses and validates one flow file's text with the one validator of src/core. Positions cost a
 * second, slow parse: the store needs them only for errors (they go into error_message), so a
 * file with warnings alone keeps its warnings without positions.
 */
export function inspectFlow(text: string, file: string): TextInspection {
  const parsed = parseYaml(text);
  const v = parsed.value;
  if (parsed.findings.length === 0 && isObject(v)) {
    const findings = validateFlowValue(v, { file });
    if (!findings.some((f) => f.severity === 'error')) return { value: v as FlowFile, findings };
  }
  const checked = validateFlowText(text, { file });
  if (checked.value) return { value: checked.value, findings: checked.findings };
  // an invalid file still names the flow it meant to be
  if (isObject(v)) return { value: v as unknown as FlowFile, findings: checked.findings };
  return { findings: checked.findings };
}
