import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './run-cli.js';

interface Report {
  causes: Array<{ id: string; fixes: Array<{ snippet: string }> }>;
  measurements: {
    idle?: { verdict: string; dropAfterSeconds: { low: number; high: number } | null; dropKind: string | null; keepaliveSurvived: boolean | null; connections: number };
    verify?: { keepaliveInterval: number; heldSeconds: number; survived: boolean };
  };
}

/** Runs the CLI asynchronously (the demo takes seconds; several run side by side). */
function demo(args: string[]): Promise<{ code: number | null; report: Report; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'demo', '--json', ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, report: JSON.parse(out) as Report, stderr: err });
      } catch {
        reject(new Error(`no JSON report (exit ${code}): ${out.slice(0, 300)} ${err.slice(0, 300)}`));
      }
    });
  });
}

const T = 4;

describe('ssh-doctor demo: the real diagnosis path against an embedded middlebox', () => {
  it.concurrent('a silent idle drop: measured, explained, fixed with a keepalive below T', async () => {
    const r = await demo(['--demo-timeout', String(T), '--idle-max', '12']);
    expect(r.code).toBe(1);
    const idle = r.report.measurements.idle!;
    expect(idle.verdict).toBe('drops');
    expect(idle.dropKind).toBe('silent');
    expect(idle.keepaliveSurvived).toBe(true);
    expect(idle.dropAfterSeconds!.low).toBeLessThan(T);
    expect(idle.dropAfterSeconds!.high).toBeGreaterThanOrEqual(T);
    expect(idle.dropAfterSeconds!.high - idle.dropAfterSeconds!.low).toBeLessThanOrEqual(Math.max(2, 0.1 * T) + 1e-9);
    expect(r.report.causes[0]?.id).toBe('middlebox-idle-timeout');
    const interval = Number(/ServerAliveInterval (\d+)/.exec(r.report.causes[0]!.fixes[0]!.snippet)?.[1]);
    expect(interval).toBeGreaterThan(0);
    expect(interval).toBeLessThanOrEqual(idle.dropAfterSeconds!.low / 3 + 1e-9);
  });

  it.concurrent('a reset: named middlebox-idle-reset', async () => {
    const r = await demo(['--demo-timeout', String(T), '--idle-max', '12', '--reset']);
    expect(r.code).toBe(1);
    expect(r.report.measurements.idle?.dropKind).toBe('reset');
    expect(r.report.causes[0]?.id).toBe('middlebox-idle-reset');
  });

  it.concurrent('--verify holds a connection with the recommended keepalive past the timeout', async () => {
    const r = await demo(['--demo-timeout', String(T), '--idle-max', '12', '--verify']);
    const verify = r.report.measurements.verify!;
    expect(verify.survived).toBe(true);
    expect(verify.heldSeconds).toBeGreaterThan(r.report.measurements.idle!.dropAfterSeconds!.high);
  });
});
