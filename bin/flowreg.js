#!/usr/bin/env node
// Entry point of the `flowreg` command. Runs the compiled JavaScript in dist/ (built by
// `npm run build`, which prepare and prepack run, so `npm ci` and `npm pack` do). In a checkout
// whose src/ changed since that build (or with no build at all), it runs the TypeScript sources
// through tsx instead (a dev dependency), so a stale dist/ is never what runs; an installed
// package has no src/ and always runs dist/. FLOWREG_FROM_SOURCE=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const argv = process.argv.slice(2);

// `flowreg --version` answers from package.json alone.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
} else {
  let main;
  let tsx = null;
  if (useSources()) {
    try {
      tsx = await import('tsx/esm/api');
    } catch {
      // no dev dependencies (npm ci --omit=dev): the build there is, stale or not
      if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
        process.stderr.write('flowreg: dist/ is not built and tsx is not installed: run npm ci (or npm run build)\n');
        process.exit(1);
      }
      process.stderr.write('flowreg: src/ changed since dist/ was built and tsx is not installed: running the old build (npm run build)\n');
    }
  }
  if (tsx !== null) {
    tsx.register();
    ({ main } = await import('../src/cli/main.ts'));
  } else {
    ({ main } = await import('../dist/cli/main.js'));
  }
  process.exitCode = await main(argv);
}

/** True in a checkout whose dist/ is missing or older than a file under src/. */
function useSources() {
  const src = join(root, 'src');
  if (!existsSync(src)) return false;
  if (process.env.FLOWREG_FROM_SOURCE === '1') return true;
  let built;
  try {
    built = statSync(join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return true;
  }
  const newer = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() ? newer(p) : statSync(p).mtimeMs > built) return true;
    }
    return false;
  };
  return newer(src);
}
