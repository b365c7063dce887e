/**
 * Fixture repositories built in-process with isomorphic-git, for tests in the `npm run test:fast`
 * set, which may start no child process (see test/helpers/noChildProcesses.ts). tempRepo in
 * tmp.ts builds the same repository with native git.
 */
import * as fs from 'node:fs';
import git from 'isomorphic-git';
import { tempDir, writeFiles } from './tmp.ts';

/** The identity and clock of tmp.ts's GIT_ENV (2026-01-02T03:04:05Z). */
const AUTHOR = { name: 'Test Author', email: 'author@example.com', timestamp: Date.UTC(2026, 0, 2, 3, 4, 5) / 1000, timezoneOffset: 0 };
const COMMITTER = { ...AUTHOR, name: 'Test Committer', email: 'committer@example.com' };

/**
 * A throwaway git repository on branch `main` with the given files committed in one commit
 * ("initial") when any are given: what tempRepo makes, without running git.
 */
export async function inProcessRepo(files: Record<string, string> = {}): Promise<string> {
  const dir = tempDir('flowreg-repo-');
  await git.init({ fs, dir, defaultBranch: 'main' });
  await git.setConfig({ fs, dir, path: 'user.name', value: 'Test Author' });
  await git.setConfig({ fs, dir, path: 'user.email', value: 'author@example.com' });
  const paths = Object.keys(files);
  if (paths.length > 0) {
    writeFiles(dir, files);
    for (const filepath of paths) await git.add({ fs, dir, filepath });
    await git.commit({ fs, dir, message: 'initial\n', author: AUTHOR, committer: COMMITTER });
  }
  return dir;
}
