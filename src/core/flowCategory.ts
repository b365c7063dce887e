import type { FlowData, JsonObject } from './types.ts';

const HTTP_TRIGGER = 'dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpTrigger';
const CHAT_OUTPUTS = new Set([
  'builtins.str',
  'dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpResponseBody',
  'dbgpt.core.interface.llm.ModelOutput',
]);

/**
 * DB-GPT's flow_category, recomputed from flow_data as its service does from the built DAG
 * (`_parse_flow_category`): `common` without a trigger, without exactly one leaf operator or when
 * the leaf has no output; `chat_agent` with an agent trigger; `chat_flow` with the common LLM HTTP
 * trigger and a leaf whose first output is text, an HTTP response body or model output; otherwise
 * null. Node classes are read from the stored metadata (`type_cls`), not resolved in Python.
 */
export function flowCategoryOf(flowData: FlowData | null | undefined): 'common' | 'chat_flow' | 'chat_agent' | null {
  if (!flowData || !Array.isArray(flowData.nodes)) return 'common';
  const operators = flowData.nodes.filter((n) => (n.data as JsonObject | undefined)?.flow_type === 'operator');
  const ids = new Set(operators.map((n) => n.id));
  const triggers = operators.filter((n) => (n.data as JsonObject).category === 'trigger' || (n.data as JsonObject).operator_type === 'input');
  if (triggers.length === 0) return 'common';
  const hasDownstream = new Set<string>();
  for (const e of Array.isArray(flowData.edges) ? flowData.edges : []) {
    if (ids.has(e.source) && ids.has(e.target)) hasDownstream.add(e.source);
  }
  const leaves = operators.filter((n) => !hasDownstream.has(n.id));
  if (leaves.length !== 1) return 'common';
  const outputs = (leaves[0]?.data as JsonObject).outputs;
  if (!Array.isArray(outputs) || outputs.length === 0) return 'common';
  const typeCls = (t: { data: unknown }): string => String((t.data as JsonObject).type_cls ?? '');
  if (triggers.some((t) => typeCls(t).endsWith('AgentDummyTrigger'))) return 'chat_agent';
  const first = outputs[0] as JsonObject;
  if (triggers.some((t) => typeCls(t) === HTTP_TRIGGER) && CHAT_OUTPUTS.has(String(first.type_cls))) return 'chat_flow';
  return null;
}
