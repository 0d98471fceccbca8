// What each scenario really does to a connection, measured with the real `ssh` client in the
// client namespace (BatchMode, explicit timeouts), the sshd log and the middlebox's nft counters.
// A check returns plain facts; lab.test.ts asserts on them and `npm run lab -- run <name>`
// prints them. Controls (the same action that must work) are measured beside each failure.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClientProc, sleep } from './client.js';
import type { Lab } from './lab.js';
import { NFT_TABLE } from './middlebox.js';
import { nsExec } from './netns.js';
import { ALIVE_COUNT, ALIVE_INTERVAL, IDLE_T, OUTAGE_SECONDS, RAW_CONNECTIONS, SERVER_IDLE } from './scenarios.js';

/** base64 of `head -c 200000 /dev/zero`: 266,668 characters plus a newline every 76. */
export const BIG_OUTPUT_BYTES = 270_177;
const BIG_COMMAND = 'head -c 200000 /dev/zero | base64';
const CLASSIC_KEX = ['-o', 'KexAlgorithms=curve25519-sha256'];

const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);
const lastLines = (text: string, n = 3) => text.replace(/\r/g, '').trim().split('\n').slice(-n).join('\n');

function ssh(lab: Lab, options: string[], remote: string[] = []): ClientProc {
  return new ClientProc(lab.spawn(lab.sshCommand(options, remote)));
}

/** Types `word` into a `cat` session and waits for the echo; ms it took, or null. */
async function echo(p: ClientProc, word: string, timeoutMs: number): Promise<number | null> {
  const from = p.stdout.length;
  const t = p.elapsed();
  p.write(`${word}\n`);
  const at = await p.waitFor(new RegExp(`${word}\\n`), timeoutMs, { in: 'stdout', from });
  return at === null ? null : at - t;
}

/** Polls the sshd log for `re`; ms after `since` (Date.now() value) when it appeared, or null. */
export async function waitForServerLog(lab: Lab, re: RegExp, timeoutMs: number, since = Date.now()): Promise<number | null> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (re.test(await lab.sshdLog())) return Date.now() - since;
    if (Date.now() > until) return null;
    await sleep(100);
  }
}

/** Packet counters of the middlebox's nft rules, by what the rule does. */
export async function nftCounters(lab: Lab): Promise<Record<'outage' | 'loss' | 'dscp' | 'reset' | 'late' | 'fragNeeded', number>> {
  const out = (await nsExec(lab.middleboxNs, ['nft', 'list', 'table', 'inet', NFT_TABLE])).stdout;
  const count = (re: RegExp) => {
    const line = out.split('\n').find((l) => re.test(l));
    const m = line ? /counter packets (\d+)/.exec(line) : null;
    return m ? Number(m[1]) : 0;
  };
  return {
    outage: count(/@outage/),
    loss: count(/numgen random/),
    dscp: count(/ip dscp/),
    reset: count(/reject with tcp reset/),
    late: count(/late or unexpected/),
    fragNeeded: count(/frag-needed/),
  };
}

/** Opens `n` TCP connections to the target that never send a banner; resolves when all are up. */
export async function holdRawConnections(lab: Lab, n: number): Promise<ClientProc> {
  const fds = Array.from({ length: n }, (_, i) => `${i + 3}<>/dev/tcp/${lab.target.addr}/${lab.target.port}`);
  const holder = new ClientProc(lab.spawn(['bash', '-c', `exec ${fds.join(' ')}; echo open; read -r _`]));
  if ((await holder.waitFor(/open/, 5000, { in: 'stdout' })) === null) {
    await holder.stop();
    throw new Error(`could not open ${n} raw connections: ${holder.stderr.trim()}`);
  }
  return holder;
}

async function stopAll(...procs: ClientProc[]): Promise<void> {
  await Promise.all(procs.map((p) => p.stop()));
}

// ---------------------------------------------------------------------------------------------

export interface IdleFacts {
  /** Idle seconds before the write that worked / the write after which the flow was forgotten. */
  idleBefore: number;
  idleAfter: number;
  connectedMs: number | null;
  /** Echo delay (ms) of a write after idleBefore s; null: no echo. */
  beforeEchoMs: number | null;
  /** Echo delay of a write after idleAfter s; null: no echo within waitedSeconds. */
  afterEchoMs: number | null;
  waitedSeconds: number;
  /** ssh's exit after the late write (null: still running after waitedSeconds). */
  afterExit: { code: number | null; seconds: number | null } | null;
  afterStderr: string;
  /** The same schedule with ServerAliveInterval 1 (below T): the late write's echo delay. */
  controlAfterEchoMs: number | null;
  counters: Awaited<ReturnType<typeof nftCounters>>;
}

