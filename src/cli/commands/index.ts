import type { Command } from 'commander';
import type { CliIo, ExitBox } from '../CliIo.ts';
import { validateCommand } from './validate.ts';
import { fmtCommand } from './fmt.ts';
import { importCommand } from './import.ts';
import { exportCommand } from './export.ts';
import { diffCommand } from './diff.ts';
import { renderCommand } from './render.ts';
import { serveCommand } from './serve.ts';
import { precommitCommand } from './precommit.ts';
import { statusCommand } from './status.ts';

/** Builds one subcommand; its action stores its exit code in `exit`. */
export type CommandFactory = (io: CliIo, exit: ExitBox) => Command;

/** Every subcommand of `flowreg`, in help order. */
export const COMMANDS: CommandFactory[] = [
  serveCommand,
  validateCommand,
  fmtCommand,
  importCommand,
  exportCommand,
  diffCommand,
  renderCommand,
  precommitCommand,
  statusCommand,
];
