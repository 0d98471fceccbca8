import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitArgs, tokenizeConfigLine } from '../../src/parsers/config-syntax.js';
import { parseSshG } from '../../src/parsers/ssh-G.js';
import { resolveSshConfig } from '../../src/parsers/ssh-config.js';
import { parseSshdT } from '../../src/parsers/sshd-T.js';
import { parseSshdConfig } from '../../src/parsers/sshd-config.js';
import { parseTimeFormat, timeAsPrinted } from '../../src/parsers/time-format.js';

/** An in-memory file system for readFile/readDir. */
function memfs(files: Record<string, string>) {
  const read: string[] = [];
  return {
    read,
    readFile: async (p: string) => {
      read.push(p);
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files[p];
    },
    readDir: async (dir: string) => {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      return [...new Set(Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length).split('/')[0]))];
    },
  };
}

const HOME = '/home/alice';

async function resolve(text: string, host: string, extra: Record<string, string> = {}, user?: string) {
  const fs = memfs({ [`${HOME}/.ssh/config`]: text, ...extra });
  return resolveSshConfig(`${HOME}/.ssh/config`, host, { home: HOME, localUser: 'alice', user, readFile: fs.readFile, readDir: fs.readDir });
}

describe('time formats', () => {
  it.each([
    ['300', 300],
    ['0', 0],
    ['5m', 300],
    ['1h30m', 5400],
    ['90M', 5400],
    ['2d', 172800],
    ['1w', 604800],
    ['1.5s', 1],
    ['10s', 10],
    ['1h30', 3630],
  ])('%s -> %d seconds', (text, seconds) => {
    expect(parseTimeFormat(text)).toBe(seconds);
  });

  it('none is null, invalid is undefined', () => {
    expect(parseTimeFormat('none')).toBeNull();
    expect(parseTimeFormat('NONE')).toBeNull();
    for (const bad of ['', '5x', '-5', '1.5m', '5 m', '5s5', 'm', '99999999999']) expect(parseTimeFormat(bad)).toBeUndefined();
  });

  it('prints like sshd -T', () => {
    expect(timeAsPrinted('2m')).toBe('120');
    expect(timeAsPrinted('none')).toBe('none');
    expect(timeAsPrinted('soon')).toBe('soon');
  });
});

describe('config line syntax', () => {
  it('keyword value, Keyword=value, Keyword = value, case-insensitive keyword', () => {
    expect(tokenizeConfigLine('ServerAliveInterval 30')).toEqual({ kind: 'directive', keyword: 'serveraliveinterval', args: ['30'] });
    expect(tokenizeConfigLine('  ServerAliveInterval=30')).toMatchObject({ keyword: 'serveraliveinterval', args: ['30'] });
    expect(tokenizeConfigLine('\tSERVERALIVEINTERVAL = 30  ')).toMatchObject({ keyword: 'serveraliveinterval', args: ['30'] });
  });

  it('quotes, escapes and comments', () => {
    expect(splitArgs('"/path with space/id" other # comment')).toEqual(['/path with space/id', 'other']);
    expect(splitArgs("'single quoted' a\\ b x#y")).toEqual(['single quoted', 'a b', 'x#y']);
    expect(tokenizeConfigLine('ProxyCommand "unterminated')).toMatchObject({ kind: 'junk' });
    expect(tokenizeConfigLine('# only a comment')).toEqual({ kind: 'blank' });
    expect(tokenizeConfigLine('   ')).toEqual({ kind: 'blank' });
  });

  it('junk lines', () => {
    expect(tokenizeConfigLine('\u0000\u0001binary')).toMatchObject({ kind: 'junk' });
    expect(tokenizeConfigLine('debug1: Reading configuration data')).toMatchObject({ kind: 'junk' });
    expect(tokenizeConfigLine('KeywordWithoutValue')).toMatchObject({ kind: 'junk', reason: 'no argument' });
    expect(tokenizeConfigLine('Port # no value')).toMatchObject({ kind: 'junk' });
  });
});