/** idle-silent / idle-reset: a write before T works; after T it is dropped or reset. */
export async function measureIdle(lab: Lab): Promise<IdleFacts> {
  const idleBefore = IDLE_T - 2;
  const idleAfter = IDLE_T + 2;
  const waited = 4;
  const bare = ssh(lab, ['-o', 'ServerAliveInterval=0'], ['cat']);
  const control = ssh(lab, ['-o', 'ServerAliveInterval=1'], ['cat']);
  try {
    const run = async (p: ClientProc) => {
      const connectedMs = (await echo(p, 'first', 8000)) === null ? null : p.elapsed();
      await sleep(idleBefore * 1000);
      const beforeEchoMs = await echo(p, 'before', 3000);
      await sleep(idleAfter * 1000);
      const at = p.elapsed();
      const afterEchoMs = await echo(p, 'after', waited * 1000);
      const exit = await p.waitExit(afterEchoMs === null ? 100 : 0);
      return {
        connectedMs,
        beforeEchoMs,
        afterEchoMs,
        afterExit: exit ? { code: exit.code, seconds: seconds(exit.ms - at) } : null,
      };
    };
    const [a, c] = await Promise.all([run(bare), run(control)]);
    return {
      idleBefore,
      idleAfter,
      connectedMs: a.connectedMs,
      beforeEchoMs: a.beforeEchoMs,
      afterEchoMs: a.afterEchoMs,
      waitedSeconds: waited,
      afterExit: a.afterExit,
      afterStderr: lastLines(bare.stderr),
      controlAfterEchoMs: c.afterEchoMs,
      counters: await nftCounters(lab),
    };
  } finally {
    await stopAll(bare, control);
  }
}

export interface ShellTmoutFacts {
  promptMs: number | null;
  /** Seconds from the first prompt to the auto-logout message. */
  logoutAfterSeconds: number | null;
  message: string | null;
  exitCode: number | null;
  /** "Connection to X closed." (a normal end), not "closed by remote host". */
  closedLine: string | null;
  /** A non-interactive command sleeping longer than TMOUT: its output. */
  controlOutput: string;
}

/** shell-tmout: an idle pty login shell logs itself out after TMOUT; the connection ends cleanly. */
export async function measureShellTmout(lab: Lab): Promise<ShellTmoutFacts> {
  const shell = ssh(lab, ['-tt']);
  const control = lab.exec(lab.sshCommand([], [`sleep ${SERVER_IDLE + 2}; echo alive`]), { timeoutMs: 20_000 });
  try {
    const promptMs = await shell.waitFor(/\$ $/, 8000, { in: 'stdout' });
    const msgMs = await shell.waitFor(/timed out waiting for input: auto-logout/, (SERVER_IDLE + 6) * 1000, { in: 'stdout' });
    const exit = await shell.waitExit(5000);
    const m = /\x07?timed out waiting for input: auto-logout/.exec(shell.stdout);
    return {
      promptMs,
      logoutAfterSeconds: promptMs !== null && msgMs !== null ? seconds(msgMs - promptMs) : null,
      message: m ? m[0] : null,
      exitCode: exit?.code ?? null,
      closedLine: /Connection to \S+ closed\./.exec(shell.stderr)?.[0] ?? null,
      controlOutput: (await control).stdout.trim(),
    };
  } finally {
    await shell.stop();
  }
}

export interface ChannelTimeoutFacts {
  /** Seconds the idle mux pty session lived after its prompt. */
  sessionClosedAfterSeconds: number | null;
  sessionExit: number | null;
  sessionStderr: string;
  serverLine: string | null;
  /** After the session closed: the master still runs, `-O check` passes, a new channel works. */
  masterRunning: boolean;
  checkOutput: string;
  secondChannelOutput: string;
}

