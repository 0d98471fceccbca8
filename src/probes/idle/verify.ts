// --verify: hold one connection with the recommended keepalive past the measured timeout, then
// ping it. Survived = it answered and never closed.
import type { VerifyMeasurement } from '../../evidence/types.js';
import type { OpenIdleConnection } from './connection.js';
import { DEFAULT_UNANSWERED_MS } from './idle-test.js';

export interface VerifyOptions {
  unansweredMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { elapsed: number; holdSeconds: number }) => void;
}

export async function runVerify(
  open: OpenIdleConnection,
  keepaliveIntervalSeconds: number,
  holdSeconds: number,
  opts: VerifyOptions = {},
): Promise<VerifyMeasurement> {
  const conn = await open({ keepaliveIntervalMs: keepaliveIntervalSeconds * 1000 });
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const round1 = (n: number) => Math.round(n * 10) / 10;
  let timer: NodeJS.Timeout | undefined;
  const ticker = opts.onProgress ? setInterval(() => opts.onProgress!({ elapsed: round1(elapsed()), holdSeconds }), 1000) : undefined;
  try {
    const first = await Promise.race([
      conn.closed.then(() => 'closed' as const),
      new Promise<'held'>((r) => (timer = setTimeout(() => r('held'), holdSeconds * 1000))),
      new Promise<'aborted'>((r) => {
        if (opts.signal?.aborted) r('aborted');
        opts.signal?.addEventListener('abort', () => r('aborted'), { once: true });
      }),
    ]);
    if (first === 'closed') return { keepaliveInterval: keepaliveIntervalSeconds, heldSeconds: round1(elapsed()), survived: false };
    const held = elapsed();
    const r = await conn.ping(opts.unansweredMs ?? DEFAULT_UNANSWERED_MS);
    return { keepaliveInterval: keepaliveIntervalSeconds, heldSeconds: round1(held), survived: r === 'ok' && first === 'held' };
  } finally {
    if (timer) clearTimeout(timer);
    if (ticker) clearInterval(ticker);
    conn.end();
  }
}
