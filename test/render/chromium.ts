import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.ts';

/** Debian's Chromium (CI installs the same package); `CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

/** True when the Chromium binary is there, so a failing test can say why. */
export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Opens a file in headless Chromium with a fresh profile and returns the DOM it built (for an SVG
 * with an XML error, Chromium's `parsererror` page). `extraArgs` go to Chromium before the URL
 * (for example `--virtual-time-budget=<ms>` to let a page's scripts finish first).
 */
export function dumpDom(file: string, extraArgs: string[] = []): Promise<string> {
  const profile = join(tempDir('flowreg-chromium-'), 'profile');
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, ...extraArgs, '--dump-dom', pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 60_000, maxBuffer: 1 << 26, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${CHROMIUM} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}
