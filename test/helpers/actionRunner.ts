/**
 * Runs the steps of a composite GitHub Action (action.yml) the way a GitHub runner does, on this
 * machine: `${{ }}` expressions in `if`, `env`, `with`, `working-directory` and `run` evaluated
 * against inputs (their defaults too), `github`, `steps` (outcome, outputs) and `runner`; each `run`
 * step as `bash --noprofile --norc -eo pipefail <script>` with GitHub's environment variables
 * (GITHUB_WORKSPACE, GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STEP_SUMMARY,
 * GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_BASE_REF, …); a step's failure skips the steps
 * without a status function in their `if`, as GitHub does. Steps that `uses:` another action are
 * handed to the caller's stand-ins (setup-node, upload-sarif, github-script), which see the
 * evaluated `with`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ActionStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  'working-directory'?: string;
}

export interface ActionFile {
  name: string;
  inputs: Record<string, { description?: string; default?: string }>;
  outputs?: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

export type Outcome = 'success' | 'failure' | 'skipped';

export interface StepResult {
  name: string;
  id: string | undefined;
  outcome: Outcome;
  /** stdout and stderr of a run step, in order of arrival per stream (stdout then stderr). */
  log: string;
  outputs: Record<string, string>;
}

/** What a `uses:` stand-in gets and returns. */
export type UsesHandler = (step: ActionStep, withArgs: Record<string, string>, job: JobContext) => Promise<void> | void;

export interface JobContext {
  workspace: string;
  actionPath: string;
  eventName: string;
  event: Record<string, unknown>;
  /** `github.*` values besides event and event_name. */
  github: Record<string, unknown>;
  inputs: Record<string, string>;
  runnerTemp: string;
}

export interface RunActionOptions {
  actionPath: string;
  workspace: string;
  eventName: 'push' | 'pull_request';
  event: Record<string, unknown>;
  github: { repository: string; base_ref?: string; head_ref?: string; ref: string; sha: string; token?: string };
  inputs?: Record<string, string>;
  uses: Record<string, UsesHandler>;
  /** Extra process environment (PATH, git identity). */
  env?: Record<string, string>;
  tmp: string;
}

export interface ActionRun {
  steps: StepResult[];
  /** The job's conclusion: failure when any step failed. */
  conclusion: 'success' | 'failure';
  summary: string;
  outputs: Record<string, string>;
  step(nameOrId: string): StepResult;
}

export function readAction(path: string): ActionFile {
  return parse(readFileSync(path, 'utf8')) as ActionFile;
}

/** Evaluates one GitHub expression (the part inside `${{ }}`) over `ctx`. */
export function evaluate(expr: string, ctx: Record<string, unknown>, status: { failed: boolean }): unknown {
  const lookup = (path: string): unknown => {
    let v: unknown = ctx;
    for (const k of path.split('.')) {
      if (v === null || typeof v !== 'object') return null;
      v = (v as Record<string, unknown>)[k];
    }
    return v ?? null;
  };
  // strings are kept as they are; context paths become lookups; == and != compare as GitHub does (strings)
  const parts = expr.split(/('(?:[^']|'')*')/);
  const js = parts
    .map((p, i) =>
      i % 2 === 1
        ? JSON.stringify(p.slice(1, -1).replace(/''/g, "'"))
        : p
            .replace(/\b(inputs|github|steps|runner|env)((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)/g, (_m, head: string, rest: string) => `$lookup(${JSON.stringify(head + rest)})`)
            .replace(/==/g, '==='),
    )
    .join('');
  const fn = new Function('$lookup', 'success', 'failure', 'cancelled', 'always', `return (${js});`) as (...a: unknown[]) => unknown;
  return fn(lookup, () => !status.failed, () => status.failed, () => false, () => true);
}

/** A string with every `${{ expr }}` replaced by its value (null → ''). */
export function template(text: string, ctx: Record<string, unknown>, status: { failed: boolean }): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_m, expr: string) => {
    const v = evaluate(expr.trim(), ctx, status);
    return v === null || v === undefined ? '' : String(v);
  });
}

