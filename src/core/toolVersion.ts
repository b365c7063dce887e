/**
 * flowreg's own version, read once from package.json so the CLI's `--version`, SARIF's tool
 * version and the OpenAPI document's `info.version` all say the same. A static JSON import is a
 * value like schemas/flow.schema.json in flowSchema.ts: core still touches no file system.
 */
import pkg from '../../package.json' with { type: 'json' };

/** The `version` field of package.json. */
export const TOOL_VERSION: string = pkg.version;
