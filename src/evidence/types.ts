// The evidence bundle: everything probes or pasted files can tell, in one serialisable shape.
// Probes and parsers write it; rules read it (through facts); nothing else is shared between them.

export const EVIDENCE_FORMAT = 'ssh-doctor/evidence';
export const EVIDENCE_VERSION = 1;

export type Side = 'client' | 'server';

/**
 * Stable names of the log events parsers recognise. Rules refer to them as `event.<type>.*`
 * facts, so renaming one is a breaking change for user rule folders.
 */
export const EVENT_TYPES = [
  // client transcript (ssh -v/-vv/-vvv, stderr of ssh)
  'client-version', // "OpenSSH_9.2p1 Debian-2, OpenSSL ..." first line of -v
  'client-connecting', // "debug1: Connecting to HOST [ADDR] port P."
  'client-remote-version', // "Remote protocol version 2.0, remote software version OpenSSH_8.9p1"
  'client-authenticated', // "Authenticated to HOST ([ADDR]:P) using "publickey"."
  'client-interactive-session', // "Entering interactive session."
  'client-kex-ecdh-wait', // "expecting SSH2_MSG_KEX_ECDH_REPLY" (or other KEX reply) — hang point
  'client-keepalive-answered', // -vvv: a keepalive@openssh.com request (type 80) answered (81/82): the path was alive with keepalives
  'client-serveralive-timeout', // "Timeout, server HOST not responding."
  'client-keepalive-timeout', // ssh2/other clients: "Keepalive timeout"
  'client-broken-pipe', // "client_loop: send disconnect: Broken pipe", "packet_write_wait: ... Broken pipe", "Write failed: Broken pipe"
  'client-connection-reset', // "Connection reset by ...", "Read from remote host X: Connection reset by peer"
  'client-network-lost', // the local network went away: "Software caused connection abort", "Network is unreachable|down", "No route to host" during a session
  'client-tos-set', // -vvv: "set_sock_tos: set socket 3 IP_TOS 0x48": the DSCP/TOS mark the client put on its packets
  'client-connection-timed-out', // "Connection to X timed out", "Read from remote host X: Connection timed out"
  'client-closed-by-remote', // "Connection to X closed by remote host."
  'client-closed', // "Connection to X closed." (normal end)
  'client-received-disconnect', // "Received disconnect from X port P:R: TEXT"
  'client-kex-closed', // "kex_exchange_identification: Connection closed by remote host" (and ssh_exchange_identification)
  'client-kex-reset', // "kex_exchange_identification: read: Connection reset by peer"
  'client-banner-timeout', // "Connection timed out during banner exchange"
  'client-connect-failed', // "ssh: connect to host H port P: Connection refused|Connection timed out|No route to host"
  'client-dns-failed', // "ssh: Could not resolve hostname H: ..."
  'client-packet-corrupt', // "Corrupted MAC on input.", "Bad packet length", "message authentication code incorrect"
  'client-host-key-changed', // "REMOTE HOST IDENTIFICATION HAS CHANGED"
  'client-host-key-failed', // "Host key verification failed."
  'client-permission-denied', // "Permission denied (publickey,password)."
  'client-agent-refused', // "sign_and_send_pubkey: signing failed ...: agent refused operation": the server took the key, the local agent would not sign
  'client-too-many-auth-failures', // "Received disconnect ...: Too many authentication failures"
  'client-killed-by-signal', // "Killed by signal N."
  'client-shell-timeout', // shell output in the transcript: "timed out waiting for input: auto-logout", "auto-logout", "zsh: timeout"
  'client-channel-closed', // "channel N: free: ..." / "client_input_channel_req: channel N rtype exit-status" seen without user exit
  'client-connection-aborted', // "Software caused connection abort" (PuTTY, WSAECONNABORTED 10053), "Connection aborted" (Windows OpenSSH): the local TCP stack gave up on an established connection
  'client-kex-failed', // no algorithm in common: "Unable to negotiate with X: no matching host key type found", PuTTY "Couldn't agree a ...", Go "no common algorithm"
  'client-host-key-unknown', // the host key is not known yet: "The authenticity of host ... can't be established", Paramiko "not found in known_hosts"
  'client-multiplexer-exited', // tmux/screen: "[exited]", "server exited unexpectedly", "[screen is terminating]": the session's multiplexer ended
  'client-sftp-garbled', // sftp/scp read text where protocol was expected: "Received message too long 1416128883" (the remote shell prints at login)
  'client-terminal-unknown', // the remote end lacks the terminal's description: "'xterm-kitty': unknown terminal type", "Error opening terminal: xterm-kitty"
  'client-wrapper-lost', // a program running over ssh (rsync, git, scp, Ansible) says its ssh transport ended, without ssh's own reason: "rsync: connection unexpectedly closed", "fatal: the remote end hung up unexpectedly"
  // server (auth.log, secure, journalctl -u ssh, sshd -E)
  'server-version', // "sshd version OpenSSH_9.2p1" (debug) or "Server listening" paired with a version elsewhere
  'server-listening', // "Server listening on 0.0.0.0 port 22." (sshd started)
  'server-received-signal', // "Received signal 15; terminating."
  'server-accepted', // "Accepted publickey for U from A port P ssh2: ..."
  'server-auth-failed', // "Failed password for ...", "Invalid user ...", "Connection closed by authenticating user ... [preauth]" after failures
  'server-too-many-auth-failures', // "Disconnecting ...: Too many authentication failures [preauth]"
  'server-clientalive-timeout', // "Timeout, client not responding from user U A port P"
  'server-connection-timed-out', // "Connection from X timed out"
  'server-login-grace-timeout', // "Timeout before authentication for ..."
  'server-maxstartups', // "beginning MaxStartups throttling", "drop connection #N ... past MaxStartups"
  'server-penalty', // "srclimit_penalise: ... penalty of S seconds for REASON"
  'server-channel-inactivity', // "channel N: closing after S seconds of inactivity"
  'server-unused-connection-timeout', // "terminating inactive connection from ..."
  'server-closed-by-client', // "Connection closed by [user U] A port P" (not [preauth])
  'server-closed-preauth', // "Connection closed by ... [preauth]"
  'server-read-error', // "Read error from remote host A port P: ..."
  'server-received-disconnect', // "Received disconnect from A port P:R: TEXT"
  'server-disconnected', // "Disconnected from user U A port P"
  'server-connection-reset', // "Connection reset by ..."
  'server-write-failed', // "... ssh_packet_write_poll: Connection from ...: Broken pipe"
  'server-packet-corrupt', // "ssh_dispatch_run_fatal: ... message authentication code incorrect|Connection corrupted", "Bad packet length"
  'server-session-opened', // "pam_unix(sshd:session): session opened for user U"
  'server-session-closed', // "pam_unix(sshd:session): session closed for user U"
  'server-logind-idle-stop', // systemd-logind: Session "N" of user "U" is idle, stopping.
  'server-oom-kill', // kernel: Out of memory: Killed process N (sshd)
  'server-reboot', // "-- Reboot --" (journalctl), "systemd-logind: System is rebooting", kernel boot line
  'server-ban', // fail2ban "Ban A", sshguard "Blocking A", "Attack from A"
  'server-firewall-drop', // a firewall dropped or rejected SSH traffic: "[UFW BLOCK] ... DPT=22", an iptables/nft rule listing DROP/REJECT for port 22
  'server-ban-configured', // a ban tool guards sshd: a fail2ban jail's settings (`[sshd]`, `bantime = 1h`, `maxretry = 3`), sshguard's or CrowdSec's ssh configuration
  'server-kex-failed', // sshd "Unable to negotiate with A port P: no matching key exchange method found"
  'server-auth-refused', // sshd refused a key or a user by its own settings: "userauth_pubkey: key type ssh-rsa not in PubkeyAcceptedAlgorithms", "Authentication refused: bad ownership or modes", "User U not allowed because ..."
  'server-login-refused', // the account or host refuses logins: "This account is currently not available.", "System is booting up. Unprivileged users are not permitted to log in yet", pam_limits "Too many logins"
  'server-idle-timeout', // a server product's own idle timer: Apache MINA "Detected IdleTimeout after N/M ms", Dropbear "Idle timeout", bastion gateways
  'shell-tmout-set', // TMOUT set for login shells: "TMOUT=300" in an environment dump, "readonly TMOUT=900" in /etc/profile.d
  'server-logind-idle-set', // systemd-logind's StopIdleSessionSec set (logind.conf, a drop-in, systemd-analyze cat-config)
  'kernel-keepalive-time', // net.ipv4.tcp_keepalive_time as sysctl prints it (fields seconds)
  'conntrack-timeout', // net.netfilter.nf_conntrack_tcp_timeout_established, or a conntrack -L entry's remaining seconds (fields seconds)
  'middlebox-timeout-set', // a firewall's or load balancer's idle timeout as configured: Cisco ASA `timeout conn 1:00:00`, FortiGate `set session-ttl 600` (fields seconds)
  // the network around the connection (ip addr, ifconfig, tracepath, ping -M do)
  'network-mtu', // an interface MTU: "tun0: ... mtu 1280" (fields interface, mtu)
  'network-pmtu', // a path MTU below the interface's: tracepath "pmtu 1400", "Frag needed and DF set (mtu = 1400)", "Message too long, mtu=1400"
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type FieldValue = string | number;

/** One recognised log line, before aggregation. */
export interface RawEvent {
  type: EventType;
  side: Side;
  /** ISO-8601 if the line had a timestamp (syslog lines get a year inferred, see parsers/timestamps). */
  at?: string;
  text: string;
  source: string;
  line: number;
  fields?: Record<string, FieldValue>;
}

/** Repeated events are aggregated: a multi-million-line log keeps one summary per type. */
export interface EventSummary {
  type: EventType;
  side: Side;
  count: number;
  firstAt?: string;
  lastAt?: string;
  /** The first occurrence, kept verbatim (after secret scrubbing) for evidence lines. */
  sample: { text: string; source: string; line: number; at?: string };
  /** The most recent occurrence. */
  last: { text: string; source: string; line: number; at?: string };
  /** Fields of the first occurrence, completed by later ones (user, addr, port, host, seconds, reason, channel, error...). */
  fields: Record<string, FieldValue>;
}

/** A symptom read from the user's words (a ticket's prose, --describe, an answer to a question). */
export interface SymptomFact {
  /** symptom.* or env.* */
  fact: string;
  value: string | number | boolean;
  /** The words that gave it. */
  from: string;
  /** What the fact means, in words. */
  means?: string;
}

export interface InputFile {
  source: string;
  /** What the input was read as: one kind, `mixed` (a ticket: logs, configs and words), `prose`, or `unrecognised`. */
  kind: 'client-log' | 'server-log' | 'ssh-G' | 'ssh-config' | 'sshd-T' | 'sshd-config' | 'bundle' | 'log' | 'mixed' | 'prose' | 'unrecognised';
  lines: number;
  recognised: number;
  /** Lines that were not understood at all (junk, binary, other formats). */
  unparsed: number;
  /** How timestamps without a year were dated, when relevant. */
  dating?: string;
  /** Each producer found in the input (OpenSSH client, sshd's log, PuTTY, a config, the user's words) and its lines. */
  readAs?: Array<{ what: string; lines: number }>;
  /** The flag the input came with, if any. */
  given?: string;
  /** When the flag and the content disagree: what the content was read as. */
  note?: string;
}

export interface ConfigEvidence {
  source: 'ssh -G' | 'ssh_config' | 'sshd -T' | 'sshd_config' | 'probe';
  /** Effective options, lowercase keys, values as printed (multi-valued options joined by a space). */
  options: Record<string, string>;
  /** sshd_config / ssh_config Match blocks: options that apply only when the criteria match. */
  conditional: Array<{ criteria: string; options: Record<string, string> }>;
  /** The Host the options were resolved for (ssh_config / ssh -G). */
  host?: string;
  files?: string[];
}

export interface ShellEvidence {
  /** TMOUT as an interactive login shell sees it (seconds), null when unset. */
  tmout: number | null;
  tmoutReadonly?: boolean;
  /** tcsh autologout in minutes. */
  autologout?: number | null;
  shell?: string;
  /** Where TMOUT was found, e.g. /etc/profile.d/tmout.sh */
  origin?: string;
}

export interface LogindEvidence {
  systemdVersion?: number;
  stopIdleSessionSec?: number | null;
  idleAction?: string;
  idleActionSec?: number | null;
}

export interface KernelKeepalive {
  tcpKeepaliveTime?: number;
  tcpKeepaliveIntvl?: number;
  tcpKeepaliveProbes?: number;
  conntrackEstablishedTimeout?: number;
}

export interface HostEvidence {
  openssh?: string; // e.g. "OpenSSH_9.2p1"
  kernel?: KernelKeepalive;
  uptimeSeconds?: number;
  bootedAt?: string;
}

export interface HandshakeEvidence {
  serverSoftware?: string; // "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
  kex?: string;
  hostKeyAlgorithm?: string;
  cipher?: string;
  mac?: string;
  timingsMs?: { connect?: number; banner?: number; kex?: number; auth?: number };
  authenticated?: boolean;
  hostKey?: { status: 'verified' | 'mismatch' | 'unknown' | 'accepted' | 'revoked'; offered?: string; expected?: string[] };
  /** Why the TCP connection (or the proxy) could not be made, in ssh's words. */
  connectError?: string;
  /** Why authentication failed, in words. */
  authError?: string;
}

export type DropKind = 'silent' | 'reset' | 'closed-by-server' | 'channel-closed';

export interface IdleConnectionTrace {
  id: number;
  openedAt: number; // seconds since the test start
  pings: Array<{ atIdle: number; at: number; ok: boolean; kind?: DropKind }>;
  diedAt?: number;
  kind?: DropKind;
  reason?: string;
}

export interface IdleMeasurement {
  verdict: 'drops' | 'survived';
  dropAfterSeconds: { low: number; high: number } | null;
  dropKind: DropKind | null;
  keepaliveSurvived: boolean | null;
  connections: number;
  testedUpToSeconds: number;
  wallSeconds: number;
  /** How long the keepalive control lived (it always outlives `high` when keepaliveSurvived). */
  controlDiedAfterSeconds?: number | null;
  disconnectReason?: string;
  matchedDefault?: { name: string; seconds: number };
  traces?: IdleConnectionTrace[];
  note?: string;
}

export interface ShellIdleMeasurement {
  verdict: 'closed' | 'survived';
  afterSeconds: number | null;
  how: 'tmout-message' | 'channel-closed' | 'connection-closed' | null;
  message: string | null;
  testedUpToSeconds: number;
}

export interface VerifyMeasurement {
  keepaliveInterval: number;
  heldSeconds: number;
  survived: boolean;
}

export interface NetworkMeasurement {
  /** From a watch timeline: the client's address or default route changed during the session. */
  addressChanged?: boolean;
  /** From a watch timeline: the client resumed from sleep shortly before the drop. */
  resumedAfterSleep?: boolean;
  rttMs?: number;
  lossPercent?: number;
  /** Largest output size that arrived and smallest that stalled, for MTU trouble. */
  largeTransfer?: { okBytes: number; stalledBytes: number | null };
  /** DSCP: whether an interactive pty session worked with the default IPQoS and with none. */
  ipqos?: { defaultWorks: boolean; noneWorks: boolean };
}

/** One thing that happened during a watch, on the client's timeline. */
export interface WatchEvent {
  /** Seconds since the watch started. */
  t: number;
  kind:
    | 'start'
    | 'connected'
    | 'outage'
    | 'address'
    | 'route'
    | 'link'
    | 'sleep'
    | 'stall'
    | 'drop'
    | 'reconnect'
    | 'server'
    | 'ssh'
    | 'end';
  text: string;
}

/** What the server showed when the watch reconnected after a drop. */
export interface WatchServerSide {
  /** Seconds from the drop until a new connection was authenticated; null when none came within --reconnect-wait. */
  reconnectedAfterSeconds: number | null;
  /** sshd's listener was (re)started after the watched connection was opened. */
  listenerRestarted?: boolean;
  /** When the current sshd listener process started (server clock, ISO-8601). */
  listenerStartedAt?: string;
  /** The host booted after the watched connection was opened. */
  rebooted?: boolean;
  bootedAt?: string;
  uptimeSeconds?: number;
  /** Whether the server still held the old TCP connection (ESTABLISHED) after the drop; null when unknown. */
  heldOldConnection?: boolean | null;
  /** Where the log lines came from (journal, auth.log, the sshd -E file). */
  logSource?: string;
  /** sshd log lines from the watched session's own `Accepted` line on (or around the drop time), at most 200. */
  logLines?: string[];
  /** The recognised events among those lines. */
  events?: EventSummary[];
  note?: string;
}

/** One drop seen by a watch. */
export interface WatchDrop {
  /** When the failure was seen (ISO-8601, client clock). */
  at: string;
  /** Seconds since the watch started. */
  t: number;
  /** The monitored connection (heartbeat) or the user's wrapped ssh. */
  source: 'heartbeat' | 'ssh';
  kind: DropKind;
  /** ssh2's error, the server's disconnect text, or ssh's last message. */
  reason?: string;
  /** Seconds without traffic before the packet that met the failure (or before the failure). */
  idleBeforeSeconds: number | null;
  /** The longest idle gap the connection had survived before. */
  survivedIdleSeconds?: number | null;
  /** The failure answered the first traffic after the idle gap (a keystroke, a heartbeat). */
  onTraffic?: boolean;
  /** Seconds from that traffic to the failure: a reset comes within a round trip, TCP gives up after many seconds. */
  responseSeconds?: number | null;
  /** Seconds the path was silent (heartbeats unanswered) before the end. */
  silentSeconds?: number;
  /** Seconds since the client resumed from sleep (null: it did not sleep while the connection was open). */
  secondsAfterResume: number | null;
  sleptSeconds?: number;
  /** The client's addresses or default route changed while the connection was open (or just before the drop). */
  addressChanged: boolean;
  /** Those changes, in words. */
  networkChanges?: string[];
  /** A known middlebox idle timeout inside (survivedIdleSeconds, idleBeforeSeconds]. */
  matchedDefault?: { name: string; seconds: number };
  server?: WatchServerSide;
  /** Causes that explained this drop (filled in by the watch's diagnosis). */
  causes?: string[];
}

/** `ssh-doctor watch`: a timeline recorded on the client until the connection dropped. */
export interface WatchMeasurement {
  /** monitor: ssh-doctor's own connection with a heartbeat; wrap: the user's own ssh, timestamped. */
  mode: 'monitor' | 'wrap';
  startedAt: string;
  /** null while the watch is still running (a bundle written as it goes). */
  endedAt: string | null;
  wallSeconds: number;
  endedBy: 'running' | 'drop' | 'count' | 'duration' | 'interrupted' | 'session-ended' | 'path-lost' | 'error';
  /** Seconds between heartbeats (monitor mode). */
  heartbeatSeconds: number | null;
  /** How long the path may stay silent before the monitored connection counts as dropped. */
  silenceLimitSeconds: number | null;
  drops: WatchDrop[];
  rtt: { samples: number; lost: number; minMs: number | null; medianMs: number | null; p95Ms: number | null; maxMs: number | null };
  /** Heartbeat round trips for the drawing (seconds since start; null = no answer in time), thinned to at most 2000. */
  samples: Array<{ t: number; rttMs: number | null }>;
  /** Wrap mode: spans of session traffic (input or output), seconds since start. */
  activity?: Array<{ from: number; to: number }>;
  events: WatchEvent[];
  /** The drop the facts describe (index into drops; default 0). */
  focus?: number;
  note?: string;
}

export interface Measurements {
  idle?: IdleMeasurement;
  shellIdle?: ShellIdleMeasurement;
  verify?: VerifyMeasurement;
  network?: NetworkMeasurement;
  watch?: WatchMeasurement;
}

export interface ProbeStatus {
  id: string;
  status: 'ok' | 'skipped' | 'failed';
  durationMs: number;
  detail?: string;
}

export interface Target {
  host: string;
  port: number;
  user: string;
}

export interface Evidence {
  format: typeof EVIDENCE_FORMAT;
  version: typeof EVIDENCE_VERSION;
  collectedAt: string;
  target: Target | null;
  client: {
    config?: ConfigEvidence;
    openssh?: string;
    kernel?: KernelKeepalive;
  };
  server: {
    config?: ConfigEvidence;
    openssh?: string;
    shell?: ShellEvidence;
    logind?: LogindEvidence;
    host?: HostEvidence;
  };
  handshake?: HandshakeEvidence;
  events: EventSummary[];
  /** For each side's transcript, the last recognised event: a hang point or the way it ended. */
  lastEvent?: Partial<Record<Side, EventType>>;
  measurements: Measurements;
  inputs: InputFile[];
  probes: ProbeStatus[];
  errors: string[];
  /** What the user's words say (a ticket's prose, --describe, answers to questions). */
  symptoms?: SymptomFact[];
  /** Questions asked on the terminal and the answers given (they are also in `symptoms`). */
  answers?: Array<{ question: string; answer: string }>;
}

export function emptyEvidence(now: Date = new Date()): Evidence {
  return {
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    collectedAt: now.toISOString(),
    target: null,
    client: {},
    server: {},
    events: [],
    measurements: {},
    inputs: [],
    probes: [],
    errors: [],
  };
}
