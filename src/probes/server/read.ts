import type { Client } from 'ssh2';
import { EventCollector } from '../../evidence/collector.js';
import type { ConfigEvidence, Evidence, KernelKeepalive, LogindEvidence, ShellEvidence } from '../../evidence/types.js';
import { textLines } from '../../parsers/lines.js';
import { ServerLogParser } from '../../parsers/server-log.js';
import { parseSshdConfig } from '../../parsers/sshd-config.js';
import { parseSshdT } from '../../parsers/sshd-T.js';
import { execBounded, shellQuote } from '../remote-exec.js';
import { COMMANDS } from './commands.js';

const TIMEOUT_MS = 15_000;

export interface ServerReads {
  config?: ConfigEvidence;
  configNote: string;
  shell?: ShellEvidence;
  logind?: LogindEvidence;
  kernel?: KernelKeepalive;
  uptimeSeconds?: number;
  bootedAt?: string;
  logLines?: number;
  /** Reads that failed, in words (each becomes an error line, never a crash). */
  failures: string[];
}

/** Puts what was read from the server into the evidence (uptime and boot time as given). */
export function applyServerReads(ev: Evidence, reads: ServerReads, when: { uptimeSeconds?: number; bootedAt?: string } = reads): void {
  if (reads.config) ev.server.config = reads.config;
  if (reads.shell) ev.server.shell = reads.shell;
  if (reads.logind) ev.server.logind = reads.logind;
  ev.server.host = {
    ...(reads.kernel ? { kernel: reads.kernel } : {}),
    ...(when.uptimeSeconds !== undefined ? { uptimeSeconds: when.uptimeSeconds } : {}),
    ...(when.bootedAt ? { bootedAt: when.bootedAt } : {}),
  };
}

type Run = (command: string) => Promise<{ stdout: string; stderr: string; code: number | null }>;

export function runner(client: Client): Run {
  return async (command) => {
    const r = await execBounded(client, command, { timeoutMs: TIMEOUT_MS });
    if (r.timedOut) throw new Error('timed out');
    return r;
  };
}

/** The -f argument of the sshd that accepted the session, if it was started with one. */
export function sshdConfigPath(processOutput: string): string {
  for (const line of processOutput.split('\n')) {
    const m = /^__sshd=.*?\s-f\s*(\S+)/.exec(line);
    if (m) return m[1] as string;
  }
  return '/etc/ssh/sshd_config';
}

export function parseShellProbe(out: string): ShellEvidence {
  const get = (k: string) => out.split('\n').find((l) => l.startsWith(`__${k}=`))?.slice(k.length + 3).trim();
  const tmoutText = get('tmout');
  const tmout = tmoutText && /^\d+$/.test(tmoutText) && Number(tmoutText) > 0 ? Number(tmoutText) : null;
  const auto = get('autologout');
  const files = out
    .split('\n')
    .filter((l) => l.startsWith('__tmout_file='))
    .map((l) => l.slice('__tmout_file='.length).trim());
  const shell: ShellEvidence = { tmout };
  const sh = get('shell');
  if (sh) shell.shell = sh;
  if (get('tmout_readonly') === 'yes') shell.tmoutReadonly = true;
  if (auto !== undefined) shell.autologout = /^\d+/.test(auto) ? Number.parseInt(auto, 10) : null;
  if (files.length > 0) shell.origin = files.join(', ');
  return shell;
}

export function parseLogindProbe(out: string): LogindEvidence {
  const ev: LogindEvidence = {};
  const v = /^systemd (\d+)/m.exec(out);
  if (v) ev.systemdVersion = Number(v[1]);
  // later lines (drop-ins) override earlier ones, as logind reads them
  for (const m of out.matchAll(/^\s*(StopIdleSessionSec|IdleAction|IdleActionSec)=(.*)$/gm)) {
    const value = (m[2] as string).trim();
    if (m[1] === 'IdleAction') ev.idleAction = value;
    else {
      const secs = value === 'infinity' || value === '' ? null : systemdSeconds(value);
      if (m[1] === 'StopIdleSessionSec') ev.stopIdleSessionSec = secs;
      else ev.idleActionSec = secs;
    }
  }
  return ev;
}

/** systemd time spans: "900", "15min", "1h 30min", "30s". */
function systemdSeconds(v: string): number | null {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400 };
  let total = 0;
  let any = false;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)) {
    const unit = units[m[2] as string];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    any = true;
  }
  return any ? total : null;
}

