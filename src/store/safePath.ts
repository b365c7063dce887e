import { posix } from 'node:path';
import { isWindowsReservedName } from '../core/flowPaths.ts';
import { FlowregError } from '../errors/index.ts';

/** DB-GPT's rule for flow names (its UI enforces it; flowreg enforces it everywhere). */
export const NAME_RE = /^[a-zA-Z0-9_-]+$/;
const MAX_ID = 128;

/** Checks that `name` can be a flow name and so a file name on any file system; throws UNSAFE_PATH otherwise. */
export function checkFlowName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new FlowregError('UNSAFE_PATH', 'flow name must be a non-empty string', { name });
  if (name.length > MAX_ID) throw new FlowregError('UNSAFE_PATH', `flow name is ${name.length} characters long; at most ${MAX_ID} are allowed`, { name });
  if (!NAME_RE.test(name)) {
    throw new FlowregError('UNSAFE_PATH', `flow name ${JSON.stringify(name)} may only hold letters a-z, A-Z, digits, "_" and "-"`, { name });
  }
  if (isWindowsReservedName(name)) {
    throw new FlowregError('UNSAFE_PATH', `flow name ${JSON.stringify(name)} is a device name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, in any case); its file could not be checked out on Windows`, { name });
  }
  return name;
}

/** Checks that `uid` can identify a flow: a non-empty string of at most 128 printable characters. */
export function checkFlowUid(uid: unknown): string {
  if (typeof uid !== 'string' || uid.length === 0) throw new FlowregError('INVALID_INPUT', 'flow uid must be a non-empty string', { uid });
  if (uid.length > MAX_ID) throw new FlowregError('INVALID_INPUT', `flow uid is ${uid.length} characters long; at most ${MAX_ID} are allowed`, { uid });
  if (/[\u0000-\u001f\u007f]/.test(uid) || uid.trim() !== uid) {
    throw new FlowregError('INVALID_INPUT', `flow uid ${JSON.stringify(uid)} holds control characters or surrounding spaces`, { uid });
  }
  return uid;
}

/**
 * The repository-relative path of flow `name` inside `folder` of the flows folder. The one place
 * where an id becomes a path: the name is checked, and the result must stay inside `flowsDir`.
 */
export function flowPath(flowsDir: string, folder: string, name: string): string {
  checkFlowName(name);
  const path = posix.normalize(posix.join(flowsDir, folder, `${name}.yaml`));
  const inside = path.startsWith(`${posix.normalize(flowsDir)}/`) && !path.split('/').includes('..');
  if (!inside || posix.isAbsolute(path)) throw new FlowregError('UNSAFE_PATH', `flow path ${path} would leave ${flowsDir}/`, { name, folder });
  return path;
}
