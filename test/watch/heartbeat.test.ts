// The heartbeat on real ssh2 connections to the embedded demo server (no root, no network):
// answered round trips, a reset from an idle-resetting middlebox, and a monitored watch end to
// end through the same resolution and host key checks as the live diagnosis.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from '../../src/engine/load.js';
import { startDemo, type Demo } from '../../src/demo/start.js';
import { connectSsh2 } from '../../src/probes/idle/connection.js';
import { diagnoseWatch } from '../../src/watch/analyse.js';
import { heartbeat } from '../../src/watch/heartbeat.js';
import { watchMonitor } from '../../src/watch/monitor.js';
import type { WatchSettings } from '../../src/watch/common.js';

let demo: Demo;
let dir: string;
beforeAll(async () => {
  demo = await startDemo({ idleTimeoutSeconds: 1.5, mode: 'reset' });
  dir = mkdtempSync(join(tmpdir(), 'ssh-doctor-watch-test-'));
});
afterAll(async () => {
  await demo.stop();
  rmSync(dir, { recursive: true, force: true });
});

const t0 = performance.now();
const now = () => Math.round(performance.now() - t0) / 1000;

describe('heartbeat', () => {
  it('records answered round trips, and a reset when the middlebox forgot the idle flow', async () => {
    const client = await connectSsh2(demo.connectConfig());
    const samples: Array<number | null> = [];
    const ctl = new AbortController();
    // 0.5 s apart the flow stays alive; then the test stops pinging for 2 s and pings again
    const first = heartbeat(client, { intervalMs: 500, silenceLimitMs: 10_000, now, medianRttMs: () => null, onSample: (_t, r) => samples.push(r), signal: ctl.signal });
    await new Promise((r) => setTimeout(r, 1300));
    ctl.abort();
    expect(await first).toBe('stopped');
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples.every((s) => s !== null && s >= 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    const end = await heartbeat(client, { intervalMs: 500, silenceLimitMs: 10_000, now, medianRttMs: () => null, onSample: () => undefined, signal: new AbortController().signal });
    expect(end).not.toBe('stopped');
    if (end === 'stopped') return;
    expect(end.kind).toBe('reset');
    expect(end.silentSince).toBeNull();
  });
});

describe('watch <host> against the demo', () => {
  it('holds one connection, sees the reset, reconnects, and names the cause', async () => {
    const key = join(dir, 'id');
    const known = join(dir, 'known_hosts');
    writeFileSync(key, demo.privateKey, { mode: 0o600 });
    writeFileSync(known, `${demo.knownHostsLine}\n`);
    const saved = join(dir, 'watch.json');
    const settings: WatchSettings = {
      count: 1,
      durationSeconds: 30,
      reconnectWaitSeconds: 10,
      intervalSeconds: 2.5, // longer than the middlebox's 1.5 s: the next heartbeat meets a forgotten flow
      silenceSeconds: null,
      saveEvidence: saved,
      redact: false,
      sudo: false,
      progress: null,
    };
    const r = await watchMonitor({ target: `${demo.user}@127.0.0.1`, port: demo.port, identity: [key], configFile: '/dev/null' }, settings, { knownHostsFile: known });
    expect(r.unreachable).toBe(false);
    const w = r.ev.measurements.watch!;
    expect(w.endedBy).toBe('drop');
    expect(w.drops).toHaveLength(1);
    expect(w.drops[0]).toMatchObject({ kind: 'reset', onTraffic: true, addressChanged: false, source: 'heartbeat' });
    expect(w.drops[0]!.server?.reconnectedAfterSeconds).not.toBeNull();
    const d = diagnoseWatch(r.ev, loadRules([]), r.shared);
    expect(d.causes[0]?.id).toBe('middlebox-idle-reset');
    // written as it went
    const bundle = JSON.parse(readFileSync(saved, 'utf8')) as { measurements: { watch: { drops: unknown[] } } };
    expect(bundle.measurements.watch.drops).toHaveLength(1);
  });
});
