// Bounded memory, end to end: `explain` reads logs far larger than memory would allow to hold,
// made of the worst a file can be: one line of 64 MiB without a newline, lines of 100 KiB, binary
// junk (NUL, invalid UTF-8, bare CR), then a few real lines. The CLI's peak RSS (VmHWM, sampled
// from /proc) stays flat, every line is counted, and the junk is reported as not understood.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { counted, reportCounts } from './gen.js';

reportCounts('memory');

const MiB = 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-mem-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const REAL_SERVER = 'Nov 24 10:07:01 web1 sshd[4242]: Timeout, client not responding from user alice 198.51.100.7 port 51234\n';
const REAL_CLIENT = 'debug1: Connecting to web1 [192.0.2.10] port 22.\nclient_loop: send disconnect: Broken pipe\n';

/** The hostile log, chunk by chunk; `newlines` counts the lines it holds. */
function* hostileLog(real: string): Generator<Buffer> {
  const a = Buffer.alloc(MiB, 0x41);
  for (let i = 0; i < 64; i++) yield a; // 64 MiB, no newline
  yield Buffer.from('\n');
  const line = Buffer.concat([Buffer.alloc(100 * 1024 - 1, 0x62), Buffer.from('\n')]);
  for (let i = 0; i < 640; i++) yield line; // 64 MiB of 100 KiB lines
  const junk = Buffer.alloc(MiB);
  let x = 12345;
  for (let i = 0; i < junk.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    junk[i] = x >> 16; // every byte value: NUL, CR, LF, 0xff...
  }
  for (let i = 0; i < 64; i++) yield junk; // 64 MiB of binary
  yield Buffer.from(`\n${real}`);
}

function lineCount(real: string): number {
  let n = 0;
  for (const b of hostileLog(real)) for (let i = 0; i < b.length; i++) if (b[i] === 10) n++;
  return n;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  peakKb: number;
}

function explain(args: string[], stdin?: Iterable<Buffer>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'explain', ...args, '--json'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let peakKb = 0;
    const sample = () => {
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 20);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    if (stdin) {
      const it = stdin[Symbol.iterator]();
      const pump = () => {
        for (;;) {
          const n = it.next();
          if (n.done) return child.stdin.end();
          if (!child.stdin.write(n.value)) return child.stdin.once('drain', pump);
        }
      };
      pump();
    } else child.stdin.end();
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakKb });
    });
  });
}

async function writeFileFrom(path: string, chunks: Iterable<Buffer>): Promise<void> {
  const out = createWriteStream(path);
  for (const c of chunks) if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

describe('logs far larger than memory', () => {
  it('a 192 MiB hostile server log on stdin: flat memory, every line counted, the junk not understood', async () => {
    counted('hostile server log (192 MiB, stdin)');
    const r = await explain(['--server-log', '-'], hostileLog(REAL_SERVER));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { inputs: Array<{ lines: number; recognised: number; unparsed: number }>; causes: Array<{ id: string }> };
    expect(report.inputs[0]!.lines).toBe(lineCount(REAL_SERVER));
    expect(report.inputs[0]!.unparsed).toBeGreaterThan(600);
    expect(report.causes[0]?.id).toBe('server-clientalive-timeout');
    console.log(`memory: peak RSS ${(r.peakKb / 1024).toFixed(0)} MiB`);
    expect(r.peakKb, `peak RSS ${r.peakKb} kB`).toBeLessThan(160 * 1024);
  });

  it('a 192 MiB hostile client transcript (a file): the same', async () => {
    counted('hostile client log (192 MiB, file)');
    const file = join(tmp, 'client.log');
    // a text file must not start with a NUL (that is a binary file: refused); the junk comes later
    await writeFileFrom(file, [Buffer.from(REAL_CLIENT), ...hostileLog(REAL_CLIENT)]);
    const r = await explain(['--client-log', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { inputs: Array<{ lines: number; unparsed: number }> };
    expect(report.inputs[0]!.lines).toBe(lineCount(REAL_CLIENT) + 2);
    expect(report.inputs[0]!.unparsed).toBeGreaterThan(600);
    console.log(`memory: peak RSS ${(r.peakKb / 1024).toFixed(0)} MiB`);
    expect(r.peakKb, `peak RSS ${r.peakKb} kB`).toBeLessThan(160 * 1024);
  });
});
