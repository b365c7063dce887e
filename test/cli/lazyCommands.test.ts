/**
 * Commands are loaded only when named (src/cli/commands/index.ts): `flowreg validate` builds the
 * validate command alone, `--version` none, help and unknown commands all of them, in help order.
 */
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { COMMAND_LOADERS, commandsFor } from '../../src/cli/commands/index.ts';
import { main } from '../../src/cli/main.ts';

const io: CliIo = { cwd: '/', env: {}, stdout: () => undefined, stderr: () => undefined };
const names = async (argv: string[]): Promise<string[]> => (await commandsFor(argv)).map((make) => make(io, { code: 0 }).name());

describe('lazy command loading', () => {
  it('loads only the named command', async () => {
    expect(await names(['validate', 'flows/'])).toEqual(['validate']);
    expect(await names(['import', '--from', 'http://x'])).toEqual(['import']);
    expect(await names(['init'])).toEqual(['init']);
  });

  it('loads none for --version and all, in help order, for help or an unknown command', async () => {
    expect(await names(['--version'])).toEqual([]);
    const all = COMMAND_LOADERS.map(([n]) => n);
    expect(await names([])).toEqual(all);
    expect(await names(['--help'])).toEqual(all);
    expect(await names(['help', 'validate'])).toEqual(all);
    expect(await names(['nope'])).toEqual(all);
  });

  it('help still lists every command', async () => {
    let out = '';
    const code = await main(['--help'], { ...io, stdout: (s) => (out += s) });
    expect(code).toBe(0);
    for (const [n] of COMMAND_LOADERS) expect(out).toMatch(new RegExp(`^\\s+${n}\\b`, 'm'));
  });
});
