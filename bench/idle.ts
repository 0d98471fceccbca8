// Idle-test benchmark: ssh-doctor's parallel schedule against a naive sequential bisection, on
// the embedded demo middlebox (real sockets on loopback, real waiting) for a few T, plus the same
// schedule on a simulated clock for the long timeouts real middleboxes use (4 min .. 1 h),
// which nobody wants to wait for in a benchmark. Measures wall time, bracket width and
// connections against the targets: width <= max(2 s, 10% of T), wall <= 1.25 T + 10 s.
//
// Env: BENCH_IDLE_T (loopback T values, default 5,10,20), BENCH_IDLE_MAX (idleMax, default 60),
// BENCH_IDLE_WAIT_MS (unanswered-ping wait, default the CLI's 5000), BENCH_IDLE_SIM_T (simulated
// T values, default 240,350,600,1200,3600; empty to skip), BENCH_IDLE_NAIVE=0 skips the naive runs.
import { pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import { startDemo } from '../src/demo/start.js';
import type { OpenIdleConnection } from '../src/probes/idle/connection.js';
import { DEFAULT_UNANSWERED_MS, runIdleTest } from '../src/probes/idle/idle-test.js';
import { SimClock, targetWidth } from '../src/probes/idle/schedule.js';
import { fakePath } from '../src/probes/idle/sim-path.js';

export interface IdleBenchRow {
  T: number;
  clock: 'loopback' | 'simulated';
  method: 'ssh-doctor' | 'naive bisection';
  wallSeconds: number;
  low: number | null;
  high: number | null;
  width: number | null;
  /** max(2 s, 10% of T) */
  widthLimit: number;
  /** T in (low, high] and width within the limit */
  bracketOk: boolean;
  connections: number;
  /** 1.25 T + 10 s */
  boundSeconds: number;
  withinBound: boolean;
}

const list = (v: string | undefined, dflt: number[]) =>
  v === undefined
    ? dflt
    : v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .map(Number)
        .filter((n) => n > 0);

function row(T: number, clock: IdleBenchRow['clock'], method: IdleBenchRow['method'], wall: number, b: { low: number; high: number } | null, connections: number): IdleBenchRow {
  const widthLimit = Math.max(2, 0.1 * T);
  const width = b ? Math.round((b.high - b.low) * 100) / 100 : null;
  // the loopback proxy and the client share one event loop: 0.1 s of slack on the bracket's ends
  const slack = clock === 'loopback' ? 0.1 : 0;
  const boundSeconds = Math.round((1.25 * T + 10) * 10) / 10;
  return {
    T,
    clock,
    method,
    wallSeconds: Math.round(wall * 10) / 10,
    low: b?.low ?? null,
    high: b?.high ?? null,
    width,
    widthLimit,
    bracketOk: b !== null && b.low < T + slack && b.high >= T - slack && width! <= widthLimit,
    connections,
    boundSeconds,
    withinBound: wall <= boundSeconds,
  };
}

/**
 * The classic way: one connection at a time, idle for the middle of the interval still in doubt,
 * then pinged; halve until the interval is as narrow as ours must be.
 */
export async function naiveBisection(open: OpenIdleConnection, idleMax: number, unansweredMs: number): Promise<{ low: number; high: number | null; connections: number }> {
  let low = 0;
  let high: number | null = null;
  let hi = idleMax;
  let connections = 0;
  while (hi - low > targetWidth(low) - 0.02) {
    const mid = high === null && low === 0 && connections === 0 ? idleMax : (low + hi) / 2;
    const conn = await open({ keepaliveIntervalMs: 0 });
    connections++;
    await conn.ping(unansweredMs); // fresh start
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, mid * 1000));
    const age = (performance.now() - t0) / 1000;
    const r = await conn.ping(unansweredMs);
    conn.end();
    if (r === 'ok') {
      low = age;
      if (high === null) break; // survived idleMax
    } else {
      high = age;
      hi = age;
    }
  }
  return { low, high, connections };
}

