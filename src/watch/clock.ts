// Clocks for the watch, and the sleep detector.
//
// A machine that sleeps stops CLOCK_MONOTONIC (process.hrtime on Linux and macOS) but not the
// time since boot (CLOCK_BOOTTIME, which /proc/uptime reports on Linux) nor the wall clock. So a
// tick that finds much more boot (or wall) time than monotonic time passed since the last tick
// was asleep for the difference. The boot clock is preferred: unlike the wall clock it does not
// jump when NTP steps the time. A tick that finds much more monotonic time than it asked for
// (with no sleep) means the watcher itself was not scheduled (stopped, swapped, starved): that is
// a stall, recorded so that silence during it is not blamed on the network.
import { readFileSync } from 'node:fs';

export interface Clocks {
  /** Wall clock, ms since the epoch. */
  wall(): number;
  /** Monotonic clock in ms; it stops while the machine sleeps. */
  mono(): number;
  /** Time since boot including sleep, in ms, or null where it cannot be read. */
  boot(): number | null;
}

function procUptimeMs(): number | null {
  try {
    const v = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(v) ? v * 1000 : null;
  } catch {
    return null;
  }
}

let hasProcUptime: boolean | undefined;

export const systemClocks: Clocks = {
  wall: () => Date.now(),
  mono: () => Number(process.hrtime.bigint() / 1_000_000n),
  boot: () => {
    if (hasProcUptime === false) return null;
    const v = procUptimeMs();
    hasProcUptime = v !== null;
    return v;
  },
};

/** Seconds since a start point on the clock that includes sleep (boot time, else wall time). */
export class Timebase {
  readonly startWall: number;
  private readonly startBoot: number | null;

  constructor(readonly clocks: Clocks) {
    this.startWall = clocks.wall();
    this.startBoot = clocks.boot();
  }

  /** Seconds since the start, sleep included. */
  now(): number {
    const boot = this.startBoot === null ? null : this.clocks.boot();
    const ms = boot !== null && this.startBoot !== null ? boot - this.startBoot : this.clocks.wall() - this.startWall;
    return Math.round(ms) / 1000;
  }

  /** The wall-clock time of a point on this timebase, as ISO-8601. */
  iso(t: number): string {
    return new Date(this.startWall + t * 1000).toISOString();
  }

  /** A point on this timebase for a wall-clock time in ms. */
  fromWall(ms: number): number {
    return Math.round(ms - this.startWall) / 1000;
  }
}

export interface SleepEvent {
  kind: 'sleep' | 'stall';
  /** Seconds (on the timebase) when the watcher noticed: the resume. */
  at: number;
  /** How long the machine slept, or the watcher was stalled. */
  seconds: number;
}

/** Sleep and stall below this are noise (timer slack, a busy machine). */
export const SLEEP_THRESHOLD_MS = 5000;

/**
 * Call tick() about every `intervalMs` (a timer does it in start()); it returns a sleep or stall
 * when one ended since the last tick.
 */
export class SleepDetector {
  private lastMono: number;
  private lastOther: number;
  private readonly useBoot: boolean;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timebase: Timebase,
    private readonly intervalMs = 1000,
  ) {
    const c = timebase.clocks;
    this.lastMono = c.mono();
    const boot = c.boot();
    this.useBoot = boot !== null;
    this.lastOther = boot ?? c.wall();
  }

  tick(): SleepEvent | null {
    const c = this.timebase.clocks;
    const mono = c.mono();
    const other = (this.useBoot ? c.boot() : null) ?? c.wall();
    const dMono = mono - this.lastMono;
    const dOther = other - this.lastOther;
    this.lastMono = mono;
    this.lastOther = other;
    const slept = dOther - dMono;
    if (slept > SLEEP_THRESHOLD_MS) return { kind: 'sleep', at: this.timebase.now(), seconds: Math.round(slept / 100) / 10 };
    const stalled = dMono - this.intervalMs;
    if (stalled > SLEEP_THRESHOLD_MS) return { kind: 'stall', at: this.timebase.now(), seconds: Math.round(stalled / 100) / 10 };
    return null;
  }

  start(on: (e: SleepEvent) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      const e = this.tick();
      if (e) on(e);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
