import { Command } from 'commander';
import { FlowregError } from '../../errors/index.ts';
import type { CommandFactory } from './index.ts';

/** `flowreg import` — not built yet. */
export const importCommand: CommandFactory = () =>
  new Command('import').description('(not built yet)').allowUnknownOption().allowExcessArguments().action(() => {
    throw new FlowregError('NOT_SUPPORTED', 'flowreg import is not built yet');
  });
