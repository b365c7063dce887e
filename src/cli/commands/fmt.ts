import { Command } from 'commander';
import { FlowregError } from '../../errors/index.ts';
import type { CommandFactory } from './index.ts';

/** `flowreg fmt` — not built yet. */
export const fmtCommand: CommandFactory = () =>
  new Command('fmt').description('(not built yet)').allowUnknownOption().allowExcessArguments().action(() => {
    throw new FlowregError('NOT_SUPPORTED', 'flowreg fmt is not built yet');
  });
