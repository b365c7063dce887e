/**
 * `flowreg import --from URL`: brings every flow of a running DB-GPT into the repository, one
 * commit per flow (or one for all), through native git. See docs/flow-files.md ("Importing from a
 * running DB-GPT").
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { flowFileFromDbgpt } from '../core/dbgptFlow.ts';
import { isWindowsReservedName } from '../core/flowPaths.ts';
import { formatFindings } from '../core/formatFindings.ts';
import { formatFlow } from '../core/formatFlow.ts';
import { isObject } from '../core/jsonAccess.ts';
import { parseYaml } from '../core/parseYaml.ts';
import { schemaRefFor } from '../core/schemaRef.ts';
import { TOOL_VERSION } from '../core/toolVersion.ts';
import type { FlowFile, JsonObject } from '../core/types.ts';
import { validateFlowValue } from '../core/validateFlow.ts';
import { FlowregError, isFlowregError } from '../errors/index.ts';
import { redactCredentials } from '../errors/redact.ts';
import { RuntimeClient, RuntimeError } from '../runtime/RuntimeClient.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { findFlowFiles } from './flowFiles.ts';

const FLOW_NAME_RE = /^[a-zA-Z0-9_-]+$/;
/** DB-GPT's `gmt_created` / `gmt_modified`: `YYYY-MM-DD HH:MM:SS`, naive (the server's local time). */
const DBGPT_TIME_RE = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/;

export interface ImportFromOptions {
  url: string;
  apiKey: string | null;
  /** Absolute target folder (flows/ of the repository by default). */
  dir: string;
  singleCommit: boolean;
  timeoutMs?: number;
}

/** One flow file already in the folder. */
interface Existing {
  abs: string;
  text: string;
  uid: string;
  name: string;
}

/** How long a commit waits for a held `.git/index.lock` (a flowreg daemon writing, docs/storage.md). */
const LOCK_WAIT_MS = 5_000;

