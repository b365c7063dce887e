import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { flowSchema } from '../../core/flowSchema.ts';
import { SCHEMA_PATH } from '../../core/schemaRef.ts';
import { TOOL_VERSION } from '../../core/toolVersion.ts';
import { DEFAULT_CONFIG_FILE } from '../../config/loadServeConfig.ts';
import { FlowregError } from '../../errors/index.ts';
import { displayPath } from '../flowFiles.ts';
import type { CommandFactory } from './index.ts';

/** The reusable action (action.yml of flowreg's repository) the generated workflow uses. */
export const DEFAULT_ACTION = `flowreg/flowreg@v${TOOL_VERSION}`;

/** The workflow `flowreg init` writes: the reusable action on pushes and pull requests that touch flows. */
export function workflowText(action: string, flowsDir: string): string {
  return `# Validates the flows (annotations and code scanning) and posts the semantic flow diff on pull
# requests, with flowreg's reusable action. Written by \`flowreg init\`.
name: flows

on:
  push:
    paths: ['${flowsDir}/**', 'schemas/**', '.github/workflows/flows.yml']
  pull_request:
    paths: ['${flowsDir}/**', 'schemas/**', '.github/workflows/flows.yml']

permissions:
  contents: read
  pull-requests: write
  security-events: write

concurrency:
  group: flows-\${{ github.event.pull_request.number || github.ref }}
  cancel-in-progress: true

jobs:
  flows:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0 # the diff needs the base branch and the merge-base
      - uses: ${action}
        with:
          flows-dir: ${flowsDir}
`;
}

/** The pre-commit framework config `flowreg init` writes: flowreg's hook at this version. */
export function preCommitConfigText(repoUrl: string, flowsDir: string): string {
  return `# pre-commit (https://pre-commit.com): \`pre-commit install\` once, then every commit validates and
# format-checks the staged flow files. Written by \`flowreg init\`.
repos:
  - repo: ${repoUrl}
    rev: v${TOOL_VERSION}
    hooks:
      - id: flowreg
        args: [--flows-dir, ${flowsDir}]
`;
}

/** What init does to one file: its path in the repository and the content it should have. */
interface Planned {
  path: string;
  content: string;
}

/**
 * `flowreg init [dir]`: makes `dir` (default: the current directory) a flows repository, or adopts
 * the one it is: git repository, flows folder, a copy of the flow schema (the modeline of every
 * flow file points at `schemas/flow.schema.json` of the repository), `flowreg.config.json`, a
 * GitHub workflow that runs flowreg's action, and a pre-commit config. Idempotent: a file that is
 * already as init would write it is left, a different one is kept (and reported) unless --force.
 */
export const initCommand: CommandFactory = (io, exit) =>
  new Command('init')
    .description('Create or adopt a flows repository: flows/, the schema, flowreg.config.json, a GitHub workflow and a pre-commit config')
    .argument('[dir]', 'the repository folder (created when missing)', '.')
    .option('--flows-dir <dir>', 'folder of flow files, relative to the repository', 'flows')
    .option('--action <ref>', 'the reusable action the workflow uses (owner/repo@ref)', DEFAULT_ACTION)
    .option('--hook-repo <url>', 'the repository of the pre-commit hook', `https://github.com/${DEFAULT_ACTION.split('@')[0]}`)
    .option('--force', 'replace files that differ from what init writes', false)
    .action((dirArg: string, opts: { flowsDir: string; action: string; hookRepo: string; force: boolean }) => {
      const dir = resolve(io.cwd, dirArg);
      const flowsDir = opts.flowsDir.replace(/\\/g, '/').replace(/\/+$/, '');
      if (flowsDir === '' || flowsDir.startsWith('/') || flowsDir.split('/').includes('..')) {
        throw new FlowregError('USAGE', `init: --flows-dir must be a folder inside the repository, not ${JSON.stringify(opts.flowsDir)}`);
      }
      const say = (what: string, path: string): void => io.stdout(`${what.padEnd(9)} ${displayPath(io.cwd, join(dir, path)) || '.'}\n`);
      mkdirSync(dir, { recursive: true });
      if (!existsSync(join(dir, '.git'))) {
        let top = '';
        try {
          top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, env: io.env as NodeJS.ProcessEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        } catch {
          // not inside a repository: init makes one
        }
        if (top !== '') throw new FlowregError('USAGE', `init: ${dir} is inside the git repository ${top}; run flowreg init ${top} (the workflow and the pre-commit config belong at the root)`);
        try {
          execFileSync('git', ['init', '-q'], { cwd: dir, env: io.env as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', 'pipe'] });
        } catch (err) {
          throw new FlowregError('USAGE', `init: git init in ${dir} failed: ${(err as Error).message}`);
        }
        say('created', '.git');
      } else {
        say('adopted', '.git');
      }
      if (existsSync(join(dir, flowsDir))) say('exists', flowsDir);
      else {
        mkdirSync(join(dir, flowsDir), { recursive: true });
        writeFileSync(join(dir, flowsDir, '.gitkeep'), '');
        say('created', flowsDir);
      }
      const files: Planned[] = [
        { path: SCHEMA_PATH, content: `${JSON.stringify(flowSchema.json, null, 2)}\n` },
        { path: DEFAULT_CONFIG_FILE, content: `${JSON.stringify({ flowsDir }, null, 2)}\n` },
        { path: '.github/workflows/flows.yml', content: workflowText(opts.action, flowsDir) },
        { path: '.pre-commit-config.yaml', content: preCommitConfigText(opts.hookRepo, flowsDir) },
      ];
      for (const f of files) {
        const abs = join(dir, f.path);
        const current = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
        if (current === f.content) {
          say('unchanged', f.path);
          continue;
        }
        if (current !== undefined && !opts.force) {
          say('kept', `${f.path}`);
          io.stderr(`flowreg init: ${displayPath(io.cwd, abs)} exists and differs from what init writes; kept (--force replaces it)\n`);
          continue;
        }
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, f.content);
        say(current === undefined ? 'created' : 'replaced', f.path);
      }
      io.stdout(
        `\nnext: flowreg import --from http://<dbgpt>:5670 (bring the flows of a DB-GPT in), flowreg validate, pre-commit install\n`,
      );
      exit.code = 0;
    });
