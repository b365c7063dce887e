import { isFlowregError } from '../../src/errors/index.ts';

/** The FlowregError code a promise rejects with, or `ok` when it resolves (other errors are rethrown). */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isFlowregError(err)) return err.code;
    throw err;
  }
}
