// `ssh-doctor watch -- ssh ARGS...`: the user's own ssh session, run as it is, with `-v` and
// `-E FILE` added. Each line ssh logs is timestamped as it arrives (the file is read every
// 100 ms) and parsed like a pasted transcript; the lines a user would have seen on the terminal
// (errors, "Connection to ... closed") are shown there as before. The wrapper relays the
// session's output, and its input when stdin is not a terminal (a terminal stays ssh's own, and
// keystrokes are then seen as ssh's reads in /proc/<pid>/io), so it knows the idle gap before
// the failure. When the session drops, it waits for the path, reconnects with the same
// connection options (BatchMode, no forwardings, one master connection) to read the server's side.
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventCollector } from '../evidence/collector.js';
import { scrubSecrets } from '../evidence/secrets.js';
import { emptyEvidence, type EventType, type RawEvent, type WatchDrop } from '../evidence/types.js';
import { ClientLogParser } from '../parsers/client-log.js';
import { parseSshG } from '../parsers/ssh-G.js';
import { readClientKernel } from '../probes/client-host.js';
import { ActivityTracker, clientContext, matchDefault, wrappedKind } from './analyse.js';
import { systemClocks, Timebase, type Clocks } from './clock.js';
import { ClientWatchers, humanSeconds, type WatchSettings } from './common.js';
import type { WatchResult } from './monitor.js';
import { serverSummary } from './monitor.js';
import { applyServerReads } from '../probes/server/read.js';
import { WatchRecorder } from './recorder.js';
import { procEndpoint, readServerSide, type Endpoint, type Run } from './server-side.js';
import { connectionOptions, sessionArgs, type SshCommand } from './ssh-args.js';

const FAILURES = new Set<EventType>([
  'client-broken-pipe',
  'client-connection-reset',
  'client-network-lost',
  'client-connection-timed-out',
  'client-closed-by-remote',
  'client-received-disconnect',
  'client-serveralive-timeout',
  'client-keepalive-timeout',
  'client-packet-corrupt',
  'client-shell-timeout',
  'client-channel-closed',
]);

/** The shell's own idle logout messages: the one thing read from the session's output. */
const SHELL_LOGOUT = /timed out waiting for input: auto-logout|(?:^|[\s$%#>])auto-logout$|(?:^|\s)zsh: timeout$/i;

/** Lines ssh prints at -v only: not echoed to a user who did not ask for -v. */
const VERBOSE_ONLY = /^(OpenSSH_|Authenticated to |Transferred: |Bytes per second|Pseudo-terminal will not be allocated)/;

/** An EventCollector that also reports each event as it is added. */
class TappedCollector extends EventCollector {
  constructor(private readonly tap: (ev: RawEvent) => void) {
    super();
  }
  override add(ev: RawEvent): void {
    // the time is in `at`: the evidence line need not carry it twice
    const e = ev.at ? { ...ev, text: ev.text.replace(/^\S+Z\s+/, '') } : ev;
    super.add(e);
    this.tap(e);
  }
}

/** The TCP endpoints of a process's established socket, from /proc (Linux); null elsewhere or through a proxy. */
export function processSocket(pid: number): { local: Endpoint; remote: Endpoint } | null {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
    for (const f of ['tcp', 'tcp6']) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${f}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const x = line.trim().split(/\s+/);
        if (x.length < 10 || x[3] !== '01' || !inodes.has(x[9]!)) continue;
        const local = procEndpoint(x[1]!);
        const remote = procEndpoint(x[2]!);
        if (local && remote) return { local, remote };
      }
    }
  } catch {
    /* no /proc */
  }
  return null;
}

function readSyscr(pid: number): number | null {
  try {
    const m = /^syscr:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface ExecOut {
  stdout: string;
  stderr: string;
  code: number | null;
}

function execSsh(program: string, args: string[], timeoutMs: number): Promise<ExecOut> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && typeof e.code === 'string') return reject(new Error(`${program}: ${e.message}`));
      resolve({ stdout: String(stdout), stderr: String(stderr), code: e ? (typeof e.code === 'number' ? e.code : null) : 0 });
    });
  });
}

/**
 * Runs the fixed read-only commands through the user's own ssh, with their connection options:
 * never prompting (BatchMode), no tty, no forwardings, one master connection for all of them.
 */
