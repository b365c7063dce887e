import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../core/toolVersion.ts';
import { isFlowregError } from '../errors/index.ts';
import { EXIT, processIo, type CliIo, type ExitBox } from './CliIo.ts';
import { commandsFor } from './commands/index.ts';

/**
 * Runs the flowreg command line and returns its exit code; never calls process.exit, so tests
 * call it in-process.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const exit: ExitBox = { code: EXIT.OK };
  const program = new Command('flowreg')
    .description('A Git-backed registry for DB-GPT AWEL flows')
    .version(TOOL_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError(false);
  for (const make of await commandsFor(argv)) {
    const cmd = make(io, exit);
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
    program.addCommand(cmd);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (isFlowregError(err)) {
      io.stderr(`flowreg: ${err.message}\n`);
      return err.code === 'USAGE' ? EXIT.USAGE : EXIT.FAIL;
    }
    io.stderr(`flowreg: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAIL;
  }
}
