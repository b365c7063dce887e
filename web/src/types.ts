/** The shapes of the API answers the pages read (docs/api.md, docs/web.md). */
import type { FlowSummary } from '../../src/service/FlowServiceApi.ts';

// the answers' shapes are the server's own (docs/api.md, docs/web.md): one definition, type-only
export type { BrowsePage, FlowSummary, FlowVersionEntry as VersionEntry } from '../../src/service/FlowServiceApi.ts';

/** A finding of a quarantined file, with its position. */
export type Finding = FlowSummary['findings'][number];

export type Flow = Record<string, unknown> & { uid: string; name?: string; label?: string; version?: string; flow_data?: unknown };

export const short = (v: string | null | undefined): string => (typeof v === 'string' ? (/^[0-9a-f]{40}/.test(v) ? v.slice(0, 8) + v.slice(40) : v) : '');
export const where = (f: Finding): string => `${f.file}:${f.line}:${f.col}`;
