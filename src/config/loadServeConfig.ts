import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FlowregError } from '../errors/index.ts';
import { withRuntimeKeys } from './parseRuntimes.ts';
import { remoteCredentials } from './remoteCredentials.ts';
import { REMOTE_TOKEN_ENV, SERVE_OPTIONS, type OptionSpecFor, type ParseContext, type ServeConfig } from './serveOptions.ts';

/** The file read from the repository root when no config file is named. */
export const DEFAULT_CONFIG_FILE = 'flowreg.config.json';

/** What the configuration is made from. */
export interface ConfigSources {
  /** Values of the flags given on the command line, by option key; absent keys were not given. */
  flags: Partial<Record<keyof ServeConfig, unknown>>;
  env: Record<string, string | undefined>;
  cwd: string;
}

interface FileValues {
  path: string;
  values: Record<string, unknown>;
}

function readConfigFile(path: string): FileValues {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FlowregError('USAGE', `config file ${path}: ${err instanceof Error ? err.message : String(err)}`, { path }, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FlowregError('USAGE', `config file ${path}: expected one JSON object such as {"port": 5670}`, { path });
  }
  const keys = new Set(SERVE_OPTIONS.filter((o) => o.inFile !== false).map((o) => o.key as string));
  const unknown = Object.keys(value).filter((k) => !keys.has(k));
  if (unknown.length > 0) {
    throw new FlowregError('USAGE', `config file ${path}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...keys].join(', ')})`, { path });
  }
  return { path, values: value as Record<string, unknown> };
}

function envValue(env: ConfigSources['env'], name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Resolves one option: flag, then environment, then config file, then default. `repo` is the
 * repository already resolved (the repo option itself passes the cwd's fallback).
 */
function resolveOption<K extends keyof ServeConfig>(spec: OptionSpecFor<K>, src: ConfigSources, file: FileValues | null, repo: string): ServeConfig[K] {
  const flag = src.flags[spec.key];
  if (flag !== undefined) return spec.parse(flag, { where: spec.flag.split(' ')[0] as string, base: src.cwd, repo });
  const env = envValue(src.env, spec.env);
  if (env !== undefined) return spec.parse(env, { where: spec.env, base: src.cwd, repo });
  if (file !== null && spec.inFile !== false && Object.hasOwn(file.values, spec.key)) {
    const ctx: ParseContext = { where: `config file ${file.path}: ${spec.key}`, base: dirname(file.path), repo };
    return spec.parse(file.values[spec.key], ctx);
  }
  return spec.fallback(src.cwd, repo);
}

/** Where option `spec`'s value comes from, as messages name it (flag, variable or file key); its flag for a default. */
function sourceOf<K extends keyof ServeConfig>(spec: OptionSpecFor<K>, src: ConfigSources, file: FileValues | null): string {
  const flag = spec.flag.split(' ')[0] as string;
  if (src.flags[spec.key] !== undefined) return flag;
  if (envValue(src.env, spec.env) !== undefined) return spec.env;
  if (file !== null && spec.inFile !== false && Object.hasOwn(file.values, spec.key)) return `config file ${file.path}: ${spec.key}`;
  return flag;
}

function spec<K extends keyof ServeConfig>(key: K): OptionSpecFor<K> {
  return SERVE_OPTIONS.find((o) => o.key === key) as unknown as OptionSpecFor<K>;
}

/**
 * The configuration of `flowreg serve`: flag > environment > config file > default for every
 * option of SERVE_OPTIONS. The config file is `--config`/`FLOWREG_CONFIG`, else
 * `flowreg.config.json` in the repository root when present (which then cannot move the
 * repository). Relative paths in the file resolve against its folder. Throws USAGE on a bad value.
 */
export function loadServeConfig(src: ConfigSources): ServeConfig {
  const named = resolveOption(spec('config'), src, null, src.cwd);
  let file = named === null ? null : readConfigFile(named);
  const repo = resolveOption(spec('repo'), src, file, src.cwd);
  if (file === null) {
    const implicit = join(repo, DEFAULT_CONFIG_FILE);
    if (existsSync(implicit)) {
      file = readConfigFile(implicit);
      if (Object.hasOwn(file.values, 'repo')) {
        throw new FlowregError('USAGE', `config file ${implicit}: "repo" cannot be set in the repository's own ${DEFAULT_CONFIG_FILE}; use --config to name a file elsewhere`);
      }
    }
  }
  const out: Partial<Record<keyof ServeConfig, unknown>> = { config: file?.path ?? null, repo };
  for (const option of SERVE_OPTIONS) {
    if (option.key === 'config' || option.key === 'repo') continue;
    out[option.key] = resolveOption<typeof option.key>(option, src, file, repo);
  }
  // the remote's credentials: out of its URL, from the token variable or the token file
  const config = out as ServeConfig;
  if (config.headersTimeout > config.requestTimeout) {
    // node refuses such a server; say which options disagree
    throw new FlowregError('USAGE', `${sourceOf(spec('headersTimeout'), src, file)}: the headers timeout (${config.headersTimeout} ms) cannot be longer than the request timeout (${config.requestTimeout} ms, ${sourceOf(spec('requestTimeout'), src, file)})`);
  }
  return {
    ...config,
    runtimes: withRuntimeKeys(config.runtimes, src.env),
    ...remoteCredentials({
      remote: config.remote,
      remoteWhere: sourceOf(spec('remote'), src, file),
      token: envValue(src.env, REMOTE_TOKEN_ENV),
      tokenFile: config.remoteTokenFile,
      tokenFileWhere: sourceOf(spec('remoteTokenFile'), src, file),
    }),
  };
}
