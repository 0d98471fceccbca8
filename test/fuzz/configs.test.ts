// Fuzzing the config readers: `ssh -G` and `sshd -T` dumps, raw ssh_config and sshd_config with
// Include trees (an in-memory file system: self-includes, include fan-out, globs), the shared
// tokenizer, OpenSSH's pattern matcher and time format. Whatever the bytes: no throw (a missing
// top-level file is the only error), every line counted, bounded time and bounded Include work.

import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinArgs, matchPattern, MAX_INCLUDED_FILES, splitArgs, tokenizeConfigLine } from '../../src/parsers/config-syntax.js';
import { parseSshG } from '../../src/parsers/ssh-G.js';
import { resolveSshConfig } from '../../src/parsers/ssh-config.js';
import { parseSshdConfig } from '../../src/parsers/sshd-config.js';
import { parseSshdT } from '../../src/parsers/sshd-T.js';
import { parseTimeFormat, TIME_MAX_SECONDS } from '../../src/parsers/time-format.js';
import { check, CONTROL_CHARS, counted, countLines, fixtureLines, fixtures, mutationArb, mutate, reportCounts, textBytes, timed } from './gen.js';

reportCounts('configs');

const KEY = /^[a-z][a-z0-9]*$/;

function dumpInvariants(text: string, r: { config: { options: Record<string, string> }; stats: { lines: number; recognised: number; unparsed: number } }) {
  expect(r.stats.lines).toBe(countLines(text));
  expect(r.stats.recognised + r.stats.unparsed).toBeLessThanOrEqual(r.stats.lines);
  for (const [k, v] of Object.entries(r.config.options)) {
    expect(k).toMatch(KEY);
    expect(v).not.toMatch(CONTROL_CHARS);
  }
}

describe('dumps: ssh -G and sshd -T', () => {
  it('ssh -G: never throws, counts every line, keys are keywords, values hold no control characters', () => {
    check(
      fc.property(textBytes(fixtures('ssh-G.txt'), fixtureLines('ssh-G.txt')), (bytes) => {
        counted('ssh -G output');
        const text = bytes.toString('utf8');
        const { value, ms } = timed(() => parseSshG(text));
        dumpInvariants(text, value);
        expect(ms).toBeLessThan(1000);
      }),
      2000,
    );
  });

  it('sshd -T: the same, any version case', () => {
    check(
      fc.property(textBytes(fixtures('sshd-T.txt'), fixtureLines('sshd-T.txt')), (bytes) => {
        counted('sshd -T output');
        const text = bytes.toString('utf8');
        const { value, ms } = timed(() => parseSshdT(text));
        dumpInvariants(text, value);
        expect(ms).toBeLessThan(1000);
      }),
      2000,
    );
  });
});

// ---- raw configs over an in-memory file system ----

const SSH_VOCAB = [
  ...fixtureLines('ssh_config'),
  'Host *', 'Host db1 !db2 *.example.com', 'Host "quoted name"', 'Match host db1 user alice', 'Match all', 'Match exec "true"', 'Match canonical final',
  'Match !host x localuser y', 'Match tagged t', 'Match', 'HostName 10.0.0.1', 'HostName %h.example.com', 'ServerAliveInterval 30', 'ServerAliveInterval 1h30m',
  'ServerAliveInterval none', 'TCPKeepAlive no', 'ProxyJump bastion', 'ProxyCommand ssh -W %h:%p bastion', 'IdentityFile ~/.ssh/id_%r', 'SetEnv A=secret B="c d"',
  'Include f1', 'Include f1 f2 f3', 'Include f*', 'Include ~/x', 'Include /etc/ssh/ssh_config.d/*.conf', 'Include f0 f0 f0', 'Include "f 1"',
  '  ConnectTimeout=5', 'User=bob', 'SendEnv LANG LC_*', '# comment', '', 'IPQoS none', 'Tag t', 'Port 2222',
];
const SSHD_VOCAB = [
  ...fixtureLines('sshd_config'),
  'Match User alice', 'Match Address 10.0.0.0/8,!10.0.0.1', 'Match all', 'Match', 'ClientAliveInterval 2m', 'ClientAliveInterval 0', 'ClientAliveCountMax 3',
  'UnusedConnectionTimeout none', 'UnusedConnectionTimeout 1h', 'ChannelTimeout session:*=10m', 'MaxStartups 10', 'MaxStartups 10:30:100', 'LoginGraceTime 0',
  'Include f1', 'Include f1 f2 f3', 'Include f*', 'Include /etc/ssh/sshd_config.d/*.conf', 'Include f0 f0 f0', 'Subsystem sftp internal-sftp', 'Port 22',
  'ListenAddress 0.0.0.0', 'AcceptEnv LANG', '# comment', '', 'PermitRootLogin prohibit-password', 'TCPKeepAlive false', 'UsePAM yes',
];

