/**
 * What is a flow file, said once: a `.yaml` or `.yml` file inside the flows folder. Every layer
 * (store, watcher, CLI, diff) asks these functions instead of matching the extension itself.
 */

const FLOW_EXTENSION = /\.ya?ml$/;

/** True for a file name (or path) with a flow file's extension. */
export function isFlowFileName(name: string): boolean {
  return FLOW_EXTENSION.test(name);
}

/** True for a repository-relative path of a flow file inside `flowsDir` (e.g. `flows/team/x.yaml`). */
export function isFlowPath(path: string, flowsDir: string): boolean {
  return path.startsWith(`${flowsDir}/`) && FLOW_EXTENSION.test(path);
}

/** The flow name a file's path implies: its base name without the extension. */
export function flowNameOfPath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(FLOW_EXTENSION, '');
}

/**
 * Device names Windows reserves (CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9) in any case, also
 * followed by an extension, as Windows treats `CON.txt` or `con.yaml` as the device. A flow of
 * such a name would be a file its repository cannot check out on Windows. The schema says the
 * same (`not` of `name` in schemas/flow.schema.json).
 */
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?$/i;

/** True when `name` (a flow name or a file name) is a device name Windows reserves. */
export function isWindowsReservedName(name: string): boolean {
  return WINDOWS_RESERVED.test(name);
}
