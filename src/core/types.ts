/** Shared value types of the pure core: flow files, DB-GPT flows and validation findings. */

/** A JSON value as it appears in a flow file or on the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * The declared fields of a flow file, in canonical key order (docs/flow-files.md).
 * `version`, `gmt_created`, `gmt_modified`, `error_message` and `metadata` are never stored.
 */
export const FLOW_FILE_KEYS = [
  'uid',
  'name',
  'label',
  'description',
  'flow_category',
  'state',
  'editable',
  'define_type',
  'source',
  'source_url',
  'user_name',
  'sys_code',
  'dag_id',
  'authors',
  'variables',
  'flow_data',
] as const;

/** Keys of `flow_data`, in canonical order. */
export const FLOW_DATA_KEYS = ['nodes', 'edges', 'viewport'] as const;

/** Fields derived at read time, never stored in a flow file. */
export const DERIVED_KEYS = ['version', 'gmt_created', 'gmt_modified', 'error_message', 'metadata'] as const;

/** A flow file's content: a mapping whose declared keys are those of FLOW_FILE_KEYS. */
export type FlowFile = {
  uid: string;
  name: string;
  label: string;
  description?: string | null;
  flow_category?: string | null;
  state?: string;
  editable?: boolean;
  define_type?: string | null;
  source?: string | null;
  source_url?: string | null;
  user_name?: string | null;
  sys_code?: string | null;
  dag_id?: string | null;
  authors?: string[] | null;
  variables?: JsonObject[] | null;
  flow_data?: FlowData | null;
  [extra: string]: unknown;
};

export type Position = {
  x: number;
  y: number;
  zoom?: number;
  [extra: string]: unknown;
};

export type FlowNode = {
  id: string;
  width: number;
  height: number;
  position: Position;
  position_absolute: Position;
  type?: string | null;
  data: JsonObject;
  [extra: string]: unknown;
};

export type FlowEdge = {
  id: string;
  source: string;
  target: string;
  source_order?: number;
  target_order?: number;
  source_handle?: string | null;
  target_handle?: string | null;
  type?: string | null;
  [extra: string]: unknown;
};

export type FlowData = {
  nodes: FlowNode[];
  edges: FlowEdge[];
  viewport: Position;
  [extra: string]: unknown;
};

/** DB-GPT's Flow object (FlowPanel) as it travels on the wire: every key present, nulls explicit. */
export type DbgptFlow = JsonObject;

export type Severity = 'error' | 'warning';

/**
 * One thing the validator found. `path` is a JSON pointer into the file's value ("" for the whole
 * file); `line` and `col` are 1-based and 0 when the position is unknown.
 */
export interface Finding {
  code: string;
  severity: Severity;
  path: string;
  file: string;
  line: number;
  col: number;
  message: string;
}
