// `ssh-doctor demo`: an embedded SSH server behind an embedded idle-dropping middlebox, both on
// loopback, with throwaway keys made in memory. Nothing is written to disk.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { openIdleWithSsh2, openShellWithSsh2, type OpenIdleConnection, type OpenIdleShell } from '../probes/idle/connection.js';
import { startMiddlebox, type MiddleboxMode } from './middlebox.js';
import { startDemoServer } from './server.js';

export interface DemoOptions {
  /** The middlebox forgets a flow after this many idle seconds (Infinity or 0: never). */
  idleTimeoutSeconds: number;
  mode: MiddleboxMode;
  shell?: { tmoutSeconds?: number };
}

export interface Demo {
  host: '127.0.0.1';
  /** The middlebox's port: connect here. */
  port: number;
  /** The SSH server's own port, bypassing the middlebox. */
  serverPort: number;
  user: string;
  /** The user's private key (OpenSSH format). */
  privateKey: Buffer;
  /** SHA256:... of the host key, as ssh-keygen -l prints it. */
  hostKeyFingerprint: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA...` for a known_hosts file. */
  knownHostsLine: string;
  /** ssh2 settings for a connection through the middlebox (host key pinned). */
  connectConfig(): ConnectConfig;
  openIdle: OpenIdleConnection;
  openShell: OpenIdleShell;
  /** How many flows the middlebox has forgotten so far. */
  forgottenFlows(): number;
  stop(): Promise<void>;
}

export const DEMO_USER = 'demo';

export function fingerprintOf(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const host = ssh2.utils.generateKeyPairSync('ed25519');
  const user = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'ssh-doctor-demo' });
  const hostPub = ssh2.utils.parseKey(host.public);
  if (hostPub instanceof Error) throw hostPub;
  const hostBlob = (Array.isArray(hostPub) ? hostPub[0]! : hostPub).getPublicSSH();
  const hostKeyFingerprint = fingerprintOf(hostBlob);

  const server = await startDemoServer({ hostKey: host.private, userPublicKey: user.public, user: DEMO_USER, shell: opts.shell });
  let middlebox;
  try {
    middlebox = await startMiddlebox({
      target: { host: '127.0.0.1', port: server.port },
      idleTimeoutSeconds: opts.idleTimeoutSeconds > 0 ? opts.idleTimeoutSeconds : Infinity,
      mode: opts.mode,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const mb = middlebox;
  const privateKey = Buffer.from(user.private);
  const connectConfig = (): ConnectConfig => ({
    host: '127.0.0.1',
    port: mb.port,
    username: DEMO_USER,
    privateKey,
    readyTimeout: 10_000,
    hostVerifier: (key: Buffer) => fingerprintOf(key) === hostKeyFingerprint,
  });
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: mb.port,
    serverPort: server.port,
    user: DEMO_USER,
    privateKey,
    hostKeyFingerprint,
    knownHostsLine: `[127.0.0.1]:${mb.port} ${host.public.trim().split(/\s+/).slice(0, 2).join(' ')}`,
    connectConfig,
    openIdle: openIdleWithSsh2(connectConfig),
    openShell: openShellWithSsh2(connectConfig),
    forgottenFlows: () => mb.forgotten(),
    stop() {
      stopped ??= (async () => {
        await mb.stop();
        await server.stop();
      })();
      return stopped;
    },
  };
}
