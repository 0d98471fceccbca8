// Parser for client transcripts: the stderr of `ssh -v/-vv/-vvv` (OpenSSH 6.x to 10.x) as a user
// pastes it, usually mixed with the output of the remote shell.
//
// Line handling, in order:
// - Blank lines count towards `lines` only.
// - Junk: a line longer than 4096 characters (no ssh message is), or holding NUL, U+FFFD
//   (undecodable bytes), DEL, C1 controls or C0 controls other than TAB, BS, BEL, CR and ESC
//   (those occur in terminal captures) counts as `unparsed`; nothing is read from it.
// - Terminal debris is cleaned: text before the last CR is dropped (the terminal overwrote it),
//   ANSI escape sequences and BELs are removed.
// - An optional leading timestamp added by a capture tool is stripped: ISO-8601
//   (`2026-11-24T10:07:01.123Z `, `[2026-11-24 10:07:01] `) becomes the event's `at`;
//   time-only (`[10:07:01] `) and `ts`-style (`Nov 24 10:07:01 `) prefixes become `fields.time`.
// - A log-level prefix (`debug1:`..`debug3:`, `error:`, `fatal:`, `warning:`) is stripped.
// - `recognised`: lines that are ssh's own output: every debug line (mapped or not), and every
//   known ssh message (mapped to an event or not). Each mapped line emits one RawEvent, side
//   'client'. Such text may also follow a shell prompt on the same line (`alice@web1:~$
//   Timeout, server ...`): ssh's stderr lands wherever the terminal's cursor was.
// - Everything else is the remote shell's (or the local terminal's) output: counted in `lines`
//   only, neither recognised nor unparsed. Shell output is still searched for the shell idle
//   logout messages (bash/ksh TMOUT, tcsh autologout, zsh TMOUT), which may follow a prompt.
//
// Event choices worth knowing:
// - Follow-up lines that OpenSSH 8.3+ prints after a banner failure (`Connection reset by ADDR
//   port P` after `kex_exchange_identification: read: ...`, `Connection closed by ...` after
//   `... Connection closed by remote host`, `Connection to ... timed out` after `Connection timed
//   out during banner exchange`) are recognised but emit nothing: one failure, one event.
// - A bare `Connection closed by ADDR port P` (9.5+ prints only this for a banner close) is
//   `client-kex-closed` while no remote version and no authentication were seen, else
//   `client-closed-by-remote`.
// - `Received disconnect ...: Too many authentication failures` is client-too-many-auth-failures,
//   every other `Received disconnect` is client-received-disconnect (fields reason, message).
// - client-channel-closed: the server closed a session channel without first sending its
//   exit-status/exit-signal (that is how sshd's ChannelTimeout looks from the client). Emitted
//   once per channel on `channel N: rcvd close` (-vv) or, with -v only, on
//   `channel N: free: client-session`, when no `client_input_channel_req: channel N rtype
//   exit-status|exit-signal` came before and the connection itself had not already failed.
//   Channels announced with another type than client-session (forwardings) are ignored.

import type { EventCollector } from '../evidence/collector.js';
import type { EventType, FieldValue, RawEvent } from '../evidence/types.js';
import type { LineSink } from './lines.js';

export interface ClientLogResult {
  lines: number;
  recognised: number;
  unparsed: number;
  /** Client version, e.g. "OpenSSH_9.2p1". */
  openssh?: string;
  host?: string;
  addr?: string;
  port?: number;
  /** Server identification, e.g. "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10". */
  serverSoftware?: string;
  /** The last TOS/DSCP mark the client set on its socket ("0x48" is af21), when -vvv shows it. */
  tos?: string;
  /** How this transcript's connection went: it authenticated, or never got that far. */
  authenticated: boolean;
}

type Fields = Record<string, FieldValue>;

/** No ssh message is this long; longer lines are junk (or someone's minified file). */
export const LONG_LINE = 4096;

const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
const ISO_PREFIX = /^\[?(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:[.,]\d+)?)(Z|[+-]\d\d:?\d\d)?\]?\s+/;
const TIME_PREFIX = /^\[?(\d\d:\d\d:\d\d(?:[.,]\d+)?)\]?\s+/;
const TS_PREFIX = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?)\s+/;
const LEVEL = /^(?:debug[1-3]|error|fatal|warning|verbose|info): /i;

