// The shell-idle check: a pty shell on a connection with keepalives on (so no middlebox can
// forget the flow), left idle. What ends it tells the cause apart: the shell's own TMOUT
// message (shell-tmout), the channel closing while the connection lives (ChannelTimeout), or
// the whole connection closing.
import type { ShellIdleMeasurement } from '../../evidence/types.js';
import type { IdleShell, OpenIdleShell } from './connection.js';
import { TargetLostError, type TargetPresence } from './presence.js';

/** bash/ksh "timed out waiting for input: auto-logout", tcsh "auto-logout", zsh "zsh: timeout". */
export const TMOUT_PATTERN = /timed out waiting for input: auto-logout|\bauto-logout\b|\bzsh: timeout\b/i;

export interface ShellIdleOptions {
  /** How long to leave the shell idle at most. */
  maxSeconds: number;
  /** Keepalive interval of the connection (default 5000: below any middlebox timeout worth the name). */
  keepaliveIntervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { elapsed: number }) => void;
  /**
   * Asked when the shell's whole connection closed: a target that went away is not a shell or
   * session limit (TargetLostError then). The kept-alive shell vouches for the target meanwhile.
   */
  presence?: TargetPresence;
  debug?: (line: string) => void;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(?:\x07|\x1b\\)|[\x00-\x08\x0b-\x1f\x7f]/g;

function clean(text: string): string {
  return text.replace(ANSI, '');
}

export async function runShellIdle(openShell: OpenIdleShell, opts: ShellIdleOptions): Promise<ShellIdleMeasurement> {
  const shell: IdleShell = await openShell({ keepaliveIntervalMs: opts.keepaliveIntervalMs ?? 5000 });
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const debug = (line: string) => opts.debug?.(`shell-idle: ${Math.round(now() * 100) / 100} s: ${line}`);
  debug('the idle shell is open');
  const unvouch = opts.presence?.vouch(shell.connection);
  void shell.closed.then(() => unvouch?.());
  let lastOutput = 0;
  let tail = '';
  let message: { text: string; at: number; idle: number } | null = null;
  let kickMessage: () => void = () => {};
  shell.onOutput((chunk) => {
    const t = now();
    tail = (tail + chunk).slice(-8192);
    if (!message) {
      // the message follows the prompt on the same line (bash: "\atimed out waiting for input: auto-logout")
      const match = TMOUT_PATTERN.exec(clean(tail));
      if (match) {
        message = { text: match[0], at: t, idle: t - lastOutput };
        kickMessage();
        return;
      }
    }
    lastOutput = t;
  });

  const round1 = (n: number) => Math.round(n * 10) / 10;
  const timers: NodeJS.Timeout[] = [];
  const sleep = (ms: number) => new Promise<'timeout'>((r) => timers.push(setTimeout(() => r('timeout'), ms)));
  const ticker = opts.onProgress ? setInterval(() => opts.onProgress!({ elapsed: round1(now()) }), 1000) : undefined;
  const aborted = new Promise<'aborted'>((r) => {
    if (opts.signal?.aborted) r('aborted');
    opts.signal?.addEventListener('abort', () => r('aborted'), { once: true });
  });

  try {
    const first = await Promise.race([
      shell.channelClosed.then(() => 'channel' as const),
      shell.closed.then(() => 'connection' as const),
      new Promise<'message'>((r) => (kickMessage = () => r('message'))),
      sleep(opts.maxSeconds * 1000),
      aborted,
    ]);
    const eventAt = now();
    const idleAtEvent = eventAt - lastOutput;
    debug(`ended by: ${first}`);
    if (first === 'timeout' || first === 'aborted') {
      return { verdict: 'survived', afterSeconds: null, how: null, message: null, testedUpToSeconds: round1(first === 'timeout' ? opts.maxSeconds : eventAt) };
    }
    // let the rest arrive: the channel close after the message, the connection close after the channel
    const settle = first === 'connection' ? Promise.resolve() : Promise.race([shell.closed.then(() => undefined), sleep(1500)]);
    if (first === 'message') await Promise.race([shell.channelClosed, sleep(1500)]);
    await settle;
    const connectionClosed = await Promise.race([shell.closed.then(() => true), sleep(0).then(() => false)]);
    const msg = message as { text: string; at: number; idle: number } | null;
    if (msg) {
      return { verdict: 'closed', afterSeconds: round1(msg.idle), how: 'tmout-message', message: msg.text, testedUpToSeconds: round1(opts.maxSeconds) };
    }
    if (connectionClosed && opts.presence) {
      const p = await opts.presence.check("the idle shell's connection closed");
      if (p.present === false) {
        throw new TargetLostError(`the target went away during the check (its connection closed after ${round1(idleAtEvent)} s idle, and a new connection failed: ${p.error})`);
      }
    }
    return {
      verdict: 'closed',
      afterSeconds: round1(idleAtEvent),
      how: first === 'channel' && !connectionClosed ? 'channel-closed' : 'connection-closed',
      message: null,
      testedUpToSeconds: round1(opts.maxSeconds),
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    if (ticker) clearInterval(ticker);
    shell.end();
  }
}
