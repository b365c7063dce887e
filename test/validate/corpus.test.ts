import { describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/core/checkRepository.ts';
import { flowFileFromDbgpt } from '../../src/core/dbgptFlow.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { validateFlowText, validateFlowValue } from '../../src/core/validateFlow.ts';
import { corpusFiles, corpusFlow } from '../helpers/flows.ts';

const files = corpusFiles();

describe('the corpus of DB-GPT flow exports', () => {
  it('is the six English templates', () => {
    expect(files).toHaveLength(6);
  });

  it.each(files)('%s, as the flow file flowreg stores, passes with no finding', (name) => {
    const flow = flowFileFromDbgpt(corpusFlow(name));
    const text = formatFlow(flow, { schemaRef: '../schemas/flow.schema.json' });
    const result = validateFlowText(text, { file: `flows/${flow.name}.yaml` });
    expect(result.findings).toEqual([]);
    expect(result.value).toEqual(flow);
  });

  it.each(files)('%s, as DB-GPT exports it, has only the derived keys to warn about', (name) => {
    const findings = validateFlowValue(corpusFlow(name));
    expect(findings.map((f) => `${f.severity} ${f.code} ${f.path}`)).toEqual([
      'warning SCHEMA_DERIVED_KEY /version',
      'warning SCHEMA_DERIVED_KEY /gmt_created',
      'warning SCHEMA_DERIVED_KEY /gmt_modified',
      'warning SCHEMA_DERIVED_KEY /error_message',
      'warning SCHEMA_DERIVED_KEY /metadata',
    ]);
  });

  it('has two byte-identical templates, which the repository rules catch in both files', () => {
    const entries = files.map((name) => {
      const value = flowFileFromDbgpt(corpusFlow(name));
      return { file: `flows/${name.replace(/\.json$/, '.yaml')}`, value };
    });
    const findings = checkRepository(entries);
    expect(findings.map((f) => `${f.file} ${f.code} ${f.path}`)).toEqual([
      'flows/hybrid-knowledge-process-template.yaml UID_DUPLICATE /uid',
      'flows/kg-knowledge-process-flow-template.yaml UID_DUPLICATE /uid',
      'flows/hybrid-knowledge-process-template.yaml NAME_DUPLICATE /name',
      'flows/kg-knowledge-process-flow-template.yaml NAME_DUPLICATE /name',
    ]);
    expect(findings[0]?.message).toBe(
      'uid "cdc54643-3580-4336-b60f-98ffc2e8d02f" is also used by flows/kg-knowledge-process-flow-template.yaml; uids must be unique in the repository',
    );
    expect(findings[2]?.message).toBe('name "knowledge_graph_process_workflow" is also used by flows/kg-knowledge-process-flow-template.yaml; names must be unique in the repository');
  });
});
