import { Command } from 'commander';
import { FlowregError } from '../../errors/index.ts';
import type { CommandFactory } from './index.ts';

/** `flowreg serve` — not built yet. */
export const serveCommand: CommandFactory = () =>
  new Command('serve').description('(not built yet)').allowUnknownOption().allowExcessArguments().action(() => {
    throw new FlowregError('NOT_SUPPORTED', 'flowreg serve is not built yet');
  });
