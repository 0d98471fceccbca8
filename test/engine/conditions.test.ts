import { describe, expect, it } from 'vitest';
import { holds } from '../../src/engine/conditions.js';
import { Facts } from '../../src/engine/facts.js';
import { render } from '../../src/engine/template.js';
import { channelTimeoutFor, keepaliveFix, matchMiddleboxDefault, opensshVersionNumber } from '../../src/engine/values.js';

function facts(obj: Record<string, string | number | boolean | null>): Facts {
  const f = new Facts();
  for (const [k, v] of Object.entries(obj)) f.set(k, v);
  return f;
}

describe('conditions', () => {
  const f = facts({ 'client.serveraliveinterval': 0, 'idle.dropKind': 'silent', 'idle.low': 18, 'idle.high': 19.5, 'client.ipqos': 'af21 cs1' });

  it('compares numbers and strings, case-insensitively for strings', () => {
    expect(holds({ fact: 'client.serveraliveinterval', eq: 0 }, f)).toBe(true);
    expect(holds({ fact: 'idle.dropKind', eq: 'SILENT' }, f)).toBe(true);
    expect(holds({ fact: 'idle.low', lt: 19 }, f)).toBe(true);
    expect(holds({ fact: 'idle.low', gte: 19 }, f)).toBe(false);
    expect(holds({ fact: 'idle.dropKind', in: ['reset', 'silent'] }, f)).toBe(true);
    expect(holds({ fact: 'client.ipqos', matches: '\\baf21\\b' }, f)).toBe(true);
  });

  it('compares a fact with another fact', () => {
    expect(holds({ fact: 'idle.high', gt: { fact: 'idle.low' } }, f)).toBe(true);
    expect(holds({ fact: 'idle.low', gt: { fact: 'idle.high' } }, f)).toBe(false);
    expect(holds({ fact: 'idle.low', gt: { fact: 'nothing.here' } }, f)).toBe(false);
  });

  it('never fires on an unknown fact, except exists: false', () => {
    expect(holds({ fact: 'server.clientaliveinterval', eq: 0 }, f)).toBe(false);
    expect(holds({ fact: 'server.clientaliveinterval', ne: 0 }, f)).toBe(false);
    expect(holds({ fact: 'server.clientaliveinterval', exists: false }, f)).toBe(true);
    expect(holds({ not: { fact: 'server.clientaliveinterval', eq: 0 } }, f)).toBe(true);
  });

  it('combines with all / any / not', () => {
    expect(holds({ all: [{ fact: 'idle.low', gt: 1 }, { any: [{ fact: 'idle.dropKind', eq: 'reset' }, { fact: 'idle.high', exists: true }] }] }, f)).toBe(true);
    expect(holds({ all: [{ fact: 'idle.low', gt: 1 }, { not: { fact: 'idle.high', exists: true } }] }, f)).toBe(false);
  });
});

describe('keepalive fix value (CAUSES.md)', () => {
  it.each([
    [18, undefined, 5],
    [240, undefined, 60],
    [150, undefined, 45],
    [100, undefined, 30],
    [61, undefined, 20],
    [45, undefined, 15],
    [30, undefined, 10],
    [9, undefined, 3],
    [undefined, 350, 60],
    [undefined, undefined, 60],
  ])('low %s, matched default %s -> %s s', (low, matched, want) => {
    expect(keepaliveFix(low, matched).value).toBe(want);
  });

  it('matches known middlebox defaults only inside the bracket', () => {
    expect(matchMiddleboxDefault({ low: 235, high: 245 })?.seconds).toBe(240);
    expect(matchMiddleboxDefault({ low: 345, high: 352 })?.seconds).toBe(350);
    expect(matchMiddleboxDefault({ low: 18, high: 19.5 })).toBeUndefined();
  });
});

describe('ChannelTimeout by server version', () => {
  it('9.2-9.6 understand session:* and ignore plain session', () => {
    expect(channelTimeoutFor('session:*=5m', 9.2)).toMatchObject({ seconds: 300, ignored: undefined });
    expect(channelTimeoutFor('session=5m', 9.2)).toMatchObject({ seconds: undefined, ignored: 'session=5m' });
  });
  it('9.7+ understand session and ignore session:*', () => {
    expect(channelTimeoutFor('session=10m global=1h', 9.7)).toMatchObject({ seconds: 600 });
    expect(channelTimeoutFor('session:*=10m', 10.0)).toMatchObject({ seconds: undefined, ignored: 'session:*=10m' });
  });
  it('unknown version takes either spelling', () => {
    expect(channelTimeoutFor('session:*=30', undefined).seconds).toBe(30);
  });
});

describe('versions and templates', () => {
  it('reads OpenSSH versions from banners and log hints', () => {
    expect(opensshVersionNumber('OpenSSH_9.2p1 Debian-2+deb12u3')).toBe(9.2);
    expect(opensshVersionNumber('SSH-2.0-OpenSSH_10.0')).toBe(10);
    expect(opensshVersionNumber('>=9.8')).toBe(9.8);
    expect(opensshVersionNumber('dropbear_2022.83')).toBeUndefined();
  });
  it('substitutes facts, honours defaults, refuses holes', () => {
    const f = facts({ 'target.host': 'db1', 'fix.keepalive': 45, 'event.x.at': '2026-11-24T10:07:01' });
    expect(render('Host {target.host}\n  ServerAliveInterval {fix.keepalive}', f)).toBe('Host db1\n  ServerAliveInterval 45');
    expect(render('user {target.user|*}', f)).toBe('user *');
    expect(render('user {target.user}', f)).toBeNull();
    expect(render('at {event.x.at}', f)).toBe('at 2026-11-24 10:07:01');
  });
});