describe('parseSshG', () => {
  // shape of OpenSSH 9.2 `ssh -G example.com` (trimmed), with an IdentityFile list
  const dump = [
    'host example.com',
    'user alice',
    'hostname example.com',
    'port 22',
    'addressfamily any',
    'batchmode no',
    'tcpkeepalive yes',
    'serveralivecountmax 3',
    'serveraliveinterval 0',
    'connecttimeout none',
    'ipqos af21 cs1',
    'identityfile ~/.ssh/id_rsa',
    'identityfile ~/.ssh/id_ed25519',
    'proxycommand sshpass -p hunter2 ssh -W %h:%p bastion.example.com',
    'setenv LANG=C TOKEN=abc',
    'channeltimeout none',
    '',
  ].join('\n');

  it('reads options, joins repeated keys, takes host from the host line', () => {
    const { config, stats } = parseSshG(dump);
    expect(config.source).toBe('ssh -G');
    expect(config.host).toBe('example.com');
    expect(config.options.serveraliveinterval).toBe('0');
    expect(config.options.serveralivecountmax).toBe('3');
    expect(config.options.ipqos).toBe('af21 cs1');
    expect(config.options.connecttimeout).toBe('none');
    expect(config.options.identityfile).toBe('~/.ssh/id_rsa ~/.ssh/id_ed25519');
    expect(config.conditional).toEqual([]);
    expect(stats).toEqual({ lines: 16, recognised: 16, unparsed: 0 });
  });

  it('scrubs secrets in option values', () => {
    const { config } = parseSshG(dump);
    expect(config.options.proxycommand).not.toContain('hunter2');
    expect(config.options.setenv).toBe('LANG=[secret] TOKEN=[secret]');
  });

  it('Debian ≤7.7 ToS names, prompts and junk', () => {
    const text = '$ ssh -G example.com\nipqos lowdelay throughput\nWarning: something\n\u0000\u0000\u0007\nserveraliveinterval 15\r\n';
    const { config, stats } = parseSshG(text);
    expect(config.options.ipqos).toBe('lowdelay throughput');
    expect(config.options.serveraliveinterval).toBe('15');
    expect(config.host).toBeUndefined();
    expect(stats).toEqual({ lines: 5, recognised: 2, unparsed: 3 });
  });

  it('caps huge lines', () => {
    const { config, stats } = parseSshG(`identityfile ${'x'.repeat(100_000)}\nport 22\n`);
    expect(config.options.identityfile.length).toBeLessThanOrEqual(16 * 1024);
    expect(config.options.port).toBe('22');
    expect(stats.lines).toBe(2);
  });
});

