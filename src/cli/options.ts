import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { MIN_CONNECTIONS } from '../probes/idle/limits.js';
import type { Format, OutputOptions } from './output.js';

export interface CommonArgs {
  format: Format;
  json: boolean;
  output?: string;
  saveEvidence?: string;
  redact: boolean;
  rules?: string[];
  verbose: boolean;
  input: boolean;
}

/** Options every diagnosing command shares (contract: "all commands where they apply"). */
export function commonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('format', { choices: ['table', 'json', 'markdown'] as const, default: 'table' as Format, describe: 'report format' })
    .option('json', { type: 'boolean', default: false, describe: 'same as --format json' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the report to a file' })
    .option('save-evidence', { type: 'string', describe: 'write the evidence bundle (re-run it with explain FILE)' })
    .option('redact', { type: 'boolean', default: false, describe: 'replace user names, host names and addresses with placeholders' })
    .option('rules', { type: 'string', array: true, describe: 'extra rule folder(s), added to the built-in rules' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'progress details on stderr' })
    .option('input', { type: 'boolean', default: true, describe: 'ask questions on a terminal when the evidence is thin (--no-input: never)' }) as unknown as Argv<T & CommonArgs>;
}

export function outputOptions(args: CommonArgs): OutputOptions {
  const format: Format = args.json ? 'json' : args.format;
  if (args.json && args.format !== 'table' && args.format !== 'json') {
    throw new UsageError(`--json conflicts with --format ${args.format}`);
  }
  return {
    format,
    redact: args.redact,
    ...(args.output ? { output: args.output } : {}),
    ...(args.saveEvidence ? { saveEvidence: args.saveEvidence } : {}),
  };
}

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
  if (a.maxConnections !== undefined && (!Number.isInteger(a.maxConnections) || a.maxConnections < MIN_CONNECTIONS)) {
    throw new UsageError(`invalid --max-connections: ${String(a.maxConnections)} (at least ${MIN_CONNECTIONS}: one idle, one keepalive control, one to check the target is still there)`);
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

export interface ExplainArgs extends CommonArgs {
  files?: string[];
  clientLog?: string[];
  serverLog?: string[];
  sshConfig?: string[];
  sshG?: string[];
  sshdConfig?: string[];
  sshdT?: string[];
  host?: string;
  describe?: string[];
}

export function explainCommand(y: Argv<CommonArgs>): Argv<ExplainArgs> {
  return y
    .positional('files', {
      type: 'string',
      array: true,
      describe: "anything you have: logs of any client or server, configs, firewall listings, a pasted ticket, a saved evidence bundle ('-' = stdin; stdin is read when piped)",
    })
    .option('client-log', { type: 'string', array: true, describe: "a client transcript: ssh -v/-vv/-vvv, or another client's output (repeatable; '-' = stdin)" })
    .option('server-log', { type: 'string', array: true, describe: "a server log: auth.log, secure, journalctl -u ssh, sshd -E (repeatable; '-' = stdin)" })
    .option('ssh-config', { type: 'string', array: true, describe: "client ssh_config (resolved for --host; without one, for every host; '-' = stdin)" })
    .option('ssh-G', { type: 'string', array: true, describe: "saved output of ssh -G host ('-' = stdin)" })
    .option('sshd-config', { type: 'string', array: true, describe: "server sshd_config ('-' = stdin)" })
    .option('sshd-T', { type: 'string', array: true, describe: "saved output of sshd -T ('-' = stdin)" })
    .option('host', { type: 'string', describe: 'target whose Host/Match blocks apply in a raw ssh_config' })
    .option('describe', {
      type: 'string',
      array: true,
      describe: 'your own words about when and how sessions drop, e.g. "drops after about 10 minutes idle, only on the VPN" (repeatable)',
    }) as unknown as Argv<ExplainArgs>;
}

export interface DemoArgs extends CommonArgs, IdleArgs {
  demoTimeout: number;
  reset: boolean;
}

/** The demo's own knobs; its idle test defaults to a short --idle-max so it ends within a minute. */
export function demoOptions<T>(y: Argv<T>): Argv<T & DemoArgs> {
  return idleOptions(y)
    .option('demo-timeout', { type: 'number', default: 10, describe: 'seconds of idleness after which the embedded middlebox forgets a flow' })
    .option('reset', { type: 'boolean', default: false, describe: 'the middlebox answers late packets with a TCP reset instead of dropping them' })
    .default('idle-max', 30) as unknown as Argv<T & DemoArgs>;
}
