import { EventCollector } from '../evidence/collector.js';
import { emptyEvidence, type Evidence } from '../evidence/types.js';
import { readClientKernel } from './client-host.js';
import { ConnectError, connector, type ConnectOptions, type Connection } from './connect.js';
import { largeTransfer } from './network.js';
import { ProbeRunner, type Progress } from './runner.js';
import { applyServerReads, readServer } from './server/read.js';
import { COMMANDS } from './server/commands.js';
import { execBounded, MAX_REMOTE_BYTES } from './remote-exec.js';
import { parseDestination, resolveTarget, type ResolveDeps, type ResolvedTarget, type TargetSpec } from './target.js';
import { probeUserSsh } from './user-ssh.js';

export interface LiveOptions {
  knownHostsFile?: string;
  acceptHostKey?: string;
  sudo: boolean;
  /**
   * Extra work on the open target (the idle test): runs after the read-only probes; says whether
   * the target went away meanwhile (exit 3).
   */
  extra?: (ctx: LiveContext) => Promise<{ targetLost: boolean } | void>;
  connect?: Partial<ConnectOptions>;
  resolve?: ResolveDeps;
  /** Read-only commands on the target (off for the embedded demo, which is no Unix host). */
  serverProbes?: boolean;
}

export interface LiveContext {
  ev: Evidence;
  resolved: ResolvedTarget;
  connection: Connection;
  connectOptions: ConnectOptions;
  probes: ProbeRunner;
}

export interface LiveResult {
  ev: Evidence;
  /**
   * The target could not be diagnosed live (host key, connection, authentication), or it went
   * away during the diagnosis (the connection lost during the reads, the idle test failed): exit 3.
   */
  unreachable: boolean;
}

/** Probes whose failure leaves the diagnosis without what it was run for (exit 3). */
const NEEDED_PROBES = new Set(['idle-test']);

/** Time limit of one read-only command on the target. */
const REMOTE_COMMAND_MS = 15_000;

/** The README's name of a command ssh-doctor ran (commands taking a path end in a space). */
function commandName(command: string): string {
  const all: Array<{ id: string; command: string }> = Object.values(COMMANDS);
  return all.find((c) => c.command === command || (c.command.endsWith(' ') && command.startsWith(c.command)))?.id ?? 'a command';
}

/**
 * Runs the server reads' commands bounded in time and bytes, and says in the report which output
 * was cut: a target that floods output is read up to MAX_REMOTE_BYTES per command, no further.
 */
function boundedRunner(client: Connection['client'], cut: string[]) {
  return async (command: string) => {
    const r = await execBounded(client, command, { timeoutMs: REMOTE_COMMAND_MS });
    if (r.timedOut) throw new Error('timed out');
    if (r.truncated) cut.push(commandName(command));
    return r;
  };
}

const CONNECT_KINDS = new Set(['refused', 'timeout', 'unreachable', 'dns', 'proxy']);

/** Puts what a failed connection taught into the evidence, where the rules look for it. */
function recordConnectError(ev: Evidence, err: ConnectError): void {
  ev.handshake = { ...ev.handshake, ...err.handshake };
  if (CONNECT_KINDS.has(err.kind)) ev.handshake.connectError = `${err.kind}: ${err.message}`;
  else if (err.kind === 'auth') ev.handshake.authError = err.message;
  for (const n of err.notes ?? []) ev.errors.push(`authentication: ${n}`);
  if (err.stderr) ev.errors.push(`proxy: ${err.stderr.trim().split('\n').at(-1) ?? ''}`);
}

/**
 * The live diagnosis: reaches the target the way the user's own `ssh target` would and runs the
 * read-only probes, each timed and allowed to fail on its own. The same path serves a real host,
 * a lab namespace and the embedded demo.
 */
