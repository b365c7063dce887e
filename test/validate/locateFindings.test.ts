import { describe, expect, it } from 'vitest';
import { locateFindings } from '../../src/core/locateFindings.ts';
import { validateFlowText } from '../../src/core/validateFlow.ts';
import type { Finding } from '../../src/core/types.ts';

const at = (code: string, path: string): Finding => ({ code, severity: 'error', path, file: 'f.yaml', line: 0, col: 0, message: 'm' });
const pos = (fs: Finding[]): string[] => fs.map((f) => `${f.line}:${f.col}`);

const TEXT = [
  '# yaml-language-server: $schema=../schemas/flow.schema.json', // 1
  'uid: u', // 2
  'name: n', // 3
  'label: Some label', // 4
  'flow_data:', // 5
  '  nodes:', // 6
  '    - id: a', // 7
  '      width: 10', // 8
  '      data: {flow_type: operator, name: x}', // 9
  '  edges: []', // 10
  '  viewport:', // 11
  '    x: 0', // 12
  'extra: &anchor', // 13
  '  deep: 1', // 14
  'copy: *anchor', // 15
  'empty:', // 16
  '',
].join('\n');

describe('locateFindings', () => {
  it('points value findings at the value', () => {
    expect(pos(locateFindings(TEXT, [at('SCHEMA_TYPE', '/label'), at('SCHEMA_TYPE', '/flow_data/nodes/0/width'), at('SCHEMA_ENUM', '/flow_data/nodes/0/data/flow_type')]))).toEqual([
      '4:8',
      '8:14',
      '9:25',
    ]);
  });

  it('points a missing key at its parent mapping, the root included', () => {
    expect(pos(locateFindings(TEXT, [at('SCHEMA_REQUIRED', '/flow_data/nodes/0/height'), at('SCHEMA_REQUIRED', '/flow_data/viewport/y'), at('SCHEMA_REQUIRED', '/state')]))).toEqual([
      '7:7',
      '12:5',
      '2:1',
    ]);
  });

  it('points unknown and derived keys at the key, not the value', () => {
    expect(pos(locateFindings(TEXT, [at('SCHEMA_UNKNOWN_KEY', '/extra'), at('SCHEMA_UNKNOWN_KEY', '/flow_data/nodes/0/data/name'), at('SCHEMA_DERIVED_KEY', '/flow_data')]))).toEqual([
      '13:1',
      '9:35',
      '5:1',
    ]);
  });

  it('follows aliases and falls back to the key of an empty value', () => {
    expect(pos(locateFindings(TEXT, [at('SCHEMA_TYPE', '/copy/deep'), at('SCHEMA_TYPE', '/empty')]))).toEqual(['14:9', '16:1']);
  });

  it('keeps positions that are already known', () => {
    const known = { ...at('YAML_SYNTAX', ''), line: 3, col: 4 };
    expect(locateFindings(TEXT, [known])).toEqual([known]);
  });
});

describe('validateFlowText positions', () => {
  it('computes positions only for files with findings, and returns the value of a valid file', () => {
    const text = 'uid: u\nname: f\nlabel: L\ndefine_type: python\n';
    const result = validateFlowText(text, { file: 'flows/f.yaml' });
    expect(result).toEqual({ value: { uid: 'u', name: 'f', label: 'L', define_type: 'python' }, findings: [] });
  });

  it('reports a file that is not a mapping at its first line', () => {
    const result = validateFlowText('# comment\n- a\n- b\n', { file: 'x.yaml' });
    expect(result.value).toBeUndefined();
    expect(result.findings.map((f) => `${f.code} ${f.line}:${f.col}`)).toEqual(['YAML_NOT_MAPPING 2:1']);
    expect(validateFlowText('', { file: 'x.yaml' }).findings.map((f) => f.code)).toEqual(['YAML_NOT_MAPPING']);
  });

  it('gives schema findings file, line and column, in reading order', () => {
    const text = 'uid: 1\nname: f\nlabel: L\nstate: nope\ndefine_type: python\n';
    const result = validateFlowText(text, { file: 'flows/f.yaml' });
    expect(result.value).toBeUndefined();
    expect(result.findings.map((f) => `${f.file}:${f.line}:${f.col} ${f.code}`)).toEqual(['flows/f.yaml:1:6 SCHEMA_TYPE', 'flows/f.yaml:4:8 SCHEMA_ENUM']);
  });

  it('keeps the value when only warnings were found', () => {
    const result = validateFlowText('uid: u\nname: f\nlabel: L\ndefine_type: python\nversion: "1"\n', { file: 'f.yaml' });
    expect(result.value?.uid).toBe('u');
    expect(result.findings.map((f) => `${f.severity} ${f.code} ${f.line}:${f.col}`)).toEqual(['warning SCHEMA_DERIVED_KEY 5:1']);
  });

  it('never throws on odd input', () => {
    for (const text of ['\t\t', '{', ': :', '- [', '"', 'a: !!binary x', 'a: *b', '%YAML 9.9\n---\na: 1', '\u0000', 'key: [1, {2: 3}]']) {
      const result = validateFlowText(text, { file: 'odd.yaml' });
      expect(result.findings.length).toBeGreaterThan(0);
      expect(result.findings.every((f) => f.file === 'odd.yaml')).toBe(true);
    }
  });
});