/** channel-timeout: the idle session channel is closed while the connection lives on. */
export async function measureChannelTimeout(lab: Lab): Promise<ChannelTimeoutFacts> {
  const sock = join(lab.dir, 'mux.sock');
  const mux = ['-S', sock];
  const master = ssh(lab, ['-M', ...mux, '-N', '-o', 'ControlPersist=no']);
  let session: ClientProc | null = null;
  try {
    let up = false;
    for (let i = 0; i < 50 && !up && master.running; i++) {
      up = (await lab.exec(lab.sshCommand([...mux, '-O', 'check']), { timeoutMs: 5000 })).code === 0;
      if (!up) await sleep(100);
    }
    if (!up) throw new Error(`ssh master did not come up: ${lastLines(master.stderr)}`);
    session = ssh(lab, [...mux, '-tt']);
    const promptMs = await session.waitFor(/\$ $/, 8000, { in: 'stdout' });
    const exit = await session.waitExit((SERVER_IDLE + 6) * 1000);
    const line = (await waitForServerLog(lab, /channel \d+: closing after \d+ seconds of inactivity/, 2000)) !== null
      ? /channel \d+: closing after \d+ seconds of inactivity/.exec(await lab.sshdLog())?.[0] ?? null
      : null;
    const check = await lab.exec(lab.sshCommand([...mux, '-O', 'check']), { timeoutMs: 5000 });
    const second = await lab.exec(lab.sshCommand(mux, ['echo', 'second']), { timeoutMs: 10_000 });
    return {
      sessionClosedAfterSeconds: exit && promptMs !== null ? seconds(exit.ms - promptMs) : null,
      sessionExit: exit?.code ?? null,
      sessionStderr: lastLines(session.stderr),
      serverLine: line,
      masterRunning: master.running,
      checkOutput: (check.stderr + check.stdout).trim(),
      secondChannelOutput: second.stdout.trim(),
    };
  } finally {
    await stopAll(master, ...(session ? [session] : []));
    await rm(sock, { force: true });
  }
}

export interface UnusedConnectionFacts {
  /** Seconds an `ssh -N` connection lived after authentication. */
  closedAfterSeconds: number | null;
  exitCode: number | null;
  stderr: string;
  serverLine: string | null;
  /** A connection with a session channel, idle longer than the timeout: its output. */
  controlOutput: string;
}

/** unused-connection-timeout: `ssh -N` is cut after N s; a connection with a channel is not. */
export async function measureUnusedConnection(lab: Lab): Promise<UnusedConnectionFacts> {
  const tunnel = ssh(lab, ['-v', '-N']);
  const control = lab.exec(lab.sshCommand([], [`sleep ${SERVER_IDLE + 2}; echo alive`]), { timeoutMs: 20_000 });
  try {
    const authMs = await tunnel.waitFor(/Authenticated to/, 8000, { in: 'stderr' });
    const exit = await tunnel.waitExit((SERVER_IDLE + 6) * 1000);
    const re = /terminating inactive connection from user \S+ \S+ port \d+/;
    await waitForServerLog(lab, re, 2000);
    return {
      closedAfterSeconds: exit && authMs !== null ? seconds(exit.ms - authMs) : null,
      exitCode: exit?.code ?? null,
      stderr: lastLines(tunnel.stderr.split('\n').filter((l) => !l.startsWith('debug')).join('\n')),
      serverLine: re.exec(await lab.sshdLog())?.[0] ?? null,
      controlOutput: (await control).stdout.trim(),
    };
  } finally {
    await tunnel.stop();
  }
}

export interface ClientAliveFacts {
  /** Idle seconds (longer than interval x count) the connection survived before the outage. */
  idleSurvivedSeconds: number;
  idleEchoMs: number | null;
  /** keepalive@openssh.com requests the client received (and answered) while idle. */
  probesAnsweredWhileIdle: number;
  /** A ClientAlive timeout logged before the outage (must not be). */
  timeoutBeforeOutage: boolean;
  /** Seconds after the outage began that sshd logged the timeout; null: not within the outage. */
  timeoutAfterSeconds: number | null;
  serverLine: string | null;
  outageSeconds: number;
}

/** clientalive-outage: keepalives answered while idle; an outage longer than interval x count ends it. */
export async function measureClientAlive(lab: Lab): Promise<ClientAliveFacts> {
  const c = ssh(lab, ['-v'], ['cat']);
  try {
    if ((await echo(c, 'hello', 8000)) === null) throw new Error(`no session: ${lastLines(c.stderr)}`);
    const idle = ALIVE_INTERVAL * ALIVE_COUNT + 2;
    await sleep(idle * 1000);
    const idleEchoMs = await echo(c, 'still', 3000);
    const probes = (c.stderr.match(/rtype keepalive@openssh\.com/g) ?? []).length;
    const re = /Timeout, client not responding from user \S+ \S+ port \d+/;
    const timeoutBeforeOutage = re.test(await lab.sshdLog());
    const start = Date.now();
    await lab.outage(OUTAGE_SECONDS);
    const at = await waitForServerLog(lab, re, OUTAGE_SECONDS * 1000, start);
    return {
      idleSurvivedSeconds: idle,
      idleEchoMs,
      probesAnsweredWhileIdle: probes,
      timeoutBeforeOutage,
      timeoutAfterSeconds: seconds(at),
      serverLine: re.exec(await lab.sshdLog())?.[0] ?? null,
      outageSeconds: OUTAGE_SECONDS,
    };
  } finally {
    await c.stop();
  }
}

