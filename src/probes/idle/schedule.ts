// The idle test's scheduling logic, kept pure so it can be driven by a simulated clock.
//
// Model: a middlebox forgets a flow after T seconds without traffic. A connection left idle for
// `a` seconds and then pinged answers iff a < T; an answer also refreshes the flow, so the
// connection is "fresh" again (age 0) and can test a longer period. T lies in (low, high]:
// low = the longest idle period that was answered, high = the shortest one that was not.
//
// Ages are seconds since the connection's last traffic; times are seconds since the test start.
import type { DropKind } from '../../evidence/types.js';

/** Bracket width aimed at: max(2 s, 10% of T). T > low, so max(2, 0.1 low) is enough. */
export function targetWidth(low: number): number {
  return Math.max(2, 0.1 * low);
}

/**
 * Pings go at low + 90% of the width aimed at: the other 10% leaves room for the confirming
 * death (a second connection at least as idle) and for timer slack, within the width.
 */
export const TARGET_FRACTION = 0.9;

/** The next idle age worth testing above `low`. */
export function nextTarget(low: number): number {
  return low + TARGET_FRACTION * targetWidth(low);
}

export interface ProbeResult {
  conn: number;
  /** Idle age when the ping was sent (or when the connection closed, for deaths seen as a close). */
  age: number;
  ok: boolean;
  kind?: DropKind;
  reason?: string;
  /** Test time of the ping or the death. */
  at: number;
}

export interface Bracket {
  low: number;
  /**
   * The second-shortest counted death (the only one while there is one): with two deaths needed,
   * a single lost ping just under T cannot pull `high` below T.
   */
  high: number | null;
  /** Deaths consistent with every answer: no longer idle period was answered later. */
  deaths: ProbeResult[];
  /** Deaths contradicted by a longer idle period that was answered: lost packets, not T. */
  ignored: ProbeResult[];
}

/**
 * Reconciles results that need not be monotone. A death at age d counts only if no ping at an
 * age >= d was answered (then T > d and that connection died of something else, e.g. a ping
 * lost for longer than the wait). low = the longest answer; high = the second-shortest counted
 * death, so one lost ping (even just under T, where no longer answer can contradict it) never
 * decides the answer alone.
 */
export function bracketFrom(results: readonly ProbeResult[]): Bracket {
  let maxOk = 0;
  for (const r of results) if (r.ok && r.age > maxOk) maxOk = r.age;
  const deaths: ProbeResult[] = [];
  const ignored: ProbeResult[] = [];
  for (const r of results) {
    if (r.ok) continue;
    if (r.age <= maxOk) ignored.push(r);
    else deaths.push(r);
  }
  deaths.sort((a, b) => a.age - b.age);
  const high = deaths.length >= 2 ? deaths[1]!.age : deaths.length ? deaths[0]!.age : null;
  return { low: maxOk, high, deaths, ignored };
}

/** The drop kind the counted deaths agree on most (ties: the shortest death's kind). */
export function dominantKind(deaths: readonly ProbeResult[]): DropKind | null {
  if (!deaths.length) return null;
  const counts = new Map<DropKind, number>();
  for (const d of deaths) if (d.kind) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  let best: DropKind | null = deaths[0]!.kind ?? null;
  let bestN = best ? (counts.get(best) ?? 0) : 0;
  for (const [k, n] of counts) {
    if (n > bestN) {
      best = k;
      bestN = n;
    }
  }
  return best;
}

/** The youngest connection whose age is in [minAge, maxAge): the one nearest the target. */
export function youngestAtLeast<C extends { age: number }>(conns: readonly C[], minAge: number, maxAge = Infinity): C | undefined {
  let best: C | undefined;
  for (const c of conns) if (c.age >= minAge && c.age < maxAge && (!best || c.age < best.age)) best = c;
  return best;
}

export interface Timing {
  /** How long an unanswered ping is waited for before it counts as a death (s). */
  unanswered: number;
  /** How long a ping may go unanswered before a confirmation ping is sent in parallel (s). */
  suspect: number;
}

/**
 * When the ping testing `target` (the next one above `low`) must be sent so that, if T lies just
 * above `low`, the test still ends within 1.25 T + 10 s: the death shows after `unanswered`, its
 * confirmation (sent after `suspect`) at about the same time, and 1 s is kept for opening and
 * scheduling slack.
 */
export function pingDeadline(low: number, t: Timing): number {
  return 1.25 * low + 10 - t.unanswered - t.suspect - 1;
}

export interface ForecastInput {
  now: number;
  /** When each usable connection (idle, being pinged, or being opened) is or will be fresh. */
  freshAt: number[];
  /** Longest answered (or optimistically: being answered) idle age. */
  low: number;
  idleMax: number;
  timing: Timing;
  /** Expected time to open and authenticate one more connection (s). */
  openEstimate: number;
  /** How many more connections may be opened (the cap). */
  maxNew?: number;
  /** How many may be opened at once (default 3). */
  parallel?: number;
}