const FILES = ['f0', 'f1', 'f2', 'f3', 'f 1'];

/** Five files in one directory, each from vocabulary lines with damage; f0 is the top one. */
function fileSystem(vocab: string[]): fc.Arbitrary<Map<string, string>> {
  const file = fc
    .tuple(fc.array(fc.constantFrom(...vocab), { maxLength: 30 }), fc.array(mutationArb, { maxLength: 2 }))
    .map(([lines, ms]) => ms.reduce<Buffer>((b, m) => mutate(b, m), Buffer.from(lines.join('\n'), 'utf8')).toString('utf8'));
  return fc.array(file, { minLength: FILES.length, maxLength: FILES.length }).map((texts) => new Map(FILES.map((f, i) => [f, texts[i]!])));
}

function memoryIo(dir: string, files: Map<string, string>) {
  let reads = 0;
  return {
    reads: () => reads,
    readFile: async (p: string) => {
      reads++;
      const text = path.dirname(p) === dir ? files.get(path.basename(p)) : undefined;
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    },
    readDir: async (d: string) => (d === dir ? [...files.keys()] : []),
  };
}

function configInvariants(r: { config: { options: Record<string, string>; conditional: Array<{ criteria: string; options: Record<string, string> }>; files?: string[] }; stats: { lines: number; recognised: number; unparsed: number } }) {
  expect(r.stats.recognised + r.stats.unparsed).toBeLessThanOrEqual(r.stats.lines);
  expect((r.config.files ?? []).length).toBeLessThanOrEqual(1 + MAX_INCLUDED_FILES);
  for (const opts of [r.config.options, ...r.config.conditional.map((c) => c.options)]) {
    for (const [k, v] of Object.entries(opts)) {
      expect(k).toMatch(KEY);
      expect(v).not.toMatch(CONTROL_CHARS);
    }
  }
  // SetEnv values never survive (secrets): only names
  const setenv = r.config.options['setenv'];
  if (setenv !== undefined) expect(setenv).not.toContain('secret B');
}

