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
