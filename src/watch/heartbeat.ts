// The monitored connection's heartbeat: one keepalive@openssh.com request with want-reply every
// interval (OpenSSH answers each, so every answer is a timestamped round trip through sshd). An
// answer that takes longer than `lossAfter` counts as lost (the path went silent); the silence
// ends with the next answer. The connection counts as dropped when it closes (reset, closed by
// the server), when the path stays silent for `silenceLimit`, or sooner when the connection's
// own local address is gone from the client (it cannot come back then).
import type { Client } from 'ssh2';
import type { DropKind } from '../evidence/types.js';
import { classifyError } from '../probes/idle/connection.js';
import { destroyTransport, sendKeepalivePing } from '../probes/idle/ping.js';

export interface HeartbeatOptions {
  intervalMs: number;
  silenceLimitMs: number;
  /** Seconds on the watch's timebase. */
  now: () => number;
  /** Median round trip so far (ms), for the loss threshold. */
  medianRttMs: () => number | null;
  /** When the client last resumed from sleep (or the watcher from a stall), seconds; silence before it is not the path's. */
  lastResumeAt?: () => number | null;
  /** The address the connection was made from is no longer on any interface. */
  localAddressGone?: () => boolean;
  onSample: (t: number, rttMs: number | null) => void;
  onLateReply?: (rttMs: number) => void;
  /** The path was silent from `from` to `to` (seconds) and came back. */
  onOutage?: (from: number, to: number) => void;
  signal: AbortSignal;
}

export interface HeartbeatEnd {
  kind: DropKind;
  reason?: string;
  /** When the end was seen (seconds). */
  at: number;
  /** The last answered heartbeat (when its answer came). */
  lastReplyAt: number | null;
  /** The last heartbeat sent before the end. */
  lastSendAt: number | null;
  /** Since when the path had been silent, if it was. */
  silentSince: number | null;
}

interface Pending {
  sentAt: number;
  /** performance.now() at sending: round trips need better than the timebase's 10 ms. */
  sentMono: number;
  lost: boolean;
}

/** Lost when unanswered for this long: four median round trips, at least 2 s, at most the interval. */
export function lossAfterMs(intervalMs: number, medianRtt: number | null): number {
  return Math.min(Math.max(2000, 4 * (medianRtt ?? 0)), Math.max(2000, intervalMs));
}

export function heartbeat(client: Client, opts: HeartbeatOptions): Promise<HeartbeatEnd | 'stopped'> {
  return new Promise((resolve) => {
    const pending: Pending[] = [];
    let lastReplyAt: number | null = null;
    let lastSendAt: number | null = null;
    let silentSince: number | null = null;
    let firstError: (Error & { code?: unknown; level?: unknown }) | undefined;
    let done = false;

    const finish = (v: HeartbeatEnd | 'stopped'): void => {
      if (done) return;
      done = true;
      clearInterval(pinger);
      clearInterval(checker);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      opts.signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const end = (kind: DropKind, reason?: string): HeartbeatEnd => ({
      kind,
      ...(reason ? { reason } : {}),
      at: opts.now(),
      lastReplyAt,
      lastSendAt,
      silentSince,
    });

    const onError = (e: Error) => {
      firstError ??= e;
    };
    const onClose = () => {
      const c = classifyError(firstError);
      finish(end(c.kind, c.reason));
    };
    const onAbort = () => finish('stopped');
    client.on('error', onError);
    client.once('close', onClose);
    opts.signal.addEventListener('abort', onAbort);

    const ping = (): void => {
      if (done) return;
      const p: Pending = { sentAt: opts.now(), sentMono: performance.now(), lost: false };
      lastSendAt = p.sentAt;
      pending.push(p);
      try {
        sendKeepalivePing(client, (reply) => {
          if (reply instanceof Error) return; // the transport closed: onClose says how
          const idx = pending.indexOf(p);
          if (idx >= 0) pending.splice(idx, 1);
          const at = opts.now();
          const rtt = performance.now() - p.sentMono;
          lastReplyAt = at;
          if (p.lost) opts.onLateReply?.(rtt);
          else opts.onSample(p.sentAt, rtt);
          if (silentSince !== null) {
            opts.onOutage?.(silentSince, at);
            silentSince = null;
          }
        });
      } catch (e) {
        finish(end('closed-by-server', `cannot send a heartbeat: ${(e as Error).message}`));
      }
    };

    const check = (): void => {
      if (done) return;
      const now = opts.now();
      const limit = lossAfterMs(opts.intervalMs, opts.medianRttMs()) / 1000;
      for (const p of pending) {
        if (!p.lost && now - p.sentAt >= limit) {
          p.lost = true;
          opts.onSample(p.sentAt, null);
          silentSince ??= p.sentAt;
        }
      }
      if (silentSince === null) return;
      const resumed = opts.lastResumeAt?.() ?? null;
      if (resumed !== null && resumed > silentSince) {
        // asleep, nothing was sent or answered: the silence (if any) starts at the resume
        silentSince = resumed;
        if (lastSendAt === null || lastSendAt < resumed) ping();
      }
      const silent = now - silentSince;
      if (silent * 1000 >= opts.silenceLimitMs) {
        destroyTransport(client);
        finish(end('silent', `no answer to heartbeats for ${Math.round(silent)} s`));
      } else if (opts.localAddressGone?.() && silent >= Math.max(3, (2 * opts.intervalMs) / 1000)) {
        destroyTransport(client);
        finish(end('silent', "no answer to heartbeats since the connection's local address went away"));
      }
    };

    const pinger = setInterval(ping, opts.intervalMs);
    const checker = setInterval(check, Math.min(500, opts.intervalMs));
    ping();
  });
}
