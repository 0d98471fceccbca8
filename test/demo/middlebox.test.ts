// The demo middlebox alone, in front of a TCP echo server: forwards, forgets idle flows, then
// drops silently or resets.
import net from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startMiddlebox, type Middlebox } from '../../src/demo/middlebox.js';

let echo: net.Server | undefined;
let mb: Middlebox | undefined;
afterEach(async () => {
  await mb?.stop();
  await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
  mb = undefined;
  echo = undefined;
});

async function setup(mode: 'silent' | 'reset', idleTimeoutSeconds: number) {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  mb = await startMiddlebox({ target: { host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port }, idleTimeoutSeconds, mode });
  const sock = net.connect(mb.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const received: string[] = [];
  sock.on('data', (d) => received.push(d.toString()));
  return { sock, received };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('silent: forwards while traffic flows, then drops bytes both ways and keeps the socket open', async () => {
  const { sock, received } = await setup('silent', 0.3);
  for (let i = 0; i < 4; i++) {
    sock.write(`a${i}`);
    await sleep(150); // < T: each exchange keeps the flow alive
  }
  expect(received.join('')).toBe('a0a1a2a3');
  await sleep(450);
  expect(mb!.forgotten()).toBe(1);
  sock.write('late');
  await sleep(200);
  expect(received.join('')).toBe('a0a1a2a3');
  expect(sock.destroyed).toBe(false);
  sock.destroy();
});

test('reset: the first byte after the timeout gets a TCP reset', async () => {
  const { sock } = await setup('reset', 0.2);
  const err = new Promise<NodeJS.ErrnoException>((r) => sock.once('error', r));
  await sleep(350);
  sock.write('late');
  expect((await err).code).toBe('ECONNRESET');
});
