/** Where a flow file's modeline points: the repository's JSON Schema, relative to the file. */

/** The JSON Schema of a flow file, relative to the repository root. */
export const SCHEMA_PATH = 'schemas/flow.schema.json';

/** The modeline comment that starts every flow file, for a given schema reference. */
export function modeline(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}`;
}

/**
 * The `$schema` reference for a flow file at `fileRelPathFromRepoRoot` (for example
 * `flows/team-a/x.yaml` → `../../schemas/flow.schema.json`). Accepts `/` or `\` separators, `.`
 * segments and `..` segments that stay inside the repository.
 */
export function schemaRefFor(fileRelPathFromRepoRoot: string): string {
  const dirs: string[] = [];
  const segments = fileRelPathFromRepoRoot.split(/[\\/]+/);
  segments.pop(); // the file name itself
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') dirs.pop();
    else dirs.push(segment);
  }
  return '../'.repeat(dirs.length) + SCHEMA_PATH;
}
