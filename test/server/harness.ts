/** The app over a real FlowService on a throwaway repository, for the server tests. */
import * as fs from 'node:fs';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { pino } from 'pino';
import type { Express } from 'express';
import git from 'isomorphic-git';
import type { ApiKey } from '../../src/config/parseApiKeys.ts';
import type { RuntimeRouter } from '../../src/runtime/types.ts';
import { createApp } from '../../src/server/createApp.ts';
import { FlowService } from '../../src/service/FlowService.ts';
import { GitStore } from '../../src/store/GitStore.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';

/** One app and what it runs on. */
export interface Harness {
  repo: string;
  service: FlowService;
  app: Express;
  /** Parsed log lines, in order. */
  logs: Array<Record<string, unknown>>;
}

/**
 * The app over a fresh repository holding `files` (committed), with the given keys and body limit.
 * Built in-process, so the server tests that check no commit with native git run in test:fast.
 */
export async function harness(opts: { files?: Record<string, string>; apiKeys?: ApiKey[]; bodyLimit?: number; runtimes?: RuntimeRouter | null; corsOrigins?: string[] } = {}): Promise<Harness> {
  const repo = await inProcessRepo(opts.files ?? {});
  const service = new FlowService(await GitStore.open({ dir: repo, durable: false }));
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const app = createApp({ service, logger, apiKeys: opts.apiKeys ?? [], bodyLimit: opts.bodyLimit ?? 10 * 1024 * 1024, runtimes: opts.runtimes ?? null, corsOrigins: opts.corsOrigins ?? [] });
  return { repo, service, app, logs };
}

/** Number of commits on HEAD, read in-process; 0 before the first commit (an unborn branch). */
export async function commitCount(repo: string): Promise<number> {
  try {
    await git.resolveRef({ fs, dir: repo, ref: 'HEAD' });
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return 0;
    throw err;
  }
  return (await git.log({ fs, dir: repo, ref: 'HEAD' })).length;
}

/** Every file of the working tree outside .git, repository-relative, sorted. */
export function treeFiles(repo: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (dir === repo && name === '.git') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(repo, p));
    }
  };
  walk(repo);
  return out.sort();
}

/** The keys of DB-GPT's Flow object in GET order. */
export const FLOW_KEYS = [
  'uid',
  'label',
  'name',
  'flow_category',
  'description',
  'state',
  'error_message',
  'source',
  'source_url',
  'version',
  'define_type',
  'editable',
  'user_name',
  'sys_code',
  'dag_id',
  'gmt_created',
  'gmt_modified',
  'metadata',
  'variables',
  'authors',
  'flow_data',
];

const STATES = ['initializing', 'developing', 'testing', 'deployed', 'running', 'disabled', 'load_failed'];
const TIME_RE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Asserts that `data` passes what `FlowPanel(**data)` requires in dbgpt_client and what DB-GPT's
 * UI reads (dbgpt-flow-api.md §3, §4, §7, §8): every key, non-empty label and name, a valid state
 * and category, boolean editable, string version, DB-GPT's time format, node flow_type set,
 * integer sizes, and edges whose orders can be derived.
 */
export function expectFlowPanel(data: unknown): asserts data is Record<string, unknown> {
  expect(isObject(data)).toBe(true);
  const f = data as Record<string, unknown>;
  expect(Object.keys(f).sort()).toEqual([...FLOW_KEYS].sort());
  expect(typeof f.uid).toBe('string');
  expect(typeof f.label === 'string' && f.label !== '').toBe(true);
  expect(typeof f.name === 'string' && f.name !== '').toBe(true);
  expect(STATES).toContain(f.state);
  expect(['common', 'chat_flow', 'chat_agent', null]).toContain(f.flow_category);
  expect(typeof f.editable).toBe('boolean');
  expect(typeof f.version).toBe('string');
  expect(typeof f.define_type).toBe('string');
  expect(f.source === null || typeof f.source === 'string').toBe(true);
  expect(f.metadata).toBeNull();
  expect(f.variables === null || Array.isArray(f.variables)).toBe(true);
  expect(f.authors === null || Array.isArray(f.authors)).toBe(true);
  for (const key of ['gmt_created', 'gmt_modified']) expect(f[key] === null || TIME_RE.test(String(f[key]))).toBe(true);
  for (const key of ['description', 'error_message', 'source_url', 'user_name', 'sys_code', 'dag_id']) expect(f[key] === null || typeof f[key] === 'string').toBe(true);
  const fd = f.flow_data as Record<string, unknown>;
  expect(isObject(fd)).toBe(true);
  for (const node of fd.nodes as Array<Record<string, unknown>>) {
    expect(Number.isInteger(node.width) && Number.isInteger(node.height)).toBe(true);
    expect(['operator', 'resource']).toContain((node.data as Record<string, unknown>).flow_type);
    expect(isObject(node.position) && isObject(node.position_absolute)).toBe(true);
  }
  for (const edge of fd.edges as Array<Record<string, unknown>>) {
    for (const side of ['source', 'target']) {
      const order = edge[`${side}_order`];
      const handle = edge[`${side}_handle`];
      expect(Number.isInteger(order) || (typeof handle === 'string' && /\|\d+$/.test(handle))).toBe(true);
    }
  }
  expect(isObject(fd.viewport)).toBe(true);
}

/** Asserts DB-GPT's failure envelope: keys in order, `success: false`, the err_code, a non-empty message, `data: null`. */
export function expectFailure(body: unknown, errCode?: string | RegExp): string {
  expect(isObject(body)).toBe(true);
  const b = body as Record<string, unknown>;
  expect(Object.keys(b)).toEqual(['success', 'err_code', 'err_msg', 'data']);
  expect(b.success).toBe(false);
  expect(b.data).toBeNull();
  expect(typeof b.err_msg === 'string' && b.err_msg.trim() !== '').toBe(true);
  if (typeof errCode === 'string') expect(b.err_code).toBe(errCode);
  else if (errCode !== undefined) expect(b.err_code).toMatch(errCode);
  return b.err_msg as string;
}