describe('raw configs with Include trees', () => {
  const dir = '/cfg';
  it('ssh_config: resolves any tree for any host without throwing; Include work is bounded', async () => {
    await check(
      fc.asyncProperty(fileSystem(SSH_VOCAB), fc.constantFrom('db1', 'db2.example.com', 'x', '10.0.0.1', '-oProxyCommand=x'), async (files, host) => {
        counted('ssh_config (Include trees)');
        const io = memoryIo(dir, files);
        const t0 = performance.now();
        const r = await resolveSshConfig(`${dir}/f0`, host, { home: '/home/u', localUser: 'u', ...io });
        const ms = performance.now() - t0;
        configInvariants(r);
        expect(io.reads()).toBeLessThanOrEqual(1 + MAX_INCLUDED_FILES);
        expect(r.config.options['hostname']).toBeDefined();
        expect(ms).toBeLessThan(3000);
      }),
      400,
    );
  });

  it('sshd_config: the same', async () => {
    await check(
      fc.asyncProperty(fileSystem(SSHD_VOCAB), async (files) => {
        counted('sshd_config (Include trees)');
        const io = memoryIo(dir, files);
        const t0 = performance.now();
        const r = await parseSshdConfig(`${dir}/f0`, io);
        const ms = performance.now() - t0;
        configInvariants(r);
        expect(io.reads()).toBeLessThanOrEqual(1 + MAX_INCLUDED_FILES);
        for (const k of ['clientaliveinterval', 'clientalivecountmax', 'maxstartups']) expect(r.config.options[k]).toBeDefined();
        expect(ms).toBeLessThan(3000);
      }),
      400,
    );
  });

  it('an Include fan-out (Include x x x in x: 3^16 reads by depth alone) stops at the budget, with a warning', async () => {
    for (const parse of [
      (io: ReturnType<typeof memoryIo>) => parseSshdConfig(`${dir}/f0`, io),
      (io: ReturnType<typeof memoryIo>) => resolveSshConfig(`${dir}/f0`, 'h', { home: '/home/u', localUser: 'u', ...io }),
    ]) {
      counted('Include bombs');
      const io = memoryIo(dir, new Map([['f0', 'Host *\nInclude f0 f0 f0\nPort 22\n']]));
      const t0 = performance.now();
      const r = await parse(io);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(io.reads()).toBeLessThanOrEqual(1 + MAX_INCLUDED_FILES);
      expect(r.warnings.join('\n')).toMatch(/included files in all/);
      expect(new Set(r.warnings).size).toBe(r.warnings.length);
    }
  });
});

describe('tokenizer and matcher', () => {
  const word = fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'b', ' ', '\t', '"', "'", '\\', '#', '=', ',', '*', '!', 'é') });

  it('any line tokenizes without throwing; keywords are lowercase keywords', () => {
    check(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (line) => {
        counted('config line tokenizer');
        const t = tokenizeConfigLine(line);
        if (t.kind === 'directive') {
          expect(t.keyword).toMatch(KEY);
          expect(t.args.length).toBeGreaterThan(0);
        }
      }),
      2000,
    );
  });

  it('joinArgs writes arguments that splitArgs reads back unchanged (Match criteria round-trip)', () => {
    check(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (args) => {
        counted('joinArgs/splitArgs round-trip');
        expect(splitArgs(joinArgs(args))).toEqual(args);
      }),
      1500,
    );
  });

  it('matchPattern agrees with a regular-expression reference and stays linear on hostile patterns', () => {
    const reference = (s: string, p: string) =>
      new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test(s);
    const small = fc.string({ maxLength: 10, unit: fc.constantFrom('a', 'b', '*', '?', '.') });
    check(
      fc.property(small, small, (s, p) => {
        counted('matchPattern (reference)');
        expect(matchPattern(s, p)).toBe(reference(s, p));
      }),
      2000,
    );
    check(
      fc.property(fc.integer({ min: 1000, max: 20000 }), fc.integer({ min: 2, max: 60 }), (n, stars) => {
        counted('matchPattern (hostile)');
        const s = 'a'.repeat(n);
        const p = `${'*a'.repeat(stars)}b`;
        const { value, ms } = timed(() => matchPattern(s, p));
        expect(value).toBe(false);
        expect(ms).toBeLessThan(200);
      }),
      30,
    );
  });

  it('time values: any text is seconds, none or invalid, never more than OpenSSH takes', () => {
    const timeText = fc.oneof(
      fc.string({ maxLength: 20, unit: fc.constantFrom('1', '0', '9', '.', 's', 'm', 'h', 'd', 'w', 'S', 'M', ' ', 'x') }),
      fc.string({ maxLength: 40, unit: 'binary' }),
      fc.constantFrom('none', 'NONE', '1h30m', '2147483647', '2147483648', '99999999999w', '.5s', '1.5m'),
    );
    check(
      fc.property(timeText, (t) => {
        counted('time format');
        const v = parseTimeFormat(t);
        if (typeof v === 'number') {
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(TIME_MAX_SECONDS);
        } else expect(v === null || v === undefined).toBe(true);
      }),
      2000,
    );
  });
});
