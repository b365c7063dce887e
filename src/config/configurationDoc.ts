import { SERVE_OPTIONS, type OptionGroup } from './serveOptions.ts';

/** Markers around the generated part of docs/configuration.md. */
export const DOC_START = '<!-- options:start (generated from src/config/serveOptions.ts; test/config checks it) -->';
export const DOC_END = '<!-- options:end -->';

const GROUP_TITLES: Record<OptionGroup, string> = {
  repository: 'Repository',
  http: 'HTTP',
  auth: 'Authentication',
  logging: 'Logging',
  sync: 'Sync',
  runtime: 'Runtimes',
};

/** Table-cell text: pipes escaped, and angle brackets so `<key>` is not read as HTML or an autolink. */
function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * The option tables of docs/configuration.md, one per group, generated from SERVE_OPTIONS and
 * wrapped in DOC_START/DOC_END, so the docs and `--help` cannot disagree with the parser.
 */
export function configurationDoc(): string {
  const lines = [DOC_START];
  for (const group of Object.keys(GROUP_TITLES) as OptionGroup[]) {
    const rows = SERVE_OPTIONS.filter((o) => o.group === group);
    if (rows.length === 0) continue;
    lines.push('', `### ${GROUP_TITLES[group]}`, '', '| flag | environment | config file | default | meaning |', '|---|---|---|---|---|');
    for (const o of rows) {
      const fileKey = o.inFile === false ? '–' : `\`${o.key}\``;
      lines.push(`| \`${o.flag}\` | \`${o.env}\` | ${fileKey} | ${cell(o.defaultText)} | ${cell(o.description)} |`);
    }
  }
  lines.push('', DOC_END);
  return lines.join('\n');
}
