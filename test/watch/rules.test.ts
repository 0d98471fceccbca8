// The rules on watch timelines: the drop that actually happened, named from its context.
import { describe, expect, it } from 'vitest';
import { factsFrom } from '../../src/engine/facts.js';
import { loadRules } from '../../src/engine/load.js';
import { emptyEvidence, type Evidence, type WatchDrop, type WatchMeasurement } from '../../src/evidence/types.js';
import { ActivityTracker, clientContext, diagnoseWatch, matchDefault, wrappedKind } from '../../src/watch/analyse.js';

const rules = loadRules([]);

function watchEvidence(drops: WatchDrop[], extra: Partial<WatchMeasurement> = {}): Evidence {
  const ev = emptyEvidence(new Date('2026-11-24T08:00:00Z'));
  ev.target = { host: 'db1', port: 22, user: 'alice' };
  ev.measurements.watch = {
    mode: 'monitor',
    startedAt: '2026-11-24T01:00:00.000Z',
    endedAt: '2026-11-24T03:00:00.000Z',
    wallSeconds: 7200,
    endedBy: 'drop',
    heartbeatSeconds: 10,
    silenceLimitSeconds: 60,
    drops,
    rtt: { samples: 100, lost: 2, minMs: 20, medianMs: 22, p95Ms: 40, maxMs: 90 },
    samples: [],
    events: [],
    ...extra,
  };
  return ev;
}

const drop = (o: Partial<WatchDrop>): WatchDrop => ({
  at: '2026-11-24T02:00:05.000Z',
  t: 3605,
  source: 'heartbeat',
  kind: 'reset',
  idleBeforeSeconds: 9,
  onTraffic: true,
  responseSeconds: 0.03,
  secondsAfterResume: null,
  addressChanged: false,
  ...o,
});

