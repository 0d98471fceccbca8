// `--redact`: user names, host names and addresses are replaced by stable placeholders (host-1,
// user-1, addr-1). Property over generated evidence, with the values in structured fields and
// only in free text (errors, probe details, log lines): no value survives in the report or the
// bundle; one value has one placeholder, the same in the report and in the bundle saved by the
// same run (they are redacted separately); two values never share one; the output is the same
// every time. (test/cli/explain.test.ts checks the CLI flag on a log.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/evaluate.js';
import { loadRules } from '../../src/engine/load.js';
import { Redactor } from '../../src/evidence/redact.js';
import { emptyEvidence, type Evidence, type EventSummary } from '../../src/evidence/types.js';
import { buildReport } from '../../src/report/model.js';

const RULES = loadRules();
const lower = fc.string({ minLength: 3, maxLength: 8, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')) });
const userArb = lower.map((s) => `usr${s}`);
const hostArb = fc.tuple(lower, fc.constantFrom('example.net', 'corp.example.org', 'lan')).map(([a, b]) => `h${a}.${b}`);
const addrArb = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`);
const ADDRS = 5;

function event(type: EventSummary['type'], text: string, fields: EventSummary['fields']): EventSummary {
  const ref = { text, source: 'auth.log', line: 1 };
  return { type, side: 'server', count: 1, sample: ref, last: ref, fields };
}

function evidence(users: string[], hosts: string[], addrs: string[]): Evidence {
  const ev = emptyEvidence(new Date('2026-11-24T10:00:00Z'));
  ev.target = { host: hosts[0]!, port: 22, user: users[0]! };
  ev.client.config = { source: 'ssh -G', options: { hostname: hosts[0]!, user: users[0]!, serveraliveinterval: '0', proxyjump: `${users[2]}@${hosts[1]}:2222` }, conditional: [] };
  ev.events = [
    event('server-accepted', `Accepted publickey for ${users[0]} from ${addrs[0]} port 51234 ssh2`, { user: users[0]!, addr: addrs[0]! }),
    event('server-clientalive-timeout', `Timeout, client not responding from user ${users[1]} ${addrs[1]} port 4711`, { user: users[1]!, addr: addrs[1]! }),
    // an address only in a log line's text (the bundle has it, the report does not)
    event('server-closed-preauth', `Connection closed by ${addrs[3]} port 4711 [preauth]`, {}),
  ];
  // values that appear only in free text, as ssh and ssh-doctor word them
  ev.errors.push(
    `handshake: ProxyJump ${users[2]}@${hosts[1]}:2222 failed (exit status 255): channel 0: open failed: connect failed: No route to host`,
    `proxy: ssh: connect to host ${hosts[2]} port 22: Connection refused`,
    `user-ssh: Connection closed by ${addrs[2]} port 22`,
  );
  ev.probes.push({ id: 'client-config', status: 'ok', durationMs: 3, detail: `${users[0]}@${hosts[0]}:22, resolved to ${addrs[4]}` });
  return ev;
}

describe('--redact', () => {
  it('no value survives; one value, one placeholder, the same in the report and the bundle; deterministic', () => {
    fc.assert(
      fc.property(fc.uniqueArray(userArb, { minLength: 3, maxLength: 3 }), fc.uniqueArray(hostArb, { minLength: 3, maxLength: 3 }), fc.uniqueArray(addrArb, { minLength: ADDRS, maxLength: ADDRS }), (users, hosts, addrs) => {
        const ev = evidence(users, hosts, addrs);
        const report = buildReport(ev, diagnose(ev, RULES), { startedAt: new Date(0), finishedAt: new Date(1), redact: true });
        const bundle = new Redactor(ev).deep(ev);
        const r = JSON.stringify(report);
        const b = JSON.stringify(bundle);
        for (const v of [...users, ...hosts, ...addrs]) {
          expect(r.includes(v), `report keeps ${v}`).toBe(false);
          expect(b.includes(v), `bundle keeps ${v}`).toBe(false);
        }
        // the same text redacted by the report's and the bundle's redactor is the same
        expect(report.errors).toEqual(bundle.errors);
        expect(report.probes).toEqual(bundle.probes);
        expect(report.target).toEqual(bundle.target);
        // one placeholder per value, none shared
        const placeholders = new Map<string, string>();
        const rd = new Redactor(ev);
        rd.deep(ev);
        for (const v of [...users, ...hosts, ...addrs]) {
          const p = rd.text(v);
          expect(p).toMatch(/^(user|host|addr)-\d+$/);
          expect([...placeholders.values()]).not.toContain(p);
          placeholders.set(v, p);
        }
        expect(bundle.target?.host).toBe(placeholders.get(hosts[0]!));
        expect(bundle.target?.user).toBe(placeholders.get(users[0]!));
        // deterministic
        expect(JSON.stringify(buildReport(ev, diagnose(ev, RULES), { startedAt: new Date(0), finishedAt: new Date(1), redact: true }))).toBe(r);
      }),
      { seed: 20261124, numRuns: 300 },
    );
  });
});
