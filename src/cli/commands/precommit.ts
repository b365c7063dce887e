import { Command } from 'commander';
import { FlowregError } from '../../errors/index.ts';
import type { CommandFactory } from './index.ts';

/** `flowreg precommit` — not built yet. */
export const precommitCommand: CommandFactory = () =>
  new Command('precommit').description('(not built yet)').allowUnknownOption().allowExcessArguments().action(() => {
    throw new FlowregError('NOT_SUPPORTED', 'flowreg precommit is not built yet');
  });