/** Connections are opened this much before the last moment (s): opening times vary. */
const OPEN_LEAD = 1;

export type ForecastAdvice = { open: 'now' } | { open: 'at'; at: number } | { open: 'no' };

/**
 * Simulates the frontier forward, assuming every ping is answered: each next target is served by
 * the connection that reaches that age first (or, if several are already past it, the youngest
 * of those) and that connection is fresh again at the ping. Each target also needs a second
 * connection idle for target..limit (the widest bracket still narrow enough) by the deadline plus
 * `suspect`, to confirm a death without waiting; it is not used up when the ping is answered.
 * Wherever the pool falls short, a connection is added as late as still works (or as soon as
 * possible when nothing works in time but it is earlier than the pool). Those openings, queued
 * `parallel` at a time, say when the next one must start: now, or at a later moment to wake up.
 */
export function forecast(inp: ForecastInput): ForecastAdvice {
  const pool = [...inp.freshAt];
  // when to start opening each missing connection: not before `from` (it would be too idle at
  // its confirmation), at the latest `by`
  const needs: Array<{ from: number; by: number }> = [];
  const maxNew = inp.maxNew ?? Infinity;
  const soonest = inp.now + inp.openEstimate; // a connection opened now is fresh then
  let t = inp.now;
  let low = inp.low;
  for (let i = 0; i < 1000 && low < inp.idleMax; i++) {
    const target = Math.min(nextTarget(low), inp.idleMax);
    const deadline = pingDeadline(low, inp.timing);
    let idx = -1;
    // already past the target: the youngest of those; else the one that reaches it first
    for (let j = 0; j < pool.length; j++) if (pool[j]! + target <= t && (idx < 0 || pool[j]! > pool[idx]!)) idx = j;
    if (idx < 0) for (let j = 0; j < pool.length; j++) if (idx < 0 || pool[j]! < pool[idx]!) idx = j;
    let pingAt = idx < 0 ? Infinity : Math.max(t, pool[idx]! + target);
    if (pingAt > deadline && needs.length < maxNew) {
      const fresh = Math.max(soonest, deadline - target);
      const withNew = Math.max(t, fresh + target);
      if (withNew < pingAt - 0.5) {
        needs.push({ from: -Infinity, by: fresh - inp.openEstimate });
        pool.push(fresh);
        idx = pool.length - 1;
        pingAt = withNew;
      }
    }
    if (idx < 0) break;
    // the confirmation: fresh within [earliest, latest] is idle enough by confirmBy and not too
    // idle at the first moment it can confirm
    const confirmBy = Math.max(pingAt, deadline) + inp.timing.suspect;
    const limit = Math.max(target, low + targetWidth(low) - 0.02);
    const earliest = pingAt + inp.timing.suspect - limit;
    const latest = confirmBy - target;
    const canConfirm = pool.some((f, j) => j !== idx && f >= earliest && f <= latest);
    if (!canConfirm && needs.length < maxNew && soonest <= latest) {
      const fresh = Math.max(soonest, latest);
      needs.push({ from: earliest - inp.openEstimate, by: fresh - inp.openEstimate });
      pool.push(fresh);
    }
    pool[idx] = pingAt;
    t = pingAt;
    low = target;
  }
  if (!needs.length) return { open: 'no' };
  needs.sort((a, b) => a.by - b.by);
  const par = Math.max(1, inp.parallel ?? 3);
  for (let k = needs.length - 1 - par; k >= 0; k--) needs[k]!.by = Math.min(needs[k]!.by, needs[k + par]!.by - inp.openEstimate);
  let wake = Infinity;
  for (const n of needs) {
    const start = Math.max(n.from, n.by - OPEN_LEAD);
    if (start <= inp.now) return { open: 'now' };
    wake = Math.min(wake, start);
  }
  return { open: 'at', at: wake };
}

/** A clock the idle test runs on: real time, or simulated time in tests and the benchmark. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const h = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(h);
  },
};

/**
 * Simulated time: timers fire in order, instantly, whenever every promise that can settle has
 * settled. `run(p)` drives the clock until `p` settles.
 */
export class SimClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const entry = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(entry);
    return () => {
      const i = this.timers.indexOf(entry);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(resolve, ms));
  }

  async run<T>(p: Promise<T>, limitMs = 1e9): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      if (settled) return p;
      if (!this.timers.length) throw new Error('SimClock: nothing left to run but the promise has not settled');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      if (next.at > limitMs) throw new Error(`SimClock: still running at ${limitMs} ms`);
      this.t = next.at;
      next.fn();
    }
  }
}
