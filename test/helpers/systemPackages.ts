/**
 * What `npm test` needs from the system besides Node and git: Debian's Chromium (pages, SVGs,
 * Mermaid) and Python 3.11 with venv (the DB-GPT the runtime tests run). The test setup installs
 * what is missing with apt-get, once (as root, or with sudo that needs no password), and
 * otherwise says what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A system package the tests need: how to see it is there, and its Debian package names. */
interface Need {
  what: string;
  present: () => boolean;
  packages: string[];
}

const works = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

export const CHROMIUM_NEED: Need = {
  what: 'Chromium (the tests open pages, SVGs and Mermaid in it)',
  present: () => existsSync(process.env.CHROMIUM ?? '/usr/bin/chromium'),
  packages: ['chromium'],
};

export const PYTHON_NEED: Need = {
  what: 'Python 3.11 with venv (the runtime tests pip-install DB-GPT 0.8.2)',
  present: () => works('python3.11', ['-c', 'import venv, ensurepip']) || works('python3', ['-c', 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))']),
  packages: ['python3.11', 'python3.11-venv'],
};

/**
 * Installs the missing ones with apt-get. Throws with what to install by hand when it cannot
 * (not root and no password-less sudo, no apt-get, or apt-get failed).
 */
export function ensureSystemPackages(needs: Need[], log: (line: string) => void): void {
  const missing = needs.filter((n) => !n.present());
  if (missing.length === 0) return;
  const packages = missing.flatMap((n) => n.packages);
  const hint = `install ${packages.join(' ')} (apt-get install ${packages.join(' ')}) and run the tests again`;
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : works('sudo', ['-n', 'true']) ? ['sudo', '-n'] : null;
  if (sudo === null || !works('apt-get', ['--version'])) {
    throw new Error(`the tests need ${missing.map((n) => n.what).join(' and ')}, which are missing, and cannot install them here (${sudo === null ? 'not root, no password-less sudo' : 'no apt-get'}): ${hint}`);
  }
  log(`installing ${packages.join(' ')} with apt-get for the tests (${missing.map((n) => n.what).join('; ')}), once`);
  const run = (args: string[]): void => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    execFileSync(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 900_000 });
  };
  try {
    run(['update', '-qq']);
    run(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').slice(-2000);
    throw new Error(`apt-get could not install ${packages.join(' ')}: ${stderr || String(err)}; ${hint}`);
  }
  const still = missing.filter((n) => !n.present());
  if (still.length > 0) throw new Error(`after apt-get, still missing: ${still.map((n) => n.what).join(', ')}; ${hint}`);
}
