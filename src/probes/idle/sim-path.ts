// A simulated network path for the idle test: fake connections on a SimClock, behind a fake
// middlebox that forgets flows idle for T seconds (or a server that closes channel-less
// connections, or a session-lifetime limit). Runs the schedule in milliseconds: the schedule
// tests and the benchmark's long-T rows use it.
import type { DropKind } from '../../evidence/types.js';
import type { ClosedInfo, IdleConnection, OpenIdleConnection } from './connection.js';
import type { SimClock } from './schedule.js';

export interface FakePathOptions {
  clock: SimClock;
  /** Idle timeout of the middlebox, or the server's UnusedConnectionTimeout in 'closed-by-server' mode (s). */
  T: number;
  mode: 'silent' | 'reset' | 'closed-by-server';
  rttMs?: number;
  openMs?: number;
  /** Ping number n (1-based, over all connections, sent after `age` s idle) is never answered. */
  lose?: (n: number, age: number) => boolean;
  /** Ping number n is answered this late. */
  lateMs?: (n: number) => number;
  /** Opening connection number n (1-based) or later fails with ECONNREFUSED. */
  refuseFrom?: number;
  /** Every connection dies silently at this age, keepalive or not (a session-lifetime limit). */
  lifetime?: number;
  /**
   * The target goes away at this time (s on the clock): every connection ends at once
   * (`goneKind`, default closed-by-server: sshd killed) and new ones are refused.
   */
  goneAt?: number;
  goneKind?: DropKind;
}

export interface FakePath {
  open: OpenIdleConnection;
  opened(): number;
  pings(): number;
}

export function fakePath(o: FakePathOptions): FakePath {
  const clock = o.clock;
  const rtt = o.rttMs ?? 20;
  const s = () => clock.now() / 1000;
  let opened = 0;
  let pingCount = 0;

  const open: OpenIdleConnection = async ({ keepaliveIntervalMs }) => {
    const n = ++opened;
    await clock.sleep(o.openMs ?? 60);
    if (o.goneAt !== undefined && s() >= o.goneAt) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:22'), { code: 'ECONNREFUSED' });
    if (o.refuseFrom !== undefined && n >= o.refuseFrom) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:22'), { code: 'ECONNREFUSED' });
    const openedAt = s();
    let lastTraffic = openedAt;
    let dead: DropKind | null = null;
    let ended = false;
    let resolveClosed!: (c: ClosedInfo) => void;
    const closed = new Promise<ClosedInfo>((r) => (resolveClosed = r));
    const close = (c: ClosedInfo) => {
      if (dead) return;
      dead = c.kind;
      resolveClosed(c);
    };
    if (o.goneAt !== undefined) {
      const kind = o.goneKind ?? 'closed-by-server';
      // a silent death is noticed by a keepalive after 3 unanswered ones, else by a ping
      const noticeMs = kind === 'silent' ? (keepaliveIntervalMs > 0 ? 3 * keepaliveIntervalMs : Infinity) : 0;
      if (Number.isFinite(noticeMs)) clock.setTimer(() => close({ kind, reason: 'target gone' }), Math.max(0, o.goneAt * 1000 - clock.now()) + noticeMs);
    }
    const ka = keepaliveIntervalMs / 1000;
    // the path's age of this flow: a keepalive keeps it at most `ka` old
    const natAge = () => (ka > 0 ? Math.min(s() - lastTraffic, ka) : s() - lastTraffic);
    if (o.mode === 'closed-by-server' && Number.isFinite(o.T)) {
      clock.setTimer(() => close({ kind: 'closed-by-server' }), o.T * 1000);
    }
    if (o.lifetime !== undefined) {
      // a silent lifetime death; a keepalive notices after 3 unanswered keepalives
      if (ka > 0) clock.setTimer(() => close({ kind: 'silent', reason: 'Keepalive timeout' }), (o.lifetime + 3 * ka) * 1000);
    }
    if (ka > 0 && o.mode !== 'closed-by-server' && ka >= o.T) {
      clock.setTimer(() => close({ kind: o.mode === 'reset' ? 'reset' : 'silent' }), (o.T + 3 * ka) * 1000);
    }
    const conn: IdleConnection = {
      closed,
      ping(timeoutMs) {
        const n = ++pingCount;
        return new Promise((resolve) => {
          if (ended) return resolve('closed-by-server');
          if (dead) return resolve(dead);
          if (o.goneAt !== undefined && s() >= o.goneAt) {
            clock.setTimer(() => resolve('silent'), timeoutMs);
            return;
          }
          const age = natAge();
          const pastLifetime = o.lifetime !== undefined && s() - openedAt >= o.lifetime;
          if (o.mode !== 'closed-by-server' && (age >= o.T || pastLifetime)) {
            if (o.mode === 'reset' && !pastLifetime) {
              clock.setTimer(() => {
                close({ kind: 'reset', reason: 'read ECONNRESET' });
                resolve('reset');
              }, rtt / 2);
            } else {
              dead = 'silent';
              clock.setTimer(() => resolve('silent'), timeoutMs);
            }
            return;
          }
          if (pastLifetime) {
            clock.setTimer(() => resolve('silent'), timeoutMs);
            return;
          }
          lastTraffic = s();
          if (o.lose?.(n, age)) {
            clock.setTimer(() => resolve('silent'), timeoutMs);
            return;
          }
          const delay = rtt + (o.lateMs?.(n) ?? 0);
          if (delay >= timeoutMs) {
            clock.setTimer(() => resolve('silent'), timeoutMs);
            return;
          }
          let done = false;
          clock.setTimer(() => {
            if (done) return;
            done = true;
            lastTraffic = s();
            resolve(dead ?? 'ok');
          }, delay);
          void closed.then((c) => {
            if (done) return;
            done = true;
            resolve(c.kind);
          });
        });
      },
      end() {
        if (ended) return;
        ended = true;
        if (!dead) {
          dead = 'closed-by-server';
          resolveClosed({ kind: 'closed-by-server', reason: 'ended by ssh-doctor', local: true });
        }
      },
    };
    return conn;
  };
  return { open, opened: () => opened, pings: () => pingCount };
}
