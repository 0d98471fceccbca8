import { diagnose } from '../engine/evaluate.js';
import { loadRules } from '../engine/load.js';
import { UsageError } from '../errors.js';
import { printable } from '../evidence/secrets.js';
import { parseAcceptHostKey } from '../probes/connect.js';
import { diagnoseLive, type LiveOptions } from '../probes/diagnose.js';
import { progressFor } from '../probes/runner.js';
import type { TargetSpec } from '../probes/target.js';
import { buildReport, exitCodeOf } from '../report/model.js';
import { emit } from './output.js';
import { outputOptions, type CommonArgs, type IdleArgs, type TargetArgs } from './options.js';
import { liveOpeners, runIdleProbes } from '../probes/idle-live.js';

export function targetSpec(args: TargetArgs): TargetSpec {
  if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535)) {
    throw new UsageError(`invalid port: ${String(args.port)}`);
  }
  return {
    target: args.host,
    ...(args.port !== undefined ? { port: args.port } : {}),
    ...(args.user ? { user: args.user } : {}),
    ...(args.identity?.length ? { identity: args.identity } : {}),
    ...(args.config ? { configFile: args.config } : {}),
    ...(args.jump ? { jump: args.jump } : {}),
  };
}

/** Progress only for a person watching: a TTY on stderr, not --json. */
export function wantsProgress(args: CommonArgs): boolean {
  return Boolean(process.stderr.isTTY) && outputOptions(args).format !== 'json';
}

export function liveOptions(args: TargetArgs): LiveOptions {
  return {
    sudo: args.sudo,
    ...(args.knownHosts ? { knownHostsFile: args.knownHosts } : {}),
    ...(args.acceptHostKey ? { acceptHostKey: parseAcceptHostKey(args.acceptHostKey) } : {}),
  };
}

/** The idle probes as the live run's last step, when --idle-max is not 0. */
export function idleStep(args: IdleArgs, signal?: AbortSignal): LiveOptions['extra'] {
  if (args.idleMax <= 0) return undefined;
  return async (ctx) => {
    const openers = await liveOpeners(ctx.resolved, ctx.connectOptions);
    return runIdleProbes(ctx.ev, ctx.probes, openers, {
      idleMaxSeconds: args.idleMax,
      verify: args.verify,
      ...(args.maxConnections !== undefined ? { maxConnections: args.maxConnections } : {}),
      ...(signal ? { signal } : {}),
      ...(ctx.connectOptions.debug ? { debug: ctx.connectOptions.debug } : {}),
    });
  };
}

/** `ssh-doctor <host>`: exit 0 no cause, 1 causes, 3 when the target could not be diagnosed live. */
export async function runDiagnose(args: TargetArgs & IdleArgs, extra: Partial<LiveOptions> = {}): Promise<number> {
  const startedAt = new Date();
  const rules = loadRules(args.rules ?? []);
  const out = outputOptions(args);
  // Ctrl-C during the idle test ends it early: what was measured so far is still reported.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const step = idleStep(args, interrupt.signal);
  // -v: the connection's debug lines (secrets scrubbed by the connection layer) on stderr
  const debug = args.verbose ? { debug: (line: string) => void process.stderr.write(`debug: ${printable(line)}\n`) } : {};
  const live: LiveOptions = {
    ...liveOptions(args),
    ...(step ? { extra: step } : {}),
    ...extra,
    connect: { ...debug, ...extra.connect },
  };
  const { ev, unreachable } = await diagnoseLive(targetSpec(args), live, progressFor(wantsProgress(args))).finally(() =>
    process.removeListener('SIGINT', onSigint),
  );
  if (interrupt.signal.aborted) ev.errors.push('interrupted (Ctrl-C): the report has what was measured until then');
  const report = buildReport(ev, diagnose(ev, rules), { startedAt, redact: args.redact });
  await emit(report, ev, out);
  return unreachable ? 3 : exitCodeOf(report);
}
