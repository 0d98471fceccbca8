// Resource bounds against a hostile target: an SSH server whose every command prints forever (on
// stdout and stderr), that sends 8 MB of text before its identification line and a 30 KB
// authentication banner. `ssh-doctor <target> --idle-max 0` must finish in bounded time and
// memory (the child's peak RSS, VmHWM, sampled from /proc while it runs) and say in the report
// which outputs it cut. The user's own ssh (the user-ssh probe) meets the same flood.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { keyPair, tempDir, type KeyPair } from '../probes/server.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

const tmp = tempDir();
let host: KeyPair;
let user: KeyPair;
let server: HostileServer;

beforeAll(async () => {
  host = keyPair('ed25519');
  user = keyPair('ed25519');
  // ssh2 (and OpenSSH) take at most 1024 lines of at most 8 KiB before the identification line
  const greeting = Array.from({ length: 1000 }, (_, i) => `${i} ${'welcome to a very chatty host '.repeat(260)}`.slice(0, 4000)).join('\r\n');
  server = await startHostileServer({ hostKey: host.private, allowKeys: [user.parsed], greeting, banner: 'B'.repeat(30_000), exec: 'flood' });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

/** Peak resident memory of a process (kB), sampled from /proc until it exits. */
function watchPeak(pid: number): { peakKb: () => number; stop: () => void } {
  let peak = 0;
  const sample = () => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 20);
  sample();
  return { peakKb: () => peak, stop: () => clearInterval(timer) };
}

function runCli(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number; peakKb: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmp.dir, NO_COLOR: '1', LANG: 'C' };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const peak = watchPeak(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      peak.stop();
      resolve({ code, stdout, stderr, ms: Date.now() - t0, peakKb: peak.peakKb() });
    });
  });
}

describe('a target that floods output', () => {
  it('is diagnosed with bounded memory and time, and the report says what was cut', async () => {
    const key = tmp.write('id_ed25519', user.private);
    const knownHosts = tmp.write('known_hosts', `[127.0.0.1]:${server.port} ${host.public}\n`);
    const config = tmp.write('ssh_config', '# nothing\n');
    const r = await runCli(
      ['alice@127.0.0.1', '-p', String(server.port), '-i', key, '-F', config, '--known-hosts', knownHosts, '--idle-max', '0', '--json'],
      120_000,
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect([0, 1]).toContain(r.code);
    const report = JSON.parse(r.stdout) as { probes: Array<{ id: string; status: string; detail?: string }>; errors: string[] };

    // the flood was real: far more was offered than ssh-doctor kept
    expect(server.commands.length).toBeGreaterThanOrEqual(5);
    expect(server.floodBytes()).toBeGreaterThan(4 * 1024 * 1024);
    // ... and bounded: a few commands' worth of 256 KiB, the greeting, the banner
    expect(r.peakKb).toBeGreaterThan(0);
    expect(r.peakKb, `peak RSS ${r.peakKb} kB`).toBeLessThan(250 * 1024);
    expect(r.ms).toBeLessThan(90_000);
    expect(r.stdout.length).toBeLessThan(1024 * 1024);

    // what was cut is said, command by command
    const errors = report.errors.join('\n');
    expect(errors).toMatch(/the output of "which sshd config" was cut at 256 KiB/);
    expect(errors).toMatch(/the output of "recent sshd log lines" was cut at 256 KiB/);
    // the user's own ssh was stopped once its transcript was full, not left running to its time limit
    const userSsh = report.probes.find((p) => p.id === 'user-ssh') as { detail?: string; durationMs: number } | undefined;
    expect(userSsh?.detail ?? '').toMatch(/output cut at 512 KiB/);
    expect(userSsh?.durationMs ?? Infinity).toBeLessThan(30_000);
    // the handshake went through the greeting and banner; neither reaches the report
    expect(report.probes.find((p) => p.id === 'handshake')?.status).toBe('ok');
    expect(r.stdout).not.toContain('very chatty host');
    expect(r.stdout).not.toContain('BBBBBBBBBB');
    console.log(`flood: ${(server.floodBytes() / 1048576).toFixed(1)} MiB offered by ${server.commands.length} commands; peak RSS ${(r.peakKb / 1024).toFixed(0)} MiB; ${r.ms} ms`);
  });
});
