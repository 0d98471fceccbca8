// The demo's middlebox: a TCP proxy on 127.0.0.1 that forgets idle flows like a NAT or a
// stateful firewall. After `idleTimeoutSeconds` without a byte in either direction a flow is
// forgotten for good: in 'silent' mode later bytes are dropped both ways while both sockets stay
// open (the client hears nothing, as behind a real NAT); in 'reset' mode the next byte from the
// client is answered with a TCP RST (socket.resetAndDestroy()) and the next byte from the server
// gets one toward the server.
import net from 'node:net';

export type MiddleboxMode = 'silent' | 'reset';

export interface MiddleboxOptions {
  target: { host: string; port: number };
  idleTimeoutSeconds: number;
  mode: MiddleboxMode;
}

export interface Middlebox {
  host: '127.0.0.1';
  port: number;
  /** Flows currently tracked (forwarding or forgotten). */
  flowCount(): number;
  /** Flows forgotten so far. */
  forgotten(): number;
  stop(): Promise<void>;
}

interface Flow {
  client: net.Socket;
  upstream: net.Socket;
  timer: NodeJS.Timeout | undefined;
  expired: boolean;
}

export async function startMiddlebox(opts: MiddleboxOptions): Promise<Middlebox> {
  const flows = new Set<Flow>();
  let forgottenCount = 0;
  const idleMs = opts.idleTimeoutSeconds * 1000;
  const useTimer = Number.isFinite(idleMs) && idleMs > 0 && idleMs < 2 ** 31 - 1;

  const drop = (flow: Flow) => {
    if (flow.timer) clearTimeout(flow.timer);
    flow.timer = undefined;
    flows.delete(flow);
    if (!flow.client.destroyed) flow.client.destroy();
    if (!flow.upstream.destroyed) flow.upstream.destroy();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    const upstream = net.connect({ host: opts.target.host, port: opts.target.port });
    const flow: Flow = { client, upstream, timer: undefined, expired: false };
    flows.add(flow);
    const expire = () => {
      flow.timer = undefined;
      flow.expired = true;
      forgottenCount++;
    };
    const touch = () => {
      if (!useTimer || flow.expired) return;
      if (flow.timer) flow.timer.refresh();
      else flow.timer = setTimeout(expire, idleMs);
    };
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('error', () => drop(flow));
    upstream.on('error', () => drop(flow));
    upstream.once('connect', () => {
      touch();
      client.resume();
    });
    client.on('data', (chunk) => {
      if (!flow.expired) {
        touch();
        upstream.write(chunk);
      } else if (opts.mode === 'reset') {
        client.resetAndDestroy();
        drop(flow);
      }
      // silent: the byte is dropped; the client's kernel has acked it, nothing else happens
    });
    upstream.on('data', (chunk) => {
      if (!flow.expired) {
        touch();
        client.write(chunk);
      } else if (opts.mode === 'reset') {
        upstream.resetAndDestroy();
      }
    });
    client.on('end', () => {
      if (flow.expired) drop(flow);
      else upstream.end();
    });
    upstream.on('end', () => {
      // a forgotten flow's FIN never reaches the client
      if (flow.expired) upstream.destroy();
      else client.end();
    });
    client.on('close', () => drop(flow));
    upstream.on('close', () => {
      if (!flow.expired) drop(flow);
    });
  });
  server.maxConnections = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    flowCount: () => flows.size,
    forgotten: () => forgottenCount,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const f of [...flows]) drop(f);
      await closed;
    },
  };
}