async function loopbackRuns(T: number, idleMax: number, waitMs: number, naive: boolean): Promise<IdleBenchRow[]> {
  const rows: IdleBenchRow[] = [];
  const ours = async () => {
    const demo = await startDemo({ idleTimeoutSeconds: T, mode: 'silent' });
    try {
      const t0 = performance.now();
      const m = await runIdleTest(demo.openIdle, { idleMaxSeconds: idleMax, unansweredMs: waitMs });
      rows.push(row(T, 'loopback', 'ssh-doctor', (performance.now() - t0) / 1000, m.dropAfterSeconds, m.connections));
    } finally {
      await demo.stop();
    }
  };
  const theirs = async () => {
    const demo = await startDemo({ idleTimeoutSeconds: T, mode: 'silent' });
    try {
      const t0 = performance.now();
      const r = await naiveBisection(demo.openIdle, idleMax, waitMs);
      rows.push(row(T, 'loopback', 'naive bisection', (performance.now() - t0) / 1000, r.high === null ? null : { low: r.low, high: r.high }, r.connections));
    } finally {
      await demo.stop();
    }
  };
  // the naive run only waits, so it shares the time; ours runs beside it
  await Promise.all([ours(), naive ? theirs() : Promise.resolve()]);
  return rows;
}

async function simulatedRun(T: number, waitMs: number): Promise<IdleBenchRow> {
  const clock = new SimClock();
  // a slow server: 400 ms to open and authenticate, 60 ms round trips
  const path = fakePath({ clock, T, mode: 'silent', openMs: 400, rttMs: 60 });
  const m = await clock.run(runIdleTest(path.open, { idleMaxSeconds: Math.max(2 * T, 60), unansweredMs: waitMs, clock }));
  return row(T, 'simulated', 'ssh-doctor', m.wallSeconds, m.dropAfterSeconds, m.connections);
}

export async function idleBench(): Promise<IdleBenchRow[]> {
  const Ts = list(process.env['BENCH_IDLE_T'], [5, 10, 20]);
  const idleMax = Number(process.env['BENCH_IDLE_MAX'] ?? 60);
  const waitMs = Number(process.env['BENCH_IDLE_WAIT_MS'] ?? DEFAULT_UNANSWERED_MS);
  const simTs = list(process.env['BENCH_IDLE_SIM_T'], [240, 350, 600, 1200, 3600]);
  const naive = process.env['BENCH_IDLE_NAIVE'] !== '0';
  const rows: IdleBenchRow[] = [];
  // all loopback T at once: the runs mostly wait, and the naive ones take longest
  for (const r of await Promise.all(Ts.map((T) => loopbackRuns(T, idleMax, waitMs, naive)))) rows.push(...r);
  for (const T of simTs) rows.push(await simulatedRun(T, waitMs));
  rows.sort((a, b) => (a.clock === b.clock ? a.T - b.T || a.method.localeCompare(b.method) : a.clock === 'loopback' ? -1 : 1));
  return rows;
}

export function formatIdleBench(rows: IdleBenchRow[]): string {
  const t = new Table({ head: ['T s', 'clock', 'method', 'wall s', 'bound s', 'bracket', 'width s', 'limit s', 'ok', 'conns'] });
  for (const r of rows) {
    t.push([
      r.T,
      r.clock,
      r.method,
      r.wallSeconds,
      r.boundSeconds,
      r.low === null ? 'none' : `(${r.low.toFixed(2)}, ${r.high!.toFixed(2)}]`,
      r.width ?? '-',
      r.widthLimit,
      `${r.bracketOk ? 'bracket' : 'BRACKET?'} ${r.withinBound ? 'in time' : 'SLOW'}`,
      r.connections,
    ]);
  }
  return t.toString();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await idleBench();
  process.stdout.write(`Idle test: ssh-doctor vs naive bisection\n${formatIdleBench(rows)}\n`);
}