export async function diagnoseLive(spec: TargetSpec, opts: LiveOptions, progress: Progress): Promise<LiveResult> {
  const ev = emptyEvidence();
  const probes = new ProbeRunner(ev, progress);
  const collector = new EventCollector();
  const finish = (unreachable: boolean): LiveResult => {
    ev.events = collector.summaries();
    ev.lastEvent = collector.lastEvent();
    const neededFailed = ev.probes.some((p) => p.status === 'failed' && NEEDED_PROBES.has(p.id));
    return { ev, unreachable: unreachable || neededFailed };
  };

  const resolved = await probes.run('client-config', 'Reading the client configuration (ssh -G)', 20_000, () => resolveTarget(spec, opts.resolve));
  if (!resolved) return finish(true);
  ev.target = resolved.target;
  ev.client.config = resolved.config;
  probes.note('client-config', `${resolved.user}@${resolved.hostname}:${resolved.port}${resolved.notes.length ? `; ${resolved.notes.join('; ')}` : ''}`);

  const kernel = await probes.run('client-kernel', 'Reading the client kernel settings', 2_000, readClientKernel);
  if (kernel && Object.keys(kernel).length > 0) ev.client.kernel = kernel;

  // The user's own ssh, with what the user typed (ssh takes no host:port).
  const dest = parseDestination(spec.target);
  const sshSpec: TargetSpec = { ...spec, target: dest.host, ...(dest.user ? { user: dest.user } : {}), ...(dest.port ? { port: dest.port } : {}) };
  const user = await probes.run('user-ssh', 'Running your ssh -vvv', 45_000, () =>
    probeUserSsh(sshSpec, collector, { timeoutMs: 40_000, ...(opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}) }),
  );
  if (user) {
    ev.client.openssh ??= user.parsed.openssh;
    probes.note(
      'user-ssh',
      user.run.truncated
        ? 'output cut at 512 KiB and ssh stopped: the target sends more than a login prints'
        : user.run.timedOut
          ? 'did not finish in time'
          : `exit ${user.run.code}${user.parsed.authenticated ? ', authenticated' : ''}`,
    );
  }

  const connectOpts: ConnectOptions = {
    ...(opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}),
    ...(opts.acceptHostKey ? { acceptHostKey: opts.acceptHostKey } : {}),
    ...opts.connect,
  };
  const open = connector(resolved, connectOpts);
  const started = Date.now();
  progress.start(`Connecting to ${resolved.hostname}:${resolved.port}`);
  let connection: Connection;
  try {
    connection = await open();
  } catch (e) {
    if (!(e instanceof ConnectError)) {
      probes.fail('handshake', started, 'Connecting', e instanceof Error ? e.message : String(e));
      return finish(true);
    }
    recordConnectError(ev, e);
    probes.fail('handshake', started, 'Connecting', e.message);
    // What ssh2 cannot do, the user's own ssh did above: the rest is reported, not faked.
    return finish(e.kind !== 'unsupported');
  }
  ev.handshake = connection.handshake;
  ev.server.openssh = connection.handshake.serverSoftware;
  probes.ok('handshake', started, 'Connecting', `${connection.handshake.serverSoftware ?? 'server'}; host key ${connection.handshake.hostKey?.status ?? '?'}`);

  // The session the read-only probes use: if it closes under them, the target went away (sshd
  // killed, host down, path gone) and what they did not read is missing from the report.
  let ending = false;
  let lostDuring: string | null = null;
  let current = 'server';
  void connection.closed.then(() => {
    if (!ending) lostDuring ??= current;
  });
  const lost = (): boolean => {
    if (lostDuring === null) return false;
    ev.errors.push(`the connection to the target closed during the ${lostDuring} probe: sshd stopped, the host went down or the path failed; what was not read yet is missing`);
    return true;
  };
  try {
    if (opts.serverProbes === false) {
      probes.skip('server', 'the target runs no commands (embedded demo)');
      probes.skip('large-transfer', 'the target runs no commands (embedded demo)');
      ending = true;
      const r = opts.extra ? await opts.extra({ ev, resolved, connection, connectOptions: connectOpts, probes }) : undefined;
      return finish(r?.targetLost ?? false);
    }
    const cut: string[] = [];
    const reads = await probes.run('server', 'Reading the server settings (read-only)', 90_000, () =>
      readServer(boundedRunner(connection.client, cut), collector, { sudo: opts.sudo }),
    );
    for (const name of new Set(cut)) {
      ev.errors.push(`server: the output of "${name}" was cut at ${MAX_REMOTE_BYTES / 1024} KiB (the target sent more); the rest was not read`);
    }
    if (reads) {
      applyServerReads(ev, reads);
      for (const f of reads.failures) ev.errors.push(`server: ${f}`);
      probes.note('server', `${reads.configNote || 'no sshd config readable'}${reads.logLines ? `; ${reads.logLines} log lines` : ''}`);
    }
    if (lost()) return finish(true);
    current = 'large-transfer';
    const transfer = await probes.run('large-transfer', 'Checking large transfers (MTU)', 30_000, () => largeTransfer(connection.client));
    if (transfer) {
      ev.measurements.network = { ...ev.measurements.network, largeTransfer: transfer };
      probes.note('large-transfer', transfer.stalledBytes ? `stalled at ${transfer.stalledBytes} bytes` : `${transfer.okBytes} bytes arrived`);
    }
    if (lost()) return finish(true);
    // The idle probes leave this session idle: a path or server that drops it then is what they measure.
    ending = true;
    const r = opts.extra ? await opts.extra({ ev, resolved, connection, connectOptions: connectOpts, probes }) : undefined;
    return finish(r?.targetLost ?? false);
  } finally {
    ending = true;
    connection.end();
  }
}