export async function importFromDbgpt(io: CliIo, opts: ImportFromOptions): Promise<number> {
  const env = io.env as NodeJS.ProcessEnv;
  let root = opts.dir;
  const git = (args: string[], extraEnv: Record<string, string> = {}): string =>
    execFileSync('git', args, { cwd: root, env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(opts.dir, { recursive: true });
  try {
    root = git(['rev-parse', '--show-toplevel']).trim();
  } catch {
    throw new FlowregError('USAGE', `import --from: ${opts.dir} is not in a git repository (run flowreg init first)`);
  }
  const url = opts.url.replace(/\/+$/, '');
  const shownUrl = redactCredentials(url);
  const client = new RuntimeClient({ name: 'import', url, apiKey: opts.apiKey }, opts.timeoutMs ?? 30_000);

  // The flows already in the folder, by uid and by name (names regardless of case).
  const byUid = new Map<string, Existing>();
  const byName = new Map<string, Existing>();
  for (const abs of await findFlowFiles([opts.dir], io.cwd)) {
    const text = readFileSync(abs, 'utf8');
    const v = parseYaml(text).value;
    if (!isObject(v) || typeof v.uid !== 'string' || typeof v.name !== 'string') continue;
    const e = { abs, text, uid: v.uid, name: v.name };
    if (!byUid.has(e.uid)) byUid.set(e.uid, e);
    if (!byName.has(e.name.toLowerCase())) byName.set(e.name.toLowerCase(), e);
  }

  // Flow files with uncommitted changes (or untracked): never overwritten; committed when they
  // already hold what DB-GPT gives (an import interrupted before its commit).
  const dirty = new Set<string>();
  const untracked = new Set<string>();
  const status = git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', relative(root, opts.dir) || '.']).split('\0');
  for (let i = 0; i < status.length; i++) {
    const entry = status[i] as string;
    if (entry.length < 4) continue;
    dirty.add(join(root, entry.slice(3)));
    if (entry.startsWith('??')) untracked.add(join(root, entry.slice(3)));
    if (entry[0] === 'R' || entry[0] === 'C') i++; // the source path of a rename follows
  }

  let listed: JsonObject[];
  try {
    listed = await client.list();
  } catch (err) {
    if (err instanceof RuntimeError) throw new FlowregError('RUNTIME_UNAVAILABLE', `import --from: ${err.message.replace('runtime import ', 'DB-GPT ')}`);
    throw err;
  }
  // Oldest first, so that history reads in the order the flows were made.
  const stamp = (f: JsonObject): string => (typeof f.gmt_created === 'string' ? f.gmt_created : '');
  listed.sort((a, b) => stamp(a).localeCompare(stamp(b)) || String(a.uid).localeCompare(String(b.uid)));

  const rel = (abs: string): string => relative(root, abs).split(sep).join('/');
  const shown = (abs: string): string => relative(io.cwd, abs).split(sep).join('/') || '.';
  let refused = 0;
  let imported = 0;
  let updated = 0;
  let unchanged = 0;
  const refuse = (what: string, why: string): void => {
    refused++;
    io.stderr(`flowreg import: refused ${what}: ${why}\n`);
  };
  const pending: string[] = [];

  const commit = (paths: string[], message: string, date: string | null): void => {
    const extra: Record<string, string> = date !== null ? { GIT_AUTHOR_DATE: date } : {};
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        git(['add', '-A', '--', ...paths]);
        git(['commit', '-q', '--no-verify', '-m', message, '--', ...paths], extra);
        return;
      } catch (err) {
        const stderr = String((err as { stderr?: unknown }).stderr ?? (err as Error).message);
        if (/index\.lock/.test(stderr) && Date.now() < deadline) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
          continue;
        }
        throw new FlowregError(/index\.lock/.test(stderr) ? 'REPO_LOCKED' : 'INTERNAL', `import --from: git commit of ${paths.join(', ')} failed: ${stderr.trim()}`);
      }
    }
  };

  for (const raw of listed) {
    const uid = String(raw.uid);
    // The list may leave out flow_data: read each flow on its own.
    let full: JsonObject | null;
    try {
      full = await client.get(uid);
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      refuse(`flow ${uid}`, `DB-GPT would not give it: ${err.message}`);
      continue;
    }
    if (full === null) continue; // deleted meanwhile
    let flow: FlowFile;
    try {
      flow = flowFileFromDbgpt(full);
    } catch (err) {
      if (isFlowregError(err, 'INVALID_INPUT')) refuse(`flow ${uid}`, err.message);
      else if (err instanceof RangeError) refuse(`flow ${uid}`, `nested too deeply (${err.message})`);
      else throw err;
      continue;
    }
    const name = flow.name;
    const what = `flow ${uid} (${JSON.stringify(name)})`;
    if (!FLOW_NAME_RE.test(name)) {
      refuse(what, `name ${JSON.stringify(name)} does not match ^[a-zA-Z0-9_\\-]+$ (letters, digits, _ and - only); rename it in DB-GPT and import again`);
      continue;
    }
    if (isWindowsReservedName(name)) {
      refuse(what, `name ${JSON.stringify(name)} is a device name Windows reserves; rename it in DB-GPT and import again`);
      continue;
    }
    const current = byUid.get(uid);
    const target = join(opts.dir, `${name}.yaml`);
    const holder = byName.get(name.toLowerCase());
    if (holder !== undefined && holder.uid !== uid) {
      refuse(what, `name ${name} is taken by ${shown(holder.abs)} (uid ${holder.uid})${holder.name === name ? '' : ` as ${holder.name}: names are unique regardless of case`}`);
      continue;
    }
    if (current === undefined && existsSync(target)) {
      refuse(what, `${shown(target)} already exists (it holds another flow or does not parse)`);
      continue;
    }
    const file = rel(target);
    const findings = validateFlowValue(flow, { file });
    const errors = findings.filter((f) => f.severity === 'error');
    if (errors.length > 0) {
      const lines = formatFindings({ findings: errors, filesChecked: 1 }, 'text', { toolVersion: TOOL_VERSION })
        .split('\n')
        .filter((l) => l !== '' && !/files? checked/.test(l))
        .map((l) => `    ${l}`)
        .join('\n');
      refuse(what, `invalid, ${errors.length} error(s):\n${lines}`);
      continue;
    }
    let text: string;
    try {
      text = formatFlow(flow, { schemaRef: schemaRefFor(file) });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      refuse(what, `nested too deeply (${err.message})`);
      continue;
    }
    const paths = [target];
    if (current !== undefined) {
      if (current.text === text && current.abs === target && !dirty.has(target)) {
        unchanged++;
        continue;
      }
      if (dirty.has(current.abs) && current.text !== text) {
        refuse(what, `${shown(current.abs)} has uncommitted changes; commit or discard them, then import again`);
        continue;
      }
      if (current.abs !== target) {
        // renamed in DB-GPT: the file follows the name
        renameSync(current.abs, target);
        paths.push(current.abs);
      }
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    const entry = { abs: target, text, uid, name };
    if (current !== undefined) byName.delete(current.name.toLowerCase());
    byUid.set(uid, entry);
    byName.set(name.toLowerCase(), entry);
    // new to git: not in the folder, or there but never committed (an interrupted import)
    const isNew = current === undefined || untracked.has(current.abs);
    const gmt = isNew ? raw.gmt_created ?? full.gmt_created : full.gmt_modified ?? raw.gmt_modified;
    const date = typeof gmt === 'string' && DBGPT_TIME_RE.test(gmt) ? gmt : null;
    if (isNew) imported++;
    else updated++;
    const verb = isNew ? 'import' : 'update';
    if (opts.singleCommit) pending.push(...paths);
    else commit(paths.map(rel), `${verb} flow ${name} (${uid}) from DB-GPT ${shownUrl}`, date);
    io.stdout(`${isNew ? 'imported' : 'updated '} ${what} → ${shown(target)}${date !== null && !opts.singleCommit ? ` (author date ${date})` : ''}\n`);
  }
  if (opts.singleCommit && pending.length > 0) {
    commit(pending.map(rel), `import ${imported + updated} flow(s) from DB-GPT ${shownUrl} (${imported} new, ${updated} changed)`, null);
  }
  io.stdout(`${listed.length} flow(s) in DB-GPT ${shownUrl}: ${imported} imported, ${updated} updated, ${unchanged} unchanged, ${refused} refused\n`);
  return refused > 0 ? EXIT.FAIL : EXIT.OK;
}
