// Is the target still there? When idle connections die, two very different stories fit: the
// path (or sshd) ended idle connections, or the target itself went away (sshd stopped, the host
// went down, the path failed). Timers cannot tell them apart; what the target does next can. A
// check is a fresh TCP connect and SSH login, then a ping:
//  - it works: the target is there, so the deaths before it say something about idleness;
//  - it fails (refused, unreachable, timed out, closed before the login): either the target is
//    gone, or it only refuses new connections (a rate limit such as `ufw limit`, MaxStartups).
//    Connections that are known to be kept alive then vouch: if one of them still answers a
//    ping, the target is there and new connections are being limited; if none does, it is gone.
// The verdict is made once the evidence is in, never by racing timers. A "gone" verdict is
// final for the run: every probe that shares this object learns it (onGone).
import type { IdleConnection, OpenIdleConnection } from './connection.js';

export type Presence =
  | { present: true; at: number; how: string }
  | { present: false; at: number; error: string }
  /** No voucher answered and no login was allowed (a connection cap): the target's state is not known. */
  | { present: null; at: number; error: string };

export interface PresenceOptions {
  /** How long the new connection's ping, and a voucher's, may go unanswered (ms). */
  pingTimeoutMs: number;
  /** Seconds on the caller's clock (the idle test's). */
  now: () => number;
  debug?: (line: string) => void;
}

export class TargetLostError extends Error {
  override name = 'TargetLostError';
}

export class TargetPresence {
  private readonly vouchers = new Set<IdleConnection>();
  private last: { startedAt: number; result: Promise<Presence> } | undefined;
  private goneListeners: Array<(p: Presence & { present: false }) => void> = [];
  /** Whether a check may log in (a connection cap); asked before each login. */
  private mayLogIn: () => boolean = () => true;
  /** Set once a check found the target gone. */
  gone: (Presence & { present: false }) | undefined;
  /** Logins the checks tried, and those that worked (each is a connection on the target). */
  logins = 0;
  opened = 0;

  constructor(
    private readonly open: OpenIdleConnection,
    private readonly opts: PresenceOptions,
  ) {}

  /** A connection that is kept alive (keepalives on), able to say the target still answers; returns the undo. */
  vouch(conn: IdleConnection): () => void {
    this.vouchers.add(conn);
    return () => this.vouchers.delete(conn);
  }

  /** Seconds on this check's clock (for `since`). */
  now(): number {
    return this.opts.now();
  }

  limitLogins(mayLogIn: () => boolean): void {
    this.mayLogIn = mayLogIn;
  }

  onGone(fn: (p: Presence & { present: false }) => void): void {
    if (this.gone) fn(this.gone);
    else this.goneListeners.push(fn);
  }

  /**
   * A verdict made from a check started at or after `since` (seconds): one already under way or
   * done is shared, so several dying connections cost one login.
   */
  check(why: string, since: number = this.opts.now()): Promise<Presence> {
    if (this.gone) return Promise.resolve(this.gone);
    if (this.last && this.last.startedAt >= since) return this.last.result;
    const startedAt = this.opts.now();
    const result = this.run(why, startedAt);
    this.last = { startedAt, result };
    return result;
  }

  private async run(why: string, startedAt: number): Promise<Presence> {
    const debug = this.opts.debug ?? (() => {});
    debug(`presence: checking the target is still there (${why})`);
    // a kept-alive connection that still answers proves it at no cost of a login
    for (const v of [...this.vouchers]) {
      if ((await v.ping(this.opts.pingTimeoutMs)) === 'ok') return this.settle({ present: true, at: startedAt, how: 'a kept-alive connection answered' });
    }
    if (!this.mayLogIn()) return this.settle({ present: null, at: startedAt, error: 'no kept-alive connection answered, and the connection cap left no login to check with' });
    let failure: string;
    try {
      this.logins++;
      const conn = await this.open({ keepaliveIntervalMs: 0 });
      this.opened++;
      const r = await conn.ping(this.opts.pingTimeoutMs);
      conn.end();
      if (r === 'ok') return this.settle({ present: true, at: startedAt, how: 'a new connection logged in and answered' });
      failure = `a new connection logged in but did not answer a keepalive (${r})`;
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    // new connections fail and no kept-alive connection answered (a rate limit would have left them working)
    return this.settle({ present: false, at: startedAt, error: failure });
  }

  private settle(p: Presence): Presence {
    const debug = this.opts.debug ?? (() => {});
    debug(p.present ? `presence: the target is there: ${p.how}` : p.present === false ? `presence: the target is gone: ${p.error}` : `presence: unknown: ${p.error}`);
    if (p.present === false && !this.gone) {
      this.gone = p;
      for (const fn of this.goneListeners.splice(0)) fn(p);
    }
    return p;
  }
}
