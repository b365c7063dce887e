import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { main } from '../../src/cli/main.ts';
import { openApiDocument } from '../../src/server/openApiDocument.ts';
import { tempDir } from '../helpers/tmp.ts';

/** package.json's version, read from the file itself rather than through the module under test. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

async function run(cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = { cwd, env: {}, stdout: (s) => (out.stdout += s), stderr: (s) => (out.stderr += s) };
  const code = await main(argv, io);
  return { code, ...out };
}

describe("the tool version is package.json's", () => {
  it('flowreg --version prints it and exits 0', async () => {
    expect(await run(tempDir(), '--version')).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
  });

  it('validate --format sarif names it as the driver version', async () => {
    const r = await run(tempDir(), 'validate', '.', '--format', 'sarif');
    expect(r.code).toBe(0);
    const log = JSON.parse(r.stdout) as { runs: { tool: { driver: { name: string; version: string } } }[] };
    expect(log.runs[0]?.tool.driver).toMatchObject({ name: 'flowreg', version: PACKAGE_VERSION });
  });

  it('the OpenAPI document gives it as info.version', () => {
    expect((openApiDocument([]).info as { version: string }).version).toBe(PACKAGE_VERSION);
  });
});
