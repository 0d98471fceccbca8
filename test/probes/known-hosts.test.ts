import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blobKeyType,
  fingerprint,
  hostKeyAlgorithmsFor,
  hostKeyLookupName,
  hostsFieldMatches,
  lookupHostKeys,
  normaliseFingerprint,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/probes/known-hosts.js';
import { keyPair, tempDir, type KeyPair } from './server.js';

const hasKeygen = existsSync('/usr/bin/ssh-keygen') || existsSync('/usr/local/bin/ssh-keygen');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  let ed: KeyPair;
  let ed2: KeyPair;
  let rsa: KeyPair;
  const tmp = tempDir();
  beforeAll(() => {
    ed = keyPair('ed25519');
    ed2 = keyPair('ed25519');
    rsa = keyPair('rsa');
  });
  afterAll(() => tmp.cleanup());

  it('fingerprints exactly as ssh-keygen -lf prints them', () => {
    expect(fingerprint(ed.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    if (!hasKeygen) return;
    for (const k of [ed, rsa]) {
      const f = tmp.write(`k${Math.random()}.pub`, `${k.public}\n`);
      const out = execFileSync('ssh-keygen', ['-lf', f], { encoding: 'utf8' });
      expect(out.split(' ')[1]).toBe(fingerprint(k.blob));
    }
  });

  it('normalises user-given fingerprints', () => {
    const fp = fingerprint(ed.blob);
    expect(normaliseFingerprint(fp)).toBe(fp);
    expect(normaliseFingerprint(`${fp}=`)).toBe(fp);
    expect(normaliseFingerprint(`sha256:${fp.slice(7)}`)).toBe(fp);
    expect(normaliseFingerprint('MD5:aa:bb')).toBeNull();
    expect(normaliseFingerprint('SHA256:short')).toBeNull();
  });

  it('names the lookup like put_host_port, with HostKeyAlias winning', () => {
    expect(hostKeyLookupName('Example.COM', 22)).toBe('example.com');
    expect(hostKeyLookupName('example.com', 2222)).toBe('[example.com]:2222');
    expect(hostKeyLookupName('example.com', 2222, 'myalias')).toBe('myalias');
  });

  it('parses markers, patterns, comments and junk', () => {
    const text = [
      '# a comment',
      '',
      `host1,host2 ${ed.public} comment here`,
      `@cert-authority *.example.com ${ed2.public}`,
      `@revoked * ${rsa.public}`,
      '@bogus host1 ssh-ed25519 AAAA',
      'host3 ssh-ed25519 !!!notbase64!!!',
      'host4 ssh-rsa', // too short
      'host5 1024 35 1234567', // SSH-1 key
      `host6 ssh-rsa ${ed.public.split(' ')[1]}`, // type field disagrees with blob
      '\u0000\u0001 binary junk',
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(entries.map((e) => [e.marker ?? '', e.hosts, e.type, e.line])).toEqual([
      ['', 'host1,host2', 'ssh-ed25519', 3],
      ['cert-authority', '*.example.com', 'ssh-ed25519', 4],
      ['revoked', '*', 'ssh-rsa', 5],
    ]);
    expect(blobKeyType(entries[2].blob)).toBe('ssh-rsa');
  });

  it('matches wildcards, negation, [host]:port and hashed names', () => {
    expect(hostsFieldMatches('*.example.com,!bad.example.com', 'good.example.com')).toBe(true);
    expect(hostsFieldMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(hostsFieldMatches('web?', 'web1')).toBe(true);
    expect(hostsFieldMatches('web?', 'web12')).toBe(false);
    expect(hostsFieldMatches('EXAMPLE.com', 'example.com')).toBe(true);
    expect(hostsFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(hostsFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
    expect(hostsFieldMatches(hashed('[10.0.0.1]:2200'), '[10.0.0.1]:2200')).toBe(true);
    expect(hostsFieldMatches(hashed('10.0.0.1'), '10.0.0.2')).toBe(false);
    expect(hostsFieldMatches('|1|garbage|x', 'x')).toBe(false);
  });

  it('agrees with ssh-keygen -H hashing and ssh-keygen -F lookup', () => {
    if (!hasKeygen) return;
    const f = tmp.write('hashme', `[127.0.0.1]:2222 ${ed.public}\nplain.example ${rsa.public}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore' });
    const text = readFileSync(f, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    const r = lookupHostKeys([f], '127.0.0.1', 2222);
    expect(r.keys.map((k) => fingerprint(k.blob))).toEqual([fingerprint(ed.blob)]);
    expect(lookupHostKeys([f], 'plain.example', 22).keys.map((k) => k.type)).toEqual(['ssh-rsa']);
    expect(lookupHostKeys([f], '127.0.0.1', 22).keys).toEqual([]);
  });

  it('looks up over several files, skipping missing ones, with file:line', () => {
    const a = tmp.write('kh-a', `other ${ed2.public}\n[h.example]:2200 ${ed.public}\n`);
    const b = tmp.write('kh-b', `@revoked h.example,[h.example]:2200 ${rsa.public}\n@cert-authority [*.example]:* ${ed2.public}\n`);
    const r = lookupHostKeys([a, '/nonexistent/known_hosts', b], 'h.example', 2200);
    expect(r.name).toBe('[h.example]:2200');
    expect(r.filesRead).toEqual([a, b]);
    expect(r.keys).toHaveLength(1);
    expect(r.keys[0]).toMatchObject({ file: a, line: 2, type: 'ssh-ed25519' });
    expect(r.revoked).toHaveLength(1);
    expect(r.revoked[0].equals(rsa.blob)).toBe(true);
    expect(r.certAuthorities).toHaveLength(1);
    expect(r.warnings).toEqual([]);
    const aliased = lookupHostKeys([a], 'h.example', 2200, { hostKeyAlias: 'other' });
    expect(aliased.keys.map((k) => k.line)).toEqual([1]);
  });

  it('offers only the host key algorithms of the known types', () => {
    const k = (type: string) => ({ type, blob: Buffer.alloc(0), file: 'f', line: 1 });
    expect(hostKeyAlgorithmsFor([k('ssh-rsa')])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor([k('ssh-rsa'), k('ssh-ed25519')])).toEqual(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor([k('ssh-rsa'), k('ssh-ed25519')], ['rsa-sha2-256', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519'])).toEqual([
      'rsa-sha2-256',
      'ssh-ed25519',
    ]);
    expect(hostKeyAlgorithmsFor([k('sk-ssh-ed25519@openssh.com')])).toEqual([]);
  });

  describe('verifyHostKey', () => {
    const ctx = (text: string, extra: { acceptHostKey?: string } = {}) => {
      const f = tmp.write(`v${Math.random()}`, text);
      return { lookup: lookupHostKeys([f], 'h.example', 2222), host: 'h.example', port: 2222, files: [f], ...extra };
    };

    it('verifies a listed key', () => {
      const v = verifyHostKey(ed.blob, ctx(`[h.example]:2222 ${ed.public}\n`));
      expect(v.status).toBe('verified');
    });

    it('reports a mismatch with expected and offered fingerprints and file:line', () => {
      const c = ctx(`# x\n[h.example]:2222 ${ed2.public}\n`);
      const v = verifyHostKey(ed.blob, c);
      expect(v.status).toBe('mismatch');
      if (v.status !== 'mismatch') return;
      expect(v.expected).toEqual([fingerprint(ed2.blob)]);
      expect(v.message).toContain(fingerprint(ed2.blob));
      expect(v.message).toContain(fingerprint(ed.blob));
      expect(v.message).toContain(`${c.files[0]}:2`);
      expect(v.message).not.toMatch(/\n/);
    });

    it('never trusts an unknown host, and says how to add it', () => {
      const v = verifyHostKey(ed.blob, ctx(`other ${ed.public}\n`));
      expect(v.status).toBe('unknown');
      if (v.status !== 'unknown') return;
      expect(v.message).toContain('ssh-keyscan -p 2222 -t ed25519 h.example >> ~/.ssh/known_hosts');
      expect(v.message).toContain(`--accept-host-key ${fingerprint(ed.blob)}`);
      expect(v.message).toContain('out of band');
    });

    it('accepts exactly the --accept-host-key fingerprint', () => {
      expect(verifyHostKey(ed.blob, ctx('', { acceptHostKey: fingerprint(ed.blob) })).status).toBe('accepted');
      const wrong = verifyHostKey(ed.blob, ctx('', { acceptHostKey: fingerprint(ed2.blob) }));
      expect(wrong.status).toBe('mismatch');
      expect(wrong.expected).toContain(fingerprint(ed2.blob));
    });

    it('refuses @revoked keys even when also listed or accepted', () => {
      const text = `[h.example]:2222 ${ed.public}\n@revoked * ${ed.public}\n`;
      expect(verifyHostKey(ed.blob, ctx(text)).status).toBe('revoked');
      expect(verifyHostKey(ed.blob, ctx(text, { acceptHostKey: fingerprint(ed.blob) })).status).toBe('revoked');
    });

    it('reports hosts known only through @cert-authority as unsupported', () => {
      const v = verifyHostKey(ed.blob, ctx(`@cert-authority [*.example]:* ${ed2.public}\n`));
      expect(v.status).toBe('unsupported');
      if (v.status === 'unsupported') expect(v.unsupported).toBe('host-certificate');
    });
  });
});
