import { keepaliveFix } from '../engine/values.js';
import type { Evidence } from '../evidence/types.js';
import { connectWithPlan, prepareConnection, type ConnectOptions } from './connect.js';
import { idleConnectionFrom, idleShellFrom, type OpenIdleConnection, type OpenIdleShell } from './idle/connection.js';
import { runIdleTest, TargetLostError } from './idle/idle-test.js';
import { runShellIdle } from './idle/shell-idle.js';
import { runVerify } from './idle/verify.js';
import type { ProbeRunner } from './runner.js';
import type { ResolvedTarget } from './target.js';

export interface IdleProbeOptions {
  idleMaxSeconds: number;
  maxConnections?: number;
  verify: boolean;
  signal?: AbortSignal;
}

/**
 * Openers for the idle probes from the user's own target: one connection plan (known_hosts read
 * once, a password asked once at most), a connection per call with the keepalive the probe asks for.
 */
export async function liveOpeners(resolved: ResolvedTarget, opts: ConnectOptions): Promise<{ openIdle: OpenIdleConnection; openShell: OpenIdleShell }> {
  const plan = await prepareConnection(resolved, opts);
  const client = async (keepaliveIntervalMs: number) => (await connectWithPlan(plan, { ...opts, keepaliveIntervalMs })).client;
  return {
    openIdle: async ({ keepaliveIntervalMs }) => idleConnectionFrom(await client(keepaliveIntervalMs)),
    openShell: async ({ keepaliveIntervalMs }) => idleShellFrom(await client(keepaliveIntervalMs)),
  };
}

function countdown(left: number): string {
  const s = Math.max(0, Math.ceil(left));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} left`;
}

/**
 * The idle timing test and the idle-shell check, side by side (so the run costs about T, not the
 * sum), then --verify. Results go to `measurements` exactly as the contract fixes them.
 */
export async function runIdleProbes(
  ev: Evidence,
  probes: ProbeRunner,
  openers: { openIdle: OpenIdleConnection; openShell: OpenIdleShell },
  opts: IdleProbeOptions,
): Promise<void> {
  const limitMs = (opts.idleMaxSeconds * 1.25 + 60) * 1000;
  let targetLost = false;
  // The shell check stops with the user's Ctrl-C, and when the target went away.
  const stopShell = new AbortController();
  const onAbort = () => stopShell.abort();
  if (opts.signal?.aborted) stopShell.abort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const idle = probes.run('idle-test', `Idle test (up to ${opts.idleMaxSeconds} s)`, limitMs, (update, limit) =>
    runIdleTest(openers.openIdle, {
      idleMaxSeconds: opts.idleMaxSeconds,
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      // the user's Ctrl-C, or the probe's time limit: either ends the test and its connections
      signal: opts.signal ? AbortSignal.any([opts.signal, limit]) : limit,
      onProgress: (p) =>
        update(
          `${countdown(opts.idleMaxSeconds * 1.25 - p.elapsed)}, ${p.alive} idle connection(s) alive` +
            `${p.bracket ? `, drop between ${p.bracket.low} and ${p.bracket.high} s` : ''}${p.note ? ` (${p.note})` : ''}`,
        ),
    }).catch((e: unknown) => {
      if (e instanceof TargetLostError) {
        targetLost = true;
        stopShell.abort();
      }
      throw e;
    }),
  );
  // The shell check shares the terminal line with the idle test: it reports only when done.
  const shell = runShellIdle(openers.openShell, { maxSeconds: opts.idleMaxSeconds, signal: stopShell.signal }).then(
    (m) => m,
    (e: unknown) => {
      ev.errors.push(`shell-idle: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    },
  );
  const [idleResult, shellResult] = await Promise.all([idle, shell]);
  opts.signal?.removeEventListener('abort', onAbort);
  if (idleResult) {
    ev.measurements.idle = idleResult;
    probes.note(
      'idle-test',
      idleResult.dropAfterSeconds
        ? `drops after ${idleResult.dropAfterSeconds.low}-${idleResult.dropAfterSeconds.high} s (${idleResult.dropKind ?? '?'}), ${idleResult.connections} connections`
        : `nothing dropped up to ${idleResult.testedUpToSeconds} s, ${idleResult.connections} connections`,
    );
  }
  // Whatever ended the shell when the target went away was not its idle timeout.
  if (shellResult && targetLost) ev.errors.push('shell-idle: not reported: the target went away during the test');
  else if (shellResult) ev.measurements.shellIdle = shellResult;
  if (targetLost && opts.verify) probes.skip('verify', 'the target went away during the idle test');

  const bracket = idleResult?.dropAfterSeconds;
  if (opts.verify && bracket) {
    const interval = keepaliveFix(bracket.low, undefined).value;
    const hold = Math.ceil(bracket.high * 1.2 + 5);
    const verify = await probes.run('verify', `Verifying ServerAliveInterval ${interval} for ${hold} s`, (hold + 30) * 1000, (update, limit) =>
      runVerify(openers.openIdle, interval, hold, {
        signal: opts.signal ? AbortSignal.any([opts.signal, limit]) : limit,
        onProgress: (p) => update(countdown(p.holdSeconds - p.elapsed)),
      }),
    );
    if (verify) ev.measurements.verify = verify;
  } else if (opts.verify && !targetLost) {
    probes.skip('verify', 'no idle drop was measured');
  }
}
