import { chmodSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FilteredAgent, opensshKeyHeader, readIdentity } from '../../src/probes/auth.js';
import { ConnectError, connector, identFromDebug, openConnection, parseAcceptHostKey, type ConnectOptions } from '../../src/probes/connect.js';
import { fingerprint } from '../../src/probes/known-hosts.js';
import { expandProxyCommand, parseJumpHop, proxySpec } from '../../src/probes/proxy.js';
import { defaultRunSsh, parseDestination, resolveTarget, sshGArgs, type ResolvedTarget, type RunSsh } from '../../src/probes/target.js';
import { UsageError } from '../../src/errors.js';
import { closedPort, FakeAgent, keyPair, startServer, tempDir, type KeyPair, type TestServer } from './server.js';
import { createHmac, randomBytes } from 'node:crypto';

const tmp = tempDir();
let hostEd: KeyPair;
let hostRsa: KeyPair;
let userA: KeyPair;
let userB: KeyPair;
let server: TestServer;

beforeAll(async () => {
  hostEd = keyPair('ed25519');
  hostRsa = keyPair('rsa');
  userA = keyPair('ed25519');
  userB = keyPair('ed25519');
  server = await startServer({ hostKeys: [hostEd.private, hostRsa.private], allowKeys: [userA.parsed], methods: ['publickey'] });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

let n = 0;
/** A -F config for `testhost` -> 127.0.0.1:port, resolved through the real `ssh -G`. */
async function target(port: number, opts: { knownHosts?: string; lines?: string[]; identity?: string } = {}): Promise<ResolvedTarget> {
  n++;
  const kh = tmp.write(`known_hosts_${n}`, opts.knownHosts ?? '');
  const id = opts.identity ?? tmp.write(`id_${n}`, userA.private);
  const cfg = tmp.write(
    `config_${n}`,
    [
      'Host testhost',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      '  User alice',
      `  UserKnownHostsFile ${kh}`,
      `  GlobalKnownHostsFile ${tmp.dir}/no_global_known_hosts`,
      `  IdentityFile ${id}`,
      '  IdentityAgent none',
      ...(opts.lines ?? []),
      '',
    ].join('\n'),
  );
  return resolveTarget({ target: 'testhost', configFile: cfg });
}

const quiet: ConnectOptions = { agent: null, passwordPrompt: null, readyTimeoutMs: 5000 };

function known(port: number, key: KeyPair): string {
  return `[127.0.0.1]:${port} ${key.public}\n`;
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    const c = await p;
    (c as { end?: () => void }).end?.();
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    return e as ConnectError;
  }
  throw new Error('expected a ConnectError');
}

describe('target resolution', () => {
  it('parses user@host:port, [v6]:port and ssh:// destinations', () => {
    expect(parseDestination('example.com')).toEqual({ host: 'example.com' });
    expect(parseDestination('bob@example.com:2222')).toEqual({ host: 'example.com', user: 'bob', port: 2222 });
    expect(parseDestination('me@corp@bastion')).toEqual({ host: 'bastion', user: 'me@corp' });
    expect(parseDestination('[2001:db8::1]:2200')).toEqual({ host: '2001:db8::1', port: 2200 });
    expect(parseDestination('bob@[::1]')).toEqual({ host: '::1', user: 'bob' });
    expect(parseDestination('2001:db8::1')).toEqual({ host: '2001:db8::1' });
    expect(parseDestination('fe80::1:22')).toEqual({ host: 'fe80::1:22' });
    expect(parseDestination('ssh://bob@h.example:2022')).toEqual({ host: 'h.example', user: 'bob', port: 2022 });
    expect(() => parseDestination('host:99999')).toThrow(UsageError);
    expect(() => parseDestination('@host')).toThrow(UsageError);
    expect(() => parseDestination('-oProxyCommand=x')).toThrow(UsageError);
  });

  it('runs ssh -G with a fixed argv; -l and -p beat user@ and :port', async () => {
    const seen: string[][] = [];
    const spy: RunSsh = (args, o) => {
      seen.push(args);
      return defaultRunSsh(args, o);
    };
    const cfg = tmp.write('cfg-argv', 'Host *\n  User nobody\n');
    const r = await resolveTarget({ target: 'bob@h.example:2200', user: 'carol', configFile: cfg, identity: ['/x/id'], jump: 'j1' }, { runSsh: spy });
    expect(seen[0]).toEqual(sshGArgs('h.example', { configFile: cfg, port: 2200, user: 'carol', identity: ['/x/id'], jump: 'j1' }));
    expect(seen[0]).toEqual(['-G', '-F', cfg, '-p', '2200', '-l', 'carol', '-i', '/x/id', '-J', 'j1', '--', 'h.example']);
    expect(r.user).toBe('carol');
    expect(r.port).toBe(2200);
    expect(r.proxyJump).toBe('j1');
    expect(r.config.source).toBe('ssh -G');
    const p = await resolveTarget({ target: 'bob@h.example:2200', port: 2300, configFile: cfg }, { runSsh: spy });
    expect([p.user, p.port]).toEqual(['bob', 2300]);
  });

  it('takes the options ssh -G prints and expands ~ and %-tokens', async () => {
    const cfg = tmp.write(
      'cfg-tokens',
      [
        'Host web',
        '  HostName 10.9.8.7',
        '  Port 2222',
        '  User deploy',
        '  IdentityFile ~/.ssh/id_%h_%r_%p',
        '  IdentityFile %d/keys/%u@%l/%%x',
        '  IdentitiesOnly yes',
        '  UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2',
        '  HostKeyAlias webalias',
        '  ServerAliveInterval 15',
        '  ServerAliveCountMax 4',
        '  TCPKeepAlive no',
        '  ConnectTimeout 7',
        '  IPQoS none',
        '  ProxyCommand nc %h %p',
        '  IdentityAgent ~/agent.sock',
        '',
      ].join('\n'),
    );
    const r = await resolveTarget({ target: 'web', configFile: cfg }, { home: '/home/t', localUser: 'me', localHost: 'box.lan' });
    expect(r.hostname).toBe('10.9.8.7');
    expect(r.target).toEqual({ host: 'web', port: 2222, user: 'deploy' });
    expect(r.identityFiles).toEqual(['/home/t/.ssh/id_10.9.8.7_deploy_2222', '/home/t/keys/me@box.lan/%x']);
    expect(r.identitiesOnly).toBe(true);
    expect(r.hostKeyAlias).toBe('webalias');
    expect(r.serverAliveInterval).toBe(15);
    expect(r.serverAliveCountMax).toBe(4);
    expect(r.tcpKeepAlive).toBe(false);
    expect(r.connectTimeout).toBe(7);
    expect(r.ipqos).toBe('none none');
    expect(r.proxyCommand).toBe('nc %h %p');
    expect(r.identityAgent).toMatch(/^\/.*\/agent\.sock$/);
    expect(r.userKnownHostsFiles.every((f) => /\/kh[12]$/.test(f) && !f.startsWith('~'))).toBe(true);
    expect(r.kexAlgorithms.length).toBeGreaterThan(0);
    expect(r.config.options.serveraliveinterval).toBe('15');
    expect(r.notes).toEqual([]);
  });

  it('falls back to parsing ssh_config itself when there is no ssh binary, and says so', async () => {
    const cfg = tmp.write('cfg-fallback', 'Host fb\n  HostName 192.0.2.1\n  Port 2022\n  IdentityFile ~/.ssh/fb_%r\n');
    const noSsh: RunSsh = () => Promise.reject(Object.assign(new Error('spawn ssh ENOENT'), { code: 'ENOENT' }));
    const r = await resolveTarget({ target: 'ann@fb', configFile: cfg }, { runSsh: noSsh, home: '/home/t' });
    expect(r.hostname).toBe('192.0.2.1');
    expect(r.port).toBe(2022);
    expect(r.user).toBe('ann');
    expect(r.identityFiles).toEqual(['/home/t/.ssh/fb_ann']);
    expect(r.config.source).toBe('ssh_config');
    expect(r.notes[0]).toMatch(/no ssh binary/);
  });

  it('reports a broken config as bad input', async () => {
    const cfg = tmp.write('cfg-bad', 'Host x\n  NoSuchOption yes\n');
    await expect(resolveTarget({ target: 'x', configFile: cfg })).rejects.toThrow(UsageError);
    await expect(resolveTarget({ target: 'x', configFile: `${tmp.dir}/missing` })).rejects.toThrow(/cannot read/);
  });
});

describe('proxy', () => {
  it('builds ssh -W for ProxyJump chains like ssh does', () => {
    expect(parseJumpHop('bob@[::1]:2200')).toEqual({ user: 'bob', host: '::1', port: 2200 });
    const s = proxySpec({ hostname: 'db.internal', port: 2222, user: 'u', alias: 'db', proxyJump: 'a.example,ops@b.example:2200', configFile: '/c' }, { interactive: false });
    expect(s?.kind).toBe('jump');
    expect(s?.args).toEqual(['-l', 'ops', '-p', '2200', '-J', 'a.example', '-F', '/c', '-o', 'BatchMode=yes', '-W', 'db.internal:2222', '--', 'b.example']);
    const v6 = proxySpec({ hostname: '2001:db8::5', port: 22, user: 'u', alias: 'x', proxyJump: 'j' }, { interactive: true });
    expect(v6?.args).toEqual(['-W', '[2001:db8::5]:22', '--', 'j']);
  });

  it('expands ProxyCommand tokens and runs it with exec through the shell', () => {
    expect(expandProxyCommand('nc %h %p # %r %n 100%%', { hostname: 'h', port: 2, user: 'r', alias: 'n' })).toBe('nc h 2 # r n 100%');
    const s = proxySpec({ hostname: 'h', port: 22, user: 'u', alias: 'a', proxyCommand: 'nc %h %p' }, { env: { SHELL: '/bin/sh' } });
    expect(s).toMatchObject({ kind: 'command', file: '/bin/sh', args: ['-c', 'exec nc h 22'] });
  });

  it('connects through a ProxyCommand', async () => {
    const pipe = tmp.write(
      'pipe.cjs',
      "const s=require('net').connect(Number(process.argv[3]),process.argv[2]);process.stdin.pipe(s);s.pipe(process.stdout);s.on('error',()=>process.exit(1));",
    );
    const r = await target(server.port, {
      knownHosts: known(server.port, hostEd),
      lines: [`  ProxyCommand ${process.execPath} ${pipe} %h %p`],
    });
    const c = await openConnection(r, quiet);
    expect(c.proxy).toBeDefined();
    expect(c.handshake.hostKey?.status).toBe('verified');
    expect(c.handshake.authenticated).toBe(true);
    const pid = c.proxy!.child.pid;
    c.end();
    await c.closed;
    await c.proxy!.exit;
    expect(pid).toBeGreaterThan(0);
  });

  it('connects through a ProxyJump run by the real ssh (ssh -W)', async () => {
    // the jump host is the test server itself; the jump ssh reads the same -F config
    const kh = tmp.write('jump_known_hosts', known(server.port, hostEd));
    const id = tmp.write('jump_id', userA.private);
    const r = await target(server.port, {
      knownHosts: known(server.port, hostEd),
      lines: [
        '  ProxyJump jumphost',
        'Host jumphost',
        '  HostName 127.0.0.1',
        `  Port ${server.port}`,
        '  User jumper',
        `  UserKnownHostsFile ${kh}`,
        `  GlobalKnownHostsFile ${tmp.dir}/none`,
        `  IdentityFile ${id}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
      ],
    });
    expect(r.proxyJump).toBe('jumphost');
    const before = server.connections;
    const c = await openConnection(r, quiet);
    expect(c.proxy?.spec.kind).toBe('jump');
    expect(c.proxy?.spec.args).toContain('-W');
    expect(c.handshake.hostKey?.status).toBe('verified');
    expect(c.handshake.authenticated).toBe(true);
    expect(server.connections - before).toBe(2); // the jump ssh, then ssh2 through it
    c.end();
    await c.proxy!.exit;
  });

  it('reports a failing ProxyCommand with its stderr', async () => {
    const fail = tmp.write('fail.sh', '#!/bin/sh\necho "proxy says: cannot reach $1" >&2\nexit 3\n');
    chmodSync(fail, 0o755);
    const r = await target(server.port, { knownHosts: known(server.port, hostEd), lines: [`  ProxyCommand ${fail} %h`] });
    const e = await failure(openConnection(r, quiet));
    expect(e.kind).toBe('proxy');
    expect(e.message).toContain('proxy says: cannot reach 127.0.0.1');
    expect(e.message).toContain('exit status 3');
    expect(e.stderr).toContain('proxy says');
  });
});

describe('openConnection', () => {
  it('connects with a verified host key and fills HandshakeEvidence', async () => {
    const r = await target(server.port, { knownHosts: known(server.port, hostEd) });
    const debug: string[] = [];
    const c = await openConnection(r, { ...quiet, debug: (l) => debug.push(l) });
    const h = c.handshake;
    expect(h.serverSoftware).toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3');
    expect(h.kex).toBeTruthy();
    expect(h.hostKeyAlgorithm).toBe('ssh-ed25519');
    expect(h.cipher).toBeTruthy();
    expect(h.mac).toBeTruthy();
    expect(h.authenticated).toBe(true);
    expect(h.hostKey).toEqual({ status: 'verified', offered: fingerprint(hostEd.blob), expected: [fingerprint(hostEd.blob)] });
    for (const k of ['connect', 'banner', 'kex', 'auth'] as const) expect(h.timingsMs?.[k]).toBeGreaterThanOrEqual(0);
    const out = await new Promise<string>((resolve, reject) =>
      c.client.exec('true', (err, ch) => {
        if (err) return reject(err);
        let s = '';
        ch.on('data', (d: Buffer) => (s += d.toString()));
        ch.on('close', () => resolve(s));
      }),
    );
    expect(out).toBe('ok\n');
    c.end();
    await c.closed;
    expect(debug.some((l) => l.includes('Remote ident'))).toBe(true);
    expect(debug.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('stops at a host key mismatch before any authentication', async () => {
    const before = server.attempts.length;
    const r = await target(server.port, { knownHosts: `# old key\n${known(server.port, userB)}` });
    const e = await failure(openConnection(r, quiet));
    expect(e.kind).toBe('host-key-mismatch');
    expect(e.message).toContain(fingerprint(userB.blob)); // expected
    expect(e.message).toContain(fingerprint(hostEd.blob)); // offered
    expect(e.message).toContain(`${r.userKnownHostsFiles[0]}:2`);
    expect(e.message).not.toContain('\n');
    expect(e.handshake?.hostKey).toEqual({ status: 'mismatch', offered: fingerprint(hostEd.blob), expected: [fingerprint(userB.blob)] });
    expect(e.handshake?.serverSoftware).toMatch(/^SSH-2.0-OpenSSH_9.2p1/);
    expect(server.attempts.length - before).toBe(0);
  });

  it('never trusts an unknown host and says how to add it', async () => {
    const before = server.attempts.length;
    const r = await target(server.port, { knownHosts: 'other.example ' + hostEd.public + '\n' });
    const e = await failure(openConnection(r, quiet));
    expect(e.kind).toBe('host-key-unknown');
    expect(e.message).toContain(`ssh-keyscan -p ${server.port} -t ed25519 127.0.0.1 >>`);
    expect(e.message).toContain(`--accept-host-key ${fingerprint(hostEd.blob)}`);
    expect(e.handshake?.hostKey?.status).toBe('unknown');
    expect(server.attempts.length - before).toBe(0);
  });

  it('trusts exactly the --accept-host-key fingerprint', async () => {
    const r = await target(server.port);
    const c = await openConnection(r, { ...quiet, acceptHostKey: fingerprint(hostEd.blob) });
    expect(c.handshake.hostKey?.status).toBe('accepted');
    c.end();
    const before = server.attempts.length;
    const e = await failure(openConnection(r, { ...quiet, acceptHostKey: fingerprint(userB.blob) }));
    expect(e.kind).toBe('host-key-mismatch');
    expect(server.attempts.length - before).toBe(0);
    expect(() => parseAcceptHostKey('yes')).toThrow(UsageError);
  });

  it('matches hashed |1| entries', async () => {
    const salt = randomBytes(20);
    const name = `[127.0.0.1]:${server.port}`;
    const line = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')} ${hostEd.public}\n`;
    const r = await target(server.port, { knownHosts: line });
    const c = await openConnection(r, quiet);
    expect(c.handshake.hostKey?.status).toBe('verified');
    c.end();
  });

  it('refuses a @revoked key even when it is also listed', async () => {
    const before = server.attempts.length;
    const r = await target(server.port, { knownHosts: `${known(server.port, hostEd)}@revoked * ${hostEd.public}\n` });
    const e = await failure(openConnection(r, quiet));
    expect(e.kind).toBe('host-key-revoked');
    expect(e.message).toMatch(/REVOKED/);
    expect(server.attempts.length - before).toBe(0);
  });

  it('connects to a host known only by its RSA key (host key types restricted)', async () => {
    const r = await target(server.port, { knownHosts: known(server.port, hostRsa) });
    const c = await openConnection(r, quiet);
    expect(c.handshake.hostKeyAlgorithm).toMatch(/^rsa-sha2-512$|^rsa-sha2-256$/);
    expect(c.handshake.hostKey?.status).toBe('verified');
    c.end();
  });

  it('HostKeyAlias replaces the name looked up', async () => {
    const r = await target(server.port, { knownHosts: `myalias ${hostEd.public}\n`, lines: ['  HostKeyAlias myalias'] });
    const c = await openConnection(r, quiet);
    expect(c.handshake.hostKey?.status).toBe('verified');
    c.end();
  });

  it('uses --known-hosts FILE instead of the configured files', async () => {
    const r = await target(server.port);
    const kh = tmp.write('explicit_known_hosts', known(server.port, hostEd));
    const c = await openConnection(r, { ...quiet, knownHostsFile: kh });
    expect(c.handshake.hostKey?.status).toBe('verified');
    c.end();
    await expect(openConnection(r, { ...quiet, knownHostsFile: `${tmp.dir}/nope` })).rejects.toThrow(UsageError);
  });

  it('connection refused -> refused', async () => {
    const port = await closedPort();
    const r = await target(port, { knownHosts: known(port, hostEd) });
    const e = await failure(openConnection(r, quiet));
    expect(e.kind).toBe('refused');
    expect(e.message).toBe(`ssh: connect to host 127.0.0.1 port ${port}: Connection refused`);
  });

  it('name resolution failure -> dns (resolver injected: no query leaves the machine)', async () => {
    const r = await target(server.port);
    const lookup = vi.fn(() => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })));
    const e = await failure(openConnection({ ...r, hostname: 'no-such-host.test' }, { ...quiet, lookup }));
    expect(lookup).toHaveBeenCalledWith('no-such-host.test', { all: true, family: 0 });
    expect(e.kind).toBe('dns');
    expect(e.message).toBe('ssh: Could not resolve hostname no-such-host.test: Name or service not known');
  });

  it('a server that never sends its banner -> timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const r = await target(port);
      const e = await failure(openConnection(r, { ...quiet, readyTimeoutMs: 300 }));
      expect(e.kind).toBe('timeout');
      expect(e.message).toMatch(/banner exchange/);
    } finally {
      silent.close();
    }
  });
});

