import type { FlowFile, FlowNode } from '../../src/core/types.ts';
import { clone, corpusFlow } from '../diff/corpus.ts';

/** A flow whose labels and values hold every character that needs escaping, and some XML cannot hold. */
export function nastyFlow(): FlowFile {
  const flow = clone(corpusFlow('simple_streaming_chat_flow.json'));
  const [a, b, c] = (flow.flow_data?.nodes ?? []) as [FlowNode, FlowNode, FlowNode];
  a.data['custom_label'] = 'Tom & "Jerry" <script>alert(1)</script> \'x\' ]]> 🙂';
  b.data['custom_label'] = 'Zero\u0000width\u0008 controls';
  c.data['label'] = 'A label far too long to fit in the three hundred and twenty pixels of a node header, so it is narrowed';
  (a.data['parameters'] as Array<Record<string, unknown>>)[0]!['value'] = '</text><text>injected & \ud800 lone surrogate';
  flow.label = '<Flow & "label">';
  return flow;
}
