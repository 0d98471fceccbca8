import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Run {
  wallMs: number;
  peakRssKb: number | null;
  code: number | null;
  stdout: string;
}

/** Runs a command, sampling its peak resident memory (Linux VmHWM) while it runs. */
export function measure(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let peak: number | null = null;
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak ?? 0, Number(m[1]));
      } catch {
        // the process has exited between samples
      }
    };
    const timer = setInterval(sample, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ wallMs: Number(process.hrtime.bigint() - start) / 1e6, peakRssKb: peak, code, stdout });
    });
  });
}
