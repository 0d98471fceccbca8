// `ssh-doctor watch <host>` and `ssh-doctor watch -- ssh ARGS...`: watch a monitored connection
// (or the user's own ssh session) until it drops, then explain that drop from the timeline.
// The builder is light (main.ts can import it for --help without loading ssh2); runWatch
// loads the rest when it runs.
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { parseTimeFormat } from '../parsers/time-format.js';
import type { WatchSettings } from '../watch/common.js';
import { outputOptions, targetOptions, type CommonArgs, type TargetArgs } from './options.js';

export interface WatchArgs extends Omit<TargetArgs, 'host'> {
  host?: string;
  count: number;
  duration?: string;
  reconnectWait: number;
  interval: number;
  silence?: number;
  transcript?: string;
  _: Array<string | number>;
  '--'?: Array<string | number>;
}

export const DEFAULT_INTERVAL = 10;
export const DEFAULT_RECONNECT_WAIT = 60;

/** The yargs builder for `watch [host]` (the command after `--` is read by runWatch). */
export function watchCommand<T extends CommonArgs>(y: Argv<T>): Argv<WatchArgs> {
  return targetOptions(y)
    .positional('host', {
      type: 'string',
      demandOption: false,
      describe: 'host, user@host, user@host:port or a Host alias to watch; or give your own ssh command after --',
    })
    .option('count', { type: 'number', default: 1, describe: 'stop after this many drops' })
    .option('duration', { type: 'string', describe: 'stop after this long (90, 10m, 8h)' })
    .option('reconnect-wait', { type: 'number', default: DEFAULT_RECONNECT_WAIT, describe: 'after a drop, wait this long (s) for the path to read the server side' })
    .option('interval', { type: 'number', default: DEFAULT_INTERVAL, describe: 'seconds between heartbeats (watch <host>)' })
    .option('silence', { type: 'number', describe: 'a path silent this long (s) counts as a drop (default: ServerAliveInterval x CountMax, else 60)' })
    .option('transcript', { type: 'string', describe: 'watch -- ssh: write the timestamped ssh -v log here' })
    .example('$0 watch db1 --save-evidence watch.json', 'watch db1 until the first drop, evidence written as it goes')
    .example('$0 watch -- ssh -A db1', 'your own ssh session, timestamped, explained when it drops') as unknown as Argv<WatchArgs>;
}

/** The user's ssh command: the words after `--`, exactly as typed. */
export function wrappedWords(args: Pick<WatchArgs, '_' | '--'>, argv: string[] = process.argv): string[] | null {
  const dd = args['--'];
  if (Array.isArray(dd) && dd.length > 0) {
    // yargs may have turned "22" into 22: take the exact words from argv when they are there
    const i = argv.indexOf('--');
    return i >= 0 ? argv.slice(i + 1) : dd.map(String);
  }
  const i = argv.indexOf('--');
  if (i >= 0) return argv.slice(i + 1);
  const extra = args._.slice(args._[0] === 'watch' ? 1 : 0);
  if (extra.length > 0) {
    throw new UsageError(`unexpected argument "${String(extra[0])}": to watch your own ssh session, put it after --: ssh-doctor watch -- ssh ...`);
  }
  return null;
}

function seconds(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isFinite(v) || v < min)) throw new UsageError(`invalid --${name}: ${String(v)} (seconds, at least ${min})`);
}

