// A CPU stall in ssh-doctor's own process must not count as an unanswered ping. The server runs
// in another process, so it answers while this one is blocked; the reply then waits in the
// socket while the ping's timer is overdue. A plain setTimeout fires first (the timers phase runs
// before the poll phase reads the socket) and the ping would be "unanswered"; the patient timer
// discounts the stall and reads the reply first.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fingerprintOf } from '../../src/demo/start.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { openIdleWithSsh2, type IdleConnection } from '../../src/probes/idle/connection.js';
import { patientTimeout, stalledMs } from '../../src/probes/patient-timer.js';

/** Keeps this process's event loop busy for `ms`, as a long synchronous parse or a starved CPU would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

let server: ChildProcess;
let open: () => Promise<IdleConnection>;

beforeAll(async () => {
  const host = ssh2.utils.generateKeyPairSync('ed25519');
  const user = ssh2.utils.generateKeyPairSync('ed25519');
  const module = join(PACKAGE_ROOT, 'dist', 'src', 'demo', 'server.js');
  const script = `const { startDemoServer } = await import(${JSON.stringify(module)});
const s = await startDemoServer({ hostKey: process.env.HOST_KEY, userPublicKey: process.env.USER_PUB, user: 'demo' });
process.stdout.write(s.port + '\\n');`;
  server = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, HOST_KEY: host.private, USER_PUB: user.public },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.stdout!.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
    server.once('exit', (code) => reject(new Error(`the test server exited (${code})`)));
  });
  const hostPub = ssh2.utils.parseKey(host.public);
  if (hostPub instanceof Error) throw hostPub;
  const fingerprint = fingerprintOf((Array.isArray(hostPub) ? hostPub[0]! : hostPub).getPublicSSH());
  const opener = openIdleWithSsh2(() => ({
    host: '127.0.0.1',
    port,
    username: 'demo',
    privateKey: user.private,
    hostVerifier: (key: Buffer) => fingerprintOf(key) === fingerprint,
  }));
  open = () => opener({ keepaliveIntervalMs: 0 });
});

afterAll(() => {
  server?.kill('SIGKILL');
});

describe('a stall of this process is not the peer being silent', () => {
  test('a ping answered while this process was blocked past its wait counts as answered', async () => {
    const conn = await open();
    try {
      const before = stalledMs();
      const reply = conn.ping(1000);
      stall(2500); // the server answers at once; the reply waits in the socket
      expect(await reply).toBe('ok');
      expect(stalledMs() - before).toBeGreaterThan(1000);
    } finally {
      conn.end();
    }
  });

  test('a peer that really is silent still times out, stall or not', async () => {
    const conn = await open();
    server.kill('SIGSTOP');
    try {
      const reply = conn.ping(1000);
      stall(1500);
      expect(await reply).toBe('silent');
    } finally {
      server.kill('SIGCONT');
      conn.end();
    }
  });

  test('the wait counts running time only, and a cancelled wait never fires', async () => {
    let cancelledFired = false;
    patientTimeout(() => (cancelledFired = true), 50)();
    let firedAt = 0;
    const fired = new Promise<void>((resolve) =>
      patientTimeout(() => {
        firedAt = performance.now();
        resolve();
      }, 300),
    );
    stall(600);
    const stallEnd = performance.now();
    await fired;
    // a plain timer would fire at once here; the stall did not count as waiting, but for the
    // sampler's 100 ms granularity (a lower bound: a busier machine only makes it longer)
    expect(firedAt - stallEnd).toBeGreaterThanOrEqual(150);
    expect(cancelledFired).toBe(false);
  });
});
