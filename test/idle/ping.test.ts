// The one reach into ssh2 internals: the keepalive ping, and its version/shape guard.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startDemo, type Demo } from '../../src/demo/start.js';
import { connectSsh2, idleConnectionFrom } from '../../src/probes/idle/connection.js';
import { assertSsh2Internals, INSTALLED_SSH2_VERSION, PINNED_SSH2_VERSION, sendKeepalivePing, Ssh2InternalsError } from '../../src/probes/idle/ping.js';

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo({ idleTimeoutSeconds: 1e6, mode: 'silent' });
});
afterAll(() => demo.stop());

test('the installed ssh2 is the pinned one', () => {
  expect(INSTALLED_SSH2_VERSION).toBe(PINNED_SSH2_VERSION);
  expect(() => assertSsh2Internals()).not.toThrow();
});

test('the guard refuses another ssh2 version and objects without the internals', () => {
  expect(() => assertSsh2Internals(undefined, '1.16.0')).toThrow(Ssh2InternalsError);
  expect(() => assertSsh2Internals(undefined, '1.16.0')).toThrow(/1\.17\.0.*installed ssh2 is 1\.16\.0/);
  expect(() => assertSsh2Internals({})).toThrow(/_protocol\.ping\(\), _callbacks\[\], _sock/);
  expect(() => assertSsh2Internals({ _protocol: { ping() {} }, _callbacks: [], _sock: { destroy() {} } })).not.toThrow();
});

test('a want-reply keepalive gets a reply (ssh2 servers and OpenSSH answer REQUEST_FAILURE)', async () => {
  const client = await connectSsh2(demo.connectConfig());
  try {
    const replies = await Promise.all([1, 2, 3].map(() => new Promise((resolve) => sendKeepalivePing(client, resolve))));
    expect(replies).toEqual(['failure', 'failure', 'failure']);
  } finally {
    client.end();
  }
});

test('IdleConnection: ping answers ok, end() is local, a ping after the close reports it', async () => {
  const conn = idleConnectionFrom(await connectSsh2(demo.connectConfig()));
  expect(await conn.ping(2000)).toBe('ok');
  conn.end();
  const closed = await conn.closed;
  expect(closed.local).toBe(true);
  expect(await conn.ping(2000)).toBe('closed-by-server');
});

test('a server that goes away shows as a close, not a silent drop', async () => {
  const d = await startDemo({ idleTimeoutSeconds: 1e6, mode: 'silent' });
  const conn = await d.openIdle({ keepaliveIntervalMs: 0 });
  await d.stop();
  const closed = await conn.closed;
  expect(['closed-by-server', 'reset']).toContain(closed.kind);
  expect(closed.local).toBeUndefined();
});
