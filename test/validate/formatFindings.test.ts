import { describe, expect, it } from 'vitest';
import { FINDING_CODES } from '../../src/core/findingCodes.ts';
import { formatFindings, summaryLine, type FindingReport } from '../../src/core/formatFindings.ts';

const REPORT: FindingReport = {
  filesChecked: 3,
  findings: [
    { code: 'EDGE_TARGET_MISSING', severity: 'error', path: '/flow_data/edges/0/target', file: 'flows/chat.yaml', line: 41, col: 9, message: 'edge "a|b" points at node "b", which does not exist' },
    { code: 'SCHEMA_UNKNOWN_KEY', severity: 'warning', path: '/x', file: 'flows/team-a/x.yaml', line: 7, col: 1, message: 'x is not a key DB-GPT knows; it is ignored' },
    { code: 'UID_DUPLICATE', severity: 'error', path: '/uid', file: 'flows/a,b.yaml', line: 0, col: 0, message: '100% wrong:\nsecond line' },
  ],
};

describe('formatFindings', () => {
  it('text: one line per finding, file:line:col first, then a summary', () => {
    expect(formatFindings(REPORT, 'text')).toBe(
      [
        'flows/chat.yaml:41:9 error EDGE_TARGET_MISSING edge "a|b" points at node "b", which does not exist',
        'flows/team-a/x.yaml:7:1 warning SCHEMA_UNKNOWN_KEY x is not a key DB-GPT knows; it is ignored',
        'flows/a,b.yaml error UID_DUPLICATE 100% wrong:\nsecond line',
        '3 files checked: 2 errors, 1 warning',
        '',
      ].join('\n'),
    );
  });

  it('summary counts in singular and plural', () => {
    expect(summaryLine({ filesChecked: 1, findings: [] })).toBe('1 file checked: 0 errors, 0 warnings');
    expect(summaryLine({ filesChecked: 2, findings: [REPORT.findings[0]!] })).toBe('2 files checked: 1 error, 0 warnings');
  });

  it('json: parses back to the counts and every finding', () => {
    const parsed = JSON.parse(formatFindings(REPORT, 'json')) as { files: number; errors: number; warnings: number; findings: unknown[] };
    expect(parsed.files).toBe(3);
    expect(parsed.errors).toBe(2);
    expect(parsed.warnings).toBe(1);
    expect(parsed.findings[0]).toEqual({ file: 'flows/chat.yaml', line: 41, col: 9, severity: 'error', code: 'EDGE_TARGET_MISSING', path: '/flow_data/edges/0/target', message: 'edge "a|b" points at node "b", which does not exist' });
  });

  it('github: workflow commands with escaped properties and messages', () => {
    const lines = formatFindings(REPORT, 'github').trimEnd().split('\n');
    expect(lines).toEqual([
      '::error file=flows/chat.yaml,line=41,col=9,title=EDGE_TARGET_MISSING::edge "a|b" points at node "b", which does not exist',
      '::warning file=flows/team-a/x.yaml,line=7,col=1,title=SCHEMA_UNKNOWN_KEY::x is not a key DB-GPT knows; it is ignored',
      '::error file=flows/a%2Cb.yaml,title=UID_DUPLICATE::100%25 wrong:%0Asecond line',
      '3 files checked: 2 errors, 1 warning',
    ]);
  });

  it('sarif: a 2.1.0 log with one rule per finding code and located results', () => {
    const log = JSON.parse(formatFindings(REPORT, 'sarif', { toolVersion: '9.9.9' })) as {
      version: string;
      $schema: string;
      runs: { tool: { driver: { name: string; version: string; rules: { id: string; defaultConfiguration: { level: string }; shortDescription: { text: string } }[] } }; results: Record<string, unknown>[] }[];
    };
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('flowreg');
    expect(run.tool.driver.version).toBe('9.9.9');
    const ids = run.tool.driver.rules.map((r) => r.id);
    expect(ids).toEqual(Object.keys(FINDING_CODES));
    const warnRule = run.tool.driver.rules.find((r) => r.id === 'SCHEMA_UNKNOWN_KEY');
    expect(warnRule?.defaultConfiguration.level).toBe('warning');
    expect(run.results[0]).toEqual({
      ruleId: 'EDGE_TARGET_MISSING',
      ruleIndex: ids.indexOf('EDGE_TARGET_MISSING'),
      level: 'error',
      message: { text: 'edge "a|b" points at node "b", which does not exist' },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: 'flows/chat.yaml' }, region: { startLine: 41, startColumn: 9 } },
          logicalLocations: [{ fullyQualifiedName: '/flow_data/edges/0/target', kind: 'member' }],
        },
      ],
    });
    const unlocated = run.results[2] as { locations: { physicalLocation: Record<string, unknown> }[] };
    expect(unlocated.locations[0]?.physicalLocation).toEqual({ artifactLocation: { uri: 'flows/a,b.yaml' } });
  });
});
