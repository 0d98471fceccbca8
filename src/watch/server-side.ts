// The server's side of a drop, read after the watch reconnected: who restarted, whether the host
// rebooted, whether sshd still holds the old connection, and the sshd log lines of the watched
// session. The reads are readServer's (config, kernel, uptime, logs), run through a wrapper that
// keeps only the log lines of the watch window, and falls back to the file the sshd listener
// logs to with -E when neither the journal nor auth.log had lines; plus the `watch` probe of
// commands.ts. Everything stays read-only and fixed, as for the live diagnosis.
//
// A restart is told without any log: the sshd listener above the new session is another process
// than the one above the watched session (or, with no baseline, it started after the watched
// session began). Its start time comes from /proc/<pid>/stat and the server's boot time, so it
// needs no `ps` and no privileges. sshd run from inetd (`sshd -i`) has no listener: not judged.
import { EventCollector } from '../evidence/collector.js';
import type { WatchServerSide } from '../evidence/types.js';
import { shellQuote } from '../probes/remote-exec.js';
import { COMMANDS } from '../probes/server/commands.js';
import { readServer, type ServerReads } from '../probes/server/read.js';
import { hexToIpv4, hexToIpv6 } from './network.js';

export type Run = (command: string) => Promise<{ stdout: string; stderr: string; code: number | null }>;

export interface Endpoint {
  addr: string;
  port: number;
}

export interface WatchProbe {
  /** This connection as sshd sees it. */
  client?: Endpoint;
  server?: Endpoint;
  /** Server clock minus client clock, ms (rough: whole seconds plus a round trip). */
  clockOffsetMs?: number;
  /** Boot time, server clock, ms since the epoch. */
  bootMs?: number;
  listener?: { pid: number; startedMs: number | null; cmdline: string; inetd: boolean; logFile?: string };
  /** Established connections to this sshd port: the clients' endpoints. */
  established: Endpoint[];
}

const num = (s: string | undefined): number | undefined => {
  const n = Number(s);
  return s !== undefined && s.trim() !== '' && Number.isFinite(n) ? n : undefined;
};

/** "0201D50A:0016" (/proc/net/tcp) or the 32-digit IPv6 form -> endpoint. */
export function procEndpoint(text: string): Endpoint | null {
  const [hex, port] = text.split(':');
  if (!hex || !port) return null;
  let addr: string;
  if (hex.length === 8) addr = hexToIpv4(hex);
  else if (hex.length === 32) {
    // /proc/net/tcp6 prints four 32-bit words, each in host (little-endian) order
    const words = (hex.match(/.{8}/g) ?? []).map((w) => (w.match(/../g) ?? []).reverse().join(''));
    addr = hexToIpv6(words.join(''));
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(addr);
    if (mapped) {
      const a = Number.parseInt(mapped[1]!, 16);
      const b = Number.parseInt(mapped[2]!, 16);
      addr = [a >> 8, a & 255, b >> 8, b & 255].join('.');
    }
  } else return null;
  return { addr, port: Number.parseInt(port, 16) };
}

export function parseWatchProbe(out: string, clientNowMs: number): WatchProbe {
  const get = (k: string) => out.split('\n').find((l) => l.startsWith(`__${k}=`))?.slice(k.length + 3).trim();
  const probe: WatchProbe = { established: [] };
  const conn = get('conn')?.split(/\s+/);
  if (conn && conn.length >= 4) {
    probe.client = { addr: conn[0]!, port: Number(conn[1]) };
    probe.server = { addr: conn[2]!, port: Number(conn[3]) };
  }
  const now = num(get('now'));
  if (now !== undefined) probe.clockOffsetMs = now * 1000 - clientNowMs;
  const btime = num(get('btime'));
  if (btime !== undefined) probe.bootMs = btime * 1000;
  const clk = num(get('clk')) ?? 100;
  const l = /^(\d+) (\d+)? ?(.*)$/.exec(get('listener') ?? '');
  if (l) {
    const ticks = num(l[2]);
    const cmdline = (l[3] ?? '').trim();
    const logFile = /\s-E\s*(\S+)/.exec(` ${cmdline}`)?.[1];
    probe.listener = {
      pid: Number(l[1]),
      startedMs: ticks !== undefined && btime !== undefined ? btime * 1000 + (ticks / clk) * 1000 : null,
      cmdline,
      inetd: /(^|\s)-\w*i\b/.test(cmdline.replace(/\[listener\].*$/, '')),
      ...(logFile ? { logFile } : {}),
    };
  }
  for (const line of out.split('\n')) {
    if (!line.startsWith('__tcp=')) continue;
    const f = line.slice(6).trim().split(/\s+/);
    if (f.length < 4 || f[3] !== '01') continue;
    const remote = procEndpoint(f[2]!);
    if (remote) probe.established.push(remote);
  }
  return probe;
}

