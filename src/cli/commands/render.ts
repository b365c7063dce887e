import { Command } from 'commander';
import { FlowregError } from '../../errors/index.ts';
import type { CommandFactory } from './index.ts';

/** `flowreg render` — not built yet. */
export const renderCommand: CommandFactory = () =>
  new Command('render').description('(not built yet)').allowUnknownOption().allowExcessArguments().action(() => {
    throw new FlowregError('NOT_SUPPORTED', 'flowreg render is not built yet');
  });
