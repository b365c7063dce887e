/**
 * `editable` is a boolean, and the 403 FLOW_NOT_EDITABLE guard of PUT and revert cannot be dodged
 * with a value that is not one (`"false"`, `"no"`, `0`, `"off"`): such a file is a validation
 * finding (quarantined), and a write to it is refused. In-process (test:fast).
 */
import * as fs from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { dbgptFlowFromFile } from '../../src/core/dbgptFlow.ts';
import { checkEditable } from '../../src/core/flowFromBody.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import type { FlowFile } from '../../src/core/types.ts';
import { code } from '../helpers/errors.ts';
import { smallFlow } from '../helpers/flows.ts';
import { commitCount, expectFailure, harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';
const SCHEMA_REF = '../schemas/flow.schema.json';
const DERIVED = { version: 'v', gmt_created: null, gmt_modified: null };

/** The canonical file of smallFlow(uid, name), with `editable: true` replaced by the YAML text `editable`. */
function fileWithEditable(uid: string, name: string, editable: string): string {
  const text = formatFlow(smallFlow(uid, name), { schemaRef: SCHEMA_REF });
  expect(text).toContain('\neditable: true\n');
  return text.replace('\neditable: true\n', `\neditable: ${editable}\n`);
}

describe('checkEditable and what is served', () => {
  it.each([
    ['"false"', 'false'],
    ['"no"', 'no'],
    ['"off"', 'off'],
    ['0', 0],
    ['"true"', 'true'],
    ['null', null],
  ])('refuses a stored editable of %s, which is not a boolean, and serves it as false', async (_label, stored) => {
    const file = { ...smallFlow('u-1', 'one'), editable: stored } as unknown as FlowFile;
    expect(await code(Promise.resolve().then(() => checkEditable('u-1', file)))).toBe('FLOW_NOT_EDITABLE');
    expect(() => checkEditable('u-1', file)).toThrow(`Flow u-1 is not editable: its file stores editable as ${JSON.stringify(stored)}, which is not a boolean; set editable: true or false in the file`);
    expect(dbgptFlowFromFile(file, DERIVED).editable).toBe(false);
  });

  it('lets true and an absent editable through, refuses false', async () => {
    const { editable: _e, ...absent } = smallFlow('u-1', 'one');
    expect(() => checkEditable('u-1', smallFlow('u-1', 'one'))).not.toThrow();
    expect(() => checkEditable('u-1', absent as FlowFile)).not.toThrow();
    expect(() => checkEditable('u-1', smallFlow('u-1', 'one', { editable: false }))).toThrow('Flow u-1 is not editable');
    expect(dbgptFlowFromFile(absent as FlowFile, DERIVED).editable).toBe(true);
    expect(dbgptFlowFromFile(smallFlow('u-1', 'one', { editable: false }), DERIVED).editable).toBe(false);
  });
});

describe('REST writes to a flow whose file stores editable as a string', () => {
  it('serves it quarantined with a boolean editable, and refuses PUT with 403 even when the body says editable: true', async () => {
    const h = await harness({ files: { 'flows/locked.yaml': fileWithEditable('u-lock', 'locked', '"false"') } });
    const before = await commitCount(h.repo);
    const got = await request(h.app).get(`${V2}/flows/u-lock`).expect(200);
    expect(got.body.data.editable).toBe(false);
    expect(got.body.data.state).toBe('load_failed');
    expect(got.body.data.error_message).toContain('editable must be a boolean, found string "false"');

    for (const body of [{ label: 'unlocked?', editable: true }, { label: 'unlocked?' }, { ...got.body.data, label: 'unlocked?', editable: true }]) {
      const put = await request(h.app).put(`${V2}/flows/u-lock`).send(body).expect(403);
      expect(expectFailure(put.body, '403')).toContain('Flow u-lock is not editable: its file stores editable as "false", which is not a boolean');
    }
    expect(await commitCount(h.repo)).toBe(before);
  });

  it('refuses a revert of a flow whose committed file says editable: "no" with 403, writing nothing', async () => {
    const h = await harness({ files: { 'flows/rev.yaml': formatFlow(smallFlow('u-rev', 'rev'), { schemaRef: SCHEMA_REF }) } });
    const v0 = await git.resolveRef({ fs, dir: h.repo, ref: 'HEAD' });
    // a hand edit, committed outside flowreg
    writeFileSync(join(h.repo, 'flows/rev.yaml'), fileWithEditable('u-rev', 'rev', 'no'));
    await git.add({ fs, dir: h.repo, filepath: 'flows/rev.yaml' });
    const author = { name: 'Hand', email: 'hand@example.com', timestamp: 1767323045, timezoneOffset: 0 };
    await git.commit({ fs, dir: h.repo, message: 'lock by hand\n', author, committer: author });
    const before = await commitCount(h.repo);

    const revert = await request(h.app).post(`${V2}/flows/u-rev/revert`).send({ version: v0 }).expect(403);
    expect(expectFailure(revert.body, '403')).toContain('Flow u-rev is not editable: its file stores editable as "no", which is not a boolean');
    const put = await request(h.app).put(`${V2}/flows/u-rev`).send({ label: 'edited', editable: true }).expect(403);
    expectFailure(put.body, '403');
    expect(await commitCount(h.repo)).toBe(before);
  });
});