/** Where the log lines of the watch window start: the watched session's own `Accepted` line. */
function anchorIndex(lines: string[], old: Endpoint | undefined): number {
  if (!old) return -1;
  const re = new RegExp(`Accepted \\S+ for \\S+ from ${old.addr.replace(/[.:]/g, '\\$&')} port ${old.port}\\b`);
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i]!)) return i;
  return -1;
}

/** A log line's time (ms since the epoch) when it starts with an ISO-8601 / RFC 3339 stamp. */
function isoTime(line: string): number | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d)?/.exec(line);
  if (!m) return null;
  const zone = m[2] ? (m[2] === 'Z' ? 'Z' : m[2].replace(/^([+-]\d\d)(\d\d)$/, '$1:$2')) : 'Z';
  const t = Date.parse(`${m[1]}${zone}`);
  return Number.isFinite(t) ? t : null;
}

export const MAX_LOG_LINES = 200;

/**
 * The lines of the watch window: from the watched session's `Accepted` line on when it is there;
 * else, for time-stamped lines, those from shortly before the session began; else the last lines.
 */
export function windowLines(text: string, o: { old?: Endpoint; sessionStartServerMs?: number }): { lines: string[]; how: string } {
  const lines = text.split('\n').map((l) => l.replace(/\r+$/, '')).filter((l) => l.trim() !== '');
  const a = anchorIndex(lines, o.old);
  let out: string[];
  let how: string;
  if (a >= 0) {
    out = lines.slice(a);
    how = "from the watched session's Accepted line";
  } else if (o.sessionStartServerMs !== undefined && lines.some((l) => isoTime(l) !== null)) {
    const from = o.sessionStartServerMs - 60_000;
    out = lines.filter((l) => {
      const t = isoTime(l);
      return t === null || t >= from;
    });
    how = 'from a minute before the watched session began';
  } else {
    out = lines;
    how = 'the last lines (no line could be tied to the watched session)';
  }
  return { lines: out.slice(-MAX_LOG_LINES), how };
}

export interface ServerSideContext {
  /** When the watched connection was opened (client clock, ms). */
  sessionStartMs: number;
  /** The watched connection as sshd saw it (from the probe on that connection), or its local endpoint. */
  old?: Endpoint;
  /** True when `old` came from sshd itself (not the client's own view, which NAT may change). */
  oldFromServer?: boolean;
  /** The probe run on the watched connection when it was opened. */
  baseline?: WatchProbe;
  /** The watched connection was ssh-doctor's own: its exec sessions were these reads, not news. */
  oldIsOurs?: boolean;
  sudo: boolean;
}

export interface ServerSideResult {
  side: Omit<WatchServerSide, 'reconnectedAfterSeconds'>;
  reads: ServerReads | null;
  probe: WatchProbe | null;
  failures: string[];
}

