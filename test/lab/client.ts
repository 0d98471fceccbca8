// A spawned client-side process (usually the real `ssh`) watched from the outside: its output
// with arrival times, waiting for a line or for its exit, typing into it. Tests and the recorder
// measure what happens to a connection through this, never by assuming.

import type { ChildProcess } from 'node:child_process';
import { killPids } from './netns.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds after the process was started. */
  ms: number;
}

type Stream = 'stdout' | 'stderr';

export class ClientProc {
  readonly startedAt = Date.now();
  stdout = '';
  stderr = '';
  /** stdout and stderr in arrival order. */
  transcript = '';
  exit: Exit | null = null;
  readonly done: Promise<Exit>;
  private readonly listeners = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    const take = (stream: Stream) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this[stream] += text;
      this.transcript += text;
      this.notify();
    };
    child.stdout?.on('data', take('stdout'));
    child.stderr?.on('data', take('stderr'));
    child.stdin?.on('error', () => undefined); // EPIPE after the process is gone
    this.done = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exit = { code, signal, ms: Date.now() - this.startedAt };
        this.notify();
        resolve(this.exit);
      });
      child.on('error', () => {
        this.exit ??= { code: null, signal: null, ms: Date.now() - this.startedAt };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Milliseconds since start. */
  elapsed(): number {
    return Date.now() - this.startedAt;
  }

  write(data: string): void {
    if (!this.exit) this.child.stdin?.write(data);
  }

  /**
   * Waits until `re` matches the stream (stdout, stderr, or both in arrival order), at most
   * `timeoutMs`. Returns the ms since start when it matched, or null (timeout, or the process
   * ended without a match). `from` skips the first characters of the stream.
   */
  waitFor(re: RegExp, timeoutMs: number, opts: { in?: Stream | 'both'; from?: number } = {}): Promise<number | null> {
    const text = () => {
      const all = opts.in === 'stdout' ? this.stdout : opts.in === 'stderr' ? this.stderr : this.transcript;
      return all.slice(opts.from ?? 0);
    };
    return new Promise((resolve) => {
      const finish = (v: number | null) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(v);
      };
      const check = () => {
        if (re.test(text())) finish(this.elapsed());
        else if (this.exit) finish(null);
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for the exit at most `timeoutMs`; null when still running. */
  async waitExit(timeoutMs: number): Promise<Exit | null> {
    if (this.exit) return this.exit;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
    const res = await Promise.race([this.done, timeout]);
    clearTimeout(timer);
    return res;
  }

  get running(): boolean {
    return this.exit === null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exit && this.child.pid) killPids([this.child.pid], signal);
  }

  /** Kills (TERM, then KILL) and waits for the exit. */
  async stop(): Promise<Exit> {
    if (this.exit) return this.exit;
    this.kill('SIGTERM');
    const exit = await this.waitExit(2000);
    if (exit) return exit;
    this.kill('SIGKILL');
    return this.done;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
