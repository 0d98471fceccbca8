// The idle timing test: how long may an SSH connection sit idle before the path drops it?
//
// Several authenticated connections (keepalives off, no channels) are held idle and pinged
// (keepalive@openssh.com with want-reply) at chosen idle ages. An answered ping at age a proves
// T > a and makes that connection fresh again; an unanswered one (after `unansweredMs`), a reset
// or a server close at age d says T <= d. T is reported as (low, high].
//
// Schedule (schedule.ts has the pure parts; test/idle/schedule.test.ts drives them on a
// simulated clock):
//  - The frontier: the next age worth testing is target = low + 0.9 * max(2 s, 10% of low). The
//    youngest idle connection whose age has reached it (and is below the shortest death) is
//    pinged, so pings run along a grid 1.8, 3.6, ... 19.8, 21.6, 23.6, ... as fast as time
//    allows, all connections at different idle ages at once; after a death they concentrate in
//    (low, high] until it is narrow enough.
//  - Survivors are reused: an answered connection is fresh (age 0) and serves a later, longer
//    target. New connections are opened (at most 3 unauthenticated at once, never near
//    MaxStartups 10:30:100) when a forward simulation of the frontier (forecast) says a target, or
//    its confirmation, would otherwise come after its deadline (pingDeadline: what keeps the
//    answer within 1.25 T + 10 s), and just in time, so short tests open fewer.
//  - Two deaths are needed, and high is the second-shortest one: a death counts only while no
//    longer idle period was answered (a lost packet is not a death), and one lost ping just
//    under T cannot pull `high` below T. When a ping is unanswered for `suspectMs`, a second
//    connection idle for at least as long (and within the width aimed at) is pinged in
//    parallel, so the confirmation costs no extra wait.
//  - A keepalive control (ssh2 keepaliveInterval = controlKeepaliveMs) is held through the test
//    and pinged when the first death is suspected: answered (and never closed) =>
//    keepaliveSurvived (idleness ends connections, not their age).
//  - Deaths are read only once the target is known to be still there (presence.ts): before a
//    result with deaths is reported, when the control dies, and when a new connection fails
//    after others worked. A target that went away ends the test with TargetLostError; deaths
//    never become a bracket by the order in which timers happened to fire.
//
// Connection bound: a target t must be pinged by about 1.25 t + 10 - (unanswered + suspect + 1)
// s, so its connection must be fresh by about 0.15 t + 3 s: the targets in flight at any time
// span idle ages from x to about 7x, ~21 steps of 10%, plus the 2-s steps under 20 s and the
// confirmations. Measured on a simulated path for every T from 1.3 s to 700 s: at most 26-30
// connections (keepalive control included) whatever T and idleMax, fewer for short tests.
// `maxConnections` (default DEFAULT_MAX_CONNECTIONS = 40, at least MIN_CONNECTIONS) caps the
// total, the presence check's login included; below the need the test stays correct but slower,
// and a refusal (rate limit) lowers the cap and says so in `note`.
import type { DropKind, IdleConnectionTrace, IdleMeasurement } from '../../evidence/types.js';
import { matchMiddleboxDefault } from '../../engine/values.js';
import type { IdleConnection, OpenIdleConnection } from './connection.js';
import { DEFAULT_MAX_CONNECTIONS, MIN_CONNECTIONS } from './limits.js';
import { TargetLostError, TargetPresence, type Presence } from './presence.js';
import {
  bracketFrom,
  dominantKind,
  forecast,
  nextTarget,
  realClock,
  targetWidth,
  youngestAtLeast,
  type Clock,
  type ProbeResult,
  type Timing,
} from './schedule.js';

export const DEFAULT_UNANSWERED_MS = 5000;
export const DEFAULT_CONTROL_KEEPALIVE_MS = 2000;
const MAX_OPENING = 3;


export interface IdleProgress {
  elapsed: number;
  alive: number;
  bracket: { low: number; high: number } | null;
  note?: string;
}

