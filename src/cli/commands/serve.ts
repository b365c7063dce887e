import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, loadServeConfig } from '../../config/loadServeConfig.ts';
import { SERVE_OPTIONS, type ServeConfig } from '../../config/serveOptions.ts';
import { Daemon } from '../../daemon/Daemon.ts';
import { EXIT } from '../CliIo.ts';
import type { CommandFactory } from './index.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * `flowreg serve`: DB-GPT's flow REST API over the flows of a git repository. Every option comes
 * from the one table of src/config (flag > environment > config file > default); the command
 * resolves once a SIGTERM or SIGINT has drained and stopped the daemon (a second signal closes the
 * remaining connections at once).
 */
export const serveCommand: CommandFactory = (io, exit) => {
  const cmd = new Command('serve').description("Serve DB-GPT's flow REST API over the flows of a git repository (every write is a commit)");
  const keyOf = new Map<string, keyof ServeConfig>();
  for (const spec of SERVE_OPTIONS) {
    const option = new Option(spec.flag, `${spec.description} [env ${spec.env}; default: ${spec.defaultText}]`);
    if (spec.repeatable === true) option.argParser((value: string, previous: unknown) => (typeof previous === 'string' ? `${previous},${value}` : value));
    keyOf.set(option.attributeName(), spec.key);
    cmd.addOption(option);
  }
  cmd.addHelpText(
    'after',
    `\nEach option is taken from its flag, else its environment variable, else the config file (--config, FLOWREG_CONFIG, or ${DEFAULT_CONFIG_FILE} in the repository root; keys as in docs/configuration.md), else its default.\n`,
  );
  return cmd.action(async (opts: Record<string, unknown>) => {
    const flags: Partial<Record<keyof ServeConfig, unknown>> = {};
    for (const [attr, value] of Object.entries(opts)) {
      const key = keyOf.get(attr);
      if (key !== undefined && value !== undefined) flags[key] = value;
    }
    const config = loadServeConfig({ flags, env: io.env, cwd: io.cwd });
    const daemon = new Daemon({ config, log: { write: (line) => io.stdout(line) } });
    // Handlers go in before start(): a signal that arrives while the repository opens, or right
    // after "listening" is logged, must still drain and exit 0, not kill the process.
    let started: Promise<unknown> = Promise.resolve();
    let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
    const stopped = new Promise<void>((resolve, reject) => {
      let signalled = false;
      onSignal = (signal) => {
        if (signalled) {
          daemon.forceClose();
          return;
        }
        signalled = true;
        daemon.logger.info({ signal }, 'signal received');
        started
          .catch(() => undefined)
          .then(() => daemon.stop())
          .then(resolve, reject);
      };
    });
    for (const s of SIGNALS) process.on(s, onSignal);
    try {
      started = daemon.start();
      await started;
      await stopped;
    } finally {
      for (const s of SIGNALS) process.off(s, onSignal);
    }
    exit.code = EXIT.OK;
  });
};