export interface ServerAliveFacts {
  idleSurvivedSeconds: number;
  idleEchoMs: number | null;
  /** Seconds after the outage began that ssh exited; null: still running at the outage's end. */
  exitAfterSeconds: number | null;
  exitCode: number | null;
  clientLine: string | null;
  outageSeconds: number;
}

/** serveralive-outage: the client's keepalives go unanswered during an outage and it gives up. */
export async function measureServerAlive(lab: Lab): Promise<ServerAliveFacts> {
  const c = ssh(lab, ['-o', `ServerAliveInterval=${ALIVE_INTERVAL}`, '-o', `ServerAliveCountMax=${ALIVE_COUNT}`], ['cat']);
  try {
    if ((await echo(c, 'hello', 8000)) === null) throw new Error(`no session: ${lastLines(c.stderr)}`);
    const idle = ALIVE_INTERVAL * ALIVE_COUNT + 1;
    await sleep(idle * 1000);
    const idleEchoMs = await echo(c, 'still', 3000);
    const start = Date.now();
    await lab.outage(OUTAGE_SECONDS);
    const exit = await c.waitExit(OUTAGE_SECONDS * 1000);
    return {
      idleSurvivedSeconds: idle,
      idleEchoMs,
      exitAfterSeconds: exit ? seconds(Date.now() - start) : null,
      exitCode: exit?.code ?? null,
      clientLine: /Timeout, server \S+ not responding\./.exec(c.stderr)?.[0] ?? null,
      outageSeconds: OUTAGE_SECONDS,
    };
  } finally {
    await c.stop();
  }
}

export interface MaxStartupsFacts {
  rawConnections: number;
  exitCode: number | null;
  stdout: string;
  clientStderr: string;
  throttlingLine: boolean;
  /** "drop connection #N from [A]:P on [B]:22 past MaxStartups" lines. */
  dropLines: number;
  /** After the raw connections closed: a new ssh's output. */
  controlOutput: string;
}