export function userSshRunner(c: SshCommand, dir: string): { run: Run; close: () => Promise<void> } {
  const control = join(dir, 'cm');
  const base = [
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${control}`,
    '-o', 'ControlPersist=30',
    '-o', 'RequestTTY=no',
    '-o', 'RemoteCommand=none',
    '-o', 'ClearAllForwardings=yes',
    '-o', 'PermitLocalCommand=no',
    '-o', 'ForwardAgent=no',
    '-o', 'ForwardX11=no',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    ...connectionOptions(c),
  ];
  let used = false;
  return {
    run: async (command) => {
      used = true;
      const r = await execSsh(c.program, [...base, '--', c.destination, command], 30_000);
      if (r.code === 255 || r.code === null) throw new Error(r.stderr.trim().split('\n').pop() || (r.code === null ? 'timed out' : 'ssh failed'));
      return r;
    },
    close: async () => {
      if (!used) return;
      await execSsh(c.program, ['-o', `ControlPath=${control}`, '-O', 'exit', '--', c.destination], 10_000).catch(() => undefined);
    },
  };
}

export interface WrapOptions {
  clocks?: Clocks;
  /** Whether our stdin is a terminal (default: process.stdin.isTTY). */
  stdinIsTTY?: boolean;
}

/** The client configuration the user's ssh would use (`ssh -G` with their options). */
async function clientConfig(c: SshCommand): Promise<ReturnType<typeof parseSshG>['config'] | null> {
  try {
    const r = await execSsh(c.program, ['-G', ...connectionOptions(c), '--', c.destination], 10_000);
    return r.code === 0 ? parseSshG(r.stdout).config : null;
  } catch {
    return null;
  }
}

export async function watchWrapped(c: SshCommand, settings: WatchSettings, opts: WrapOptions = {}): Promise<WatchResult & { sshExit: number | null }> {
  const ev = emptyEvidence();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'ssh-doctor-watch-'));
  const logFile = c.logFile ?? join(dir, 'ssh-v.log');
  if (!c.logFile) writeFileSync(logFile, '', { mode: 0o600 });
  const transcript = settings.transcript;
  if (transcript) writeFileSync(transcript, '', { mode: 0o600 });
  const time = new Timebase(opts.clocks ?? systemClocks);
  const rec = new WatchRecorder(ev, time, {
    mode: 'wrap',
    heartbeatSeconds: null,
    silenceLimitSeconds: null,
    ...(settings.saveEvidence ? { saveEvidence: settings.saveEvidence } : {}),
    redact: settings.redact,
  });
  const config = await clientConfig(c);
  if (config) {
    ev.client.config = config;
    const o = config.options;
    ev.target = { host: c.destination.replace(/^.*@/, ''), port: Number(o['port'] ?? 22), user: o['user'] ?? '' };
  }
  const kernel = await readClientKernel().catch(() => undefined);
  if (kernel && Object.keys(kernel).length > 0) ev.client.kernel = kernel;
  rec.event('start', scrubSecrets(`running ${c.program} ${c.args.join(' ')} with -v logged to a file, each line timestamped`));

  // the transcript: every line timestamped on arrival, parsed as it comes
  const tracker = new ActivityTracker();
  let authenticatedAt: number | null = null;
  let sessionStartMs = Date.now();
  let failure: { t: number; type: EventType; text: string } | null = null;
  let exitStatus: number | null = null;
  const seen = new Set<EventType>();
  let child: ReturnType<typeof spawn> | null = null;
  const conn: { socket: { local: Endpoint; remote: Endpoint } | null } = { socket: null };
  const collector = new TappedCollector((e) => {
    seen.add(e.type);
    const at = e.at ? Date.parse(e.at) : Number.NaN;
    const t = Number.isFinite(at) ? time.fromWall(at) : rec.now();
    if ((e.type === 'client-authenticated' || e.type === 'client-interactive-session') && authenticatedAt === null) {
      authenticatedAt = t;
      sessionStartMs = Date.now();
      const socket = child?.pid ? processSocket(child.pid) : null;
      conn.socket = socket;
      rec.event('connected', `the session is up${socket ? ` (from ${socket.local.addr} port ${socket.local.port} to ${socket.remote.addr} port ${socket.remote.port})` : ''}`);
    }
    if (FAILURES.has(e.type) && authenticatedAt !== null && failure === null) {
      failure = { t, type: e.type, text: e.text };
      rec.event('ssh', `ssh: ${e.text}`, t);
    }
  });
  const parser = new ClientLogParser('ssh -v (watched)', collector);
  let lineNo = 0;
  const echo = (line: string): void => {
    if (c.quiet || c.logFile) return;
    if (c.verbose > 0 || (!/^debug\d: /.test(line) && !VERBOSE_ONLY.test(line))) process.stderr.write(`${line}\r\n`);
  };
  const onLine = (line: string, fromStderr: boolean): void => {
    const t = rec.now();
    const iso = time.iso(t);
    if (transcript) {
      try {
        appendFileSync(transcript, `${iso} ${line}\n`);
      } catch {
        /* reported by the recorder's own write errors, if any */
      }
    }
    const status = /^debug1: Exit status (-?\d+)/.exec(line);
    if (status) exitStatus = Number(status[1]);
    lineNo++;
    parser.line(`${iso} ${line}`, lineNo);
    if (!fromStderr) echo(line);
  };

  // tail the -E file
  if (c.logFile) writeFileSync(c.logFile, '', { flag: 'a', mode: 0o600 }); // ssh appends to the user's own -E file
  const fd = openSync(logFile, 'r');
  let offset = c.logFile ? fstatSync(fd).size : 0; // only what this session logs
  let carry = '';
  const buf = Buffer.alloc(64 * 1024);
  const drain = (): void => {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      const text = carry + buf.toString('utf8', 0, n);
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const l of lines) onLine(l.replace(/\r$/, ''), false);
    }
  };
  const tail = setInterval(drain, 100);

  const watchers = new ClientWatchers(rec, time, settings.netSources);
  watchers.start();

  const stdinTTY = opts.stdinIsTTY ?? Boolean(process.stdin.isTTY);
  const proc = spawn(c.program, sessionArgs(c, logFile), { stdio: [stdinTTY ? 'inherit' : 'pipe', 'pipe', 'pipe'] });
  child = proc;
  let lastOutputMs = 0;
  let endsWithNewline = true;
  let lastOutput = '';
  let lastOutputT = 0;
  proc.stdout!.on('data', (d: Buffer) => {
    const t = rec.now();
    lastOutputMs = Date.now();
    lastOutputT = t;
    if (d.length) endsWithNewline = d[d.length - 1] === 10;
    lastOutput = (lastOutput + d.toString('utf8')).slice(-4096);
    tracker.output(t);
    rec.activity(t);
    process.stdout.write(d);
  });
  let errCarry = '';
  proc.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    const lines = (errCarry + d.toString('utf8')).split('\n');
    errCarry = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) onLine(l.replace(/\r$/, ''), true);
  });
  const onInput = (d: Buffer) => {
    const t = rec.now();
    tracker.input(t);
    rec.activity(t);
    proc.stdin?.write(d);
  };
  if (!stdinTTY) {
    process.stdin.on('data', onInput);
    process.stdin.once('end', () => proc.stdin?.end());
    proc.stdin!.on('error', () => undefined);
  }
  // A terminal stays ssh's own: its reads (syscr) with no output following are keystrokes.
  let syscr = proc.pid ? readSyscr(proc.pid) : null;
  const io = stdinTTY && proc.pid
    ? setInterval(() => {
        const now = proc.pid ? readSyscr(proc.pid) : null;
        if (now !== null && syscr !== null && now > syscr && Date.now() - lastOutputMs > 300) tracker.input(rec.now() - 0.125);
        syscr = now;
      }, 250)
    : null;

  // Signals meant for the watcher go to the user's ssh; the watch ends when it does.
  let interrupted = false;
  const forward = (sig: NodeJS.Signals) => () => {
    interrupted = true;
    proc.kill(sig);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('error', (e) => {
      ev.errors.push(`ssh: ${e.message}`);
      resolve({ code: null, signal: null });
    });
    proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  const exitT = rec.now();
  // the report follows the session's output: on a line of its own
  if (!endsWithNewline) process.stdout.write('\n');
  for (const [s, h] of handlers) process.removeListener(s, h);
  if (!stdinTTY) {
    process.stdin.removeListener('data', onInput);
    process.stdin.pause();
  }
  if (io) clearInterval(io);
  clearInterval(tail);
  drain();
  if (carry) onLine(carry, false);
  if (errCarry.trim()) onLine(errCarry, true);
  closeSync(fd);
  // a shell that logged itself out says so on the session's output, not in ssh's log
  for (const line of lastOutput.split(/\r?\n/)) {
    const l = line.replace(/\r/g, '').trim();
    if (SHELL_LOGOUT.test(l)) parser.line(`${time.iso(lastOutputT)} ${l}`, ++lineNo);
  }
  const parsed = parser.result();
  watchers.pollNow();
  if (parsed.openssh) ev.client.openssh = parsed.openssh;
  if (parsed.serverSoftware) ev.server.openssh = parsed.serverSoftware;
  ev.inputs.push({ source: 'ssh -v (watched)', kind: 'client-log', lines: parsed.lines, recognised: parsed.recognised, unparsed: parsed.unparsed });
  const shared = collector.summaries();
  ev.events = shared;
  ev.lastEvent = collector.lastEvent();
  const how = exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`;
  rec.event('end', `ssh ended (${how}${exitStatus !== null ? `, remote exit status ${exitStatus}` : ''})`, exitT);

  const authenticated = authenticatedAt !== null;
  const normalEnd = exitStatus !== null && exitStatus >= 0 && failure === null;
  const dropped = authenticated && !normalEnd && (failure !== null || (exit.code === 255 && !interrupted));
  let endedBy: NonNullable<typeof ev.measurements.watch>['endedBy'] = interrupted ? 'interrupted' : 'session-ended';
  try {
    if (!dropped) {
      watchers.stop();
      rec.finish(endedBy);
      ev.probes.push({ id: 'watch', status: 'ok', durationMs: Date.now() - started, detail: authenticated ? `the session ended without a drop (${how})` : `ssh did not get in (${how})` });
      return { ev, shared, unreachable: !authenticated && !interrupted, sshExit: exit.code };
    }
    const f = failure as { t: number; type: EventType; text: string } | null;
    const t = f?.t ?? exitT;
    const before = tracker.beforeFailure(t);
    if (f?.type === 'client-shell-timeout') {
      // the logout message is the last output: the idle time is the quiet before it
      before.idleBeforeSeconds = Math.round(tracker.gapBeforeLastOutput * 100) / 100;
      before.survivedIdleSeconds = Math.round(tracker.survivedBeforeLastOutput * 100) / 100;
    }
    const failureTypes = new Set([...seen].filter((x) => FAILURES.has(x)));
    const drop: WatchDrop = {
      at: time.iso(t),
      t: Math.round(t * 1000) / 1000,
      source: 'ssh',
      kind: wrappedKind(failureTypes, before.onTraffic, before.responseSeconds),
      ...(f ? { reason: f.text } : { reason: `ssh ${how}` }),
      idleBeforeSeconds: before.idleBeforeSeconds,
      survivedIdleSeconds: before.survivedIdleSeconds,
      onTraffic: before.onTraffic,
      responseSeconds: before.responseSeconds,
      secondsAfterResume: null,
      addressChanged: false,
    };
    Object.assign(drop, clientContext(rec.m.events, { since: authenticatedAt ?? 0, t, localAddressGone: watchers.gone(conn.socket?.local.addr) }));
    const m = before.onTraffic ? matchDefault(before.survivedIdleSeconds, before.idleBeforeSeconds) : undefined;
    if (m) drop.matchedDefault = m;
    rec.event('drop', `dropped: ${drop.kind}${drop.idleBeforeSeconds !== null ? `, ${humanSeconds(drop.idleBeforeSeconds)} after the last traffic` : ''}${drop.responseSeconds !== null && drop.responseSeconds !== undefined ? `, ${drop.responseSeconds} s after the keystroke that met it` : ''}`, t);
    rec.addDrop(drop);
    endedBy = 'drop';

    // the server's side, through the user's own ssh
    settings.progress?.(`ssh-doctor: the session dropped (${drop.kind}); waiting up to ${settings.reconnectWaitSeconds} s for the path to read the server's side...`);
    const ssh = userSshRunner(c, dir);
    try {
      const until = Date.now() + settings.reconnectWaitSeconds * 1000;
      let ok = false;
      let last = '';
      while (Date.now() < until) {
        try {
          await ssh.run('true');
          ok = true;
          break;
        } catch (e) {
          last = e instanceof Error ? e.message : String(e);
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
      if (!ok) {
        drop.server = { reconnectedAfterSeconds: null, note: `could not reconnect within ${settings.reconnectWaitSeconds} s${last ? `: ${last}` : ''}` };
        rec.event('reconnect', `could not reconnect: ${last || 'no answer'}`);
      } else {
        const after = Math.round((rec.now() - t) * 100) / 100;
        rec.event('reconnect', `reconnected ${humanSeconds(after)} after the drop; reading the server's side`);
        const ts = Date.now();
        const side = await readServerSide(ssh.run, {
          sessionStartMs,
          ...(conn.socket ? { old: conn.socket.local, oldFromServer: false } : {}),
          sudo: settings.sudo,
        });
        drop.server = { reconnectedAfterSeconds: after, ...side.side };
        for (const e of side.failures) ev.errors.push(`server: ${e}`);
        if (side.reads) {
          applyServerReads(ev, side.reads, side.side);
        }
        const merged = new EventCollector();
        merged.merge(shared);
        merged.merge(side.side.events ?? []);
        ev.events = merged.summaries();
        ev.probes.push({ id: 'server', status: side.reads ? 'ok' : 'failed', durationMs: Date.now() - ts, detail: side.side.logSource ?? 'no sshd log lines readable' });
        for (const line of serverSummary(drop.server)) rec.event('server', line);
      }
    } finally {
      await ssh.close();
    }
    watchers.stop();
    rec.finish(endedBy);
    ev.probes.push({ id: 'watch', status: 'ok', durationMs: Date.now() - started, detail: `the session dropped after ${humanSeconds(t)}` });
    return { ev, shared, unreachable: false, sshExit: exit.code };
  } finally {
    watchers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
