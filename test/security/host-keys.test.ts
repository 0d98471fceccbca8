// Host keys are always verified: a model-based property over arbitrary known_hosts files
// (plain, hashed, wildcard, @revoked and @cert-authority lines, for this host and others, with
// junk between them) and any offered key. A connection may go on only when the offered key is
// listed for this host and not revoked, or is exactly the one --accept-host-key fingerprint and
// not revoked. Nothing else is ever trusted: not an unknown host, not a changed key, not a
// wildcard `--accept-host-key`. (test/probes/connect.test.ts shows the same over a real
// connection, case by case.)

import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseAcceptHostKey } from '../../src/probes/connect.js';
import { fingerprint, hostKeyLookupName, lookupHostKeys, verifyHostKey } from '../../src/probes/known-hosts.js';
import { keyPair } from '../probes/server.js';

const KEYS = [keyPair('ed25519'), keyPair('ed25519'), keyPair('ed25519'), keyPair('rsa')];
const HOST = 'db1.example.com';

interface Entry {
  marker: '' | '@revoked ' | '@cert-authority ';
  who: 'exact' | 'hashed' | 'wildcard' | 'negated' | 'other';
  key: number;
}

function hostsField(who: Entry['who'], name: string): string {
  switch (who) {
    case 'exact':
      return name;
    case 'hashed': {
      const salt = randomBytes(20);
      return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    }
    case 'wildcard':
      return name.startsWith('[') ? `[*.example.com]:${name.split(':').pop()}` : '*.example.com';
    case 'negated':
      return `!${name},*`;
    case 'other':
      return 'db2.example.com,10.9.9.9';
  }
}

/** Whether the line's host field names the looked-up host (negation rules it out). */
const names = (who: Entry['who']) => who === 'exact' || who === 'hashed' || who === 'wildcard';

describe('host key verification (model)', () => {
  it('trusts a key only when listed for the host and not revoked, or when it is exactly the --accept-host-key one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ marker: fc.constantFrom<Entry['marker']>('', '', '@revoked ', '@cert-authority '), who: fc.constantFrom<Entry['who']>('exact', 'hashed', 'wildcard', 'negated', 'other'), key: fc.nat({ max: KEYS.length - 1 }) }), { maxLength: 8 }),
        fc.nat({ max: KEYS.length - 1 }),
        fc.oneof(fc.constant<number | null>(null), fc.nat({ max: KEYS.length - 1 })),
        fc.constantFrom(22, 2222),
        fc.array(fc.constantFrom('# comment', '', 'garbage line', `${HOST} ssh-ed25519 AAAA`, '@bogus * ssh-ed25519 AAAA'), { maxLength: 3 }),
        (entries, offeredIdx, acceptIdx, port, junk) => {
          const name = hostKeyLookupName(HOST, port);
          const lines = entries.map((e) => `${e.marker}${hostsField(e.who, name)} ${KEYS[e.key]!.public.trim().split(/\s+/).slice(0, 2).join(' ')}`);
          const text = [...junk, ...lines].join('\n');
          const lookup = lookupHostKeys(['kh'], HOST, port, { readFile: () => text });
          const offered = KEYS[offeredIdx]!.blob;
          const accept = acceptIdx === null ? undefined : fingerprint(KEYS[acceptIdx]!.blob);
          const v = verifyHostKey(offered, { lookup, host: HOST, port, files: ['kh'], ...(accept ? { acceptHostKey: accept } : {}) });

          const revoked = entries.some((e) => e.marker === '@revoked ' && names(e.who) && KEYS[e.key]!.blob.equals(offered));
          const listed = entries.some((e) => e.marker === '' && names(e.who) && KEYS[e.key]!.blob.equals(offered));
          const accepted = accept !== undefined && accept === fingerprint(offered);
          const trusted = v.status === 'verified' || v.status === 'accepted';
          expect(trusted).toBe(!revoked && (listed || accepted));
          if (revoked) expect(v.status).toBe('revoked');
          if (!trusted) expect('message' in v && v.message.length > 0).toBe(true);
        },
      ),
      { seed: 20261124, numRuns: 1500 },
    );
  });

  it('--accept-host-key takes one SHA256 fingerprint: no wildcard, no "any", no MD5', () => {
    for (const bad of ['*', 'any', 'yes', 'true', '', 'SHA256:*', 'SHA256:', 'MD5:aa:bb', 'aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99', `SHA256:${'A'.repeat(42)}`, `SHA256:${'A'.repeat(44)}`]) {
      expect(() => parseAcceptHostKey(bad), bad).toThrow(UsageError);
    }
    const fp = fingerprint(KEYS[0]!.blob);
    expect(parseAcceptHostKey(fp)).toBe(fp);
    expect(parseAcceptHostKey(`${fp}=`)).toBe(fp);
  });
});
