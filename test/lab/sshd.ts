// OpenSSH's own sshd for the lab: one machine-wide lab user (created once), and per lab a temp
// dir with the sshd config, host key, client key, authorized_keys, known_hosts and the -E log.
//
// Keys are derived from fixed seeds (ed25519, written in OpenSSH's own key format), so every
// lab has the same host key and client key: recorded fixtures do not churn on fingerprints, and
// known_hosts is exact (StrictHostKeyChecking=yes). They are lab keys, not secrets.

import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './netns.js';

export const LAB_USER = 'sshdoctor-lab';
export const LAB_HOME = '/var/lib/sshdoctor-lab';
export const SSHD = '/usr/sbin/sshd';
export const PRIVSEP_DIR = '/run/sshd';

export type SshdOptions = Record<string, string | number>;

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export interface Ed25519Key {
  /** OpenSSH private key file text (openssh-key-v1, unencrypted). */
  privateText: string;
  /** "ssh-ed25519 AAAA... comment" */
  publicLine: string;
}

/** A deterministic ed25519 key from a label, in OpenSSH's private key format. */
export function ed25519Key(label: string, comment: string): Ed25519Key {
  const seed = createHash('sha256').update(`ssh-doctor lab key: ${label}`).digest();
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
    format: 'der',
    type: 'spki',
  });
  const pub = spki.subarray(spki.length - 32);
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = Buffer.alloc(4);
  check.writeUInt32BE(createHash('sha256').update(seed).digest().readUInt32BE(0));
  let priv = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    privateText: ['-----BEGIN OPENSSH PRIVATE KEY-----', ...b64, '-----END OPENSSH PRIVATE KEY-----', ''].join('\n'),
    publicLine: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}`,
  };
}

let userReady: Promise<void> | null = null;

/**
 * The one machine-wide lab user: system account, /bin/bash, an empty home in /var/lib, and a
 * password field of `*` (a locked `!` field blocks key logins when UsePAM is no). Created once;
 * later calls only check it. Also makes sure sshd's privilege separation dir exists.
 */
export function ensureLabUser(): Promise<void> {
  userReady ??= (async () => {
    await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    for (let attempt = 0; ; attempt++) {
      const have = await run(['getent', 'passwd', LAB_USER], { check: false });
      if (have.code === 0) break;
      const add = await run(
        ['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', LAB_HOME, '--shell', '/bin/bash', LAB_USER],
        { check: false },
      );
      // 9: exists (another lab won the race); 10: passwd file locked by a parallel useradd
      if (add.code === 0 || add.code === 9) break;
      if (attempt >= 10) throw new Error(`useradd ${LAB_USER} failed: ${add.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const shadow = await run(['getent', 'shadow', LAB_USER], { check: false });
    if (shadow.stdout.split(':')[1] !== '*') await run(['usermod', '-p', '*', LAB_USER]);
    await mkdir(LAB_HOME, { recursive: true, mode: 0o755 });
    await run(['chown', `${LAB_USER}:${LAB_USER}`, LAB_HOME]);
  })();
  userReady.catch(() => {
    userReady = null;
  });
  return userReady;
}

export interface SshdFiles {
  dir: string;
  config: string;
  hostKey: string;
  clientKey: string;
  authorizedKeys: string;
  knownHosts: string;
  log: string;
  pidFile: string;
}

export interface SshdSetup {
  /** Scenario name, for the config's header comment. */
  scenario: string;
  listenAddr: string;
  port: number;
  /** Scenario keywords; they come first, so they win (sshd_config is first-match-wins). */
  options: SshdOptions;
  /** Environment for the user's session, via sshd's SetEnv. */
  setEnv?: Record<string, string>;
}

export function sshdConfigText(files: SshdFiles, setup: SshdSetup): string {
  const scenario = Object.entries(setup.options).map(([k, v]) => `${k} ${v}`);
  const env = Object.entries(setup.setEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  return [
    `# ssh-doctor lab, scenario ${setup.scenario}`,
    ...scenario,
    ...(env.length ? [`SetEnv ${env.join(' ')}`] : []),
    `ListenAddress ${setup.listenAddr}`,
    `Port ${setup.port}`,
    `HostKey ${files.hostKey}`,
    `PidFile ${files.pidFile}`,
    'LogLevel VERBOSE',
    `AllowUsers ${LAB_USER}`,
    `AuthorizedKeysFile ${files.authorizedKeys}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

/** Writes config, keys, authorized_keys and known_hosts into `dir` (which the user can traverse). */
export async function writeSshdFiles(dir: string, setup: SshdSetup): Promise<SshdFiles> {
  const files: SshdFiles = {
    dir,
    config: join(dir, 'sshd_config'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    clientKey: join(dir, 'id_ed25519'),
    authorizedKeys: join(dir, 'authorized_keys'),
    knownHosts: join(dir, 'known_hosts'),
    log: join(dir, 'sshd.log'),
    pidFile: join(dir, 'sshd.pid'),
  };
  await chmod(dir, 0o755); // sshd reads authorized_keys as the lab user
  const host = ed25519Key('host', 'sshdoctor-lab-host');
  const client = ed25519Key('client', 'sshdoctor-lab-client');
  await writeFile(files.hostKey, host.privateText, { mode: 0o600 });
  await writeFile(`${files.hostKey}.pub`, host.publicLine + '\n', { mode: 0o644 });
  await writeFile(files.clientKey, client.privateText, { mode: 0o600 });
  await writeFile(`${files.clientKey}.pub`, client.publicLine + '\n', { mode: 0o644 });
  await writeFile(files.authorizedKeys, client.publicLine + '\n', { mode: 0o644 });
  const hostPart = setup.port === 22 ? setup.listenAddr : `[${setup.listenAddr}]:${setup.port}`;
  const [type, key] = host.publicLine.split(' ');
  await writeFile(files.knownHosts, `${hostPart} ${type} ${key}\n`, { mode: 0o644 });
  await writeFile(files.config, sshdConfigText(files, setup), { mode: 0o644 });
  await writeFile(files.log, '', { mode: 0o644 });
  return files;
}

/** `sshd -T -f config`: the effective server options, as `sshd -T` prints them. */
export async function sshdDashT(configFile: string): Promise<string> {
  return (await run([SSHD, '-T', '-f', configFile])).stdout;
}

/** The sshd argv: foreground, log to a file (no timestamps, no sshd[pid] prefix), own config. */
export function sshdArgv(files: SshdFiles): string[] {
  return [SSHD, '-D', '-E', files.log, '-f', files.config];
}
