// Graceful interrupt: Ctrl-C (SIGINT) during the idle test ends it early; what was measured so
// far is reported (the JSON report on stdout, with the partial idle measurement and an error line
// about the interrupt), the exit is clean (0 or 1, not a crash or a signal death), and nothing
// of the run is left behind: no child process, no listening socket of the embedded demo.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';

/** Pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

interface Report {
  measurements: { idle?: { verdict: string; testedUpToSeconds: number; connections: number; wallSeconds: number; note?: string } };
  probes: Array<{ id: string; status: string }>;
  errors: string[];
}

describe('Ctrl-C during the idle test', () => {
  it('prints what was measured so far and exits cleanly', async () => {
    // -v: the idle test's own lines say when it is under way (no fixed sleep: a busy machine starts later)
    const child = spawn(process.execPath, [CLI, 'demo', '--idle-max', '60', '--json', '-v'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));

    for (const until = Date.now() + 60_000; !/debug: idle: .*ping #\d+ answered/.test(stderr); ) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the idle test never got under way: ${stderr.slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const during = childrenOf(child.pid!);
    const sentAt = Date.now();
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const { code, signal } = await exited;
    clearTimeout(timer);
    const exitMs = Date.now() - sentAt;

    expect(signal).toBeNull();
    expect([0, 1]).toContain(code);
    expect(exitMs).toBeLessThan(10_000);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    expect(stderr).not.toMatch(/^(?!debug: ).*\S/m);
    const report = JSON.parse(stdout) as Report;
    const idle = report.measurements.idle;
    expect(idle, 'the partial idle measurement').toBeDefined();
    expect(idle!.connections).toBeGreaterThan(0);
    expect(idle!.testedUpToSeconds).toBeGreaterThan(0);
    expect(idle!.wallSeconds).toBeLessThan(15);
    expect(idle!.note).toMatch(/interrupted/);
    expect(report.errors.join('\n')).toMatch(/interrupted \(Ctrl-C\)/);
    expect(report.probes.find((p) => p.id === 'idle-test')?.status).toBe('ok');
    // whatever ran under the CLI (the user-ssh probe's ssh) is gone with it
    for (const pid of during) expect(() => process.kill(pid, 0), `child ${pid} survived`).toThrow();
  });
});
