import ora, { type Ora } from 'ora';
import type { Evidence } from '../evidence/types.js';
import { printable, scrubSecrets } from '../evidence/secrets.js';

export interface Progress {
  /** Shows a line of progress (a spinner on a TTY); nothing when progress is off. */
  start(text: string): void;
  update(text: string): void;
  stop(status: 'ok' | 'skipped' | 'failed', text: string): void;
}

/** Progress for people at a terminal, on stderr: never when piped, with --json, or when asked not to. */
export function progressFor(enabled: boolean): Progress {
  if (!enabled) return { start() {}, update() {}, stop() {} };
  let spinner: Ora | null = null;
  // progress lines carry the target's own text (banner, errors): never raw control characters
  return {
    start(text) {
      spinner = ora({ text: printable(text), stream: process.stderr, color: 'cyan' }).start();
    },
    update(text) {
      if (spinner) spinner.text = printable(text);
    },
    stop(status, raw) {
      if (!spinner) return;
      const text = printable(raw);
      if (status === 'ok') spinner.succeed(text);
      else if (status === 'failed') spinner.fail(text);
      else spinner.info(text);
      spinner = null;
    },
  };
}

export class ProbeTimeout extends Error {}

/**
 * Runs each probe with a time limit and records how it went in the evidence (`probes[]`, and
 * `errors[]` when it failed). A failing probe is a line in the report, never a crash.
 */
export class ProbeRunner {
  constructor(
    private readonly ev: Evidence,
    private readonly progress: Progress,
  ) {}

  /**
   * Runs one probe. At the time limit the probe is recorded as failed and `signal` (the second
   * argument of `fn`) is aborted, so a probe that honours it stops its work instead of running on
   * unseen.
   */
  async run<T>(
    id: string,
    label: string,
    timeoutMs: number,
    fn: (update: (text: string) => void, signal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    const started = Date.now();
    this.progress.start(label);
    let timer: NodeJS.Timeout | undefined;
    const limit = new AbortController();
    try {
      const result = await Promise.race([
        fn((text) => this.progress.update(`${label}: ${text}`), limit.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            limit.abort();
            reject(new ProbeTimeout(`timed out after ${Math.round(timeoutMs / 1000)} s`));
          }, timeoutMs);
        }),
      ]);
      this.ok(id, started, label);
      return result;
    } catch (e) {
      this.fail(id, started, label, e instanceof Error ? e.message : String(e));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  ok(id: string, started: number, label: string, detail?: string): void {
    this.ev.probes.push({ id, status: 'ok', durationMs: Date.now() - started, ...(detail ? { detail: scrubSecrets(detail) } : {}) });
    this.progress.stop('ok', detail ? `${label}: ${detail}` : label);
  }

  fail(id: string, started: number, label: string, why: string): void {
    const detail = scrubSecrets(why);
    this.ev.probes.push({ id, status: 'failed', durationMs: Date.now() - started, detail });
    this.ev.errors.push(`${id}: ${detail}`);
    this.progress.stop('failed', `${label}: ${detail}`);
  }

  skip(id: string, why: string): void {
    this.ev.probes.push({ id, status: 'skipped', durationMs: 0, detail: why });
    this.progress.stop('skipped', `${id}: skipped (${why})`);
  }

  /** Adds a detail to the last recorded status of a probe (what it found, in a few words). */
  note(id: string, detail: string): void {
    const p = [...this.ev.probes].reverse().find((x) => x.id === id);
    if (p) p.detail = p.detail ? `${p.detail}; ${scrubSecrets(detail)}` : scrubSecrets(detail);
  }
}
