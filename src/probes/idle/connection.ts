// Connections the idle probes hold idle and ping, and the pty shells the shell-idle probe
// watches. The live path builds them from the user's ssh config, the demo and tests from the
// demo's keys; the probes only see these interfaces (fake ones drive the schedule tests).
import ssh2 from 'ssh2';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import type { DropKind } from '../../evidence/types.js';
import { patientTimeout } from '../patient-timer.js';
import { assertSsh2Internals, destroyTransport, sendKeepalivePing } from './ping.js';

export interface ClosedInfo {
  kind: DropKind;
  /** The server's disconnect description, or the error that ended the transport. */
  reason?: string;
  /** True when ssh-doctor itself ended the connection (end()); `kind` then means nothing. */
  local?: boolean;
}

/** A connection the idle test can hold idle and then ping. */
export interface IdleConnection {
  /**
   * keepalive@openssh.com global request with want-reply; resolves 'ok' (any reply) or how it
   * died, after waiting `timeoutMs` for an answer ('silent' when none came).
   */
  ping(timeoutMs: number): Promise<'ok' | DropKind>;
  /** Resolves when the transport closes: how and, if the server sent one, the disconnect reason. */
  closed: Promise<ClosedInfo>;
  /** Ends the connection (graceful DISCONNECT when the transport still works, torn down after 1 s at most). */
  end(): void;
}

export type OpenIdleConnection = (opts: { keepaliveIntervalMs: number /* 0 = off */ }) => Promise<IdleConnection>;

/** How an ssh2 error or close maps to a DropKind. */
export function classifyError(err: (Error & { code?: unknown; level?: unknown }) | undefined): ClosedInfo {
  if (!err) return { kind: 'closed-by-server' };
  const code = err.code;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return { kind: 'reset', reason: err.message };
  if (err.level === 'client-timeout' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { kind: 'silent', reason: err.message };
  }
  // A DISCONNECT message from the server: ssh2 emits an Error with the numeric reason code.
  if (typeof code === 'number') return { kind: 'closed-by-server', reason: err.message };
  return { kind: 'closed-by-server', reason: err.message };
}

/** Wraps an authenticated ssh2 Client (after 'ready'). Adds an 'error' listener. */
export function idleConnectionFrom(client: Client): IdleConnection {
  assertSsh2Internals(client);
  let firstError: (Error & { code?: unknown; level?: unknown }) | undefined;
  let local = false;
  let closedInfo: ClosedInfo | undefined;
  client.on('error', (err: Error) => {
    // The first error says how it died; later ones (writes after a reset...) are echoes.
    firstError ??= err;
  });
  const closed = new Promise<ClosedInfo>((resolve) => {
    client.once('close', () => {
      closedInfo = local ? { kind: 'closed-by-server', reason: 'ended by ssh-doctor', local: true } : classifyError(firstError);
      resolve(closedInfo);
    });
  });
  return {
    closed,
    ping(timeoutMs: number): Promise<'ok' | DropKind> {
      if (closedInfo) return Promise.resolve(closedInfo.kind);
      return new Promise((resolve) => {
        let done = false;
        const finish = (v: 'ok' | DropKind) => {
          if (done) return;
          done = true;
          cancel();
          resolve(v);
        };
        // silence of the peer, not of this process: a stall here does not make the ping unanswered
        const cancel = patientTimeout(() => finish('silent'), timeoutMs);
        // a transport that closes first (a FIN while the ping was in flight) says how at once
        void closed.then((c) => finish(c.kind));
        try {
          sendKeepalivePing(client, (reply) => {
            if (reply instanceof Error) void closed.then((c) => finish(c.kind));
            else finish('ok');
          });
        } catch (err) {
          cancel();
          done = true;
          throw err;
        }
      });
    },
    end() {
      if (closedInfo) return;
      local = true;
      client.end();
      setTimeout(() => destroyTransport(client), 1000).unref();
    },
  };
}

/** Opens an authenticated ssh2 connection; rejects with ssh2's error (code kept: ECONNREFUSED...). */
export function connectSsh2(config: ConnectConfig): Promise<Client> {
  // ssh2 without a hostVerifier takes any host key: ssh-doctor never connects that way
  if (typeof config.hostVerifier !== 'function') return Promise.reject(new Error('refusing to connect without host key verification (no hostVerifier)'));
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const onError = (err: Error) => {
      if (settled) return;
      settled = true;
      client.removeListener('ready', onReady);
      destroyTransport(client);
      reject(err);
    };
    const onReady = () => {
      if (settled) return;
      settled = true;
      client.removeListener('error', onError);
      // keep a listener so a later error never throws before the caller attaches its own
      client.on('error', () => {});
      resolve(client);
    };
    client.once('ready', onReady);
    client.on('error', onError);
    client.once('close', () => onError(Object.assign(new Error('Connection closed before authentication'), { code: 'ECONNRESET' })));
    try {
      client.connect(config);
    } catch (err) {
      onError(err as Error);
    }
  });
}

/**
 * An OpenIdleConnection from an ssh2 ConnectConfig factory (called once per connection, so a
 * jump-host `sock` can be made fresh each time). `keepaliveInterval` is set from the options.
 */
export function openIdleWithSsh2(makeConfig: () => ConnectConfig | Promise<ConnectConfig>): OpenIdleConnection {
  return async ({ keepaliveIntervalMs }) => {
    const config = await makeConfig();
    const client = await connectSsh2({ ...config, keepaliveInterval: keepaliveIntervalMs > 0 ? keepaliveIntervalMs : 0 });
    return idleConnectionFrom(client);
  };
}

/** A pty shell the shell-idle probe leaves idle. */
export interface IdleShell {
  /** The connection the shell runs on (kept alive: it can vouch that the target still answers). */
  connection: IdleConnection;
  /** Everything the shell prints (stdout and stderr), as it arrives. */
  onOutput(listener: (text: string) => void): void;
  /** Resolves when the shell's channel closes (exit, TMOUT, ChannelTimeout...). */
  channelClosed: Promise<void>;
  /** Resolves when the transport closes. */
  closed: Promise<ClosedInfo>;
  end(): void;
}

export type OpenIdleShell = (opts: { keepaliveIntervalMs: number }) => Promise<IdleShell>;

/** Opens a pty shell (xterm, 80x24) on an authenticated ssh2 Client and wraps it. */
export function idleShellFrom(client: Client): Promise<IdleShell> {
  const conn = idleConnectionFrom(client);
  return new Promise((resolve, reject) => {
    client.shell({ term: 'xterm', cols: 80, rows: 24 }, (err: Error | undefined, stream: ClientChannel) => {
      if (err) {
        conn.end();
        reject(err);
        return;
      }
      const listeners: Array<(t: string) => void> = [];
      const emit = (b: Buffer) => {
        const text = b.toString('utf8');
        for (const l of listeners) l(text);
      };
      stream.on('data', emit);
      stream.stderr.on('data', emit);
      const channelClosed = new Promise<void>((res) => stream.once('close', () => res()));
      resolve({
        connection: conn,
        onOutput: (l) => listeners.push(l),
        channelClosed,
        closed: conn.closed,
        end: () => conn.end(),
      });
    });
  });
}

export function openShellWithSsh2(makeConfig: () => ConnectConfig | Promise<ConnectConfig>): OpenIdleShell {
  return async ({ keepaliveIntervalMs }) => {
    const config = await makeConfig();
    const client = await connectSsh2({ ...config, keepaliveInterval: keepaliveIntervalMs > 0 ? keepaliveIntervalMs : 0 });
    return idleShellFrom(client);
  };
}