const RE = {
  version: /^(OpenSSH_[^\s,]+)/i,
  localVersion: /^Local version string SSH-[\d.]+-(\S+)/i,
  connecting: /^Connecting to (\S+) \[([^\]]*)\] port (\d+)\.?$/i,
  authenticating: /^Authenticating to (\S+?):(\d+) as '([^']*)'/i,
  remoteVersion: /^Remote protocol version ([\d.]+), remote software version (.+)$/i,
  compatMatch: /^(?:compat_banner: )?match: (.+?) pat /i,
  authenticated: /^Authenticated to (\S+) \((?:\[([^\]]*)\]:(\d+)|via proxy)\)(?: using "([^"]+)")?/i,
  authSucceeded: /^Authentication succeeded \(([^)]+)\)/i,
  interactive: /^Entering interactive session/i,
  expecting: /^expecting (SSH2_MSG_\w*KEX\w*)/i,
  serverAlive: /^Timeout, server (?:(\S+) )?not responding/i,
  keepalive: /^(?:[\w .-]+: )?keepalive timeout\b/i,
  sendDisconnect: /^client_loop: send disconnect: (.+)$/i,
  writeFailed: /^Write failed: (.+)$/i,
  readFrom: /^Read from remote host (.+?): (.+)$/i,
  kexIdent: /^(?:kex|ssh)_exchange_identification: (.*)$/i,
  bannerTimeout: /^Connection timed out during banner exchange/i,
  connectFailed: /^ssh: connect to host (\S+) port (\S+): (.+)$/i,
  dnsFailed: /^ssh: Could not resolve hostname (\S+?): (.+)$/i,
  dnsFailedOld:
    /^ssh: (\S+): (Name or service not known|nodename nor servname provided, or not known|Temporary failure in name resolution|No address associated with hostname)/i,
  receivedDisconnect: /^Received disconnect from (\S+?)(?: port (\d+))?: ?(\d+): (.*)$/i,
  closedByRemote: /^(?:Shared )?Connection to (.+?) closed by remote host/i,
  closed: /^(Shared )?Connection to (.+?) closed\.?$/i,
  connTimedOut: /^Connection to (.+?) timed out\.?$/i,
  // anchored: "Connection closed by foreign host." (telnet in the session) is shell output
  connReset: /^Connection reset by (\S+?)(?: port (\d+))?$/i,
  connClosedBy: /^Connection closed by (\S+?)(?: port (\d+))?$/i,
  pktFatal: /^([\w ]+?(?:: [\w ]+?)?): Connection to (.+?): (.+)$/i,
  corruptedMac: /^Corrupted MAC on input/i,
  badLength: /^Bad packet length (\d+)/i,
  hostKeyChanged: /REMOTE HOST IDENTIFICATION HAS CHANGED/i,
  hostKeyFailed: /^Host key verification failed/i,
  permissionDenied: /^(?:(\S+)@(\S+): )?Permission denied \(([^)]*)\)/i,
  killed: /^Killed by signal (\d+)/i,
  setTos: /^set_sock_tos: set socket \d+ (IP_TOS|IPV6_TCLASS) (0x[0-9a-f]+)/i,
  sendPacket: /^send packet: type (\d+)/i,
  receivePacket: /^receive packet: type (\d+)/i,
  chanNew: /^channel (\d+): new .*\[([^\]]+)\]/i,
  chanExit: /^client_input_channel_req: channel (\d+) rtype (exit-status|exit-signal)/i,
  chanRcvdClose: /^channel (\d+): rcvd close/i,
  chanFree: /^channel (\d+): free: ([^,\s]+)/i,
  bashTmout: /timed out waiting for input: auto-logout/i,
  tcshAutologout: /(?:^|[\s$%#>])auto-logout$/i,
  zshTmout: /(?:^|\s)zsh: timeout$/i,
  /** ssh's own lines that map to no event. */
  known:
    /^(?:Warning: |Transferred: |Bytes per second|Pseudo-terminal will not be allocated|Load key |Enter passphrase|Disconnected from |Unable to negotiate |banner exchange: |mux_client_|Offending |Host key for |The authenticity of host |\S+ key fingerprint is |Are you sure you want to continue connecting|Authenticated with partial success|Permission denied, please try again|@{3}|IT IS POSSIBLE THAT SOMEONE|Someone could be eavesdropping|It is also possible that|The fingerprint for the|Please contact your system administrator|Add correct host key|Password authentication is disabled|Keyboard-interactive authentication is disabled|Agent forwarding is disabled|X11 forwarding is disabled|Port forwarding is disabled|No \S+ host key is known|Bad owner or permissions|Exit status |ssh: )/i,
};

type Followup = 'kex-closed' | 'kex-reset' | 'banner-timeout' | null;

interface ChannelState {
  session: boolean | undefined;
  exit: boolean;
  emitted: boolean;
}

export class ClientLogParser implements LineSink {
  private lines = 0;
  private recognised = 0;
  private unparsed = 0;
  private openssh: string | undefined;
  private host: string | undefined;
  private addr: string | undefined;
  private port: number | undefined;
  private serverSoftware: string | undefined;
  private user: string | undefined;
  private sawRemoteVersion = false;
  private sawAuth = false;
  /** The connection has already failed or ended: later channel teardown is not a channel close. */
  private ended = false;
  private followup: Followup = null;
  private readonly channels = new Map<number, ChannelState>();
  private tos: string | undefined;
  /** A keepalive@openssh.com request (type 80) is waiting for its reply (81/82). */
  private keepalivePending = false;
  /** Events emitted so far (the input router asks whether a line made one). */
  emitted = 0;

  // per line
  private text = '';
  private lineNo = 0;
  private at: string | undefined;
  private time: string | undefined;

  constructor(
    private readonly source: string,
    private readonly collector: EventCollector,
  ) {}

  /**
   * One line for the input router, which keeps its own counts: 'yes' when it is ssh's own output
   * (`emitted` says whether it made an event), 'junk' when it is not text, 'no' otherwise.
   */
  read(raw: string, lineNo: number): 'yes' | 'junk' | 'no' {
    const r = this.recognised;
    const u = this.unparsed;
    this.line(raw, lineNo);
    return this.recognised > r ? 'yes' : this.unparsed > u ? 'junk' : 'no';
  }

  line(raw: string, lineNo: number): void {
    this.lines++;
    if (raw.length === 0) return;
    if (raw.length > LONG_LINE || isJunk(raw)) {
      this.unparsed++;
      return;
    }
    let s = raw;
    if (s.includes('\r')) {
      const parts = s.split('\r');
      s = '';
      for (let i = parts.length - 1; i >= 0; i--) {
        if (parts[i]!.trim() !== '') {
          s = parts[i]!;
          break;
        }
      }
    }
    if (s.includes('\x1b')) s = s.replace(ANSI, '');
    if (s.includes('\x07')) s = s.replace(/\x07/g, '');
    s = s.trim();
    if (s === '') return;
    this.text = s;
    this.lineNo = lineNo;
    this.at = undefined;
    this.time = undefined;

    let m = ISO_PREFIX.exec(s);
    if (m) {
      this.at = `${m[1]}T${m[2]!.replace(',', '.')}${normaliseZone(m[3])}`;
      s = s.slice(m[0].length);
    } else if ((m = TIME_PREFIX.exec(s) ?? TS_PREFIX.exec(s))) {
      this.time = m[1]!;
      s = s.slice(m[0].length);
    }
    let level = false;
    if ((m = LEVEL.exec(s))) {
      level = true;
      s = s.slice(m[0].length);
    }
    if (this.match(s) || level || RE.known.test(s) || this.afterPrompt(s)) this.recognised++;
  }

  /**
   * ssh's stderr often lands on the line of a shell prompt that had no newline yet
   * ("alice@web1:~$ Timeout, server web1 not responding."): tries the text after each of the
   * first few prompt ends ("$ ", "# ", "% ", "> ").
   */
  private afterPrompt(s: string): boolean {
    const prompt = /[$#%>] +(?=\S)/g;
    let m: RegExpExecArray | null;
    for (let tries = 0; tries < 3 && (m = prompt.exec(s)) !== null; tries++) {
      let rest = s.slice(m.index + m[0].length);
      const level = LEVEL.exec(rest);
      if (level) rest = rest.slice(level[0].length);
      if (this.match(rest) || level !== null || RE.known.test(rest)) return true;
    }
    return false;
  }

  result(): ClientLogResult {
    return {
      lines: this.lines,
      recognised: this.recognised,
      unparsed: this.unparsed,
      ...(this.openssh !== undefined ? { openssh: this.openssh } : {}),
      ...(this.host !== undefined ? { host: this.host } : {}),
      ...(this.addr !== undefined ? { addr: this.addr } : {}),
      ...(this.port !== undefined ? { port: this.port } : {}),
      ...(this.serverSoftware !== undefined ? { serverSoftware: this.serverSoftware } : {}),
      ...(this.tos !== undefined ? { tos: this.tos } : {}),
      authenticated: this.sawAuth,
    };
  }

  private emit(type: EventType, fields: Fields = {}): true {
    this.emitted++;
    if (this.time !== undefined) fields.time = this.time;
    const ev: RawEvent = { type, side: 'client', text: this.text, source: this.source, line: this.lineNo, fields };
    if (this.at !== undefined) ev.at = this.at;
    this.collector.add(ev);
    return true;
  }

  /** Emits the event the message maps to; true when the line is ssh's own output. */
  private match(s: string): boolean {
    let m: RegExpExecArray | null;
    const c = s.charCodeAt(0) | 0x20;

    // Shell idle logouts, possibly after a prompt on the same line.
    if (RE.bashTmout.test(s)) return this.emit('client-shell-timeout', { shell: 'bash', message: 'timed out waiting for input: auto-logout' });
    if (RE.tcshAutologout.test(s)) return this.emit('client-shell-timeout', { shell: 'tcsh', message: 'auto-logout' });
    if (RE.zshTmout.test(s)) return this.emit('client-shell-timeout', { shell: 'zsh', message: 'zsh: timeout' });

    switch (c) {
      case 0x6f: // o
        if ((m = RE.version.exec(s))) {
          if (this.openssh !== undefined) return true;
          this.openssh = m[1]!;
          this.newAttempt();
          return this.emit('client-version', { version: m[1]! });
        }
        break;
      case 0x6c: // l
        if ((m = RE.localVersion.exec(s))) {
          if (this.openssh !== undefined) return true;
          this.openssh = m[1]!;
          return this.emit('client-version', { version: m[1]! });
        }
        break;
      case 0x61: // a
        if ((m = RE.authenticating.exec(s))) {
          this.user = m[3]!;
          this.host ??= m[1]!;
          this.port ??= Number(m[2]);
          return true;
        }
        if ((m = RE.authenticated.exec(s))) {
          this.sawAuth = true;
          const f: Fields = { host: m[1]! };
          if (m[2] !== undefined) f.addr = m[2];
          if (m[3] !== undefined) f.port = Number(m[3]);
          if (m[4] !== undefined) f.method = m[4];
          if (this.user !== undefined) f.user = this.user;
          return this.emit('client-authenticated', f);
        }
        if ((m = RE.authSucceeded.exec(s))) {
          this.sawAuth = true;
          const f: Fields = { method: m[1]! };
          if (this.host !== undefined) f.host = this.host;
          if (this.user !== undefined) f.user = this.user;
          return this.emit('client-authenticated', f);
        }
        break;
      case 0x65: // e
        if (RE.interactive.test(s)) {
          this.sawAuth = true;
          return this.emit('client-interactive-session', this.targetFields());
        }
        if ((m = RE.expecting.exec(s))) return this.emit('client-kex-ecdh-wait', { message: m[1]!.toUpperCase(), ...this.targetFields() });
        break;
      case 0x72: // r
        if ((m = RE.remoteVersion.exec(s))) {
          this.sawRemoteVersion = true;
          this.serverSoftware = `SSH-${m[1]}-${m[2]}`;
          return this.emit('client-remote-version', { protocol: m[1]!, software: m[2]! });
        }
        if ((m = RE.readFrom.exec(s))) return this.connectionError(m[2]!, targetOf(m[1]!)) || true;
        if ((m = RE.receivedDisconnect.exec(s))) {
          this.ended = true;
          const f: Fields = { ...targetOf(m[1]!), reason: Number(m[3]), message: m[4]! };
          if (m[2] !== undefined) f.port = Number(m[2]);
          if (/too many authentication failures/i.test(m[4]!)) return this.emit('client-too-many-auth-failures', f);
          return this.emit('client-received-disconnect', f);
        }
        break;
      case 0x74: // t
        if ((m = RE.serverAlive.exec(s))) {
          this.ended = true;
          return this.emit('client-serveralive-timeout', m[1] !== undefined ? targetOf(m[1]) : this.targetFields());
        }
        break;
      case 0x77: // w
        if ((m = RE.writeFailed.exec(s))) return this.connectionError(m[1]!, this.targetFields()) || true;
        break;
      case 0x6b: // k
        if ((m = RE.kexIdent.exec(s))) return this.kexIdent(m[1]!);
        break;
      case 0x68: // h
        if (RE.hostKeyFailed.test(s)) return this.emit('client-host-key-failed', this.targetFields());
        break;
      case 0x62: // b
        if ((m = RE.badLength.exec(s))) return this.emit('client-packet-corrupt', { error: 'Bad packet length', length: Number(m[1]) });
        break;
    }

    if (c === 0x73 /* s */ && (m = RE.kexIdent.exec(s))) return this.kexIdent(m[1]!);
    if ((m = RE.compatMatch.exec(s))) {
      if (!this.sawRemoteVersion) this.serverSoftware ??= `SSH-2.0-${m[1]}`;
      return true;
    }
    if ((m = RE.connecting.exec(s))) {
      this.newAttempt();
      this.host ??= m[1]!;
      this.addr ??= m[2]!;
      this.port ??= Number(m[3]);
      return this.emit('client-connecting', { host: m[1]!, addr: m[2]!, port: Number(m[3]) });
    }
    if ((m = RE.sendDisconnect.exec(s))) return this.connectionError(m[1]!, this.targetFields()) || true;
    if (RE.bannerTimeout.test(s)) {
      this.followup = 'banner-timeout';
      this.ended = true;
      return this.emit('client-banner-timeout', this.targetFields());
    }
    if ((m = RE.connectFailed.exec(s))) {
      this.ended = true;
      this.host ??= m[1]!;
      const f: Fields = { ...targetOf(m[1]!), error: m[3]! };
      if (/^\d+$/.test(m[2]!)) f.port = Number(m[2]);
      return this.emit('client-connect-failed', f);
    }
    if ((m = RE.dnsFailed.exec(s) ?? RE.dnsFailedOld.exec(s))) {
      this.ended = true;
      this.host ??= m[1]!;
      return this.emit('client-dns-failed', { host: m[1]!, error: m[2]! });
    }
    if ((m = RE.closedByRemote.exec(s))) {
      this.ended = true;
      return this.emit('client-closed-by-remote', targetOf(m[1]!));
    }
    if ((m = RE.closed.exec(s))) {
      this.ended = true;
      const f = targetOf(m[2]!);
      if (m[1] !== undefined) f.shared = 1;
      return this.emit('client-closed', f);
    }
    if ((m = RE.connTimedOut.exec(s))) {
      this.ended = true;
      if (this.consumeFollowup('banner-timeout')) return true;
      return this.emit('client-connection-timed-out', targetOf(m[1]!));
    }
    if ((m = RE.connReset.exec(s))) {
      this.ended = true;
      if (this.consumeFollowup('kex-reset')) return true;
      return this.emit('client-connection-reset', m[1]!.toLowerCase() === 'peer' ? this.targetFields() : portFields(m[1]!, m[2]));
    }
    if ((m = RE.connClosedBy.exec(s))) {
      this.ended = true;
      if (this.consumeFollowup('kex-closed')) return true;
      const f = portFields(m[1]!, m[2]);
      if (!this.sawRemoteVersion && !this.sawAuth) return this.emit('client-kex-closed', { ...f, how: 'connection-closed' });
      return this.emit('client-closed-by-remote', f);
    }
    if ((m = RE.pktFatal.exec(s))) return this.connectionError(m[3]!, targetOf(m[2]!)) || true;
    if (RE.corruptedMac.test(s)) return this.emit('client-packet-corrupt', { error: 'Corrupted MAC on input' });
    if (RE.hostKeyChanged.test(s)) return this.emit('client-host-key-changed', this.targetFields());
    if ((m = RE.permissionDenied.exec(s))) {
      this.ended = true;
      const f: Fields = { methods: m[3]! };
      const user = m[1] ?? this.user;
      if (user !== undefined) f.user = user;
      const host = m[2] ?? this.host;
      if (host !== undefined) f.host = host;
      return this.emit('client-permission-denied', f);
    }
    if ((m = RE.killed.exec(s))) return this.emit('client-killed-by-signal', { signal: Number(m[1]) });
    if ((m = RE.setTos.exec(s))) {
      this.tos = m[2]!.toLowerCase();
      return this.emit('client-tos-set', { tos: this.tos, option: m[1]! });
    }
    if ((m = RE.sendPacket.exec(s))) {
      // After authentication, a global request (80) is the client's keepalive@openssh.com.
      if (m[1] === '80' && this.sawAuth) this.keepalivePending = true;
      return true;
    }
    if ((m = RE.receivePacket.exec(s))) {
      if ((m[1] === '81' || m[1] === '82') && this.keepalivePending) {
        this.keepalivePending = false;
        return this.emit('client-keepalive-answered', this.targetFields());
      }
      return true;
    }
    if (c === 0x63 /* c */) return this.channelLine(s);
    if (RE.keepalive.test(s)) {
      this.ended = true;
      return this.emit('client-keepalive-timeout', this.targetFields());
    }
    return false;
  }

  private kexIdent(rest: string): true {
    if (/^Connection closed by remote host/i.test(rest)) {
      this.ended = true;
      this.followup = 'kex-closed';
      return this.emit('client-kex-closed', { ...this.targetFields(), how: 'banner' });
    }
    if (/^read: /i.test(rest)) {
      this.ended = true;
      this.followup = 'kex-reset';
      return this.emit('client-kex-reset', { ...this.targetFields(), error: rest.slice(6) });
    }
    return true; // banner line N: ..., invalid format, ...
  }

  /** A transport failure described by an error text; emits nothing for errors it cannot class. */
  private connectionError(error: string, target: Fields): boolean {
    const e = error.toLowerCase();
    let type: EventType | null = null;
    if (e.startsWith('broken pipe')) type = 'client-broken-pipe';
    else if (e.startsWith('connection reset')) type = 'client-connection-reset';
    else if (e.startsWith('connection timed out') || e.startsWith('operation timed out')) type = 'client-connection-timed-out';
    else if (e.startsWith('message authentication code incorrect') || e.startsWith('connection corrupted')) type = 'client-packet-corrupt';
    else if (/^(software caused connection abort|network is (unreachable|down)|no route to host)/.test(e)) type = 'client-network-lost';
    if (type === null) return false;
    this.ended = true;
    return this.emit(type, { ...target, error });
  }

  private channelLine(s: string): boolean {
    let m: RegExpExecArray | null;
    if ((m = RE.chanNew.exec(s))) {
      this.channels.set(Number(m[1]), { session: m[2] === 'client-session', exit: false, emitted: false });
      return true;
    }
    if ((m = RE.chanExit.exec(s))) {
      this.channel(Number(m[1])).exit = true;
      return true;
    }
    if ((m = RE.chanRcvdClose.exec(s))) {
      const n = Number(m[1]);
      const ch = this.channel(n);
      if (ch.session !== false && !ch.exit && !ch.emitted && !this.ended) {
        ch.emitted = true;
        return this.emit('client-channel-closed', { channel: n, how: 'rcvd-close' });
      }
      return true;
    }
    if ((m = RE.chanFree.exec(s))) {
      const n = Number(m[1]);
      const ch = this.channel(n);
      if (m[2] === 'client-session' && !ch.exit && !ch.emitted && !this.ended) {
        ch.emitted = true;
        return this.emit('client-channel-closed', { channel: n, how: 'free' });
      }
      return true;
    }
    return /^channel \d+: /i.test(s);
  }

  private channel(n: number): ChannelState {
    let ch = this.channels.get(n);
    if (!ch) {
      ch = { session: undefined, exit: false, emitted: false };
      this.channels.set(n, ch);
    }
    return ch;
  }

  private consumeFollowup(kind: Followup): boolean {
    if (this.followup !== kind) return false;
    this.followup = null;
    return true;
  }

  /** A new connection attempt in the same transcript (a retry, or ssh run again). */
  private newAttempt(): void {
    this.followup = null;
    this.ended = false;
    this.sawRemoteVersion = false;
    this.sawAuth = false;
    this.channels.clear();
  }

  private targetFields(): Fields {
    const f: Fields = {};
    if (this.host !== undefined) f.host = this.host;
    if (this.addr !== undefined) f.addr = this.addr;
    if (this.port !== undefined) f.port = this.port;
    return f;
  }
}

/** NUL, U+FFFD, DEL, C1 or C0 controls other than TAB, BS, BEL, CR, ESC: not text. */
export function isJunk(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32) {
      if (c !== 9 && c !== 7 && c !== 8 && c !== 13 && c !== 27) return true;
    } else if (c >= 127 && c <= 159) return true;
    else if (c === 0xfffd) return true;
  }
  return false;
}

const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.%\w]*)$/i;

/** "ADDR port P", "HOST port P", or a bare name/address, as fields. */
function targetOf(t: string): Fields {
  const m = /^(\S+) port (\d+)$/.exec(t);
  if (m) return portFields(m[1]!, m[2]);
  return portFields(t, undefined);
}

function portFields(who: string, port: string | undefined): Fields {
  const f: Fields = IP.test(who) ? { addr: who } : { host: who };
  if (port !== undefined) f.port = Number(port);
  return f;
}

function normaliseZone(z: string | undefined): string {
  if (z === undefined) return '';
  if (z.length === 5) return `${z.slice(0, 3)}:${z.slice(3)}`;
  return z;
}
