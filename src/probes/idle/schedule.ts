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
}

/** Connections are opened this much before the last moment (s): opening times vary. */
const OPEN_LEAD = 1;

export type ForecastAdvice = { open: 'now' } | { open: 'at'; at: number } | { open: 'no' };

/**
 * Simulates the frontier forward, assuming every ping is answered: each next target is served by
 * the connection that reaches that age first (or, if several are already past it, the youngest
 * of those) and that connection is fresh again at the ping. The first target that would be pinged
 * after its deadline needs one more connection: now if a new connection would be later than the
 * deadline too but earlier than the pool, or just in time (`at`) if one opened then would make it.
 */
export function forecast(inp: ForecastInput): ForecastAdvice {
  const pool = [...inp.freshAt];
  let t = inp.now;
  let low = inp.low;
  for (let i = 0; i < 1000 && low < inp.idleMax; i++) {
    const target = Math.min(nextTarget(low), inp.idleMax);
    const deadline = pingDeadline(low, inp.timing);
    let idx = -1;
    // already past the target: the youngest of those
    for (let j = 0; j < pool.length; j++) if (pool[j]! + target <= t && (idx < 0 || pool[j]! > pool[idx]!)) idx = j;
    if (idx < 0) for (let j = 0; j < pool.length; j++) if (idx < 0 || pool[j]! < pool[idx]!) idx = j;
    const pingAt = idx < 0 ? Infinity : Math.max(t, pool[idx]! + target);
    if (pingAt > deadline) {
      const latestOpen = deadline - target - inp.openEstimate;
      const withNew = Math.max(t, inp.now + inp.openEstimate + target);
      if (latestOpen > inp.now + OPEN_LEAD) return { open: 'at', at: latestOpen - OPEN_LEAD };
      if (withNew < pingAt - 0.5) return { open: 'now' };
    }
    if (idx < 0) return { open: 'now' };
    // if this ping goes unanswered, a second connection idle for target..limit confirms it
    // `suspect` later (limit: the widest bracket that is still narrow enough)
    const confirmBy = Math.max(pingAt, deadline) + inp.timing.suspect;
    const limit = Math.max(target, low + targetWidth(low) - 0.02);
    let bestConfirm = Infinity;
    for (let j = 0; j < pool.length; j++) {
      if (j === idx) continue;
      const x = Math.max(pool[j]! + target, pingAt + inp.timing.suspect); // first moment it can confirm
      if (x - pool[j]! <= limit) bestConfirm = Math.min(bestConfirm, x);
    }
    if (bestConfirm > confirmBy) {
      // a new connection helps if it is fresh within [earliest, latest]: idle enough by confirmBy,
      // not too idle at the first moment it can confirm
      const earliest = pingAt + inp.timing.suspect - limit;
      const latest = confirmBy - target;
      const at = Math.max(latest - inp.openEstimate - OPEN_LEAD, earliest - inp.openEstimate);
      if (at > inp.now) return { open: 'at', at };
      if (inp.now + inp.openEstimate <= latest) return { open: 'now' };
      // too late for this one: it will confirm late (or less narrowly) with what there is
    }
    pool[idx] = pingAt;
    t = pingAt;
    low = target;
  }
  return { open: 'no' };
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
