import type { Argv } from 'yargs';
import { diagnose } from '../engine/evaluate.js';
import { loadRules } from '../engine/load.js';
import { UsageError } from '../errors.js';
import { parseAcceptHostKey } from '../probes/connect.js';
import { diagnoseLive, type LiveOptions } from '../probes/diagnose.js';
import { progressFor } from '../probes/runner.js';
import type { TargetSpec } from '../probes/target.js';
import { buildReport, exitCodeOf } from '../report/model.js';
import { emit } from './output.js';
import { outputOptions, type CommonArgs } from './options.js';

/**
 * Default --idle-max: long enough to catch the commonest cloud idle timeouts (Azure's 240 s, AWS's
 * 350 s), short enough for a person at a terminal (a healthy target costs this long).
 */
export const DEFAULT_IDLE_MAX = 360;

export interface IdleArgs {
  idleMax: number;
  maxConnections?: number;
  verify: boolean;
}

export function idleOptions<T>(y: Argv<T>): Argv<T & IdleArgs> {
  return y
    .option('idle-max', { type: 'number', default: DEFAULT_IDLE_MAX, describe: 'longest idle period the idle test waits for (s); 0 skips it' })
    .option('max-connections', { type: 'number', describe: 'cap on the connections the idle test opens' })
    .option('verify', { type: 'boolean', default: false, describe: 'after the idle test, prove the recommended keepalive keeps a connection alive' }) as unknown as Argv<T & IdleArgs>;
}

export function checkIdleArgs(a: IdleArgs): void {
  if (!Number.isFinite(a.idleMax) || a.idleMax < 0) throw new UsageError(`invalid --idle-max: ${String(a.idleMax)} (seconds, 0 skips the idle test)`);
  if (a.maxConnections !== undefined && (!Number.isInteger(a.maxConnections) || a.maxConnections < 2)) {
    throw new UsageError(`invalid --max-connections: ${String(a.maxConnections)} (at least 2: one idle, one keepalive control)`);
  }
}

export interface TargetArgs extends CommonArgs {
  host: string;
  port?: number;
  user?: string;
  identity?: string[];
  config?: string;
  jump?: string;
  knownHosts?: string;
  acceptHostKey?: string;
  sudo: boolean;
}

/** ssh(1)'s own options for reaching a target, shared by diagnose and watch. */
export function targetOptions<T>(y: Argv<T>): Argv<T & TargetArgs> {
  return y
    .positional('host', { type: 'string', describe: 'host, user@host, user@host:port, or a Host alias from ssh_config', demandOption: true })
    .option('port', { alias: 'p', type: 'number', describe: 'port (as ssh -p)' })
    .option('user', { alias: 'l', type: 'string', describe: 'login name (as ssh -l)' })
    .option('identity', { alias: 'i', type: 'string', array: true, describe: 'identity file (as ssh -i; repeatable)' })
    .option('config', { alias: 'F', type: 'string', describe: 'ssh_config to use (as ssh -F)' })
    .option('jump', { alias: 'J', type: 'string', describe: 'jump host(s) (as ssh -J)' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file to verify the host key against' })
    .option('accept-host-key', { type: 'string', describe: 'trust exactly this host key fingerprint (SHA256:...) for this run' })
    .option('sudo', { type: 'boolean', default: false, describe: 'allow sudo -n for root-only reads on the target (sshd -T)' }) as unknown as Argv<T & TargetArgs>;
}

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

/** `ssh-doctor <host>`: exit 0 no cause, 1 causes, 3 when the target could not be diagnosed live. */
export async function runDiagnose(args: TargetArgs, extra: Partial<LiveOptions> = {}): Promise<number> {
  const startedAt = new Date();
  const rules = loadRules(args.rules ?? []);
  const out = outputOptions(args);
  const { ev, unreachable } = await diagnoseLive(targetSpec(args), { ...liveOptions(args), ...extra }, progressFor(wantsProgress(args)));
  const report = buildReport(ev, diagnose(ev, rules), { startedAt, redact: args.redact });
  await emit(report, ev, out);
  return unreachable ? 3 : exitCodeOf(report);
}
