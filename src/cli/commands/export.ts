import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { dbgptExport, type DerivedFields } from '../../core/dbgptFlow.ts';
import { parseYaml } from '../../core/parseYaml.ts';
import type { FlowFile } from '../../core/types.ts';
import { FlowregError } from '../../errors/index.ts';
import { EXIT, type CliIo } from '../CliIo.ts';
import { displayPath, findFlowFiles, findRepoRoot } from '../flowFiles.ts';
import type { CommandFactory } from './index.ts';
import { isObject } from '../../core/jsonAccess.ts';


/** Runs native git in `cwd`; resolves to stdout, or undefined when git fails or is missing. */
function git(cwd: string, args: string[], env: CliIo['env']): Promise<string | undefined> {
  return new Promise((done) => {
    execFile('git', args, { cwd, env, maxBuffer: 1 << 24 }, (err, stdout) => done(err ? undefined : stdout));
  });
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Unix seconds as DB-GPT writes times: `YYYY-MM-DD HH:MM:SS` in local time, no zone. */
export function localTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * `version`, `gmt_created` and `gmt_modified` of a flow file from native git: the last commit that
 * touched it (with `-dirty` when the working file differs from it), that commit's committer time,
 * and the time of the commit that added it (following renames). A file outside git or never
 * committed is `uncommitted` with null times.
 */
export async function gitDerived(file: string, env: CliIo['env']): Promise<DerivedFields> {
  const uncommitted: DerivedFields = { version: 'uncommitted', gmt_created: null, gmt_modified: null };
  const cwd = dirname(file);
  const name = basename(file);
  const last = (await git(cwd, ['log', '-1', '--format=%H %ct', '--', name], env))?.trim();
  if (last === undefined || last === '') return uncommitted;
  const [commit = '', modified = '0'] = last.split(' ');
  const history = (await git(cwd, ['log', '--follow', '--format=%ct', '--', name], env))?.trim().split('\n') ?? [];
  const created = history[history.length - 1] || modified;
  // `git diff --quiet HEAD` exits 1 when the file differs from HEAD, staged or not.
  const clean = (await git(cwd, ['diff', '--quiet', 'HEAD', '--', name], env)) !== undefined;
  return {
    version: clean ? commit : `${commit}-dirty`,
    gmt_created: localTime(Number(created)),
    gmt_modified: localTime(Number(modified)),
  };
}

/** The flow files in `dir` whose uid or name is `id`: the file named `<id>.yaml` first, then a scan. */
async function findFlow(dir: string, id: string, cwd: string): Promise<{ abs: string; flow: FlowFile }[]> {
  const read = (abs: string): FlowFile | undefined => {
    const v = parseYaml(readFileSync(abs, 'utf8')).value;
    return isObject(v) && (v.uid === id || v.name === id) ? (v as unknown as FlowFile) : undefined;
  };
  const found: { abs: string; flow: FlowFile }[] = [];
  for (const abs of await findFlowFiles([dir], cwd)) {
    const flow = read(abs);
    if (flow !== undefined) found.push({ abs, flow });
  }
  // A uid match wins over a name match: uids are the stable key.
  const byUid = found.filter((f) => f.flow.uid === id);
  return byUid.length > 0 ? byUid : found;
}

/**
 * `flowreg export <name|uid> [-o file] [--dir flows]`: writes DB-GPT's export JSON of one flow
 * (`{"flow": {...}}`, 4-space indent like DB-GPT's file export, non-ASCII unescaped) to stdout or a
 * file, with version and times from git.
 */
export const exportCommand: CommandFactory = (io, exit) =>
  new Command('export')
    .description("Write one flow as DB-GPT's export JSON ({\"flow\": {...}}), version and times from git")
    .argument('<name-or-uid>', "the flow's name or uid")
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--dir <folder>', 'folder of flow files (default: flows/ of the repository)')
    .action(async (id: string, opts: { output?: string; dir?: string }) => {
      const dir = opts.dir !== undefined ? resolve(io.cwd, opts.dir) : join(findRepoRoot(io.cwd), 'flows');
      if (!existsSync(dir)) throw new FlowregError('FLOW_NOT_FOUND', `no flow ${JSON.stringify(id)}: the folder ${displayPath(io.cwd, dir)} does not exist`, { id });
      const matches = await findFlow(dir, id, io.cwd);
      if (matches.length === 0) {
        throw new FlowregError('FLOW_NOT_FOUND', `no flow with name or uid ${JSON.stringify(id)} in ${displayPath(io.cwd, dir)}`, { id });
      }
      if (matches.length > 1) {
        const list = matches.map((m) => displayPath(io.cwd, m.abs)).join(', ');
        throw new FlowregError('INVALID_INPUT', `${JSON.stringify(id)} names more than one flow (${list}); export by uid`, { id });
      }
      const { abs, flow } = matches[0] as { abs: string; flow: FlowFile };
      const json = `${JSON.stringify(dbgptExport(flow, await gitDerived(abs, io.env)), null, 4)}\n`;
      if (opts.output === undefined) {
        io.stdout(json);
      } else {
        const out = resolve(io.cwd, opts.output);
        writeFileSync(out, json);
        io.stderr(`exported ${displayPath(io.cwd, abs)} → ${displayPath(io.cwd, out)}\n`);
      }
      exit.code = EXIT.OK;
    });
