import type { Severity } from './types.ts';

/** Which stage of the pipeline reports a finding (docs/validation.md). */
export type FindingStage = 'yaml' | 'schema' | 'graph' | 'repository' | 'format' | 'store';

/** What the registry knows of one finding code. */
export interface FindingCodeInfo {
  severity: Severity;
  stage: FindingStage;
  /** One line: what is wrong, for docs, SARIF rules and `--help`. */
  summary: string;
  /** Where the file position points: the key of `path` (unknown keys) or its value (everything else). */
  at: 'key' | 'value';
}

const error = (stage: FindingStage, summary: string): FindingCodeInfo => ({ severity: 'error', stage, summary, at: 'value' });

/**
 * Every code the validator reports, in pipeline order. docs/errors.md lists the same codes (a test
 * checks both directions), and every code has a broken fixture under test/fixtures/invalid/.
 */
export const FINDING_CODES = {
  YAML_SYNTAX: error('yaml', 'The file is not well-formed YAML.'),
  YAML_DUPLICATE_KEY: error('yaml', 'A mapping has the same key twice.'),
  YAML_WARNING: { severity: 'warning', stage: 'yaml', summary: 'The YAML reader ignored something it does not know (an unknown tag or directive).', at: 'value' },
  YAML_NOT_MAPPING: error('yaml', 'The file is not one YAML mapping (it is empty, a list or a scalar).'),

  SCHEMA_REQUIRED: error('schema', 'A required key is missing.'),
  SCHEMA_TYPE: error('schema', 'A value has the wrong type.'),
  SCHEMA_ENUM: error('schema', 'A value is not one of the allowed values.'),
  SCHEMA_PATTERN: error('schema', 'A string does not have the required form.'),
  SCHEMA_CONSTRAINT: error('schema', 'A value breaks another constraint of the schema (for example an empty label).'),
  SCHEMA_UNKNOWN_KEY: { severity: 'warning', stage: 'schema', summary: 'A key DB-GPT does not know; it ignores it and drops it on its next write.', at: 'key' },
  SCHEMA_DERIVED_KEY: { severity: 'warning', stage: 'schema', summary: 'A key flowreg derives at read time (version, gmt_*, error_message, metadata) is stored in the file; its value is ignored.', at: 'key' },
  SCHEMA_DYNAMIC_PARAMETER: error('schema', 'A dynamic parameter is not a list, or its dynamic_minimum is negative.'),
  SCHEMA_DYNAMIC_OUTPUT: error('schema', 'An operator has more than one dynamic output, or one that is not the last.'),
  SCHEMA_INPUT_MAPPERS: error('schema', 'An operator input has mappers (only outputs may).'),
  SCHEMA_VALUE_TYPE: error('schema', 'A parameter value or default does not convert to the parameter type (type_cls, is_list).'),
  SCHEMA_VARIABLE_REF: error('schema', 'A variable value looks like a `${...}` reference but lacks the key or the scope DB-GPT needs.'),

  GRAPH_EMPTY: error('graph', 'The flow has no node.'),
  NODE_ID_DUPLICATE: error('graph', 'Two nodes have the same id.'),
  // A warning: DB-GPT finds the operator or resource class through data.id and never compares it
  // with the node id, and its own templates (and fill_flow_panel after a class rename) differ.
  NODE_DATA_ID_MISMATCH: { severity: 'warning', stage: 'graph', summary: 'A node\'s data.id differs from its id (DB-GPT accepts it; edges use the id, DB-GPT finds the class through data.id).', at: 'value' },
  NODE_RESOURCE_UNCONNECTED: error('graph', 'A resource node has no edge while other resources have (DB-GPT fails to build such a flow).'),
  EDGE_SOURCE_MISSING: error('graph', 'An edge starts at a node that does not exist.'),
  EDGE_TARGET_MISSING: error('graph', 'An edge ends at a node that does not exist.'),
  EDGE_HANDLE_MALFORMED: error('graph', 'An edge handle is not `<node id>|outputs|<i>`, `<node id>|inputs|<i>` or `<node id>|parameters|<i>` for its own source or target.'),
  EDGE_HANDLE_OUT_OF_RANGE: error('graph', 'An edge handle or order points past the outputs, inputs or parameters of its node.'),
  EDGE_ORDER_MISMATCH: error('graph', 'An edge\'s source_order or target_order differs from the index in its handle.'),
  EDGE_RESOURCE_TARGET: error('graph', 'A resource edge does not end on a parameter of category `resource`.'),
  EDGE_OPERATOR_TO_RESOURCE: error('graph', 'An edge goes from an operator to a resource.'),
  GRAPH_CYCLE: error('graph', 'The edges form a cycle.'),

  FILE_NAME_MISMATCH: error('repository', 'The file is not named `<name>.yaml`.'),
  SECRET_LITERAL: error('repository', 'A secret variable holds a literal value instead of a `${...}` reference.'),
  UID_DUPLICATE: error('repository', 'Another flow file has the same uid.'),
  NAME_DUPLICATE: error('repository', 'Another flow file has the same name.'),
  NAME_CASE_CLASH: error('repository', 'Another flow file has a name that differs only in case (names are unique regardless of case).'),

  // Reported by the pre-commit hook (and `fmt --check` lists the same files): not a validation stage.
  NOT_CANONICAL: error('format', 'The file is valid but not in canonical form; `flowreg fmt` rewrites it.'),

  // Reported by the daemon's store, which reads the working tree (tested in test/store/gitStore.test.ts).
  NOT_REGULAR_FILE: error('store', 'The flow path is a symbolic link, not a regular file: flowreg neither reads nor writes through it.'),
} as const satisfies Record<string, FindingCodeInfo>;

/** A code of FINDING_CODES. */
export type FindingCode = keyof typeof FINDING_CODES;

/** True when `code` is a registered finding code. */
export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(FINDING_CODES, code);
}