/** Runs every step of the action at `opts.actionPath`/action.yml once, as one job. */
export async function runAction(opts: RunActionOptions): Promise<ActionRun> {
  const action = readAction(join(opts.actionPath, 'action.yml'));
  const status = { failed: false };
  const steps: Record<string, { outcome: Outcome; conclusion: Outcome; outputs: Record<string, string> }> = {};
  const github: Record<string, unknown> = {
    ...opts.github,
    event_name: opts.eventName,
    event: opts.event,
    workspace: opts.workspace,
    action_path: opts.actionPath,
    token: opts.github.token ?? 'ghs_test_token',
    base_ref: opts.github.base_ref ?? '',
    head_ref: opts.github.head_ref ?? '',
  };
  const runnerTemp = join(opts.tmp, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  const ctx: Record<string, unknown> = { github, steps, runner: { temp: runnerTemp, os: 'Linux' }, env: {} };
  // inputs: given, else the default (itself an expression over github)
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    inputs[name] = opts.inputs?.[name] ?? (spec.default !== undefined ? template(String(spec.default), ctx, status) : '');
  }
  ctx.inputs = inputs;
  const eventPath = join(opts.tmp, 'event.json');
  writeFileSync(eventPath, JSON.stringify(opts.event));
  const summaryPath = join(opts.tmp, 'step-summary.md');
  writeFileSync(summaryPath, '');
  const envFile = join(opts.tmp, 'github-env');
  writeFileSync(envFile, '');
  const job: JobContext = { workspace: opts.workspace, actionPath: opts.actionPath, eventName: opts.eventName, event: opts.event, github, inputs, runnerTemp };
  const results: StepResult[] = [];
  let n = 0;
  for (const step of action.runs.steps) {
    n++;
    const name = step.name ?? step.uses ?? `step ${n}`;
    const cond = step.if === undefined ? 'success()' : step.if.replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, '$1').trim();
    // GitHub: an `if` without a status function is `success() && (…)`
    const withStatus = /\b(success|failure|cancelled|always)\(\)/.test(cond) ? cond : `success() && (${cond})`;
    const record = (outcome: Outcome, log: string, outputs: Record<string, string>): void => {
      if (step.id !== undefined) steps[step.id] = { outcome, conclusion: outcome, outputs };
      results.push({ name, id: step.id, outcome, log, outputs });
      if (outcome === 'failure') status.failed = true;
    };
    if (!evaluate(withStatus, ctx, status)) {
      record('skipped', '', {});
      continue;
    }
    const stepEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = template(String(v), ctx, status);
    if (step.uses !== undefined) {
      const key = step.uses.split('@')[0] as string;
      const handler = opts.uses[key];
      if (handler === undefined) throw new Error(`no stand-in for uses: ${step.uses}`);
      const withArgs: Record<string, string> = {};
      for (const [k, v] of Object.entries(step.with ?? {})) withArgs[k] = template(String(v), ctx, status);
      try {
        await handler(step, withArgs, job);
        record('success', '', {});
      } catch (err) {
        record('failure', String(err), {});
      }
      continue;
    }
    const script = template(step.run ?? '', ctx, status);
    const scriptPath = join(opts.tmp, `step-${n}.sh`);
    writeFileSync(scriptPath, script);
    const outputPath = join(opts.tmp, `step-${n}.output`);
    writeFileSync(outputPath, '');
    const carried: Record<string, string> = {};
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) carried[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const cwd = step['working-directory'] !== undefined ? template(step['working-directory'], ctx, status) : opts.workspace;
    if (step.shell !== 'bash') throw new Error(`step ${name}: a composite action's run step needs shell: bash, found ${String(step.shell)}`);
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptPath], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      env: {
        ...process.env,
        ...opts.env,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: opts.workspace,
        GITHUB_ACTION_PATH: opts.actionPath,
        GITHUB_EVENT_NAME: opts.eventName,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_BASE_REF: opts.github.base_ref ?? '',
        GITHUB_HEAD_REF: opts.github.head_ref ?? '',
        GITHUB_REF: opts.github.ref,
        GITHUB_SHA: opts.github.sha,
        GITHUB_REPOSITORY: opts.github.repository,
        GITHUB_OUTPUT: outputPath,
        GITHUB_ENV: envFile,
        GITHUB_STEP_SUMMARY: summaryPath,
        RUNNER_TEMP: runnerTemp,
        RUNNER_OS: 'Linux',
        ...carried,
        ...stepEnv,
      },
    });
    const outputs: Record<string, string> = {};
    for (const line of readFileSync(outputPath, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
    }
    record(r.status === 0 ? 'success' : 'failure', `${r.stdout}${r.stderr}`, outputs);
  }
  const outputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(action.outputs ?? {})) outputs[k] = template(v.value, ctx, status);
  return {
    steps: results,
    conclusion: status.failed ? 'failure' : 'success',
    summary: readFileSync(summaryPath, 'utf8'),
    outputs,
    step(nameOrId) {
      const s = results.find((x) => x.id === nameOrId || x.name === nameOrId);
      if (s === undefined) throw new Error(`no step ${nameOrId}: ${results.map((x) => x.id ?? x.name).join(', ')}`);
      return s;
    },
  };
}

/** A pull request comment, as GitHub's REST API answers it. */
export interface PrComment {
  id: number;
  body: string;
  user: { login: string };
  html_url: string;
}

/**
 * The part of github-script's `github` client that a comment script uses (paginate over the
 * comments, create, update), over the in-memory `comments` of pull request `prNumber`: every call
 * must name that pull request.
 */
export function fakeGithubComments(comments: PrComment[], prNumber: number | undefined, expectPr: (seen: number) => void): unknown {
  return {
    paginate: async (_list: unknown, args: { issue_number: number }) => {
      expectPr(args.issue_number);
      return comments.map((c) => ({ ...c }));
    },
    rest: {
      issues: {
        listComments: {},
        createComment: async (a: { body: string; issue_number: number }) => {
          expectPr(a.issue_number);
          const c = { id: comments.length + 1, body: a.body, user: { login: 'github-actions[bot]' }, html_url: `c/${comments.length + 1}` };
          comments.push(c);
          return { data: c };
        },
        updateComment: async (a: { comment_id: number; body: string }) => {
          const c = comments.find((x) => x.id === a.comment_id);
          if (c === undefined) throw new Error(`no comment ${a.comment_id} on pull request ${String(prNumber)}`);
          c.body = a.body;
          return { data: c };
        },
      },
    },
  };
}
