import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDING_CODES } from '../src/core/findingCodes.ts';
import { ERROR_CODES } from '../src/errors/codes.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');

/** The table rows of one `## heading` section: the cells of each `| ... |` line below the header rows. */
function tableRows(heading: string): string[][] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .slice(1) // the header row
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

function codesOf(rows: string[][]): string[] {
  return rows.map((cells) => (/^`([A-Z_]+)`$/.exec(cells[0] ?? '')?.[1] ?? `not a code: ${cells[0]}`));
}

describe('docs/errors.md', () => {
  describe('Validation findings', () => {
    const rows = tableRows('Validation findings');

    it('lists every code of FINDING_CODES, and only those, in registry order', () => {
      expect(codesOf(rows)).toEqual(Object.keys(FINDING_CODES));
    });

    it('gives each code its registry severity, a meaning and an example', () => {
      for (const cells of rows) {
        const code = codesOf([cells])[0] as keyof typeof FINDING_CODES;
        expect(cells).toHaveLength(4);
        expect(cells[1]).toBe(FINDING_CODES[code].severity);
        expect(cells[2]?.length).toBeGreaterThan(10);
        expect(cells[3]).toMatch(/^`.+`$/);
      }
    });
  });

  describe('Errors', () => {
    const rows = tableRows('Errors');

    it('lists every code of ERROR_CODES, and only those', () => {
      expect(codesOf(rows).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    });

    it('gives each code a meaning and an HTTP status column', () => {
      for (const cells of rows) {
        expect(cells).toHaveLength(3);
        expect(cells[1]?.length).toBeGreaterThan(10);
        expect(cells[2]).not.toBe('');
      }
    });
  });
});