export function parseKernelProbe(out: string): KernelKeepalive {
  const k: KernelKeepalive = {};
  const num = (key: string) => {
    const m = new RegExp(`^${key}=(\\d+)$`, 'm').exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const set = (name: keyof KernelKeepalive, key: string) => {
    const v = num(key);
    if (v !== undefined) k[name] = v;
  };
  set('tcpKeepaliveTime', 'ipv4/tcp_keepalive_time');
  set('tcpKeepaliveIntvl', 'ipv4/tcp_keepalive_intvl');
  set('tcpKeepaliveProbes', 'ipv4/tcp_keepalive_probes');
  set('conntrackEstablishedTimeout', 'netfilter/nf_conntrack_tcp_timeout_established');
  return k;
}

/**
 * Reads the server's side over an authenticated session, read-only, with the fixed commands of
 * commands.ts. Each read may fail on its own (no permission, no journal, a shell that hangs):
 * that is a line in `failures`, and the others still count.
 */
export async function readServer(run: Run, collector: EventCollector, opts: { sudo: boolean; now?: Date }): Promise<ServerReads> {
  const failures: string[] = [];
  const result: ServerReads = { configNote: '', failures };
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      failures.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };

  const proc = await attempt('finding the sshd config', () => run(COMMANDS.sshdProcess.command));
  const configPath = sshdConfigPath(proc?.stdout ?? '');

  const sshdT = await attempt('sshd -T', async () => {
    const cmd = opts.sudo ? COMMANDS.sshdTSudo.command : COMMANDS.sshdT.command;
    const r = await run(`${cmd}${shellQuote(configPath)}`);
    if (r.code !== 0 || !/^(port|Port) \d+/m.test(r.stdout)) {
      throw new Error(`not readable${opts.sudo ? ' through sudo -n' : ' without root (try --sudo)'}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
    }
    return parseSshdT(r.stdout).config;
  });
  if (sshdT) {
    result.config = sshdT;
    result.configNote = `sshd -T (Match blocks applied for this connection), config ${configPath}`;
  } else {
    const fromFile = await attempt(`reading ${configPath}`, async () => {
      const readFile = async (p: string) => {
        const r = await run(`${COMMANDS.readConfig.command}${shellQuote(p)}`);
        if (r.code !== 0) throw Object.assign(new Error(r.stderr.trim() || 'cannot read'), { code: r.stderr.includes('No such file') ? 'ENOENT' : 'EACCES' });
        return r.stdout;
      };
      const readDir = async (d: string) => {
        const r = await run(`${COMMANDS.listDir.command}${shellQuote(d)}`);
        return r.code === 0 ? r.stdout.split('\n').filter((n) => n && n !== '.' && n !== '..') : [];
      };
      const parsed = await parseSshdConfig(configPath, { readFile, readDir });
      failures.push(...parsed.warnings.map((w) => `sshd_config: ${w}`));
      return parsed.config;
    });
    if (fromFile) {
      result.config = fromFile;
      result.configNote = `${configPath} and its Includes (sshd -T needs root; Match blocks reported as conditional)`;
    }
  }

  const shell = await attempt('login shell timeouts', () => run(COMMANDS.shell.command));
  if (shell) result.shell = parseShellProbe(shell.stdout);
  const logind = await attempt('logind settings', () => run(COMMANDS.logind.command));
  if (logind && logind.stdout.trim()) result.logind = parseLogindProbe(logind.stdout);
  const kernel = await attempt('kernel settings', () => run(COMMANDS.kernel.command));
  if (kernel) result.kernel = parseKernelProbe(kernel.stdout);
  const up = await attempt('uptime', () => run(COMMANDS.uptime.command));
  if (up) {
    const [uptime, now] = up.stdout.trim().split('\n').map(Number);
    if (uptime !== undefined && Number.isFinite(uptime)) {
      result.uptimeSeconds = Math.round(uptime);
      if (now !== undefined && Number.isFinite(now)) result.bootedAt = new Date((now - uptime) * 1000).toISOString();
    }
  }
  const logs = await attempt('server logs', () => run(COMMANDS.logs.command));
  if (logs) {
    const parser = new ServerLogParser('target: sshd log', collector, { reference: opts.now ?? new Date() });
    result.logLines = textLines(logs.stdout, parser);
    parser.result(); // the parser hands its aggregated events over here
  }
  return result;
}

