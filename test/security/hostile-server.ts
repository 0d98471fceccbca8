// A hostile or inspected target for the security tests: an ssh2 server on 127.0.0.1 that records
// every command a client runs (and the user names it logs in with), and can answer each command
// with a flood that never ends (stdout and stderr), a huge pre-banner greeting and a huge
// authentication banner.

import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection as ServerConnection, ParsedKey, ServerChannel } from 'ssh2';
import { answerPublicKey } from '../probes/server.js';

const { Server } = ssh2;

export interface HostileOptions {
  hostKey: string;
  /** Public keys allowed to log in (publickey). */
  allowKeys?: ParsedKey[];
  /** Password accepted (password method), if any. */
  password?: string;
  /** Sent before the SSH identification line (ssh2 allows at most 1024 lines of 8 KiB). */
  greeting?: string;
  /** SSH_MSG_USERAUTH_BANNER text. */
  banner?: string;
  /** The software part of the identification line (default OpenSSH_9.6). */
  ident?: string;
  /** What a command gets: a never-ending flood, or an answer (stdout, exit status). */
  exec: 'flood' | ((command: string) => { stdout?: string | Buffer; code?: number });
}

export interface HostileServer {
  port: number;
  /** Every exec request, in order. */
  commands: string[];
  /** Every user name an authentication attempt used. */
  users: string[];
  /** Bytes the floods wrote into channels (accepted by the transport). */
  floodBytes(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x41);
CHUNK[CHUNK.length - 1] = 0x0a;

/** Writes CHUNK into a stream until it closes, waiting for 'drain' (flow control) like a real pipe. */
function pump(stream: NodeJS.WritableStream & { once: (e: string, f: () => void) => unknown }, closed: () => boolean, count: (n: number) => void): void {
  const go = (): void => {
    while (!closed()) {
      count(CHUNK.length);
      if (!stream.write(CHUNK)) {
        stream.once('drain', go);
        return;
      }
    }
  };
  go();
}

export async function startHostileServer(o: HostileOptions): Promise<HostileServer> {
  const commands: string[] = [];
  const users: string[] = [];
  const clients = new Set<ServerConnection>();
  let flooded = 0;
  const server = new Server(
    { hostKeys: [o.hostKey], ident: o.ident ?? 'OpenSSH_9.6', ...(o.greeting !== undefined ? { greeting: o.greeting } : {}), ...(o.banner !== undefined ? { banner: o.banner } : {}) },
    (client) => {
      clients.add(client);
      client.on('close', () => clients.delete(client));
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        users.push(ctx.username);
        const methods: Array<'publickey' | 'password'> = o.password !== undefined ? ['publickey', 'password'] : ['publickey'];
        if (ctx.method === 'publickey') return answerPublicKey(ctx, o.allowKeys ?? [], methods);
        if (ctx.method === 'password' && o.password !== undefined && ctx.password === o.password) return ctx.accept();
        ctx.reject(methods);
      });
      client.on('ready', () => {
        client.on('request', (accept) => accept?.()); // keepalive@openssh.com and friends
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('pty', (accept) => accept?.());
          session.on('env', (accept) => accept?.());
          session.on('shell', (accept) => {
            const ch = accept();
            ch.on('error', () => undefined);
          });
          session.on('exec', (accept, _reject, info) => {
            commands.push(info.command);
            const ch: ServerChannel = accept();
            ch.on('error', () => undefined);
            if (o.exec === 'flood') {
              let closed = false;
              ch.on('close', () => (closed = true));
              pump(ch, () => closed, (n) => (flooded += n));
              pump(ch.stderr, () => closed, (n) => (flooded += n));
              return;
            }
            const r = o.exec(info.command);
            if (r.stdout !== undefined && r.stdout.length > 0) ch.write(r.stdout);
            ch.exit(r.code ?? 0);
            ch.end();
          });
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    users,
    floodBytes: () => flooded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}
