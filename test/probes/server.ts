// An in-process ssh2 server on 127.0.0.1 for the connection-layer tests: throwaway host keys,
// publickey/password auth against given keys, and a record of every authentication attempt.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { AuthenticationType, Connection as ServerConnection, ParsedKey, PublicKeyAuthContext } from 'ssh2';

const { Server, utils } = ssh2;

export interface KeyPair {
  private: string;
  public: string;
  parsed: ParsedKey;
  blob: Buffer;
}

export function keyPair(type: 'ed25519' | 'rsa', opts: { passphrase?: string } = {}): KeyPair {
  const enc = opts.passphrase !== undefined ? { passphrase: opts.passphrase, cipher: 'aes256-ctr', rounds: 16 } : undefined;
  let k: { private: string; public: string };
  if (type === 'rsa') k = enc ? utils.generateKeyPairSync('rsa', { bits: 2048, ...enc }) : utils.generateKeyPairSync('rsa', { bits: 2048 });
  else k = enc ? utils.generateKeyPairSync('ed25519', enc) : utils.generateKeyPairSync('ed25519');
  const parsed = utils.parseKey(k.public) as ParsedKey;
  return { private: k.private, public: k.public, parsed, blob: parsed.getPublicSSH() };
}

export interface AuthAttempt {
  method: string;
  user: string;
  /** publickey: the key offered (SSH wire blob, base64). */
  key?: string;
  signed?: boolean;
}

export interface TestServer {
  port: number;
  attempts: AuthAttempt[];
  /** Number of TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

export interface ServerOptions {
  hostKeys: string[];
  /** Public keys allowed to log in. */
  allowKeys?: ParsedKey[];
  password?: string;
  /** Methods advertised after `none`. */
  methods?: Array<'publickey' | 'password' | 'keyboard-interactive'>;
  ident?: string;
}

export async function startServer(o: ServerOptions): Promise<TestServer> {
  const attempts: AuthAttempt[] = [];
  const clients = new Set<ServerConnection>();
  const methods = o.methods ?? ['publickey', 'password'];
  const state = { connections: 0 };
  const server = new Server({ hostKeys: o.hostKeys, ident: o.ident ?? 'OpenSSH_9.2p1 Debian-2+deb12u3' }, (client) => {
    state.connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      const a: AuthAttempt = { method: ctx.method, user: ctx.username };
      if (ctx.method === 'publickey') {
        a.key = ctx.key.data.toString('base64');
        a.signed = ctx.signature !== undefined;
      }
      attempts.push(a);
      if (!(methods as string[]).includes(ctx.method)) return ctx.reject(methods);
      if (ctx.method === 'publickey') return answerPublicKey(ctx, o.allowKeys ?? [], methods);
      if (ctx.method === 'password') {
        return o.password !== undefined && ctx.password === o.password ? ctx.accept() : ctx.reject(methods);
      }
      if (ctx.method === 'keyboard-interactive') {
        ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
          if (o.password !== undefined && answers[0] === o.password) ctx.accept();
          else ctx.reject(methods);
        });
        return;
      }
      ctx.reject(methods);
    });
    client.on('ready', () => {
      // direct-tcpip, so that a real `ssh -W` can use this server as a jump host
      client.on('tcpip', (accept, _reject, info) => {
        const ch = accept();
        const s = net.connect(info.destPort, info.destIP);
        s.on('error', () => ch.close());
        ch.on('error', () => s.destroy());
        ch.pipe(s).pipe(ch);
      });
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acc) => {
          const ch = acc();
          ch.write('ok\n');
          ch.exit(0);
          ch.end();
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    attempts,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tempDir(): { dir: string; write(name: string, text: string, mode?: number): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ssh-doctor-probes-'));
  return {
    dir,
    write(name, text, mode = 0o600) {
      const p = path.join(dir, name);
      writeFileSync(p, text, { mode });
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An agent holding the given private keys, counting what it is asked. */
export class FakeAgent extends ssh2.BaseAgent {
  listed = 0;
  signed: string[] = [];
  private readonly keys: ParsedKey[];

  constructor(privateKeys: string[]) {
    super();
    this.keys = privateKeys.map((p) => utils.parseKey(p) as ParsedKey);
  }

  getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void): void {
    this.listed++;
    cb(null, this.keys.map((k) => utils.parseKey(k.getPublicSSH()) as ParsedKey));
  }

  sign(pubKey: ParsedKey | Buffer | string, data: Buffer, options: unknown, cb?: (err?: Error | null, sig?: Buffer) => void): void {
    const done = (typeof options === 'function' ? options : cb) as (err?: Error | null, sig?: Buffer) => void;
    const blob = Buffer.isBuffer(pubKey) ? pubKey : typeof pubKey === 'string' ? Buffer.from(pubKey) : pubKey.getPublicSSH();
    const key = this.keys.find((k) => k.getPublicSSH().equals(blob));
    if (!key) return done(new Error('no such key'));
    this.signed.push(blob.toString('base64'));
    const hash = typeof options === 'object' && options !== null ? (options as { hash?: string }).hash : undefined;
    done(null, key.sign(data, hash));
  }
}

/**
 * A server's answer to a publickey attempt, as sshd gives it: an allowed key without a signature
 * is accepted as a query, with one it must verify.
 */
export function answerPublicKey(ctx: PublicKeyAuthContext, allowKeys: ParsedKey[], methods: AuthenticationType[]): void {
  const allowed = allowKeys.find((k) => k.getPublicSSH().equals(ctx.key.data));
  if (!allowed) return ctx.reject(methods);
  if (ctx.signature === undefined) return ctx.accept();
  if (ctx.blob !== undefined && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
  return ctx.reject(methods);
}
