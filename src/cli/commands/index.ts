import type { Command } from 'commander';
import type { CliIo } from '../CliIo.ts';
import type { ExitBox } from '../main.ts';

/** Builds one subcommand; its action stores its exit code in `exit`. */
export type CommandFactory = (io: CliIo, exit: ExitBox) => Command;

/** Every subcommand of `flowreg`, in help order. */
export const COMMANDS: CommandFactory[] = [];