/** Checks the arguments and turns them into settings; throws UsageError (exit 2). */
export function watchSettings(args: WatchArgs, wrapped: boolean): WatchSettings {
  if (!Number.isInteger(args.count) || args.count < 1) throw new UsageError(`invalid --count: ${String(args.count)} (a number of drops, at least 1)`);
  seconds('reconnect-wait', args.reconnectWait, 0);
  seconds('interval', args.interval, 0.5);
  seconds('silence', args.silence, 1);
  if (args.silence !== undefined && args.silence < 2 * args.interval) throw new UsageError(`--silence ${args.silence} must be at least twice --interval (${args.interval})`);
  let duration: number | null = null;
  if (args.duration !== undefined) {
    const d = parseTimeFormat(String(args.duration));
    if (d === undefined || d === null || d <= 0) throw new UsageError(`invalid --duration: ${String(args.duration)} (like 90, 10m, 8h)`);
    duration = d;
  }
  if (wrapped) {
    if (args.count !== 1 || duration !== null) throw new UsageError('watch -- ssh runs until your ssh session ends: --count and --duration are for watch <host>');
  } else if (args.transcript) {
    throw new UsageError('--transcript is for watch -- ssh (the timestamped log of your own ssh)');
  }
  const out = outputOptions(args);
  const transcript = args.transcript ?? (wrapped && out.saveEvidence ? `${out.saveEvidence.replace(/\.json$/i, '')}.ssh-v.log` : undefined);
  return {
    count: args.count,
    durationSeconds: duration,
    reconnectWaitSeconds: args.reconnectWait,
    intervalSeconds: args.interval,
    silenceSeconds: args.silence ?? null,
    ...(out.saveEvidence ? { saveEvidence: out.saveEvidence } : {}),
    ...(transcript ? { transcript } : {}),
    redact: args.redact,
    sudo: args.sudo,
    // progress for a person watching: a terminal on stderr, not --json (or -v)
    progress: args.verbose || (Boolean(process.stderr.isTTY) && out.format !== 'json') ? (line) => process.stderr.write(`${line}\n`) : null,
  };
}

const TARGET_FLAGS: Array<keyof WatchArgs> = ['port', 'user', 'identity', 'config', 'jump', 'knownHosts', 'acceptHostKey'];

/** `ssh-doctor watch`: 0 no drop or no cause, 1 causes, 2 bad usage, 3 could not connect. */
export async function runWatch(args: WatchArgs): Promise<number> {
  const startedAt = new Date();
  const words = wrappedWords(args);
  if (words !== null && args.host) throw new UsageError('give either a host to watch or your own ssh command after --, not both');
  if (words === null && !args.host) throw new UsageError('watch needs a host (ssh-doctor watch db1) or your ssh command after -- (ssh-doctor watch -- ssh db1)');
  if (words !== null) {
    const given = TARGET_FLAGS.find((k) => args[k] !== undefined && !(Array.isArray(args[k]) && (args[k] as unknown[]).length === 0));
    if (given) throw new UsageError(`with watch -- ssh, give ssh's own options after --: --${String(given).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for watch <host>`);
  }
  const settings = watchSettings(args, words !== null);
  const [{ loadRules }, { buildReport, exitCodeOf }, { diagnoseWatch }, { emit }] = await Promise.all([
    import('../engine/load.js'),
    import('../report/model.js'),
    import('../watch/analyse.js'),
    import('./output.js'),
  ]);
  const rules = loadRules(args.rules ?? []);
  const out = outputOptions(args);

  let result;
  if (words !== null) {
    const [{ parseSshCommand }, { watchWrapped }] = await Promise.all([import('../watch/ssh-args.js'), import('../watch/wrap.js')]);
    result = await watchWrapped(parseSshCommand(words), settings);
  } else {
    const [{ liveOptions, targetSpec }, { watchMonitor }] = await Promise.all([import('./diagnose.js'), import('../watch/monitor.js')]);
    const live = liveOptions({ ...args, host: args.host! } as TargetArgs);
    result = await watchMonitor(targetSpec({ ...args, host: args.host! } as TargetArgs), settings, {
      ...(live.knownHostsFile ? { knownHostsFile: live.knownHostsFile } : {}),
      ...(live.acceptHostKey ? { acceptHostKey: live.acceptHostKey } : {}),
      signals: true,
    });
  }
  const diagnosis = diagnoseWatch(result.ev, rules, result.shared);
  const report = buildReport(result.ev, diagnosis, { startedAt, redact: args.redact });
  await emit(report, result.ev, out);
  return result.unreachable ? 3 : exitCodeOf(report);
}
