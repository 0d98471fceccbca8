// The lab's scenarios, each a small declarative object: what the middlebox does, which sshd
// options and session environment the server has, the cause id (CAUSES.md) ssh-doctor should
// diagnose, and how `record` drives the real `ssh -vvv` client to capture a fixture.
// What each scenario is measured to do lives in checks.ts; this file only describes.

import type { MiddleboxSpec } from './middlebox.js';
import type { SshdOptions } from './sshd.js';

/** Conntrack idle timeout T of the idle scenarios, in seconds. */
export const IDLE_T = 4;
/** Shell TMOUT / ChannelTimeout / UnusedConnectionTimeout of the server-side scenarios. */
export const SERVER_IDLE = 3;
/** ClientAlive/ServerAlive: interval and count (give up after about interval x count). */
export const ALIVE_INTERVAL = 2;
export const ALIVE_COUNT = 2;
/**
 * Outage length, well above interval x count. Measured: sshd 9.2 sends ClientAlive probes only
 * every 2 x interval on an idle connection (it wakes every interval but wants strictly more than
 * interval whole seconds since the last one), so it cuts after about 2 x 2 x (2 + 1) = 12 s.
 */
export const OUTAGE_SECONDS = 16;
/** Route MTU toward the client in the MTU black hole. */
export const BLACKHOLE_MTU = 1400;
/** Unauthenticated connections held open in the MaxStartups scenario. */
export const RAW_CONNECTIONS = 3;

export type Step =
  /** Type into the client's stdin (keystrokes for a pty session). */
  | { at: number; type: string }
  /** Drop every forwarded packet for `seconds`. */
  | { at: number; outage: number }
  /** Give up like a user: `signal` (Ctrl-C) for non-pty sessions. */
  | { at: number; signal: NodeJS.Signals };

export interface RecordPlan {
  /** Words for the fixture note: which variant of the scenario was recorded. */
  variant: string;
  /** Extra ssh options (before the destination). */
  options: string[];
  /** Remote command; none: a login shell (with tty) or -N. */
  command?: string;
  /** -tt: a pty session; the transcript then includes stdout (shell output is what users paste). */
  tty: boolean;
  /**
   * Steps, `at` seconds after `startAt`: 'session' (default) is when the session is up
   * ("Entering interactive session" in the -vvv output), 'connect' is when ssh was started.
   */
  steps: Step[];
  startAt?: 'session' | 'connect';
  /** Unauthenticated TCP connections opened (and held, silent) before ssh runs. */
  rawConnections?: number;
  /** Hard stop (SIGKILL) if ssh is still running, seconds after it started. */
  limit: number;
  /** sysctls set in the client namespace before the run (e.g. a short tcp_retries2). */
  clientSysctls?: Record<string, string | number>;
  /**
   * More transcripts recorded after the main one, each with extra options (a passing control,
   * as a user asked to "try -o IPQoS=none" would paste): written as client-<name>.log.
   */
  controls?: Array<{ name: string; options: string[] }>;
  /**
   * False when the recorded files cannot tell this cause from a neighbour (the expectation is
   * then that it fires, not that it ranks first); `why` goes into the note.
   */
  top?: { value: false; why: string };
}

export interface Scenario {
  name: string;
  summary: string;
  /** The cause id from CAUSES.md this scenario should be diagnosed as; null for a healthy path. */
  cause: string | null;
  middlebox: MiddleboxSpec;
  sshd: SshdOptions;
  setEnv?: Record<string, string>;
  record: RecordPlan;
}

