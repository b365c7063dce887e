import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { main } from '../../src/cli/main.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { FINDING_CODES } from '../../src/core/findingCodes.ts';
import type { FlowFile } from '../../src/core/types.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { baseFlow, type TestFlow } from './flows.ts';

function capture(cwd: string): { io: CliIo; out: { stdout: string; stderr: string } } {
  const out = { stdout: '', stderr: '' };
  return { io: { cwd, env: {}, stdout: (s) => (out.stdout += s), stderr: (s) => (out.stderr += s) }, out };
}

async function run(cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, out } = capture(cwd);
  const code = await main(['validate', ...argv], io);
  return { code, ...out };
}

function text(flow: TestFlow, depth = 1): string {
  return formatFlow(flow as unknown as FlowFile, { schemaRef: `${'../'.repeat(depth)}schemas/flow.schema.json` });
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(textValue: string, needle: string): string {
  const lines = textValue.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  return `${line + 1}:${(lines[line] as string).indexOf(needle) + 1}`;
}

function brokenChat(): string {
  const flow = baseFlow('chat');
  flow.flow_data.edges[0]!.target = 'nowhere';
  return text(flow);
}

describe('flowreg validate', () => {
  it('exits 0 on valid flows under flows/ and says how many files it checked', async () => {
    const repo = await inProcessRepo({ 'flows/base.yaml': text(baseFlow('base')), 'flows/team-a/other.yaml': text(baseFlow('other'), 2), 'flows/notes.txt': 'not a flow' });
    const r = await run(repo);
    expect(r).toEqual({ code: 0, stdout: '2 files checked: 0 errors, 0 warnings\n', stderr: '' });
  });

  it('finds *.yml files too, and holds them to the <name>.yaml rule', async () => {
    const repo = await inProcessRepo({ 'flows/other.yml': text(baseFlow('other')) });
    const r = await run(repo);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('flows/other.yml:3:7 error FILE_NAME_MISMATCH the flow is named "other", so its file must be other.yaml, not other.yml\n1 file checked: 1 error, 0 warnings\n');
  });

  it('reports an edge to a missing node with the file, line and column of the target, and exits 1', async () => {
    const chat = brokenChat();
    const repo = await inProcessRepo({ 'flows/chat.yaml': chat, 'flows/base.yaml': text(baseFlow('base')) });
    const r = await run(repo);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `flows/chat.yaml:${positionOf(chat, 'nowhere')} error EDGE_TARGET_MISSING edge "a|b" points at node "nowhere", which does not exist\n2 files checked: 1 error, 0 warnings\n`,
    );
  });

  it('prints paths relative to the cwd, also from inside a sub-folder', async () => {
    const repo = await inProcessRepo({ 'flows/chat.yaml': brokenChat() });
    const r = await run(join(repo, 'flows'));
    expect(r.stdout.startsWith('chat.yaml:')).toBe(true);
    const given = await run(repo, 'flows/chat.yaml');
    expect(given.stdout.startsWith('flows/chat.yaml:')).toBe(true);
  });

  it('exits 0 on warnings alone, and 1 with --strict', async () => {
    const flow = baseFlow('warned');
    flow.flow_data.nodes[0]!.selected = false;
    const repo = await inProcessRepo({ 'flows/warned.yaml': text(flow) });
    const lax = await run(repo);
    expect(lax.code).toBe(0);
    expect(lax.stdout).toMatch(/^flows\/warned\.yaml:\d+:\d+ warning SCHEMA_UNKNOWN_KEY flow_data\.nodes\[0\]\.selected is not a key DB-GPT knows; it is ignored\n1 file checked: 0 errors, 1 warning\n$/);
    expect((await run(repo, '--strict')).code).toBe(1);
  });

  it('applies the repository rules across all the files given', async () => {
    const a = baseFlow('a');
    const b = baseFlow('b');
    b.uid = 'uid-a';
    const repo = await inProcessRepo({ 'flows/a.yaml': text(a), 'flows/x/b.yaml': text(b, 2), 'elsewhere/c.yaml': text(baseFlow('c')) });
    const r = await run(repo, 'flows/a.yaml', 'flows/x');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      'flows/a.yaml:2:6 error UID_DUPLICATE uid "uid-a" is also used by flows/x/b.yaml; uids must be unique in the repository',
      'flows/x/b.yaml:2:6 error UID_DUPLICATE uid "uid-a" is also used by flows/a.yaml; uids must be unique in the repository',
      '2 files checked: 2 errors, 0 warnings',
      '',
    ]);
  });

  describe('usage errors exit 2', () => {
    it('for a path that does not exist', async () => {
      const repo = await inProcessRepo({ 'flows/base.yaml': text(baseFlow('base')) });
      const r = await run(repo, 'flows/base.yaml', 'nope');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('flowreg: validate: no such file or folder: nope\n');
    });

    it('for a repository without flows/ and no path', async () => {
      const r = await run(await inProcessRepo());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^flowreg: validate: no such file or folder: .*flows\n$/);
    });

    it('for an unknown format', async () => {
      const repo = await inProcessRepo({ 'flows/base.yaml': text(baseFlow('base')) });
      const r = await run(repo, '--format', 'xml');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain("argument 'xml' is invalid");
    });
  });

  describe('formats', () => {
    const setup = () => {
      const warned = baseFlow('warned');
      warned.version = '0.1.1';
      return inProcessRepo({ 'flows/chat.yaml': brokenChat(), 'flows/warned.yaml': text(warned).replace('name: warned', 'version: "0.1.1"\nname: warned') });
    };

    it('json parses and holds every finding with its position', async () => {
      const r = await run(await setup(), '--format', 'json');
      expect(r.code).toBe(1);
      const parsed = JSON.parse(r.stdout) as { files: number; errors: number; warnings: number; findings: { file: string; code: string; line: number; col: number; path: string }[] };
      expect([parsed.files, parsed.errors, parsed.warnings]).toEqual([2, 1, 1]);
      expect(parsed.findings.map((f) => `${f.file} ${f.code} ${f.path}`)).toEqual(['flows/chat.yaml EDGE_TARGET_MISSING /flow_data/edges/0/target', 'flows/warned.yaml SCHEMA_DERIVED_KEY /version']);
      expect(parsed.findings.every((f) => f.line > 0 && f.col > 0)).toBe(true);
    });

    it('github prints well-formed workflow commands', async () => {
      const r = await run(await setup(), '--format', 'github');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe('2 files checked: 1 error, 1 warning');
      const commands = lines.slice(0, -1);
      expect(commands).toHaveLength(2);
      for (const line of commands) expect(line).toMatch(/^::(error|warning) file=[^,:]+,line=\d+,col=\d+,title=[A-Z_]+::\S.*$/);
      expect(commands[0]).toBe(`::error file=flows/chat.yaml,line=${positionOf(brokenChat(), 'nowhere').replace(':', ',col=')},title=EDGE_TARGET_MISSING::edge "a|b" points at node "nowhere", which does not exist`);
    });

    it('sarif is a SARIF 2.1.0 log with the registry as rules', async () => {
      const r = await run(await setup(), '--format', 'sarif');
      const log = JSON.parse(r.stdout) as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
      expect(log.version).toBe('2.1.0');
      expect(log.runs[0]?.tool.driver.rules.map((x) => x.id)).toEqual(Object.keys(FINDING_CODES));
      expect(log.runs[0]?.results.map((x) => [x.ruleId, x.level, x.locations[0]?.physicalLocation.artifactLocation.uri])).toEqual([
        ['EDGE_TARGET_MISSING', 'error', 'flows/chat.yaml'],
        ['SCHEMA_DERIVED_KEY', 'warning', 'flows/warned.yaml'],
      ]);
      expect(log.runs[0]?.results[0]?.locations[0]?.physicalLocation.region.startLine).toBe(Number(positionOf(brokenChat(), 'nowhere').split(':')[0]));
    });
  });

  it('checks the committed fixtures folder as a whole: every broken file fails', async () => {
    const fixtures = join(import.meta.dirname, '../fixtures');
    const r = await run(fixtures, 'invalid', '--format', 'json');
    const parsed = JSON.parse(r.stdout) as { files: number; findings: { file: string }[] };
    expect(r.code).toBe(1);
    expect(new Set(parsed.findings.map((f) => f.file)).size).toBe(parsed.files);
  });
});
