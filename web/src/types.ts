/** The shapes of the API answers the pages read (docs/api.md, docs/web.md). */
export interface Finding {
  code: string;
  file: string;
  line: number;
  col: number;
  message: string;
}

export interface FlowSummary {
  uid: string;
  name: string | null;
  label: string | null;
  description: string | null;
  flow_category: string | null;
  state: string | null;
  path: string;
  version: string;
  gmt_modified: string;
  findings: Finding[];
  last_commit: { version: string; author: string; time: string; message: string } | null;
}

export interface BrowsePage {
  items: FlowSummary[];
  total_count: number;
  total_pages: number;
  page: number;
  page_size: number;
  categories: string[];
  states: string[];
  quarantined_count: number;
}

export interface VersionEntry {
  version: string;
  gmt_created: string;
  author: string;
  author_email: string;
  message: string;
}

export type Flow = Record<string, unknown> & { uid: string; name?: string; label?: string; version?: string; flow_data?: unknown };

export const short = (v: string | null | undefined): string => (typeof v === 'string' ? (/^[0-9a-f]{40}/.test(v) ? v.slice(0, 8) + v.slice(40) : v) : '');
export const where = (f: Finding): string => `${f.file}:${f.line}:${f.col}`;