const idle = (lateReply: 'drop' | 'reset'): MiddleboxSpec => ({ idleTimeout: IDLE_T, lateReply });

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'idle-silent',
    summary: `conntrack forgets an idle flow after ${IDLE_T} s; later packets are dropped silently`,
    cause: 'middlebox-idle-timeout',
    middlebox: idle('drop'),
    sshd: {},
    record: {
      // Without keepalives the client retransmits until TCP gives up (tcp_retries2=15: about
      // 15 min); the client namespace gives up after 4 retries instead, with the same messages.
      variant:
        `pty session idle ${IDLE_T + 2} s (T+2) without keepalives, then a typed command; the client namespace has ` +
        'net.ipv4.tcp_retries2=4 so TCP gives up in seconds rather than about 15 min',
      options: ['-o', 'ServerAliveInterval=0'],
      tty: true,
      steps: [{ at: IDLE_T + 2, type: 'echo still there\n' }],
      clientSysctls: { 'net.ipv4.tcp_retries2': 4 },
      limit: 60,
    },
  },
  {
    name: 'idle-reset',
    summary: `conntrack forgets an idle flow after ${IDLE_T} s; later packets get a TCP reset`,
    cause: 'middlebox-idle-reset',
    middlebox: idle('reset'),
    sshd: {},
    record: {
      variant: `pty session idle ${IDLE_T + 2} s (T+2) without keepalives, then a typed command`,
      options: ['-o', 'ServerAliveInterval=0'],
      tty: true,
      steps: [{ at: IDLE_T + 2, type: 'echo still there\n' }],
      limit: 30,
      top: {
        value: false,
        why: 'OpenSSH 9.2 prints `client_loop: send disconnect: Broken pipe` after a reset as after a silent drop, so the transcript alone ranks the commoner silent drop first; the idle test tells them apart',
      },
    },
  },
  {
    name: 'shell-tmout',
    summary: `the login shell has TMOUT=${SERVER_IDLE} (sshd SetEnv) and logs an idle pty session out`,
    cause: 'shell-tmout',
    middlebox: {},
    sshd: {},
    setEnv: { TMOUT: String(SERVER_IDLE) },
    record: {
      variant: 'pty login shell left idle',
      options: [],
      tty: true,
      steps: [],
      limit: 30,
    },
  },
  {
    name: 'channel-timeout',
    summary: `sshd ChannelTimeout session:*=${SERVER_IDLE}s closes an idle session channel (9.2-9.6 syntax)`,
    cause: 'server-channel-timeout',
    middlebox: {},
    sshd: { ChannelTimeout: `session:*=${SERVER_IDLE}s` },
    record: {
      variant: 'pty login shell left idle',
      options: [],
      tty: true,
      steps: [],
      limit: 30,
    },
  },
  {
    name: 'unused-connection-timeout',
    summary: `sshd UnusedConnectionTimeout ${SERVER_IDLE} ends a connection with no channels (ssh -N)`,
    cause: 'server-channel-timeout',
    middlebox: {},
    sshd: { UnusedConnectionTimeout: SERVER_IDLE },
    record: {
      variant: 'ssh -N (no channels) left idle',
      options: ['-N'],
      tty: false,
      steps: [],
      limit: 30,
    },
  },
  {
    name: 'clientalive-outage',
    summary: `sshd ClientAliveInterval ${ALIVE_INTERVAL} x CountMax ${ALIVE_COUNT} against a ${OUTAGE_SECONDS} s outage`,
    cause: 'server-clientalive-timeout',
    middlebox: {},
    sshd: { ClientAliveInterval: ALIVE_INTERVAL, ClientAliveCountMax: ALIVE_COUNT },
    record: {
      variant: `pty login shell, all forwarded packets dropped for ${OUTAGE_SECONDS} s from 1 s after login`,
      options: [],
      tty: true,
      steps: [{ at: 1, outage: OUTAGE_SECONDS }],
      limit: 60,
    },
  },
  {
    name: 'serveralive-outage',
    summary: `client ServerAliveInterval ${ALIVE_INTERVAL} x CountMax ${ALIVE_COUNT} against a ${OUTAGE_SECONDS} s outage`,
    cause: 'client-serveralive-timeout',
    middlebox: {},
    sshd: {},
    record: {
      variant: `pty login shell with ServerAliveInterval ${ALIVE_INTERVAL}, ServerAliveCountMax ${ALIVE_COUNT}; all forwarded packets dropped for ${OUTAGE_SECONDS} s from 1 s after login`,
      options: ['-o', `ServerAliveInterval=${ALIVE_INTERVAL}`, '-o', `ServerAliveCountMax=${ALIVE_COUNT}`],
      tty: true,
      steps: [{ at: 1, outage: OUTAGE_SECONDS }],
      limit: 40,
    },
  },
  {
    name: 'maxstartups',
    summary: `sshd MaxStartups 1:100:1 with ${RAW_CONNECTIONS} silent unauthenticated connections held open`,
    cause: 'maxstartups-throttle',
    middlebox: {},
    sshd: { MaxStartups: '1:100:1' },
    record: {
      variant: `ssh run while ${RAW_CONNECTIONS} unauthenticated TCP connections that never send a banner are held open`,
      options: [],
      command: 'echo ok',
      tty: false,
      steps: [],
      rawConnections: RAW_CONNECTIONS,
      limit: 30,
    },
  },
  {
    name: 'mtu-blackhole',
    summary: `route MTU ${BLACKHOLE_MTU} toward the client, the middlebox's ICMP frag-needed dropped: full-size segments vanish`,
    cause: 'mtu-blackhole',
    middlebox: { clientRouteMtu: BLACKHOLE_MTU, blockFragNeeded: true },
    sshd: {},
    record: {
      // The server's post-quantum KEX reply (sntrup761x25519, with NEWKEYS and EXT_INFO) fills
      // a full-size segment, so the default client hangs there, before any large output.
      variant:
        'pty login shell with the default key exchange (sntrup761x25519-sha512): it hangs at the KEX reply; ' +
        'the user pressed Ctrl-C (SIGINT) after 10 s',
      options: [],
      tty: true,
      steps: [{ at: 10, signal: 'SIGINT' }],
      startAt: 'connect',
      limit: 30,
    },
  },
  {
    name: 'dscp-drop',
    summary: 'the middlebox drops packets marked DSCP af21 (the VMware NAT bug); client IPQoS "af21 cs1"',
    cause: 'ipqos-dscp-drop',
    middlebox: { dropDscp: ['af21'] },
    sshd: {},
    record: {
      // ssh 9.2 marks the socket with the interactive class before connect(), so the SYN is
      // dropped too: the connection never comes up.
      variant:
        'pty login shell with -o IPQoS="af21 cs1" (Debian\'s default is lowdelay throughput) and ConnectTimeout 5; ' +
        'the SYN already carries af21',
      options: ['-o', 'IPQoS=af21 cs1'],
      tty: true,
      steps: [],
      startAt: 'connect',
      limit: 30,
      controls: [{ name: 'ipqos-none', options: ['-o', 'IPQoS=none', '-o', 'BatchMode=yes'] }],
    },
  },
  {
    name: 'healthy',
    summary: 'a healthy path: nothing drops',
    cause: null,
    middlebox: {},
    sshd: {},
    record: {
      variant: `pty login shell: a command, ${IDLE_T + 4} s idle, a command, exit`,
      options: [],
      tty: true,
      steps: [
        { at: 1, type: 'echo ok\n' },
        { at: IDLE_T + 5, type: 'echo still ok\n' },
        { at: IDLE_T + 6, type: 'exit\n' },
      ],
      limit: 30,
    },
  },
];

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

export function getScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown lab scenario "${name}"; known: ${scenarioNames().join(', ')}`);
  return s;
}
