import type { Command } from 'commander';
import type { CliIo, ExitBox } from '../CliIo.ts';

/** Builds one subcommand; its action stores its exit code in `exit`. */
export type CommandFactory = (io: CliIo, exit: ExitBox) => Command;

/**
 * Every subcommand of `flowreg`, in help order, each loaded only when asked for: `flowreg
 * validate` imports validate.ts and what it needs (never express, the daemon or the git network
 * code), `flowreg --version` none of them. Help and unknown commands load them all.
 */
export const COMMAND_LOADERS: ReadonlyArray<readonly [name: string, load: () => Promise<CommandFactory>]> = [
  ['serve', async () => (await import('./serve.ts')).serveCommand],
  ['init', async () => (await import('./init.ts')).initCommand],
  ['validate', async () => (await import('./validate.ts')).validateCommand],
  ['fmt', async () => (await import('./fmt.ts')).fmtCommand],
  ['import', async () => (await import('./import.ts')).importCommand],
  ['export', async () => (await import('./export.ts')).exportCommand],
  ['diff', async () => (await import('./diff.ts')).diffCommand],
  ['render', async () => (await import('./render.ts')).renderCommand],
  ['precommit', async () => (await import('./precommit.ts')).precommitCommand],
  ['status', async () => (await import('./status.ts')).statusCommand],
];

/** The factories to register for `argv`: only the named command's, or all of them (help, unknown command). */
export async function commandsFor(argv: readonly string[]): Promise<CommandFactory[]> {
  const name = argv.find((a) => !a.startsWith('-'));
  const one = COMMAND_LOADERS.find(([n]) => n === name);
  if (one !== undefined) return [await one[1]()];
  if (name === undefined && argv.some((a) => a === '-V' || a === '--version')) return [];
  return Promise.all(COMMAND_LOADERS.map(([, load]) => load()));
}