/** Runs the probe and the read-only server reads over a fresh connection. */
export async function readServerSide(run: Run, ctx: ServerSideContext): Promise<ServerSideResult> {
  const failures: string[] = [];
  const side: ServerSideResult['side'] = {};
  let probe: WatchProbe | null = null;
  try {
    const r = await run(COMMANDS.watchProbe.command);
    probe = parseWatchProbe(r.stdout, Date.now());
  } catch (e) {
    failures.push(`watch probe: ${e instanceof Error ? e.message : String(e)}`);
  }
  const offset = probe?.clockOffsetMs ?? 0;
  const sessionStartServerMs = ctx.sessionStartMs + offset;

  if (probe?.listener && !probe.listener.inetd) {
    const l = probe.listener;
    if (l.startedMs !== null) side.listenerStartedAt = new Date(l.startedMs).toISOString();
    const base = ctx.baseline?.listener;
    if (base && !base.inetd) side.listenerRestarted = base.pid !== l.pid;
    else if (l.startedMs !== null) side.listenerRestarted = l.startedMs > sessionStartServerMs + 2000;
  }
  if (probe?.bootMs !== undefined) {
    side.bootedAt = new Date(probe.bootMs).toISOString();
    const baseBoot = ctx.baseline?.bootMs;
    // boot times move a little when the server's clock is adjusted: a reboot is a real jump
    side.rebooted = baseBoot !== undefined ? probe.bootMs - baseBoot > 30_000 : probe.bootMs > sessionStartServerMs + 30_000;
  }
  if (probe && ctx.old) {
    const held = probe.established.some((e) => e.port === ctx.old!.port && e.addr.toLowerCase() === ctx.old!.addr.replace(/^::ffff:/i, '').toLowerCase());
    // Without sshd's own view of the old connection (NAT may rewrite it), only a find is sure.
    side.heldOldConnection = held ? true : ctx.oldFromServer || probe.client?.addr === ctx.old.addr ? false : null;
  }

  // The reads, with the log read narrowed to the watch window.
  const collector = new EventCollector();
  let logSource: string | undefined;
  let logLines: string[] | undefined;
  const wrapped: Run = async (command) => {
    if (command !== COMMANDS.logs.command) return run(command);
    let r = await run(command);
    logSource = 'journal, or auth.log/secure';
    if (r.stdout.trim() === '' && probe?.listener?.logFile) {
      r = await run(`${COMMANDS.sshdLogFile.command}${shellQuote(probe.listener.logFile)}`);
      logSource = `the sshd -E log ${probe.listener.logFile}`;
      if (r.code !== 0) throw new Error(`cannot read ${probe.listener.logFile}: ${(r.stderr.trim() || `exit ${r.code}`).split('\n')[0]}`);
    }
    // this very connection's own lines (its Accepted, its sessions for these reads) are noise
    const self = probe?.client;
    const own = self ? new RegExp(`\\b${self.addr.replace(/[.:]/g, '\\$&')} port ${self.port}\\b`) : null;
    const old = ctx.oldIsOurs && ctx.old ? new RegExp(`^(?:.*\\s)?(?:Starting session: command|Close session:) .*\\b${ctx.old.addr.replace(/[.:]/g, '\\$&')} port ${ctx.old.port}\\b`) : null;
    const text = r.stdout
      .split('\n')
      .filter((l) => !(own && own.test(l)) && !(old && old.test(l)))
      .join('\n');
    const w = windowLines(text, { ...(ctx.old ? { old: ctx.old } : {}), sessionStartServerMs });
    logLines = w.lines;
    if (w.lines.length) logSource += ` (${w.how})`;
    return { ...r, stdout: w.lines.length ? `${w.lines.join('\n')}\n` : '' };
  };
  let reads: ServerReads | null = null;
  try {
    reads = await readServer(wrapped, collector, { sudo: ctx.sudo });
    failures.push(...reads.failures);
    if (reads.uptimeSeconds !== undefined) side.uptimeSeconds = reads.uptimeSeconds;
    if (!side.bootedAt && reads.bootedAt) side.bootedAt = reads.bootedAt;
  } catch (e) {
    failures.push(`server reads: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (logSource) side.logSource = logSource;
  if (logLines) side.logLines = logLines;
  const events = collector.summaries();
  if (events.length) side.events = events;
  return { side, reads, probe, failures };
}
