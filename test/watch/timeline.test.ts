// The watch timeline as the terminal and Markdown reports draw it.
import { describe, expect, it } from 'vitest';
import type { WatchMeasurement } from '../../src/evidence/types.js';
import { renderWatchTimeline } from '../../src/report/watch-timeline.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTable } from '../../src/report/table.js';
import { buildReport } from '../../src/report/model.js';
import { emptyEvidence } from '../../src/evidence/types.js';

const m: WatchMeasurement = {
  mode: 'monitor',
  startedAt: '2026-11-24T01:00:00.000Z',
  endedAt: '2026-11-24T01:50:10.000Z',
  wallSeconds: 3010,
  endedBy: 'drop',
  heartbeatSeconds: 10,
  silenceLimitSeconds: 60,
  drops: [
    {
      at: '2026-11-24T01:50:03.000Z',
      t: 3003,
      source: 'heartbeat',
      kind: 'reset',
      idleBeforeSeconds: 2820,
      onTraffic: true,
      responseSeconds: 0.05,
      secondsAfterResume: 3,
      sleptSeconds: 2820,
      addressChanged: true,
      networkChanges: ['address 10.1.2.3/24 removed from wlan0', 'address 10.9.8.7/24 added on wlan0'],
      server: { reconnectedAfterSeconds: 4, listenerRestarted: false, heldOldConnection: false, logLines: ['Timeout, client not responding from user alice 10.1.2.3 port 50000'] },
      causes: ['network-change'],
    },
  ],
  rtt: { samples: 30, lost: 1, minMs: 20, medianMs: 22, p95Ms: 60, maxMs: 140 },
  samples: [
    { t: 0, rttMs: 21 },
    { t: 10, rttMs: 22 },
    { t: 20, rttMs: 95 },
    { t: 30, rttMs: null },
    { t: 40, rttMs: 22 },
    { t: 3003, rttMs: null },
  ],
  events: [
    { t: 0, kind: 'start', text: 'watching alice@db1:22' },
    { t: 0.1, kind: 'connected', text: 'connected to db1:22 from 10.1.2.3 port 50000' },
    { t: 180, kind: 'sleep', text: 'resumed after 2820 s asleep (47 min)' },
    { t: 3001, kind: 'address', text: 'address 10.1.2.3/24 removed from wlan0' },
    { t: 3003, kind: 'drop', text: 'dropped: the connection was reset' },
    { t: 3007, kind: 'reconnect', text: 'reconnected 4 s after the drop' },
  ],
};

describe('watch timeline', () => {
  it('draws the round trips, network changes, sleep and the connection, then the events and server lines', () => {
    const text = renderWatchTimeline(m, { width: 100 });
    const lines = text.split('\n');
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    const prose = text.replace(/\n {2}/g, ' '); // the summary is word-wrapped
    expect(prose).toMatch(/^Watch \(heartbeat every 10 s, a path silent 60 s counts as a drop\): 01:00:00Z to 01:50:10Z \(50 min\), 1 drop/);
    expect(prose).toMatch(/Drop 1 at 01:50:03Z \(\+50 min\): reset; .*3 s after resume from a 47 min sleep; the client's network changed/);
    expect(prose).toContain('Explained by: network-change.');
    const row = (label: string) => lines.find((l) => l.startsWith(label.padEnd(7)))!;
    expect(row('rtt')).toMatch(/^rtt {4}[.^x]/);
    expect(row('rtt')).toContain('x');
    expect(row('net')).toContain('A');
    expect(row('sleep')).toMatch(/z+/);
    expect(row('conn')).toMatch(/\|-+R/);
    expect(text).toContain('01:50:03Z  +50 min  dropped: the connection was reset');
    expect(text).toContain('  Timeout, client not responding from user alice 10.1.2.3 port 50000');
  });

  it('is part of the table and Markdown reports, the drawing in a code block', () => {
    const ev = emptyEvidence();
    ev.measurements.watch = m;
    const report = buildReport(ev, { causes: [], advisories: [], ruledOut: [] }, { startedAt: new Date('2026-11-24T01:00:00Z') });
    expect(renderTable(report, { color: false, width: 100 })).toContain('Drop 1 at 01:50:03Z');
    const md = renderMarkdown(report);
    expect(md).toMatch(/\*\*Watch\.\*\* Watch \(heartbeat/);
    expect(md).toMatch(/```text\ntime {3}/);
  });
});
