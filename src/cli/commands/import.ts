import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Command } from 'commander';
import { flowFileFromDbgpt } from '../../core/dbgptFlow.ts';
import { formatFlow } from '../../core/formatFlow.ts';
import { isWindowsReservedName } from '../../core/flowPaths.ts';
import { parseYaml } from '../../core/parseYaml.ts';
import { schemaRefFor } from '../../core/schemaRef.ts';
import { FlowregError, isFlowregError } from '../../errors/index.ts';
import { checkJsonDepth, MAX_BODY_DEPTH } from '../../server/jsonBody.ts';
import { EXIT } from '../CliIo.ts';
import { displayPath, findFlowFiles, findRepoRoot } from '../flowFiles.ts';
import type { CommandFactory } from './index.ts';

/** A flow name that is safe as a file name and accepted by DB-GPT's UI (docs/flow-files.md). */
const FLOW_NAME_RE = /^[a-zA-Z0-9_-]+$/;


/** Who already holds a uid or a name: a flow file in the target folder, or an input of this run. */
interface Holder {
  source: string;
  target: string;
  /** The name it holds, as spelled there. */
  name: string;
}

/** Names are compared without case, as the validator (NAME_CASE_CLASH) and the store (NAME_TAKEN) do. */
function nameKey(name: string): string {
  return name.toLowerCase();
}

/** The refusal of an input that overflowed the stack after all (the depth check should have caught it). */
function tooDeep(err: RangeError): string {
  return `nested too deeply to import (${err.message})`;
}

function describeHolder(h: Holder, run: boolean): string {
  return run ? `${h.source} earlier in this import (→ ${h.target})` : h.target;
}

/**
 * `flowreg import <file.json…> [--dir flows]`: turns DB-GPT export files into canonical flow files
 * `<dir>/<name>.yaml`. A uid or name already in the folder (or earlier in the same run), a bad name
 * or an existing target file refuses that input with a message naming both files; the others are
 * still imported, and the exit code is 1.
 */
export const importCommand: CommandFactory = (io, exit) =>
  new Command('import')
    .description('Import DB-GPT flow export files ({"flow": {...}}), or every flow of a running DB-GPT (--from), as canonical flow files')
    .argument('[files...]', 'DB-GPT export files (.json)')
    .option('--dir <folder>', 'target folder (default: flows/ of the repository)')
    .option('--from <url>', 'import every flow of a running DB-GPT (its webserver URL) and commit each one')
    .option('--api-key <key>', 'DB-GPT API key for --from (default: $FLOWREG_IMPORT_API_KEY)')
    .option('--single-commit', 'with --from: one commit for all imported flows instead of one per flow', false)
    .action(async (files: string[], opts: { dir?: string; from?: string; apiKey?: string; singleCommit: boolean }) => {
      const dir = opts.dir !== undefined ? resolve(io.cwd, opts.dir) : join(findRepoRoot(io.cwd), 'flows');
      if (opts.from !== undefined) {
        if (files.length > 0) throw new FlowregError('USAGE', 'import: give export files or --from, not both');
        const { importFromDbgpt } = await import('../importFromDbgpt.ts');
        const apiKey = opts.apiKey ?? io.env.FLOWREG_IMPORT_API_KEY ?? '';
        exit.code = await importFromDbgpt(io, { url: opts.from, apiKey: apiKey === '' ? null : apiKey, dir, singleCommit: opts.singleCommit });
        return;
      }
      if (files.length === 0) throw new FlowregError('USAGE', 'import: give DB-GPT export files, or --from <url> of a running DB-GPT');
      const root = findRepoRoot(dir);
      const uids = new Map<string, Holder & { run: boolean }>();
      const names = new Map<string, Holder & { run: boolean }>();
      if (existsSync(dir)) {
        for (const abs of await findFlowFiles([dir], io.cwd)) {
          const parsed = parseYaml(readFileSync(abs, 'utf8'));
          const value = parsed.value;
          if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
          const holder = { source: displayPath(io.cwd, abs), target: displayPath(io.cwd, abs), run: false, name: typeof value.name === 'string' ? value.name : '' };
          if (typeof value.uid === 'string' && !uids.has(value.uid)) uids.set(value.uid, holder);
          if (typeof value.name === 'string' && !names.has(nameKey(value.name))) names.set(nameKey(value.name), holder);
        }
      }
      let failed = 0;
      const refuse = (input: string, message: string): void => {
        failed++;
        io.stderr(`flowreg import: ${input}: ${message}\n`);
      };
      for (const given of files) {
        const abs = resolve(io.cwd, given);
        const input = displayPath(io.cwd, abs);
        let bytes: Buffer;
        try {
          bytes = readFileSync(abs);
        } catch (err) {
          refuse(input, `cannot read: ${(err as Error).message}`);
          continue;
        }
        // the same depth limit as the REST import: deeper input would overflow the stack of every
        // step that recurses (canonical form, YAML); a DB-GPT export nests about a dozen levels
        try {
          checkJsonDepth(bytes);
        } catch (err) {
          if (!isFlowregError(err, 'INVALID_INPUT')) throw err;
          refuse(input, `nests objects and arrays more than ${MAX_BODY_DEPTH} levels deep; a DB-GPT export needs far fewer, so this is not one`);
          continue;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(bytes.toString('utf8'));
        } catch (err) {
          refuse(input, err instanceof SyntaxError ? `not valid JSON: ${err.message}` : `cannot parse: ${(err as Error).message}`);
          continue;
        }
        let flow;
        try {
          flow = flowFileFromDbgpt(raw);
        } catch (err) {
          if (err instanceof RangeError) refuse(input, tooDeep(err));
          else if (isFlowregError(err, 'INVALID_INPUT')) refuse(input, err.message);
          else throw err;
          continue;
        }
        const { uid, name } = flow;
        if (!FLOW_NAME_RE.test(name)) {
          refuse(input, `name ${JSON.stringify(name)} does not match ^[a-zA-Z0-9_\\-]+$ (letters, digits, _ and - only); rename the flow in the file`);
          continue;
        }
        if (isWindowsReservedName(name)) {
          refuse(input, `name ${JSON.stringify(name)} is a device name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, in any case), so ${name}.yaml could not be checked out there; rename the flow in the file`);
          continue;
        }
        const target = join(dir, `${name}.yaml`);
        const shown = displayPath(io.cwd, target);
        const byUid = uids.get(uid);
        if (byUid !== undefined) {
          refuse(input, `uid ${uid} already exists in ${describeHolder(byUid, byUid.run)}`);
          continue;
        }
        const byName = names.get(nameKey(name));
        if (byName !== undefined) {
          refuse(input, `name ${name} already exists in ${describeHolder(byName, byName.run)}${byName.name === name ? '' : ` (as ${byName.name}: names are unique regardless of case)`}`);
          continue;
        }
        if (existsSync(target)) {
          refuse(input, `${shown} already exists (it holds another flow or does not parse)`);
          continue;
        }
        let text: string;
        try {
          text = formatFlow(flow, { schemaRef: schemaRefFor(relative(root, target).split(sep).join('/')) });
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
          refuse(input, tooDeep(err));
          continue;
        }
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text, { flag: 'wx' });
        const holder = { source: input, target: shown, run: true, name };
        uids.set(uid, holder);
        names.set(nameKey(name), holder);
        io.stdout(`imported ${input} → ${shown}\n`);
      }
      if (failed > 0) io.stderr(`flowreg import: ${failed} of ${files.length} file(s) refused\n`);
      exit.code = failed > 0 ? EXIT.FAIL : EXIT.OK;
    });