describe('rules on watch evidence', () => {
  it("'dropped 3 s after resume from a 47-minute sleep' is network-change", () => {
    const ev = watchEvidence([drop({ secondsAfterResume: 3, sleptSeconds: 2820, server: { reconnectedAfterSeconds: 4, listenerRestarted: false, heldOldConnection: false } })]);
    const f = factsFrom(ev);
    expect(f.get('network.resumedAfterSleep')).toBe(true);
    expect(f.get('network.addressChanged')).toBe(false);
    const d = diagnoseWatch(ev, rules, []);
    expect(d.causes[0]?.id).toBe('network-change');
    expect(d.causes[0]?.evidence).toContain('watch: dropped 3 s after resume from a 47-minute sleep');
    expect(d.causes.map((c) => c.id)).not.toContain('middlebox-idle-reset');
    expect(ev.measurements.watch!.drops[0]!.causes).toEqual(d.causes.map((c) => c.id));
  });

  it("'dropped 241 s after the last traffic' is an idle timeout, and says which default it matches", () => {
    const m = matchDefault(30, 241);
    expect(m?.seconds).toBe(240);
    const ev = watchEvidence(
      [drop({ source: 'ssh', kind: 'silent', idleBeforeSeconds: 241, survivedIdleSeconds: 30, responseSeconds: 924, reason: 'client_loop: send disconnect: Broken pipe', matchedDefault: m! })],
      { mode: 'wrap', heartbeatSeconds: null, silenceLimitSeconds: null },
    );
    ev.client.config = { source: 'ssh -G', options: { serveraliveinterval: '0', tcpkeepalive: 'yes' }, conditional: [] };
    const d = diagnoseWatch(ev, rules, []);
    expect(d.causes[0]?.id).toBe('middlebox-idle-timeout');
    const text = d.causes[0]!.evidence.join('\n');
    expect(text).toMatch(/first traffic after 241 s idle/);
    expect(text).toMatch(/Azure load balancer/);
    expect(d.causes[0]!.fixes[0]!.snippet).toMatch(/ServerAliveInterval 60/);
  });

  it("'server rebooted at 02:00' is server-restart-or-kill", () => {
    const ev = watchEvidence([
      drop({ kind: 'closed-by-server', onTraffic: false, responseSeconds: null, server: { reconnectedAfterSeconds: 95, rebooted: true, bootedAt: '2026-11-24T02:00:41.000Z', listenerRestarted: true, uptimeSeconds: 60 } }),
    ]);
    const d = diagnoseWatch(ev, rules, []);
    expect(d.causes[0]?.id).toBe('server-restart-or-kill');
    expect(d.causes[0]?.evidence.join('\n')).toMatch(/rebooted during the session \(booted 2026-11-24 02:00:41/);
  });

  it('a reset while sshd still held the connection came from the path', () => {
    const ev = watchEvidence([drop({ server: { reconnectedAfterSeconds: 0.2, listenerRestarted: false, heldOldConnection: true } })]);
    const d = diagnoseWatch(ev, rules, []);
    expect(d.causes[0]?.id).toBe('middlebox-idle-reset');
    expect(d.causes.map((c) => c.id)).not.toContain('server-restart-or-kill');
  });

  it('a path silent longer than ClientAlive, then closed by sshd, is server-clientalive-timeout; not when sshd still held it', () => {
    const ev = watchEvidence([drop({ kind: 'closed-by-server', onTraffic: false, silentSeconds: 40, server: { reconnectedAfterSeconds: 1, listenerRestarted: false, heldOldConnection: false } })]);
    ev.server.config = { source: 'sshd_config', options: { clientaliveinterval: '15', clientalivecountmax: '2' }, conditional: [] };
    expect(diagnoseWatch(ev, rules, []).causes[0]?.id).toBe('server-clientalive-timeout');
    ev.measurements.watch!.drops[0]!.server!.heldOldConnection = true;
    ev.measurements.watch!.drops[0]!.silentSeconds = 10;
    expect(diagnoseWatch(ev, rules, []).causes.map((c) => c.id)).not.toContain('server-clientalive-timeout');
  });

  it('several drops: each diagnosed on its own, the causes merged', () => {
    const ev = watchEvidence([
      drop({ kind: 'silent', onTraffic: false, silentSeconds: 5, addressChanged: true, networkChanges: ['address 192.168.1.20/24 removed from wlan0'] }),
      drop({ at: '2026-11-24T02:30:00.000Z', t: 5400, kind: 'closed-by-server', onTraffic: false, server: { reconnectedAfterSeconds: 3, listenerRestarted: true } }),
    ]);
    const d = diagnoseWatch(ev, rules, []);
    expect(d.causes.map((c) => c.id).sort()).toEqual(['network-change', 'server-restart-or-kill']);
    expect(ev.measurements.watch!.drops.map((x) => x.causes?.[0])).toEqual(['network-change', 'server-restart-or-kill']);
    expect(d.causes.find((c) => c.id === 'network-change')!.evidence[0]).toMatch(/^drop 1 \(2026-11-24 02:00:05Z\): /);
  });

  it('a flow gone silent while sshd still held it, the path fine for a new one: the path dropped the flow', () => {
    const ev = watchEvidence([drop({ kind: 'silent', onTraffic: false, silentSeconds: 60, server: { reconnectedAfterSeconds: 0.3, listenerRestarted: false, heldOldConnection: true } })]);
    expect(diagnoseWatch(ev, rules, []).causes[0]?.id).toBe('middlebox-idle-timeout');
    // the same with the client's address changed is the address change
    ev.measurements.watch!.drops[0]!.addressChanged = true;
    expect(diagnoseWatch(ev, rules, []).causes.map((c) => c.id)).toEqual(['network-change']);
  });

  it('a watch with no drop has no cause', () => {
    expect(diagnoseWatch(watchEvidence([], { endedBy: 'duration' }), rules, []).causes).toEqual([]);
  });
});

describe('the drop from what was recorded', () => {
  it('measures the idle gap before the keystroke that met the failure, and the gaps survived', () => {
    const a = new ActivityTracker();
    a.output(1);
    a.input(2);
    a.output(2); // the echo
    a.input(32);
    a.output(32); // 30 s idle, and the session answered
    a.input(273); // 241 s later: no echo
    expect(a.beforeFailure(1197)).toEqual({ idleBeforeSeconds: 241, onTraffic: true, responseSeconds: 924, survivedIdleSeconds: 30 });
  });

  it('tells a reset from TCP giving up by how fast the failure answered', () => {
    const bp = new Set(['client-broken-pipe'] as const);
    expect(wrappedKind(bp, true, 0.02)).toBe('reset');
    expect(wrappedKind(bp, true, 900)).toBe('silent');
    expect(wrappedKind(new Set(['client-closed-by-remote'] as const), false, null)).toBe('closed-by-server');
  });

  it('takes sleeps and network changes since the connection opened as the context', () => {
    const events = [
      { t: 5, kind: 'address' as const, text: 'address 10.0.0.9/24 removed from wlan0' },
      { t: 100, kind: 'sleep' as const, text: 'resumed after 2820 s asleep (47 min)' },
      { t: 101, kind: 'link' as const, text: 'interface wlan0 up (was down)' },
    ];
    expect(clientContext(events, { since: 10, t: 103 })).toEqual({
      secondsAfterResume: 3,
      sleptSeconds: 2820,
      addressChanged: false,
      networkChanges: ['interface wlan0 up (was down)'],
    });
    expect(clientContext(events, { since: 0, t: 103 }).addressChanged).toBe(true);
  });
});