describe('parseSshdT', () => {
  it('lowercase dump (≤10.3)', () => {
    const text = [
      'port 22',
      'addressfamily any',
      'listenaddress [::]:22',
      'listenaddress 0.0.0.0:22',
      'logingracetime 120',
      'clientaliveinterval 0',
      'clientalivecountmax 3',
      'unusedconnectiontimeout none',
      'tcpkeepalive yes',
      'channeltimeout none',
      'maxstartups 10:30:100',
      'ipqos af21 cs1',
      'subsystem sftp /usr/lib/openssh/sftp-server',
    ].join('\n');
    const { config, stats } = parseSshdT(text);
    expect(config.source).toBe('sshd -T');
    expect(config.options.clientaliveinterval).toBe('0');
    expect(config.options.maxstartups).toBe('10:30:100');
    expect(config.options.listenaddress).toBe('[::]:22 0.0.0.0:22');
    expect(config.options.subsystem).toBe('sftp /usr/lib/openssh/sftp-server');
    expect(stats).toEqual({ lines: 13, recognised: 13, unparsed: 0 });
  });

  it('mixed-case dump (10.4/10.5) is lowercased', () => {
    const text = 'LoginGraceTime 120\nClientAliveInterval 0\nClientAliveCountMax 3\nUnusedConnectionTimeout 300\nTCPKeepAlive yes\nChannelTimeout session=5m\nMaxStartups 10:30:100\nIPQoS ef cs0\n';
    const { config } = parseSshdT(text);
    expect(config.options).toMatchObject({
      logingracetime: '120',
      clientaliveinterval: '0',
      clientalivecountmax: '3',
      unusedconnectiontimeout: '300',
      tcpkeepalive: 'yes',
      channeltimeout: 'session=5m',
      maxstartups: '10:30:100',
      ipqos: 'ef cs0',
    });
    expect(Object.keys(config.options).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it('counts junk (root prompt, sudo error, binary) without throwing', () => {
    const { stats } = parseSshdT('sudo: a password is required\n\u0000\u0000\u00ff\u00fe\nport 22\n');
    expect(stats).toEqual({ lines: 3, recognised: 1, unparsed: 2 });
  });
});

describe('resolveSshConfig', () => {
  it('first obtained value wins: specific Host before Host *', async () => {
    const { config, defaulted, stats } = await resolve(
      [
        '# user config',
        'Host example.com',
        '    ServerAliveInterval 30',
        '    HostName 192.0.2.10',
        '    IdentityFile ~/.ssh/id_example',
        'Host *',
        '    ServerAliveInterval 120',
        '    ServerAliveCountMax 5',
        '    IdentityFile ~/.ssh/id_ed25519',
        '    IdentityFile ~/.ssh/id_example',
        '',
      ].join('\n'),
      'example.com',
    );
    expect(config.source).toBe('ssh_config');
    expect(config.host).toBe('example.com');
    expect(config.options.serveraliveinterval).toBe('30');
    expect(config.options.serveralivecountmax).toBe('5');
    expect(config.options.hostname).toBe('192.0.2.10');
    expect(config.options.identityfile).toBe('~/.ssh/id_example ~/.ssh/id_ed25519');
    expect(config.options.tcpkeepalive).toBe('yes');
    expect(config.options.connecttimeout).toBe('none');
    expect(defaulted).toEqual(['tcpkeepalive', 'connecttimeout']);
    expect(config.files).toEqual([`${HOME}/.ssh/config`]);
    expect(stats).toEqual({ lines: 10, recognised: 9, unparsed: 0 });
  });

  it('Host * first wins over a later specific block; times converted; defaults only when absent', async () => {
    const { config, defaulted } = await resolve('Host *\n  ServerAliveInterval 1m\n  TCPKeepAlive No\nHost example.com\n  ServerAliveInterval 5\n', 'example.com');
    expect(config.options.serveraliveinterval).toBe('60');
    expect(config.options.tcpkeepalive).toBe('no');
    expect(config.options.hostname).toBe('example.com');
    expect(defaulted).toEqual(['serveralivecountmax', 'connecttimeout', 'hostname']);
  });

  it('negated patterns, wildcards, and commas are literal in Host lines', async () => {
    const text = [
      'Host *.example.com !bastion.example.com',
      '  ServerAliveInterval 10',
      'Host web?.example.org',
      '  ServerAliveInterval 20',
      'Host a.example.net,b.example.net',
      '  ServerAliveInterval 30',
      '',
    ].join('\n');
    expect((await resolve(text, 'db.example.com')).config.options.serveraliveinterval).toBe('10');
    expect((await resolve(text, 'bastion.example.com')).config.options.serveraliveinterval).toBe('0');
    expect((await resolve(text, 'web1.example.org')).config.options.serveraliveinterval).toBe('20');
    expect((await resolve(text, 'web10.example.org')).config.options.serveraliveinterval).toBe('0');
    expect((await resolve(text, 'a.example.net')).config.options.serveraliveinterval).toBe('0');
  });

  it('HostName %h, command-line user overrides User, Match host/user/localuser/originalhost', async () => {
    const text = [
      'Host example.com',
      '  HostName %h.internal.example.com',
      '  User bob',
      'Match host *.internal.example.com user carol',
      '  ServerAliveInterval 11',
      'Match originalhost EXAMPLE.COM localuser alice',
      '  ServerAliveCountMax 7',
      'Match !localuser alice',
      '  ConnectTimeout 9',
      '',
    ].join('\n');
    const a = await resolve(text, 'example.com');
    expect(a.config.options.hostname).toBe('example.com.internal.example.com');
    expect(a.config.options.user).toBe('bob');
    expect(a.config.options.serveraliveinterval).toBe('0');
    expect(a.config.options.serveralivecountmax).toBe('7');
    expect(a.config.options.connecttimeout).toBe('none');
    const b = await resolve(text, 'example.com', {}, 'carol');
    expect(b.config.options.user).toBe('carol');
    expect(b.config.options.serveraliveinterval).toBe('11');
  });

  it('Match exec is never executed: recorded as conditional, not applied', async () => {
    const marker = path.join(os.tmpdir(), `ssh-doctor-exec-${process.pid}`);
    const text = [
      `Match exec "touch ${marker}" host example.com`,
      '  ServerAliveInterval 15',
      '  ProxyCommand ssh -W %h:%p jump.example.com --password secret1',
      'Match exec "touch never" host other.example.org',
      '  ServerAliveInterval 16',
      'Match final host example.com',
      '  ServerAliveCountMax 9',
      'Match all',
      '  ConnectTimeout 10s',
      '',
    ].join('\n');
    const { config } = await resolve(text, 'example.com');
    expect(config.options.serveraliveinterval).toBe('0');
    expect(config.options.serveralivecountmax).toBe('3');
    expect(config.options.connecttimeout).toBe('10');
    expect(config.conditional).toHaveLength(2);
    expect(config.conditional[0].criteria).toBe(`exec "touch ${marker}" host example.com`);
    expect(config.conditional[0].options.serveraliveinterval).toBe('15');
    expect(config.conditional[0].options.proxycommand).not.toContain('secret1');
    expect(config.conditional[1]).toEqual({ criteria: 'final host example.com', options: { serveralivecountmax: '9' } });
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(false);
  });

  it('Include: relative to ~/.ssh, globs sorted, only inside matching blocks, Host state restored', async () => {
    const text = [
      'Include config.d/*.conf',
      'Host other.example.org',
      '  Include ~/.ssh/other.conf',
      'Host example.com',
      '  Include example.conf',
      '  ServerAliveCountMax 8',
      '',
    ].join('\n');
    const extra = {
      [`${HOME}/.ssh/config.d/20-b.conf`]: 'Host example.com\n  ConnectTimeout 5\n',
      [`${HOME}/.ssh/config.d/10-a.conf`]: 'Host *.example.com\n  ServerAliveInterval 99\n',
      [`${HOME}/.ssh/config.d/.hidden.conf`]: 'ServerAliveInterval 1\n',
      [`${HOME}/.ssh/config.d/notes.txt`]: 'ServerAliveInterval 2\n',
      [`${HOME}/.ssh/other.conf`]: 'ServerAliveInterval 3\n',
      [`${HOME}/.ssh/example.conf`]: 'ServerAliveInterval 42\nHost nothing.example\n',
    };
    const { config } = await resolve(text, 'example.com', extra);
    expect(config.files).toEqual([
      `${HOME}/.ssh/config`,
      `${HOME}/.ssh/config.d/10-a.conf`,
      `${HOME}/.ssh/config.d/20-b.conf`,
      `${HOME}/.ssh/example.conf`,
    ]);
    expect(config.options.connecttimeout).toBe('5');
    expect(config.options.serveraliveinterval).toBe('42');
    // the `Host nothing.example` inside example.conf does not end the including Host block
    expect(config.options.serveralivecountmax).toBe('8');
  });

  it('Include on disk with a temp dir; missing includes are ignored; depth limited to 16', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ssh-doctor-cfg-'));
    try {
      await mkdir(path.join(dir, 'conf.d'));
      await writeFile(path.join(dir, 'config'), 'Include conf.d/*\nInclude does-not-exist\nInclude loop\n');
      await writeFile(path.join(dir, 'conf.d', 'keepalive'), 'ServerAliveInterval 25\n');
      await writeFile(path.join(dir, 'loop'), 'Include loop\n');
      const r = await resolveSshConfig(path.join(dir, 'config'), 'example.com', { home: '/nonexistent-home', localUser: 'alice' });
      expect(r.config.options.serveraliveinterval).toBe('25');
      expect(r.config.files?.slice(0, 2)).toEqual([path.join(dir, 'config'), path.join(dir, 'conf.d', 'keepalive')]);
      expect(r.config.files?.filter((f) => f.endsWith('loop'))).toHaveLength(16);
      expect(r.warnings.some((w) => w.includes('nested includes'))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accumulates forwards and SendEnv; SetEnv first line wins and values are scrubbed', async () => {
    const { config } = await resolve(
      'Host *\n  LocalForward 8080 localhost:80\n  LocalForward 8443 localhost:443\n  SendEnv LANG\n  SendEnv LC_*\n  SetEnv TOKEN=abc\n  SetEnv OTHER=1\n',
      'example.com',
    );
    expect(config.options.localforward).toBe('8080 localhost:80 8443 localhost:443');
    expect(config.options.sendenv).toBe('LANG LC_*');
    expect(config.options.setenv).toBe('TOKEN=[secret]');
  });

  it('junk lines are counted, never thrown', async () => {
    const { config, stats } = await resolve('\u0000\u0001\u0002\nHost *\n  ServerAliveInterval 30\n  this is "broken\n\u00ff\u00fe garbage\n', 'example.com');
    expect(config.options.serveraliveinterval).toBe('30');
    expect(stats).toEqual({ lines: 5, recognised: 2, unparsed: 3 });
  });

  it('unreadable file: a clear error', async () => {
    await expect(resolveSshConfig('/nonexistent/ssh_config', 'example.com')).rejects.toThrow('cannot read ssh config /nonexistent/ssh_config: ENOENT');
  });
});

describe('parseSshdConfig', () => {
  const base = [
    '# Debian sshd_config',
    'Include /etc/ssh/sshd_config.d/*.conf',
    'Port 22',
    'LoginGraceTime 2m',
    'ClientAliveInterval 5m',
    'ChannelTimeout session=5m global=1h',
    'ChannelTimeout session=1m',
    'MaxStartups 20',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'Match User backup Address 192.0.2.0/24',
    '    ClientAliveInterval 30',
    '    UnusedConnectionTimeout 1h',
    '    ClientAliveInterval 40',
    'Match all',
    '    PasswordAuthentication No',
    '',
  ].join('\n');
  const dropIn = 'ClientAliveInterval 600\nClientAliveCountMax 0\nUnusedConnectionTimeout 0\n';

  it('first match wins globally, Include glob, Match recorded as conditional, times in seconds', async () => {
    const fs = memfs({ '/etc/ssh/sshd_config': base, '/etc/ssh/sshd_config.d/50-keepalive.conf': dropIn });
    const { config, defaulted, stats } = await parseSshdConfig('/etc/ssh/sshd_config', fs);
    expect(config.source).toBe('sshd_config');
    expect(config.files).toEqual(['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/50-keepalive.conf']);
    expect(config.options.clientaliveinterval).toBe('600');
    expect(config.options.clientalivecountmax).toBe('0');
    expect(config.options.unusedconnectiontimeout).toBe('none');
    expect(config.options.logingracetime).toBe('120');
    expect(config.options.channeltimeout).toBe('session=5m global=1h');
    expect(config.options.maxstartups).toBe('20:30:20');
    expect(config.options.passwordauthentication).toBe('no');
    expect(config.conditional).toEqual([
      { criteria: 'User backup Address 192.0.2.0/24', options: { clientaliveinterval: '30', unusedconnectiontimeout: '3600' } },
    ]);
    expect(defaulted).toEqual(['tcpkeepalive']);
    // explicit options first, defaults after
    expect(Object.keys(config.options).at(-1)).toBe('tcpkeepalive');
    expect(stats).toEqual({ lines: 18, recognised: 17, unparsed: 0 });
  });

  it('fills every default for an empty config', async () => {
    const fs = memfs({ '/etc/ssh/sshd_config': '# nothing\n' });
    const { config, defaulted } = await parseSshdConfig('/etc/ssh/sshd_config', fs);
    expect(config.options).toEqual({
      clientaliveinterval: '0',
      clientalivecountmax: '3',
      tcpkeepalive: 'yes',
      logingracetime: '120',
      maxstartups: '10:30:100',
      unusedconnectiontimeout: 'none',
      channeltimeout: 'none',
    });
    expect(defaulted).toHaveLength(7);
  });

  it('Include inside a Match block belongs to that block; nested Match criteria are joined', async () => {
    const fs = memfs({
      '/srv/copy/sshd_config': 'Match Group admins\n  Include admins.conf\n  ClientAliveCountMax 2\n',
      '/srv/copy/admins.conf': 'ClientAliveInterval 45\nMatch Address 198.51.100.0/24\n  ClientAliveInterval 5\n',
    });
    const { config } = await parseSshdConfig('/srv/copy/sshd_config', fs);
    expect(config.options.clientaliveinterval).toBe('0');
    expect(config.conditional).toEqual([
      { criteria: 'Group admins', options: { clientaliveinterval: '45', clientalivecountmax: '2' } },
      { criteria: 'Group admins Address 198.51.100.0/24', options: { clientaliveinterval: '5' } },
    ]);
  });

  it('a remote reader without directory listing: globs are not expanded, with a warning', async () => {
    const fs = memfs({ '/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nTCPKeepAlive no\n' });
    const { config, warnings } = await parseSshdConfig('/etc/ssh/sshd_config', { readFile: fs.readFile });
    expect(config.options.tcpkeepalive).toBe('no');
    expect(warnings[0]).toContain('not expanded');
  });

  it('junk and binary lines are counted', async () => {
    const fs = memfs({ '/etc/ssh/sshd_config': `\u0000\u0000ELF\u0001\u0002\nClientAliveInterval 15\n${'A'.repeat(40_000)}\n= broken\n` });
    const { config, stats } = await parseSshdConfig('/etc/ssh/sshd_config', fs);
    expect(config.options.clientaliveinterval).toBe('15');
    expect(stats).toEqual({ lines: 4, recognised: 1, unparsed: 3 });
  });

  it('unreadable file: a clear error', async () => {
    await expect(parseSshdConfig('/nonexistent/sshd_config')).rejects.toThrow('cannot read sshd config /nonexistent/sshd_config: ENOENT');
  });
});

describe('real files on disk', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ssh-doctor-sshd-'));
    await mkdir(path.join(dir, 'sshd_config.d'));
    await writeFile(path.join(dir, 'sshd_config'), 'Include sshd_config.d/*.conf\nClientAliveInterval 1h30m\n');
    await writeFile(path.join(dir, 'sshd_config.d', 'a.conf'), 'LoginGraceTime 30s\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('relative Include of a copied sshd_config resolves against its directory', async () => {
    const { config } = await parseSshdConfig(path.join(dir, 'sshd_config'));
    expect(config.options.logingracetime).toBe('30');
    expect(config.options.clientaliveinterval).toBe('5400');
    expect(config.files).toHaveLength(2);
  });
});

describe('hostile input', () => {
  it('many-star Host patterns stay fast', async () => {
    const started = Date.now();
    const { config } = await resolve(`Host ${'*a'.repeat(200)}b\n  ServerAliveInterval 1\nInclude [z-a]*\n`, 'a'.repeat(5000));
    expect(config.options.serveraliveinterval).toBe('0');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
