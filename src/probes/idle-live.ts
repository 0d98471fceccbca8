import { keepaliveFix } from '../engine/values.js';
import type { Evidence } from '../evidence/types.js';
import { connectWithPlan, prepareConnection, type ConnectOptions } from './connect.js';
import { idleConnectionFrom, idleShellFrom, type OpenIdleConnection, type OpenIdleShell } from './idle/connection.js';
import { DEFAULT_UNANSWERED_MS, runIdleTest } from './idle/idle-test.js';
import { TargetPresence } from './idle/presence.js';
import { runShellIdle } from './idle/shell-idle.js';
import { runVerify } from './idle/verify.js';
import type { ProbeRunner } from './runner.js';
import type { ResolvedTarget } from './target.js';

export interface IdleProbeOptions {
  idleMaxSeconds: number;
  maxConnections?: number;
  verify: boolean;
  signal?: AbortSignal;
  /** -v: what the idle probes do, a line per event. */
  debug?: (line: string) => void;
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
 * sum), then --verify. Results go to `measurements` exactly as the contract fixes them. Both
 * share one verdict on whether the target is still there (presence.ts): when it went away, what
 * ended their connections was not a timeout, so neither reports one. Returns whether it went away.
 */
export async function runIdleProbes(
  ev: Evidence,
  probes: ProbeRunner,
  openers: { openIdle: OpenIdleConnection; openShell: OpenIdleShell },
  opts: IdleProbeOptions,
): Promise<{ targetLost: boolean }> {
  const limitMs = (opts.idleMaxSeconds * 1.25 + 60) * 1000;
  const t0 = performance.now();
  const presence = new TargetPresence(openers.openIdle, {
    pingTimeoutMs: DEFAULT_UNANSWERED_MS,
    now: () => (performance.now() - t0) / 1000,
    ...(opts.debug ? { debug: opts.debug } : {}),
  });
  // The shell check stops with the user's Ctrl-C, and when the target went away.
  const stopShell = new AbortController();
  const onAbort = () => stopShell.abort();
  if (opts.signal?.aborted) stopShell.abort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  presence.onGone(() => stopShell.abort());
  const idle = probes.run('idle-test', `Idle test (up to ${opts.idleMaxSeconds} s)`, limitMs, (update, limit) =>
    runIdleTest(openers.openIdle, {
      idleMaxSeconds: opts.idleMaxSeconds,
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      // the user's Ctrl-C, or the probe's time limit: either ends the test and its connections
      signal: opts.signal ? AbortSignal.any([opts.signal, limit]) : limit,
      presence,
      ...(opts.debug ? { debug: opts.debug } : {}),
      onProgress: (p) =>
        update(
          `${countdown(opts.idleMaxSeconds * 1.25 - p.elapsed)}, ${p.alive} idle connection(s) alive` +
            `${p.bracket ? `, drop between ${p.bracket.low} and ${p.bracket.high} s` : ''}${p.note ? ` (${p.note})` : ''}`,
        ),
    }),
  );
  // The shell check shares the terminal line with the idle test: it is recorded when both are done.
  const shellStarted = Date.now();
  const shell = runShellIdle(openers.openShell, {
    maxSeconds: opts.idleMaxSeconds,
    signal: stopShell.signal,
    presence,
    ...(opts.debug ? { debug: opts.debug } : {}),
  }).then(
    (m) => ({ m }),
    (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
  );
  const [idleResult, shellOutcome] = await Promise.all([idle, shell]);
  opts.signal?.removeEventListener('abort', onAbort);
  const targetLost = presence.gone !== undefined;
  if (idleResult) {
    ev.measurements.idle = idleResult;
    probes.note(
      'idle-test',
      idleResult.dropAfterSeconds
        ? `drops after ${idleResult.dropAfterSeconds.low}-${idleResult.dropAfterSeconds.high} s (${idleResult.dropKind ?? '?'}), ${idleResult.connections} connections`
        : `nothing dropped up to ${idleResult.testedUpToSeconds} s, ${idleResult.connections} connections`,
    );
  }
  // Whatever ended the shell once the target went away was not its idle timeout.
  const shellLabel = 'Idle shell check';
  if ('m' in shellOutcome && !targetLost) {
    ev.measurements.shellIdle = shellOutcome.m;
    const m = shellOutcome.m;
    probes.ok('shell-idle', shellStarted, shellLabel, m.verdict === 'closed' ? `closed after ${m.afterSeconds} s (${m.how})` : `still open after ${m.testedUpToSeconds} s`);
  } else if (targetLost) {
    probes.fail('shell-idle', shellStarted, shellLabel, 'not reported: the target went away during the test');
  } else if ('error' in shellOutcome) {
    probes.fail('shell-idle', shellStarted, shellLabel, shellOutcome.error);
  }
  if (targetLost && opts.verify) probes.skip('verify', 'the target went away during the idle test');

  const bracket = idleResult?.dropAfterSeconds;
  if (opts.verify && bracket && !targetLost) {
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
  return { targetLost };
}