export interface IdleTestOptions {
  /** Longest idle period to wait for. */
  idleMaxSeconds: number;
  /** Cap on the connections opened, the keepalive control included. */
  maxConnections?: number;
  onProgress?: (p: IdleProgress) => void;
  signal?: AbortSignal;
  /**
   * How long a ping may go unanswered before it counts as a death: about two TCP retransmission
   * timeouts, so a lost packet that TCP resends is not a death (default 5000; loopback tests ~2500).
   */
  unansweredMs?: number;
  /** Unanswered this long, a ping is suspect and a confirmation ping goes out (default max(1000, 4 RTT)). */
  suspectMs?: number;
  /** Keepalive interval of the control connection (default 2000). */
  controlKeepaliveMs?: number;
  /** Simulated time for tests and the benchmark. */
  clock?: Clock;
  /** Shared with the shell-idle check (one verdict on the target for the whole run); else the test's own. */
  presence?: TargetPresence;
  /** What the test does, a line per event (-v): connections, pings, deaths, checks. */
  debug?: (line: string) => void;
}

interface Slot {
  id: number;
  conn: IdleConnection;
  state: 'idle' | 'pinging' | 'dead';
  freshAt: number;
  inflight?: { age: number; sentAt: number };
  trace: IdleConnectionTrace;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const floor2 = (n: number) => Math.floor(n * 100 + 1e-9) / 100;
const ceil2 = (n: number) => Math.ceil(n * 100 - 1e-9) / 100;

export async function runIdleTest(open: OpenIdleConnection, opts: IdleTestOptions): Promise<IdleMeasurement> {
  const clock = opts.clock ?? realClock;
  const idleMax = opts.idleMaxSeconds;
  if (!(idleMax > 0)) throw new Error('runIdleTest: idleMaxSeconds must be > 0');
  if (opts.maxConnections !== undefined && opts.maxConnections < MIN_CONNECTIONS) {
    throw new Error(`runIdleTest: maxConnections must be at least ${MIN_CONNECTIONS}`);
  }
  const maxLogins = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // the idle connections and the control leave one login for a presence check
  let cap = maxLogins - 1;
  const W = (opts.unansweredMs ?? DEFAULT_UNANSWERED_MS) / 1000;
  let suspect = (opts.suspectMs ?? 1000) / 1000;
  const timing = (): Timing => ({ unanswered: W, suspect });
  const start = clock.now();
  const now = () => (clock.now() - start) / 1000;
  const debug = (line: string) => opts.debug?.(`idle: ${round2(now())} s: ${line}`);
  const presence = opts.presence ?? new TargetPresence(open, { pingTimeoutMs: Math.max(W, 5) * 1000, now, debug: (l) => debug(l) });

  const slots: Slot[] = [];
  const results: ProbeResult[] = [];
  const notes: string[] = [];
  let opened = 0; // successfully opened, control included
  let opening = 0;
  // every attempt counts against the cap: a connection dropped because its first ping was lost
  // was a login all the same (on a lossy path, not counting them had no bound)
  let started = 0;
  let fatal: Error | undefined;
  let nextId = 1;
  const openTimes: number[] = [];
  let maxRtt = 0;

  let finished = false; // connections that finish opening after the end are ended at once

  // wake-ups: any event kicks the loop
  let kick: () => void = () => {};
  const wake = () => kick();

  // ---- the keepalive control (trace id 0) ----
  interface Control {
    conn: IdleConnection;
    openedAt: number;
    diedAt?: number;
    kind?: DropKind;
    reason?: string;
    trace: IdleConnectionTrace;
  }
  let control: Control | undefined;

  const openOne = async (keepaliveIntervalMs: number): Promise<{ conn: IdleConnection; freshAt: number }> => {
    const t0 = now();
    const conn = await open({ keepaliveIntervalMs });
    const sent = now();
    const r = await conn.ping(Math.max(W, 5) * 1000);
    if (r !== 'ok') {
      conn.end();
      throw Object.assign(new Error(`the server did not answer a keepalive@openssh.com request on a new connection (${r})`), { code: 'ENOKEEPALIVE' });
    }
    const t1 = now();
    maxRtt = Math.max(maxRtt, t1 - sent);
    openTimes.push(t1 - t0);
    return { conn, freshAt: t1 };
  };

  const openEstimate = () => {
    if (!openTimes.length) return 2;
    const recent = openTimes.slice(-5);
    return (recent.reduce((a, b) => a + b, 0) / recent.length) * 1.5 + 0.2;
  };

  let refused: { after: number; code: string } | undefined;
  // a new connection failed after others worked: a rate limit (ufw limit, MaxStartups...), or
  // the target went away; no new connection until the presence check has said which
  let openFailureCheck: Promise<void> | undefined;
  const onOpenFailure = (err: Error) => {
    const code = (err as { code?: unknown }).code;
    debug(`opening a connection failed: ${err.message}`);
    if (opened === 0) {
      // the others still being opened may work; with none, there is nothing to measure with
      if (opening === 0) fatal ??= err;
    } else if (code === 'ENOKEEPALIVE') {
      // one new connection's first ping was lost: drop that connection, nothing more
    } else if (!openFailureCheck) {
      const failedAt = logins();
      openFailureCheck = presence.check(`a new connection failed: ${err.message}`).then((p) => {
        if (p.present !== false) {
          // the target is there (or nothing says otherwise): go on with fewer
          refused ??= { after: opened, code: typeof code === 'string' ? code : err.message };
          cap = Math.min(cap, failedAt);
        }
        openFailureCheck = undefined;
        wake();
      });
    }
    wake();
  };

  // ---- is the target still there? ----
  // Asked when the kept-alive control dies and before deaths are reported: an idle timeout or an
  // age limit leaves the target answering; a stopped sshd, a host that went down or a dead path
  // does not.
  let controlDeathChecked = false;
  const lostError = (p: Presence & { present: false }): TargetLostError => {
    const c = control;
    const b = bracketFrom(results);
    const ended = c?.diedAt !== undefined ? `the kept-alive control connection ended (${c.kind ?? 'no answer'}${c.reason ? `: ${c.reason}` : ''})` : `${b.deaths.length + b.ignored.length} idle connection(s) ended`;
    const answered = b.low > 0 ? `idle periods up to ${round2(b.low)} s were answered` : 'no idle period had been answered yet';
    return new TargetLostError(
      `the target went away during the test (noticed ${round2(p.at)} s in): ${ended} and a new connection failed (${p.error}): sshd stopped, the host went down or the path to it failed. ` +
        `Until then ${answered}; the connections that ended with it say nothing about an idle timeout, so none is reported`,
    );
  };
  presence.onGone(() => wake());
  const logins = () => started + presence.logins;
  presence.limitLogins(() => logins() < maxLogins);
  // the presence clock's time of the last death: a check must start after it to speak for it
  let lastDeathMark = -Infinity;
  const deathNoticed = () => (lastDeathMark = presence.now());

  let controlTried = false;
  const openControl = () => {
    controlTried = true;
    opening++;
    started++;
    openOne(opts.controlKeepaliveMs ?? DEFAULT_CONTROL_KEEPALIVE_MS).then(
      ({ conn, freshAt }) => {
        opening--;
        opened++;
        if (finished) return conn.end();
        control = { conn, openedAt: freshAt, trace: { id: 0, openedAt: round2(freshAt), pings: [] } };
        const c = control;
        const unvouch = presence.vouch(conn);
        debug('the kept-alive control connection is open');
        void conn.closed.then((info) => {
          unvouch();
          if (info.local || c.diedAt !== undefined) return;
          c.diedAt = now();
          c.kind = info.kind;
          c.reason = info.reason;
          deathNoticed();
          debug(`the kept-alive control connection ended (${info.kind}${info.reason ? `: ${info.reason}` : ''})`);
          wake();
        });
        wake();
      },
      (err: Error) => {
        opening--;
        onOpenFailure(err);
      },
    );
  };

  const openPoolConn = () => {
    opening++;
    started++;
    openOne(0).then(
      ({ conn, freshAt }) => {
        opening--;
        opened++;
        if (finished) return conn.end();
        const slot: Slot = { id: nextId++, conn, state: 'idle', freshAt, trace: { id: 0, openedAt: round2(freshAt), pings: [] } };
        slot.trace.id = slot.id;
        slots.push(slot);
        debug(`connection #${slot.id} is open`);
        void conn.closed.then((info) => {
          if (info.local || slot.state !== 'idle') return; // pings report their own deaths
          const t = now();
          die(slot, { conn: slot.id, age: t - slot.freshAt, ok: false, kind: info.kind, reason: info.reason, at: t });
        });
        wake();
      },
      (err: Error) => {
        opening--;
        onOpenFailure(err);
      },
    );
  };

  const die = (slot: Slot, r: ProbeResult) => {
    deathNoticed();
    debug(`connection #${slot.id} died after ${round2(r.age)} s idle (${r.kind ?? '?'}${r.reason ? `: ${r.reason}` : ''})`);
    slot.state = 'dead';
    slot.inflight = undefined;
    results.push(r);
    slot.trace.diedAt = round2(r.at);
    slot.trace.kind = r.kind;
    if (r.reason) slot.trace.reason = r.reason;
    slot.conn.end();
    wake();
  };

  const ping = (slot: Slot) => {
    const sentAt = now();
    const age = sentAt - slot.freshAt;
    slot.state = 'pinging';
    slot.inflight = { age, sentAt };
    debug(`ping #${slot.id} after ${round2(age)} s idle`);
    const settle = async () => {
      const r = await slot.conn.ping(W * 1000);
      if (slot.state !== 'pinging') return;
      const t = now();
      if (r === 'ok') {
        slot.state = 'idle';
        slot.inflight = undefined;
        slot.freshAt = t;
        maxRtt = Math.max(maxRtt, t - sentAt);
        results.push({ conn: slot.id, age, ok: true, at: sentAt });
        slot.trace.pings.push({ atIdle: round2(age), at: round2(sentAt), ok: true });
        debug(`ping #${slot.id} answered after ${round2(age)} s idle`);
        wake();
        return;
      }
      slot.trace.pings.push({ atIdle: round2(age), at: round2(sentAt), ok: false, kind: r });
      // a reset or a server close has already settled `closed`, with the reason if any
      const info = r === 'silent' ? undefined : await slot.conn.closed;
      const reason = info && !info.local ? info.reason : undefined;
      die(slot, { conn: slot.id, age, ok: false, kind: r, at: sentAt, ...(reason ? { reason } : {}) });
    };
    settle().catch((err: Error) => {
      fatal ??= err;
      wake();
    });
  };

  // the keepalive control's liveness check: a ping (ssh2's own keepalives are not observable)
  let controlCheck: Promise<'ok' | DropKind> | undefined;
  let controlCheckAt = 0;
  const checkControl = (): Promise<'ok' | DropKind> => {
    const c = control!;
    controlCheckAt = now();
    const sentAt = controlCheckAt;
    debug('ping of the kept-alive control connection');
    controlCheck = c.conn.ping(W * 1000).then((r) => {
      debug(`the kept-alive control connection ${r === 'ok' ? 'answered' : `did not answer (${r})`}`);
      c.trace.pings.push({ atIdle: 0, at: round2(sentAt), ok: r === 'ok', ...(r === 'ok' ? {} : { kind: r }) });
      return r;
    });
    return controlCheck;
  };

  // ---- progress ----
  let cancelTicker: (() => void) | undefined;
  let lastBracket: { low: number; high: number } | null = null;
  const progress = () => {
    opts.onProgress?.({
      elapsed: round2(now()),
      alive: slots.filter((s) => s.state !== 'dead').length + (control && control.diedAt === undefined ? 1 : 0),
      bracket: lastBracket,
      ...(notes.length ? { note: notes[notes.length - 1]! } : {}),
    });
  };
  const tick = () => {
    progress();
    cancelTicker = clock.setTimer(tick, 1000);
  };
  if (opts.onProgress) cancelTicker = clock.setTimer(tick, 1000);

  const onAbort = () => wake();
  opts.signal?.addEventListener('abort', onAbort);

  // ---- the loop ----
  // three pool connections at once: the first targets are always needed; the control takes the
  // next free opening slot (it only has to outlive `high`)
  // (never more than the cap allows: one connection stays for the control)
  for (let i = 0; i < Math.min(MAX_OPENING, cap - 1); i++) openPoolConn();
  let finishedBy: 'survived' | 'drops' | 'aborted' | 'limit' | 'exhausted' = 'survived';
  const hardLimit = 3 * idleMax + 60 + 3 * W;
  try {
    for (;;) {
      if (fatal) throw fatal;
      if (presence.gone) throw lostError(presence.gone);
      if (control?.diedAt !== undefined && !controlDeathChecked) {
        controlDeathChecked = true;
        void presence.check('the kept-alive control connection ended');
      }
      if (opts.signal?.aborted) {
        finishedBy = 'aborted';
        break;
      }
      const t = now();
      if (opts.suspectMs === undefined) suspect = Math.min(Math.max(1, 4 * maxRtt), Math.max(1, W / 2));
      const b = bracketFrom(results);
      const high = b.high;
      lastBracket = high !== null ? { low: round2(b.low), high: round2(high) } : null;
      const inflight = slots.filter((s) => s.state === 'pinging' && s.inflight);
      const suspects = inflight.filter((s) => t - s.inflight!.sentAt >= suspect);
      const fresh = inflight.filter((s) => t - s.inflight!.sentAt < suspect);
      const idle = slots.filter((s) => s.state === 'idle').map((s) => ({ slot: s, age: t - s.freshAt }));

      // narrow enough: max(2 s, 10% of T), less the rounding of the report
      const narrow = high !== null && high - b.low <= targetWidth(b.low) - 0.02;

      // done?
      if (high === null && b.low >= idleMax) {
        finishedBy = 'survived';
        break;
      }
      if (narrow && b.deaths.length >= 2) {
        finishedBy = 'drops';
        break;
      }
      if (t > hardLimit) {
        finishedBy = 'limit';
        break;
      }
      if (!idle.length && !inflight.length && !opening && !openFailureCheck && logins() >= cap) {
        finishedBy = 'exhausted';
        break;
      }

      let wakeAt = Infinity;
      // the frontier
      let optimisticLow = b.low;
      for (const s of fresh) if (high === null || s.inflight!.age < high) optimisticLow = Math.max(optimisticLow, s.inflight!.age);
      // a suspect ping is likely a death: no frontier ping above it meanwhile
      let ceiling = high ?? Infinity;
      for (const s of suspects) if (s.inflight!.age > b.low) ceiling = Math.min(ceiling, s.inflight!.age);
      let frontier: number | null = null;
      if (optimisticLow < idleMax && !narrow && !(ceiling - b.low <= targetWidth(b.low) - 0.02)) {
        const target = Math.min(nextTarget(optimisticLow), idleMax);
        if (target < ceiling) frontier = target;
      }
      if (frontier !== null) {
        const pick = youngestAtLeast(idle, frontier, ceiling);
        if (pick) {
          ping(pick.slot);
          continue; // re-evaluate with the new ping in flight
        }
        for (const c of idle) if (c.age < frontier) wakeAt = Math.min(wakeAt, c.slot.freshAt + frontier);
      }
      // the confirmation: one death (or suspect ping) alone is not an answer
      const doubtful = [...b.deaths.map((d) => d.age), ...suspects.filter((s) => s.inflight!.age > b.low).map((s) => s.inflight!.age)];
      if (doubtful.length && control && control.diedAt === undefined && !controlCheck) void checkControl();
      if (doubtful.length === 1) {
        const d = doubtful[0]!;
        const covered = fresh.some((s) => s.inflight!.age >= d);
        if (!covered) {
          // best: a connection idle for d to `limit` (the confirmation keeps the bracket narrow);
          // else wait up to one unanswered-wait for one to reach d; else the least idle above d
          const limit = Math.max(d, b.low + targetWidth(b.low) - 0.02);
          const inWindow = youngestAtLeast(idle, d, limit + 1e-9);
          let soonest = Infinity;
          for (const c of idle) if (c.age < d) soonest = Math.min(soonest, c.slot.freshAt + d);
          const pick = inWindow ?? (soonest - t <= W ? undefined : youngestAtLeast(idle, d));
          if (pick) {
            ping(pick.slot);
            continue;
          }
          wakeAt = Math.min(wakeAt, soonest);
        }
      }
      for (const s of fresh) wakeAt = Math.min(wakeAt, s.inflight!.sentAt + suspect);

      // opening more connections: the keepalive control first
      if (!controlTried && opening < MAX_OPENING && logins() < cap && opened > 0 && !openFailureCheck) {
        openControl();
        continue;
      }
      if (opening < MAX_OPENING && logins() < cap && !openFailureCheck) {
        let openNow = false;
        if (high === null && !doubtful.length) {
          const advice = forecast({
            now: t,
            freshAt: [
              ...slots.filter((s) => s.state === 'idle').map((s) => s.freshAt),
              ...inflight.filter((s) => t - s.inflight!.sentAt < suspect).map(() => t),
              ...Array.from({ length: opening }, () => t + openEstimate()),
            ],
            low: optimisticLow,
            idleMax,
            timing: timing(),
            openEstimate: openEstimate(),
            maxNew: cap - logins(),
            parallel: MAX_OPENING,
          });
          if (advice.open === 'now') openNow = true;
          else if (advice.open === 'at') wakeAt = Math.min(wakeAt, advice.at);
        } else {
          // endgame: keep one connection that can still pass through (low, high) and one for a confirmation
          const top = high ?? Math.min(...doubtful);
          const needRefine = nextTarget(b.low) < top;
          const younger = idle.filter((c) => c.age < top).length + opening;
          const any = idle.length + opening + fresh.length;
          if ((needRefine && younger === 0) || any === 0) openNow = true;
        }
        if (openNow) {
          openPoolConn();
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        let cancel: (() => void) | undefined;
        kick = () => {
          kick = () => {};
          cancel?.();
          resolve();
        };
        if (Number.isFinite(wakeAt)) cancel = clock.setTimer(() => kick(), Math.max(0, (wakeAt - now()) * 1000) + 1);
        else cancel = clock.setTimer(() => kick(), 1000);
      });
    }

    // the keepalive control: checked when the first death was suspected (so a dead control costs
    // no extra wait), else now
    const b = bracketFrom(results);
    let keepaliveSurvived: boolean | null = null;
    let controlDiedAfterSeconds: number | null = null;
    if (control) {
      if (control.diedAt === undefined && finishedBy !== 'aborted') {
        // an early check (a lost ping far below T) proves too little: check again past `high`
        const stale = controlCheck !== undefined && controlCheckAt - control.openedAt < (b.high ?? 0);
        const r = await (controlCheck && !stale ? controlCheck : checkControl());
        if (r !== 'ok' && control.diedAt === undefined) {
          control.diedAt = controlCheckAt;
          control.kind = r;
          deathNoticed();
        }
      }
      if (control.diedAt !== undefined) {
        controlDiedAfterSeconds = round2(control.diedAt - control.openedAt);
        control.trace.diedAt = round2(control.diedAt);
        if (control.kind) control.trace.kind = control.kind;
        if (control.reason) control.trace.reason = control.reason;
      }
      if (b.high !== null) keepaliveSurvived = control.diedAt === undefined;
    }
    // deaths are reported only if the target is still there after the last of them
    const died = results.some((r) => !r.ok) || control?.diedAt !== undefined;
    if (died && finishedBy !== 'aborted') {
      const p = await presence.check('before reporting the connections that ended', lastDeathMark);
      if (p.present === false) throw lostError(p);
      if (p.present === null) throw new Error(`the connections that ended could not be checked against the target: ${p.error} (raise --max-connections)`);
    }
    const wallSeconds = Math.round(now() * 10) / 10;

    if (refused) {
      notes.push(
        `opening more connections failed after ${refused.after} (${refused.code}), as a rate limit (e.g. ufw limit) does: the test went on with ${cap} connections, which makes it slower`,
      );
    }
    const lost = b.ignored.filter((r) => r.kind === 'silent');
    if (lost.length) {
      notes.push(
        `${lost.length === 1 ? 'a ping' : `${lost.length} pings`} after ${lost.map((r) => `${round2(r.age)} s`).join(', ')} idle went unanswered although a longer idle period was answered later: taken as lost packets, not the timeout`,
      );
    }
    const early = b.ignored.filter((r) => r.kind !== 'silent');
    if (early.length) {
      const kinds = [...new Set(early.map((r) => r.kind))].join('/');
      notes.push(
        `${early.length} connection(s) ended (${kinds}) after shorter idle periods than others that were answered: their end did not follow idleness (a timer counting connection age, such as sshd's UnusedConnectionTimeout, does that)`,
      );
    }
    if (finishedBy === 'aborted') notes.push(`interrupted after ${wallSeconds} s: the result is partial`);
    if (finishedBy === 'limit') notes.push(`stopped after ${wallSeconds} s without a narrower answer`);
    if (finishedBy === 'exhausted') notes.push(`ran out of connections (cap ${cap}) before a narrower answer`);
    if (b.high !== null && b.deaths.length < 2) notes.push('only one idle connection died: the drop was not confirmed by a second one');

    const kind = dominantKind(b.deaths);
    const dropAfterSeconds = b.high !== null ? { low: floor2(b.low), high: ceil2(b.high) } : null;
    const maxTested = results.reduce((m, r) => Math.max(m, r.age), 0);
    const reason = b.deaths.find((d) => d.kind === kind && d.reason)?.reason;
    const matched = dropAfterSeconds ? matchMiddleboxDefault(dropAfterSeconds) : undefined;
    const traces = [control?.trace, ...slots.map((s) => s.trace)].filter((x): x is IdleConnectionTrace => x !== undefined);
    const m: IdleMeasurement = {
      verdict: b.high !== null ? 'drops' : 'survived',
      dropAfterSeconds,
      dropKind: kind,
      keepaliveSurvived,
      connections: opened + presence.opened,
      testedUpToSeconds: b.high !== null ? floor2(maxTested) : floor2(b.low),
      wallSeconds,
      controlDiedAfterSeconds,
      traces,
    };
    if (kind === 'closed-by-server' && reason) m.disconnectReason = reason;
    if (matched) m.matchedDefault = matched;
    if (notes.length) m.note = notes.join('; ');
    lastBracket = dropAfterSeconds;
    progress();
    debug(`done: ${m.verdict}${dropAfterSeconds ? ` between ${dropAfterSeconds.low} and ${dropAfterSeconds.high} s idle (${kind ?? '?'})` : ''}`);
    return m;
  } finally {
    cancelTicker?.();
    opts.signal?.removeEventListener('abort', onAbort);
    for (const s of slots) if (s.state !== 'dead') s.conn.end();
    control?.conn.end();
    finished = true; // connections still being opened are ended as they arrive
  }
}
