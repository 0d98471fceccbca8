// Resource bounds, one by one, with stand-ins for a misbehaving target:
// - time per remote command: a target that never answers the channel request, or never confirms
//   the close, cannot hold a command past its limit (plus a short grace);
// - bytes per remote command: output beyond MAX_REMOTE_BYTES is cut, and the result says so;
// - time per probe: a probe that never finishes is recorded as failed at its limit, and told to
//   stop (its AbortSignal), so it does not run on unseen;
// - connections: the idle test never opens more than --max-connections (test/idle/schedule.test.ts
//   checks the schedule's own bound, about 30 whatever T).
// The flood test (flood.test.ts) shows the same against a real SSH server, end to end.

import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { emptyEvidence } from '../../src/evidence/types.js';
import { runIdleTest } from '../../src/probes/idle/idle-test.js';
import { SimClock } from '../../src/probes/idle/schedule.js';
import { fakePath } from '../../src/probes/idle/sim-path.js';
import { execBounded, MAX_REMOTE_BYTES } from '../../src/probes/remote-exec.js';
import { ProbeRunner, progressFor } from '../../src/probes/runner.js';
import { runCli } from '../cli/run-cli.js';

/** A channel that sends `chunks` and then behaves as told when closed. */
class FakeChannel extends EventEmitter {
  stderr = new EventEmitter();
  closes = 0;
  constructor(private readonly confirmClose: boolean) {
    super();
  }
  close(): void {
    this.closes++;
    if (this.confirmClose) setImmediate(() => this.emit('close'));
  }
}

/** A stand-in ssh2 Client whose exec answers with `channel` (or never, when null). */
function fakeClient(channel: FakeChannel | null, feed?: (ch: FakeChannel) => void): Client {
  return {
    exec(_command: string, cb: (err: Error | undefined, stream: FakeChannel) => void) {
      if (channel === null) return; // the request is never answered
      setImmediate(() => {
        cb(undefined, channel);
        feed?.(channel);
      });
    },
  } as unknown as Client;
}

describe('remote commands are bounded', () => {
  it('in time, when the target never answers the channel request', async () => {
    const t0 = Date.now();
    await expect(execBounded(fakeClient(null), 'true', { timeoutMs: 300 })).rejects.toThrow(/no answer/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('in time, when the command never ends and the target never confirms the close', async () => {
    const ch = new FakeChannel(false);
    const t0 = Date.now();
    const r = await execBounded(fakeClient(ch), 'sleep infinity', { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(ch.closes).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(300 + 2000 + 1000);
  });

  it('in bytes, on stdout and stderr, whatever keeps coming after the cut', async () => {
    const ch = new FakeChannel(false);
    const block = Buffer.alloc(64 * 1024, 0x41);
    const r = await execBounded(
      fakeClient(ch, (c) => {
        // 8 MiB on each stream, as fast as it goes, ignoring the close
        for (let i = 0; i < 128; i++) {
          c.emit('data', block);
          c.stderr.emit('data', block);
        }
      }),
      'yes',
      { timeoutMs: 5000 },
    );
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(MAX_REMOTE_BYTES);
    expect(r.stderr.length).toBe(MAX_REMOTE_BYTES);
  });
});

describe('probes are bounded in time', () => {
  it('a probe that never finishes is failed at its limit and told to stop', async () => {
    const ev = emptyEvidence();
    const runner = new ProbeRunner(ev, progressFor(false));
    let aborted = false;
    const t0 = Date.now();
    const r = await runner.run('stuck', 'A stuck probe', 200, (_update, signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise<never>(() => undefined);
    });
    expect(r).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(aborted).toBe(true);
    expect(ev.probes).toEqual([expect.objectContaining({ id: 'stuck', status: 'failed', detail: 'timed out after 0 s' })]);
    expect(ev.errors).toEqual(['stuck: timed out after 0 s']);
  });

  it('the idle test honours that signal: it stops and ends its connections', async () => {
    const clock = new SimClock();
    const p = fakePath({ clock, T: 600, mode: 'silent' });
    const limit = new AbortController();
    clock.setTimer(() => limit.abort(), 30_000);
    const m = await clock.run(runIdleTest(p.open, { idleMaxSeconds: 600, clock, signal: limit.signal }));
    expect(m.wallSeconds).toBeLessThan(35);
    expect(m.note).toMatch(/interrupted/);
  });
});

describe('connections are bounded', () => {
  it('the idle test never opens more than --max-connections, whatever the path', async () => {
    // the presence check's logins included (the target gone at the end makes it log in)
    for (const cap of [3, 4, 7]) {
      for (const goneAt of [undefined, 50]) {
        const clock = new SimClock();
        const p = fakePath({ clock, T: 40, mode: 'silent', lose: (n) => n % 3 === 0, ...(goneAt ? { goneAt } : {}) });
        await clock.run(runIdleTest(p.open, { idleMaxSeconds: 120, clock, maxConnections: cap })).catch(() => undefined);
        expect(p.opened(), `cap ${cap}`).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('fewer than 3 (an idle connection, the control, a presence check) is refused', async () => {
    const clock = new SimClock();
    const p = fakePath({ clock, T: 40, mode: 'silent' });
    await expect(clock.run(runIdleTest(p.open, { idleMaxSeconds: 60, clock, maxConnections: 2 }))).rejects.toThrow(/at least 3/);
    expect(runCli(['127.0.0.1', '--max-connections', '2']).code).toBe(2);
  });
});