/** maxstartups: unauthenticated connections fill MaxStartups 1:100:1; a real ssh is dropped. */
export async function measureMaxStartups(lab: Lab): Promise<MaxStartupsFacts> {
  const holder = await holdRawConnections(lab, RAW_CONNECTIONS);
  const res = await sleep(300)
    .then(() => lab.exec(lab.sshCommand([], ['echo', 'ok']), { timeoutMs: 10_000 }))
    .finally(() => holder.stop());
  let control = '';
  for (let i = 0; i < 30 && control !== 'ok'; i++) {
    await sleep(200);
    control = (await lab.exec(lab.sshCommand([], ['echo', 'ok']), { timeoutMs: 10_000 })).stdout.trim();
  }
  const log = await lab.sshdLog();
  return {
    rawConnections: RAW_CONNECTIONS,
    exitCode: res.code,
    stdout: res.stdout.trim(),
    clientStderr: lastLines(res.stderr),
    throttlingLine: /beginning MaxStartups throttling/.test(log),
    dropLines: (log.match(/drop connection #\d+ from \[[\d.]+\]:\d+ on \[[\d.]+\]:\d+ past MaxStartups/g) ?? []).length,
    controlOutput: control,
  };
}

export interface MtuFacts {
  /** Default (post-quantum) key exchange: still running after waitedSeconds, and where it hangs. */
  defaultKexRunning: boolean;
  defaultKexLastLine: string;
  /** With curve25519-sha256 (small KEX reply): `echo ok`. */
  smallOutput: string;
  /** With curve25519-sha256: bytes of the large output received after waitedSeconds. */
  largeBytes: number;
  largeRunning: boolean;
  waitedSeconds: number;
  counters: Awaited<ReturnType<typeof nftCounters>>;
}

/** mtu-blackhole: small exchanges work, anything needing a full-size server segment stalls. */
export async function measureMtu(lab: Lab): Promise<MtuFacts> {
  const waited = 6;
  const pq = ssh(lab, ['-v'], ['echo', 'ok']);
  const big = ssh(lab, CLASSIC_KEX, [BIG_COMMAND]);
  try {
    const small = await lab.exec(lab.sshCommand(CLASSIC_KEX, ['echo', 'ok']), { timeoutMs: 10_000 });
    await sleep(Math.max(0, waited * 1000 - big.elapsed()));
    return {
      defaultKexRunning: pq.running,
      defaultKexLastLine: lastLines(pq.stderr, 1),
      smallOutput: small.stdout.trim(),
      largeBytes: big.stdout.length,
      largeRunning: big.running,
      waitedSeconds: waited,
      counters: await nftCounters(lab),
    };
  } finally {
    await stopAll(pq, big);
  }
}

export interface DscpFacts {
  /** -tt -o IPQoS="af21 cs1": exit code, seconds, last stderr line, whether it authenticated. */
  af21: { exitCode: number | null; seconds: number | null; stderr: string; output: string };
  /** -tt -o IPQoS=none: output of `echo ok`. */
  noneOutput: string;
  /** No pty, -o IPQoS="cs1 af21" (af21 for bulk only, set after login): authenticated, then stalled? */
  bulkAf21: { authenticated: boolean; running: boolean; output: string };
  counters: Awaited<ReturnType<typeof nftCounters>>;
}

/** dscp-drop: af21-marked packets vanish; the same session with IPQoS none works. */
export async function measureDscp(lab: Lab): Promise<DscpFacts> {
  const af = ssh(lab, ['-tt', '-o', 'IPQoS=af21 cs1'], ['echo', 'ok']);
  const bulk = ssh(lab, ['-v', '-o', 'IPQoS=cs1 af21'], ['echo', 'ok']);
  try {
    const none = await lab.exec(lab.sshCommand(['-tt', '-o', 'IPQoS=none'], ['echo', 'ok']), { timeoutMs: 10_000 });
    const afExit = await af.waitExit(10_000);
    await bulk.waitFor(/Authenticated to/, 8000, { in: 'stderr' });
    await sleep(Math.max(0, 6000 - bulk.elapsed()));
    return {
      af21: {
        exitCode: afExit?.code ?? null,
        seconds: afExit ? seconds(afExit.ms) : null,
        stderr: lastLines(af.stderr, 1),
        output: af.stdout.trim(),
      },
      noneOutput: none.stdout.trim(),
      bulkAf21: { authenticated: /Authenticated to/.test(bulk.stderr), running: bulk.running, output: bulk.stdout.trim() },
      counters: await nftCounters(lab),
    };
  } finally {
    await stopAll(af, bulk);
  }
}

export interface HealthyFacts {
  idleSeconds: number;
  /** Echo delay of a write after idling longer than the idle scenarios' T. */
  afterIdleEchoMs: number | null;
  largeBytes: number;
  largeExit: number | null;
  /** -tt -o IPQoS="af21 cs1" works here (no DSCP drop). */
  af21Output: string;
}

/** healthy: works after idling, large output arrives, DSCP-marked sessions work. */
export async function measureHealthy(lab: Lab): Promise<HealthyFacts> {
  const c = ssh(lab, [], ['cat']);
  try {
    const large = lab.exec(lab.sshCommand([], [BIG_COMMAND]), { timeoutMs: 20_000 });
    const af = lab.exec(lab.sshCommand(['-tt', '-o', 'IPQoS=af21 cs1'], ['echo', 'ok']), { timeoutMs: 10_000 });
    if ((await echo(c, 'hello', 8000)) === null) throw new Error(`no session: ${lastLines(c.stderr)}`);
    const idle = IDLE_T + 2;
    await sleep(idle * 1000);
    const afterIdleEchoMs = await echo(c, 'again', 3000);
    const l = await large;
    return {
      idleSeconds: idle,
      afterIdleEchoMs,
      largeBytes: l.stdout.length,
      largeExit: l.code,
      af21Output: (await af).stdout.trim(),
    };
  } finally {
    await c.stop();
  }
}

/** The check of each scenario, by name. */
export const CHECKS = {
  'idle-silent': measureIdle,
  'idle-reset': measureIdle,
  'shell-tmout': measureShellTmout,
  'channel-timeout': measureChannelTimeout,
  'unused-connection-timeout': measureUnusedConnection,
  'clientalive-outage': measureClientAlive,
  'serveralive-outage': measureServerAlive,
  maxstartups: measureMaxStartups,
  'mtu-blackhole': measureMtu,
  'dscp-drop': measureDscp,
  healthy: measureHealthy,
} as const satisfies Record<string, (lab: Lab) => Promise<unknown>>;

export type CheckName = keyof typeof CHECKS;
