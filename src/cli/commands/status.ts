import { Command, Option } from 'commander';
import { isObject } from '../../core/jsonAccess.ts';
import { EXIT } from '../CliIo.ts';
import type { CommandFactory } from './index.ts';

type Row = Record<string, unknown>;

const list = (v: unknown): Row[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The report of `GET /runtimes` as lines for a terminal. */
function describe(report: Row): string[] {
  const out: string[] = [];
  const runtimes = list(report.runtimes);
  if (runtimes.length === 0) return ['no runtime configured (flowreg serve --runtime URL)'];
  out.push(`owner ${String(report.owner)}, drift mode ${String(report.drift_mode)}, ${String(report.desired)} flow(s) to be live`);
  for (const r of runtimes) {
    const last = isObject(r.last_pass) ? `last reconcile ${String(r.last_pass.at)} (${String(r.last_pass.ms)} ms, ${String(r.last_pass.writes)} write(s))` : 'not reconciled yet';
    out.push(`${String(r.name)} ${String(r.url)}: ${r.up === true ? 'up' : `DOWN: ${String(r.error ?? 'not reached yet')}`}, ${String(r.live)} live, ${last}`);
    for (const f of list(r.failed)) out.push(`  refused ${String(f.uid)}: ${String(f.error)}`);
    for (const f of list(r.unmanaged)) out.push(`  not flowreg's: ${String(f.uid)} (${String(f.name)}${f.owner ? `, owner ${String(f.owner)}` : ''})`);
  }
  const drift = list(report.drift);
  const open = drift.filter((d) => d.resolved_at === null);
  out.push(`drift: ${open.length} open, ${drift.length - open.length} healed`);
  for (const d of drift) {
    out.push(`  ${String(d.runtime)} ${String(d.kind)} ${String(d.uid)} (${String(d.name)}) at ${String(d.detected_at)}: ${String(d.action)}${d.resolved_at !== null ? ` ${String(d.resolved_at)}` : ''}`);
  }
  return out;
}

/**
 * `flowreg status`: asks a running daemon for its runtimes' status and drift (GET /runtimes).
 * Exit 0 when every runtime is up with nothing refused and no open drift, 1 otherwise, 2 when
 * the daemon cannot be asked.
 */
export const statusCommand: CommandFactory = (io, exit) =>
  new Command('status')
    .description("Show the runtimes' status and drift of a running flowreg daemon (exit 1 when a runtime is down, refused a flow or drifted)")
    .option('--url <url>', 'the daemon', io.env.FLOWREG_URL ?? 'http://127.0.0.1:5670')
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .option('--reconcile', 'reconcile every runtime first (POST /runtimes/reconcile)')
    .addHelpText('after', '\nThe API key, when the daemon needs one, is read from FLOWREG_API_KEY.\n')
    .action(async (opts: { url: string; format: string; reconcile?: boolean }) => {
      const key = io.env.FLOWREG_API_KEY;
      const url = `${opts.url.replace(/\/+$/, '')}/api/v2/serve/awel/runtimes${opts.reconcile === true ? '/reconcile' : ''}`;
      let body: unknown;
      try {
        const res = await fetch(url, { method: opts.reconcile === true ? 'POST' : 'GET', headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(60_000) });
        body = await res.json().catch(() => null);
        if (!res.ok || !isObject(body) || body.success !== true || !isObject(body.data)) {
          const msg = isObject(body) ? String(body.err_msg ?? '') : '';
          io.stderr(`flowreg status: ${url} answered HTTP ${res.status}${msg ? `: ${msg}` : ''}\n`);
          exit.code = EXIT.USAGE;
          return;
        }
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        io.stderr(`flowreg status: cannot reach the daemon at ${opts.url}: ${cause}\n`);
        exit.code = EXIT.USAGE;
        return;
      }
      const report = body.data as Row;
      io.stdout(opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${describe(report).join('\n')}\n`);
      const runtimes = list(report.runtimes);
      const bad = runtimes.some((r) => r.up !== true || list(r.failed).length > 0) || list(report.drift).some((d) => d.resolved_at === null);
      exit.code = bad ? EXIT.FAIL : EXIT.OK;
    });
