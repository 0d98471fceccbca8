// What both kinds of watch share: the client-side watchers (network changes, sleep), the stop
// conditions (--duration, Ctrl-C, SIGTERM, SIGHUP) and the settings.
import { SleepDetector, type Timebase } from './clock.js';
import { hasAddress, NetworkWatcher, type NetSources } from './network.js';
import type { WatchRecorder } from './recorder.js';

export interface WatchSettings {
  /** Stop after this many drops. */
  count: number;
  /** Stop after this long (seconds), null: no limit. */
  durationSeconds: number | null;
  /** How long to wait for the path to come back after a drop. */
  reconnectWaitSeconds: number;
  /** Heartbeat interval (monitor mode). */
  intervalSeconds: number;
  /** Path silent this long = dropped (monitor mode); null: from ServerAliveInterval x CountMax, else 60 s. */
  silenceSeconds: number | null;
  saveEvidence?: string;
  /** Wrap mode: write the timestamped ssh -v transcript here. */
  transcript?: string;
  redact: boolean;
  sudo: boolean;
  /** Progress lines for a person watching (stderr), or null. */
  progress: ((line: string) => void) | null;
  /** Test seam: where the network is read from. */
  netSources?: NetSources;
}

export const DEFAULT_SILENCE_SECONDS = 60;

export function hhmmss(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function humanSeconds(s: number): string {
  if (s < 90) return `${Math.round(s * 10) / 10} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round((s / 3600) * 10) / 10} h`;
  return `${Math.round(s / 86400)} days`;
}

export class ClientWatchers {
  readonly net: NetworkWatcher;
  private readonly sleep: SleepDetector;
  private readonly removed = new Set<string>();

  constructor(
    private readonly rec: WatchRecorder,
    time: Timebase,
    sources?: NetSources,
  ) {
    this.net = new NetworkWatcher(2000, sources);
    this.sleep = new SleepDetector(time, 1000);
  }

  start(): void {
    this.net.start((changes) => {
      for (const c of changes) {
        if (c.removed) this.removed.add(c.removed);
        this.rec.event(c.kind, c.text);
      }
    });
    this.sleep.start((e) => {
      if (e.kind === 'sleep') this.rec.event('sleep', `resumed after ${e.seconds} s asleep (${humanSeconds(e.seconds)})`, e.at);
      else this.rec.event('stall', `the watcher itself was not running for ${e.seconds} s (stopped or starved); silence then is not the network's`, e.at);
    });
  }

  /** Reads the network now (so a change just before a drop is not missed). */
  pollNow(): void {
    for (const c of this.net.poll()) {
      if (c.removed) this.removed.add(c.removed);
      this.rec.event(c.kind, c.text);
    }
  }

  /** The address was seen removed from an interface and is not back (loopback, never listed, is never gone). */
  gone(address: string | undefined): boolean {
    if (address === undefined) return false;
    const bare = address.replace(/^::ffff:/i, '').toLowerCase();
    return [...this.removed].some((r) => r.toLowerCase() === bare) && !hasAddress(this.net.snapshot(), address);
  }

  stop(): void {
    this.net.stop();
    this.sleep.stop();
  }
}

export type StopReason = 'duration' | 'interrupted';

/** Aborts on --duration or on SIGINT/SIGTERM/SIGHUP (the handlers are removed by dispose()). */
export class Stopper {
  readonly controller = new AbortController();
  reason: StopReason | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly handlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(durationSeconds: number | null, opts: { signals: boolean }) {
    if (durationSeconds !== null) {
      this.timer = setTimeout(() => this.stop('duration'), durationSeconds * 1000);
    }
    if (opts.signals) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
        const h = () => this.stop('interrupted');
        process.on(sig, h);
        this.handlers.push([sig, h]);
      }
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort();
  }

  /** Resolves after `ms`, or at once when stopped; true when it was stopped. */
  wait(ms: number): Promise<boolean> {
    if (this.signal.aborted) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.signal.removeEventListener('abort', on);
        resolve(false);
      }, ms);
      const on = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.signal.addEventListener('abort', on, { once: true });
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
  }
}
