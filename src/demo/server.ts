// The demo's SSH server: ssh2's Server on 127.0.0.1 with a throwaway host key, accepting one
// user key only, with a tiny fake shell. Global requests (keepalive@openssh.com) get
// REQUEST_FAILURE from ssh2, as OpenSSH answers them: any reply means alive.
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ServerChannel, Session } from 'ssh2';

const { Server, utils } = ssh2;

export interface DemoServerOptions {
  hostKey: Buffer | string;
  /** OpenSSH public key line ("ssh-ed25519 AAAA... comment") of the only accepted user key. */
  userPublicKey: string;
  user: string;
  shell?: { tmoutSeconds?: number };
}

export interface DemoServer {
  host: '127.0.0.1';
  port: number;
  /** Connections currently open on the server. */
  connectionCount(): number;
  stop(): Promise<void>;
}

export const TMOUT_MESSAGE = '\x07timed out waiting for input: auto-logout';
const PROMPT = 'demo$ ';

export async function startDemoServer(opts: DemoServerOptions): Promise<DemoServer> {
  const userKey = utils.parseKey(opts.userPublicKey);
  if (userKey instanceof Error) throw userKey;
  const pub = Array.isArray(userKey) ? userKey[0]! : userKey;
  const pubBlob = pub.getPublicSSH();
  const sockets = new Set<net.Socket>();
  const connections = new Set<Connection>();

  const ssh = new Server(
    {
      hostKeys: [opts.hostKey],
      ident: 'OpenSSH_9.2p1 ssh-doctor-demo',
      // ssh2's Server pings every client after 15 s of silence by default (Server.KEEPALIVE_CLIENT_INTERVAL),
      // which would keep every flow alive through the middlebox. OpenSSH's default is
      // ClientAliveInterval 0; a value <= 0 falls back to ssh2's 15 s, so: the longest timer Node allows.
      keepaliveInterval: 2 ** 31 - 1,
    },
    (conn) => {
      connections.add(conn);
      conn.on('error', () => {});
      conn.on('close', () => connections.delete(conn));
      conn.on('authentication', (ctx: AuthContext) => {
        if (ctx.method !== 'publickey' || ctx.username !== opts.user) return ctx.reject(['publickey']);
        if (ctx.key.algo !== pub.type || ctx.key.data.length !== pubBlob.length || !timingSafeEqual(ctx.key.data, pubBlob)) {
          return ctx.reject(['publickey']);
        }
        if (ctx.signature) {
          if (ctx.blob && pub.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
          return ctx.reject(['publickey']);
        }
        return ctx.accept(); // the key is acceptable; the client will sign next
      });
      conn.on('ready', () => {
        conn.on('session', (accept) => {
          const session = accept();
          handleSession(session, opts.shell?.tmoutSeconds);
        });
      });
    },
  );

  // Our own listener, so stop() can tear every socket down; ssh2 takes them via injectSocket.
  const listener = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    ssh.injectSocket(sock);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => {
      listener.removeListener('error', reject);
      resolve();
    });
  });
  const port = (listener.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    connectionCount: () => connections.size,
    async stop() {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const s of [...sockets]) s.destroy();
      await closed;
    },
  };
}

function handleSession(session: Session, tmoutSeconds: number | undefined): void {
  session.on('pty', (accept) => accept?.());
  session.on('window-change', (accept) => accept?.());
  session.on('env', (accept) => accept?.());
  session.on('exec', (accept, _reject, info) => {
    const stream = accept();
    stream.stderr.write(`ssh-doctor demo: no commands here (${info.command.slice(0, 60)}); only an interactive shell\n`);
    stream.exit(127);
    stream.end();
  });
  session.on('shell', (accept) => runFakeShell(accept(), tmoutSeconds));
}

/** Echoes what it is sent; `exit` logs out; with TMOUT it logs out after that long without input, like bash. */
function runFakeShell(stream: ServerChannel, tmoutSeconds: number | undefined): void {
  let line = '';
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const close = (status: number) => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    stream.exit(status);
    stream.end();
  };
  const arm = () => {
    if (!tmoutSeconds || tmoutSeconds <= 0) return;
    if (timer) timer.refresh();
    else
      timer = setTimeout(() => {
        stream.write(`${TMOUT_MESSAGE}\r\n`);
        close(0);
      }, tmoutSeconds * 1000);
  };
  stream.on('close', () => {
    closed = true;
    if (timer) clearTimeout(timer);
  });
  stream.on('error', () => {});
  stream.write(`ssh-doctor demo shell${tmoutSeconds ? ` (TMOUT=${tmoutSeconds})` : ''}\r\n${PROMPT}`);
  arm();
  stream.on('data', (data: Buffer) => {
    arm();
    for (const ch of data.toString('utf8')) {
      if (ch === '\r' || ch === '\n') {
        stream.write('\r\n');
        const cmd = line.trim();
        line = '';
        if (cmd === 'exit' || cmd === 'logout') return close(0);
        if (cmd) stream.write(`${cmd}\r\n`);
        stream.write(PROMPT);
      } else if (ch === '\x04') {
        if (!line) return close(0);
      } else if (ch === '\x7f' || ch === '\b') {
        if (line) {
          line = line.slice(0, -1);
          stream.write('\b \b');
        }
      } else {
        line += ch;
        stream.write(ch);
      }
    }
  });
}