describe('authentication', () => {
  it('IdentitiesOnly offers only the agent key matching an IdentityFile', async () => {
    const s = await startServer({ hostKeys: [hostEd.private], allowKeys: [userB.parsed], methods: ['publickey'] });
    try {
      // the identity file is only a public key: the agent must do the signing
      const pub = tmp.write('idonly.pub', userB.public + '\n');
      const agent = new FakeAgent([userA.private, userB.private]);
      const r = await target(s.port, { knownHosts: known(s.port, hostEd), identity: pub, lines: ['  IdentitiesOnly yes'] });
      const c = await openConnection(r, { ...quiet, agent });
      c.end();
      const offered = s.attempts.filter((a) => a.method === 'publickey').map((a) => a.key);
      expect(offered.length).toBeGreaterThan(0);
      expect(new Set(offered)).toEqual(new Set([userB.blob.toString('base64')]));
      expect(agent.signed).toEqual([userB.blob.toString('base64')]);

      // without IdentitiesOnly the other agent keys follow the matched one
      const s2 = await startServer({ hostKeys: [hostEd.private], allowKeys: [userA.parsed], methods: ['publickey'] });
      try {
        const r2 = await target(s2.port, { knownHosts: known(s2.port, hostEd), identity: pub });
        const c2 = await openConnection(r2, { ...quiet, agent: new FakeAgent([userA.private, userB.private]) });
        c2.end();
        const keys = s2.attempts.filter((a) => a.method === 'publickey').map((a) => a.key);
        expect(keys[0]).toBe(userB.blob.toString('base64'));
        expect(keys).toContain(userA.blob.toString('base64'));
      } finally {
        await s2.close();
      }
    } finally {
      await s.close();
    }
  });

  it('FilteredAgent shows only allowed keys, in the given order', async () => {
    const inner = new FakeAgent([userA.private, userB.private]);
    const f = new FilteredAgent(inner, () => true, [userB.blob, userA.blob]);
    const keys = await new Promise<Buffer[]>((res, rej) =>
      f.getIdentities((err, ks) => (err ? rej(err) : res((ks ?? []).map((k) => (k as { getPublicSSH(): Buffer }).getPublicSSH())))),
    );
    expect(keys.map((k) => k.toString('base64'))).toEqual([userB.blob, userA.blob].map((b) => b.toString('base64')));
  });

  it('an encrypted key without an agent gives a clear message and never prompts', async () => {
    const enc = keyPair('ed25519', { passphrase: 'correct horse' });
    const s = await startServer({ hostKeys: [hostEd.private], allowKeys: [enc.parsed], methods: ['publickey'] });
    try {
      const file = tmp.write('id_enc', enc.private);
      const info = readIdentity(file);
      expect(info?.encrypted).toBe(true);
      expect(info?.publicBlob?.equals(enc.blob)).toBe(true);
      expect(opensshKeyHeader(enc.private)?.cipher).toBe('aes256-ctr');
      const r = await target(s.port, { knownHosts: known(s.port, hostEd), identity: file });
      const started = Date.now();
      // default prompt: stdin is not a TTY under the test runner, so nothing may prompt
      const e = await failure(openConnection(r, { agent: null, readyTimeoutMs: 5000 }));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(e.kind).toBe('auth');
      expect(e.message).toContain(`key ${file} is encrypted and no agent holds it: ssh-add it first`);
      expect(e.message).not.toContain('correct horse');
    } finally {
      await s.close();
    }
  });

  it('asks for a password at most once per run and keeps it out of debug output', async () => {
    const s = await startServer({ hostKeys: [hostEd.private], password: 'hunter2-secret', methods: ['password'] });
    try {
      const r = await target(s.port, { knownHosts: known(s.port, hostEd) });
      const prompt = vi.fn(async () => 'hunter2-secret');
      const debug: string[] = [];
      const open = connector(r, { ...quiet, passwordPrompt: prompt, debug: (l) => debug.push(l) });
      const conns = [await open(), await open(), await open()];
      for (const c of conns) {
        expect(c.handshake.authenticated).toBe(true);
        c.end();
      }
      expect(prompt).toHaveBeenCalledTimes(1);
      expect(debug.join('\n')).not.toContain('hunter2-secret');
      expect(JSON.stringify(conns.map((c) => c.handshake))).not.toContain('hunter2-secret');

      // a wrong password is not asked again, nor reused
      const wrong = vi.fn(async () => 'nope');
      const open2 = connector(r, { ...quiet, passwordPrompt: wrong });
      const e1 = await failure(open2());
      const e2 = await failure(open2());
      expect([e1.kind, e2.kind]).toEqual(['auth', 'auth']);
      expect(e1.message).toContain('Permission denied (password)');
      expect(wrong).toHaveBeenCalledTimes(1);
      expect(s.attempts.filter((a) => a.method === 'password')).toHaveLength(3 + 1);
    } finally {
      await s.close();
    }
  });

  it('answers a keyboard-interactive password prompt with the one password', async () => {
    const s = await startServer({ hostKeys: [hostEd.private], password: 'kbd-pass', methods: ['keyboard-interactive'] });
    try {
      const r = await target(s.port, { knownHosts: known(s.port, hostEd) });
      const prompt = vi.fn(async () => 'kbd-pass');
      const c = await openConnection(r, { ...quiet, passwordPrompt: prompt });
      expect(c.handshake.authenticated).toBe(true);
      expect(prompt).toHaveBeenCalledTimes(1);
      c.end();
    } finally {
      await s.close();
    }
  });

  it('reports FIDO -sk identity files as unsupported', async () => {
    // a syntactically valid sk-ssh-ed25519 public key (32-byte key + application string)
    const blob = Buffer.concat([
      ...[Buffer.from('sk-ssh-ed25519@openssh.com'), randomBytes(32), Buffer.from('ssh:')].map((b) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        return Buffer.concat([len, b]);
      }),
    ]);
    const pub = tmp.write('id_ed25519_sk.pub', `sk-ssh-ed25519@openssh.com ${blob.toString('base64')} me@host\n`);
    const s = await startServer({ hostKeys: [hostEd.private], methods: ['publickey'] });
    try {
      const r = await target(s.port, { knownHosts: known(s.port, hostEd), identity: pub });
      const e = await failure(openConnection(r, quiet));
      expect(e.kind).toBe('unsupported');
      expect(e.unsupported).toContain('security-key');
      expect(e.message).toMatch(/FIDO security key/);
    } finally {
      await s.close();
    }
  });

  it('parses the ident out of ssh2 debug lines', () => {
    expect(identFromDebug("Remote ident: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\r\\n'")).toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3');
    expect(identFromDebug('Outbound: x')).toBeNull();
  });
});
