import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { graphOfFlow } from '../../core/diffFlows.ts';
import { flowNameOfPath } from '../../core/flowPaths.ts';
import { parseYaml } from '../../core/parseYaml.ts';
import { renderMermaid } from '../../core/renderMermaid.ts';
import { renderSvg } from '../../core/renderSvg.ts';
import type { FlowFile } from '../../core/types.ts';
import { FlowregError } from '../../errors/index.ts';
import { EXIT } from '../CliIo.ts';
import { findFlowFiles, findRepoRoot } from '../flowFiles.ts';
import type { CommandFactory } from './index.ts';

interface RenderOptions {
  format: 'svg' | 'mermaid';
  output?: string;
}

/**
 * `flowreg render <file|name>`: draws one flow as SVG (as DB-GPT's canvas lays it out) or as a
 * Mermaid flowchart. A name is looked up as `<name>.yaml` under the repository's `flows/`.
 */
export const renderCommand: CommandFactory = (io, exit) =>
  new Command('render')
    .description('Draw a flow as SVG (canvas layout) or as a Mermaid flowchart')
    .argument('<flow>', 'a flow file, or a flow name looked up under flows/')
    .addOption(new Option('--format <format>', 'output format').choices(['svg', 'mermaid']).default('svg'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (flowArg: string, opts: RenderOptions) => {
      const file = await locateFlow(flowArg, io.cwd);
      const flow = readFlow(file, io.cwd);
      const body = opts.format === 'mermaid' ? renderMermaid(graphOfFlow(flow)).text : renderSvg(flow);
      if (opts.output !== undefined) writeFileSync(resolve(io.cwd, opts.output), body);
      else io.stdout(body);
      exit.code = EXIT.OK;
    });

/** The file a `<file|name>` argument names: an existing file as given, else `flows/**\/<name>.yaml`. */
async function locateFlow(arg: string, cwd: string): Promise<string> {
  const direct = resolve(cwd, arg);
  if (existsSync(direct) && statSync(direct).isFile()) return direct;
  const flowsDir = join(findRepoRoot(cwd), 'flows');
  const matches = existsSync(flowsDir)
    ? (await findFlowFiles([flowsDir], cwd)).filter((f) => flowNameOfPath(basename(f)) === arg)
    : [];
  if (matches.length === 0) throw new FlowregError('FLOW_NOT_FOUND', `no flow file or flow named ${arg} (looked in ${relative(cwd, flowsDir) || '.'})`, { name: arg });
  if (matches.length > 1) {
    throw new FlowregError('INVALID_INPUT', `more than one flow is named ${arg}: ${matches.map((m) => relative(cwd, m)).join(', ')}`, { name: arg });
  }
  return matches[0] as string;
}

function readFlow(file: string, cwd: string): FlowFile {
  const shown = relative(cwd, file) || file;
  const parsed = parseYaml(readFileSync(file, 'utf8'));
  const v = parsed.value;
  if (v === undefined || typeof v !== 'object' || v === null || Array.isArray(v)) {
    const first = parsed.findings[0];
    const where = first === undefined ? `${shown}` : `${shown}:${first.line}:${first.col}`;
    throw new FlowregError('FLOW_INVALID', `${where}: ${first?.message ?? 'a flow file must be a YAML mapping'}`, { findings: parsed.findings, file: shown });
  }
  return v as FlowFile;
}
