// The one place ssh-doctor reaches into ssh2's internals.
//
// ssh2 has no public call for a want-reply `keepalive@openssh.com` global request: its own
// keepalive (`keepaliveInterval`) sends one with `Client._protocol.ping()` and keeps reply order
// by pushing a callback onto `Client._callbacks`, which the REQUEST_SUCCESS / REQUEST_FAILURE
// handlers shift (FIFO; replies to global requests come in request order, RFC 4254 4). On
// transport close ssh2 calls every queued callback with an Error ('No response from server').
// `Client.destroy()` does nothing once `end()` has half-closed the socket, so a transport whose
// peer went silent is torn down through `Client._sock`.
//
// These are internals of ssh2 1.17.0 (pinned exactly in package.json). The guard below refuses
// any other version, and any object without the expected shape, with a clear error rather than
// a ping that silently never resolves.
import { createRequire } from 'node:module';
import type { Client } from 'ssh2';

export const PINNED_SSH2_VERSION = '1.17.0';

/** The installed ssh2 version, read from its package.json. */
export const INSTALLED_SSH2_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export class Ssh2InternalsError extends Error {
  override name = 'Ssh2InternalsError';
}

interface Ssh2Internals {
  _protocol: { ping(): void } | undefined;
  _callbacks: Array<(err: boolean | Error, data?: unknown) => void> | undefined;
  _sock: { destroy(): void; destroyed?: boolean } | undefined;
}

/**
 * Throws Ssh2InternalsError unless `version` is the pinned ssh2 and (when given) `client` has
 * the internals this module uses. `version` is a parameter so the guard itself can be tested.
 */
export function assertSsh2Internals(client?: unknown, version: string = INSTALLED_SSH2_VERSION): void {
  const where = 'ssh-doctor sends keepalive@openssh.com pings through ssh2 internals (Client._protocol.ping, Client._callbacks, Client._sock)';
  if (version !== PINNED_SSH2_VERSION) {
    throw new Ssh2InternalsError(`${where} that are known for ssh2 ${PINNED_SSH2_VERSION} only; installed ssh2 is ${version}: reinstall with the pinned version (npm ci)`);
  }
  if (client === undefined) return;
  const c = client as Partial<Ssh2Internals> | null;
  if (c === null || typeof c !== 'object') throw new Ssh2InternalsError(`${where}: expected an ssh2 Client`);
  const missing: string[] = [];
  if (!c._protocol || typeof c._protocol.ping !== 'function') missing.push('_protocol.ping()');
  if (!Array.isArray(c._callbacks)) missing.push('_callbacks[]');
  if (!c._sock || typeof c._sock.destroy !== 'function') missing.push('_sock');
  if (missing.length) {
    throw new Ssh2InternalsError(`${where}: this Client has no ${missing.join(', ')} (not connected yet, or not ssh2 ${PINNED_SSH2_VERSION} internals)`);
  }
}

export type PingReply = 'success' | 'failure' | Error;

/**
 * Sends one `keepalive@openssh.com` global request with want-reply on an authenticated client.
 * `onReply` gets 'success' or 'failure' (either means the peer is alive: OpenSSH answers
 * keepalives with REQUEST_FAILURE) or the Error ssh2 passes when the transport closed first.
 * It may never be called when the peer is silent: the caller owns the timeout.
 */
export function sendKeepalivePing(client: Client, onReply: (reply: PingReply) => void): void {
  assertSsh2Internals(client);
  const c = client as unknown as Ssh2Internals;
  c._callbacks!.push((err) => {
    if (err instanceof Error) onReply(err);
    else onReply(err ? 'failure' : 'success');
  });
  c._protocol!.ping();
}

/** Tears the transport down at once (no DISCONNECT, no waiting for a silent peer's FIN). */
export function destroyTransport(client: Client): void {
  const sock = (client as unknown as Partial<Ssh2Internals>)._sock;
  if (sock && !sock.destroyed) sock.destroy();
}
