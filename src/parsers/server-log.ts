// Parser for server-side logs: auth.log / secure (syslog, classic or RFC 3339 timestamps),
// `journalctl -u ssh` text (short, short-precise, short-iso, short-full), fail2ban.log, and
// `sshd -E file` output (no timestamp, no program prefix: the whole line is sshd's message).
//
// Counting:
// - A line with a recognised timestamp (and program tag) is `recognised`, whatever program wrote
//   it: CRON, sudo and friends are recognised and ignored. journalctl's `-- ... --` lines too.
// - A line without timestamp is recognised when it is a known sshd message (the `sshd -E` /
//   `journalctl -o cat` case) or carries a log-level prefix (`debug1:`, `error:`...); otherwise
//   it is `unparsed` (junk, binary, another format). Blank lines count towards `lines` only.
//
// Speed: this runs over multi-million-line logs. Each line costs a few charCodeAt/indexOf/
// startsWith checks until its program is known; only sshd lines (and the few other programs
// that matter) reach sticky regexes, tried at the message's offset without slicing. No line is
// kept. Events are tallied per type here and handed to the collector by result(), which leaves
// the collector exactly as one add() per event would (counts, first and last line, earliest and
// latest time, fields of the first occurrence, last event per side) at a fraction of the cost:
// add() scrubs every text for secrets. So call result() when the input ends (it may be called
// again after more lines). Fields are built only for a type's first occurrence.
//
// Event choices worth knowing:
// - Connection endings suffixed `[preauth]` (scanners, failed logins) become
//   server-closed-preauth (fields.how: closed, disconnect, reset, error), not the post-auth types
//   (server-received-disconnect, server-disconnected, server-connection-reset, ...), so that those
//   keep meaning "a session ended". `Disconnected from ... [preauth]` follows a `Received
//   disconnect` and emits nothing. Exceptions: too many auth failures, LoginGraceTime and packet
//   corruption keep their own types.
// - `Connection closed by ADDR port P` right after `kex_exchange_identification: ...` from the
//   same pid is that banner failure's follow-up (8.3+): server-closed-preauth, how 'banner'.
//   From 9.5 the kex line is VERBOSE only, so such a close can then read as server-closed-by-client.
// - systemd stopping sshd is server-received-signal with fields.how 'systemd-stop' (one event per
//   stop: `Stopping ...` or, without it, `Stopped ...`); socket-activated per-connection units are
//   ignored. `Received signal 15; terminating.` has how 'signal'.
// - journalctl `-- Reboot --` / `-- Boot ID --` markers (after at least one entry) are
//   server-reboot, dated with the first entry after them; logind "System is rebooting/powering
//   down" and the kernel's `Linux version` boot line too.
// - OOM kills are reported only for sshd processes and login shells (fields.process).
// - fail2ban bans count for jails whose name contains "ssh" and for "recidive"; sshguard blocks
//   and attacks on the SSH service are server-ban too (fields.how 'block' / 'attack').
// - 9.8's LoginGraceTime line has its addresses swapped (fixed in 9.9); fields.addr is the
//   "from" address as printed.
// - Timestamps: syslog ones are dated by SyslogDater (see there); RFC 3339 ones are kept as
//   written (offset normalised to +HH:MM), journalctl short-full ones lose their zone name.

import type { EventCollector } from '../evidence/collector.js';
import type { EventType, FieldValue, RawEvent } from '../evidence/types.js';
import type { LineSink } from './lines.js';
import { LONG_LINE, isJunk } from './client-log.js';
import { SyslogDater, monthAt } from './timestamps.js';

export interface ServerLogResult {
  lines: number;
  recognised: number;
  unparsed: number;
  format: 'syslog' | 'iso' | 'journal' | 'sshd-E' | 'mixed' | 'empty';
  /** How yearless syslog timestamps were dated (SyslogDater.describe()), when there were some. */
  dating?: string;
  /** "OpenSSH_9.2p1" from `sshd version` (debug), else ">=10.0" / ">=9.8" from the program names. */
  openssh?: string;
}

type Fields = Record<string, FieldValue>;

/** This file's events of one type, before they reach the collector (see flush()). */
interface Tally {
  first: RawEvent;
  count: number;
  /** Order of the last occurrence among all events. */
  seq: number;
  minAt: string | undefined;
  maxAt: string | undefined;
  lastText: string;
  lastLine: number;
  lastAt: string | undefined;
}

const enum Stamp {
  None = 0,
  Syslog = 1,
  Iso = 2,
  /** journalctl -o short-iso: offset without colon */
  IsoJournal = 3,
  /** journalctl -o short-full: "Tue 2026-11-24 10:07:01 UTC" */
  Full = 4,
}

// remote_id: "[authenticating user X |invalid user X |user X ]ADDR port P" -> user, addr, port
const RID = String.raw`(?:(?:authenticating ?|invalid )?user (\S*) )?(\S+?)(?: port (\d+))?(?= |$)`;
const re = (src: string): RegExp => new RegExp(src, 'iy');

const R = {
  accepted: re(String.raw`Accepted (\S+) for (\S+) from (\S+) port (\d+)`),
  beginMaxStartups: re('beginning MaxStartups throttling'),
  badLength: re(String.raw`Bad packet length (\d+)`),
  closedBy: re(`Connection closed by ${RID}`),
  resetBy: re(`Connection reset by ${RID}`),
  connTimedOut: re(String.raw`Connection from (.+?) timed out`),
  corruptedMac: re('Corrupted MAC on input'),
  channelTimeout: re(String.raw`channel (\d+): closing after (\d+) seconds of inactivity`),
  disconnecting: re(String.raw`Disconnecting(?: (.+?))?: (.+?)(?: \[preauth\])?$`),
  disconnected: re(`Disconnected from ${RID}`),
  drop: re(String.raw`drop connection #(\d+) from \[([^\]]*)\]:(\d+) on \[([^\]]*)\]:(\d+) (.+?)(?: \[preauth\])?$`),
  exitedMaxStartups: re(String.raw`exited MaxStartups throttling after (\S+), (\d+) connections dropped`),
  failed: re(String.raw`Failed (\S+) for (invalid user )?(\S*) from (\S+) port (\d+)`),
  invalid: re(String.raw`Invalid user (\S*) from (\S+?)(?: port (\d+))?(?= |$)`),
  inMaxStartups: re(String.raw`in MaxStartups throttling for (\S+), (\d+) connections dropped`),
  kex: re('kex_exchange_identification: '),
  mmWrite: re('mm_request_send: write: (.+)$'),
  pamSession: re(String.raw`pam_unix\(sshd:session\): session (opened|closed) for user ([^\s(]+)`),
  receivedDisconnect: re(String.raw`Received disconnect from (\S+?)(?: port (\d+))?: ?(\d+): (.*?)(?: \[preauth\])?$`),
  receivedSignal: re(String.raw`Received signal (\d+); terminating`),
  readError: re(String.raw`Read error from remote host (\S+) port (\d+): (.+)$`),
  listening: re(String.raw`Server listening on (\S+) port (\d+)`),
  version: re(String.raw`sshd version (OpenSSH_[^\s,]+)`),
  penalty: re(
    String.raw`srclimit_penalise: (?:(?:ipv4|ipv6): new (\S+) (active|deferred)|(\S+): activating (?:ipv4|ipv6)) penalty of ([\d.]+) seconds for (.+?)(?: \[preauth\])?$`,
  ),
  clientAlive: re(`Timeout, client not responding(?: from ${RID})?`),
  grace: re(String.raw`Timeout before authentication for (?:connection from (\S+) to (\S+), pid = (\d+)|(\S+) port (\d+))`),
  unused: re(`terminating inactive connection from ${RID}`),
  writeFailed: re('Write failed: (.+)$'),
  // other programs
  logindIdle: re(String.raw`Session "?([^"\s]+)"? of user "?([^"\s]+)"? is idle, stopping`),
  logindReboot: re('System is (rebooting|powering down)'),
  systemdStop: re(
    String.raw`(Stopping|Stopped) (?:(?:ssh|sshd|openssh|openssh-server|openssh-daemon)\.service\b|OpenBSD Secure Shell server|OpenSSH server daemon|OpenSSH Daemon)`,
  ),
  sshguardBlock: re(String.raw`Blocking "?([^"\s/]+?)(?:/\d+)?"?(?::\d+)? for >?(\d+) ?secs`),
  sshguardAttack: re(String.raw`Attack from "?([^"\s]+?)"? on service (\S+)`),
};

const TOO_MANY = /too many authentication failures/i;
const MAXSTARTUPS_END = /maxstartups(?: \[preauth\])?$/i;
const FAIL2BAN = /\[([^\]]+)\]\s+(Restore )?(Ban|Unban) (\S+)/i;
const OOM = /Out of memory(?: \([^)]*\))?: Kill(?:ed)? process (\d+) \(([^)]+)\)/i;
const SSH_OOM = /^(?:sshd|sshd-session|sshd-auth|bash|zsh|sh|dash|ksh|tcsh|csh|fish)$/;
/**
 * sshd messages that map to no event, to tell `sshd -E` lines from junk; `func_name: ...` is
 * how sshd's `*_f` log calls begin (session_by_pid: unknown pid 123).
 */
const SSHD_KNOWN =
  /^(?:[a-z][a-z0-9]*_[a-z0-9_]+: |Starting session|Close session|User child is on pid|Postponed |pam_\w+\(sshd:|PAM: |Connection from |Did not receive identification string|Bad protocol version identification|banner exchange|Unable to negotiate|reverse mapping|Address \S+ maps to|Nasty PTR|maximum authentication attempts exceeded|input_userauth_request|Authentication refused|Authorized to|Changed root directory|subsystem request|Transferred: |rexec|Exiting on signal|Disabling protocol|Could not load host key|Bind to port|Cannot bind|Missing privilege separation directory|Received SIGHUP|Received signal|Disconnect|Connection (?:closed|reset)|Timeout|drop connection|srclimit_|check pass|userauth_|send_error|Corrupted MAC|Bad packet length|Server listening|sshd version|Failed |Invalid user |Accepted )/i;
const FILE_PREFIX = /^[^\s:]+:(?=[A-Z][a-z]{2} [ \d]\d \d\d:|\d{4}-\d\d-\d\d[T ]\d)/;

export class ServerLogParser implements LineSink {
  private lines = 0;
  private recognised = 0;
  private unparsed = 0;
  private nSyslog = 0;
  private nIso = 0;
  private nJournal = 0;
  private nBare = 0;
  private journalMarkers = 0;
  private readonly dater: SyslogDater;
  private version: string | undefined;
  private sawSession = false;
  private sawAuthBinary = false;
  private stopping = false;
  /** pids whose last line was a banner-exchange failure: their next close is its follow-up. */
  private readonly kexPids = new Set<number>();
  private pendingReboot: { text: string; line: number } | null = null;
  /** Month of the last syslog line, as its three char codes (a cheap "same month" test). */
  private m0 = 0;
  private m1 = 0;
  private m2 = 0;
  private month = 0;
  /** Date parts of syslog times in the current month, by day: "2026-11-24T". */
  private dayPrefixes: Array<string | undefined> = [];
  private readonly tallies = new Map<EventType, Tally>();
  private seq = 0;

  // the current line
  private text = '';
  private lineNo = 0;
  private stamp: Stamp = Stamp.None;
  private stampEnd = 0;
  private prefix = '';
  private pid = -1;

  constructor(
    private readonly source: string,
    private readonly collector: EventCollector,
    opts: { reference?: Date; referenceLabel?: string } = {},
  ) {
    this.dater = new SyslogDater(
      opts.reference ?? new Date(),
      opts.referenceLabel ?? (opts.reference ? 'reference date' : 'current time'),
    );
  }

  /** Events recorded so far (the input router asks whether a line made one). */
  get emitted(): number {
    return this.seq;
  }

  /**
   * One line for the input router, which keeps its own counts: 'yes' when it is a log line this
   * parser knows (a timestamped syslog/journal line of any program, or a bare sshd message), 'no'
   * otherwise.
   */
  read(text: string, lineNo: number): 'yes' | 'no' {
    const r = this.recognised;
    this.line(text, lineNo);
    return this.recognised > r ? 'yes' : 'no';
  }

  line(text: string, lineNo: number): void {
    this.lines++;
    if (text.length === 0) return;
    this.text = text;
    this.lineNo = lineNo;
    if (this.stamped(text)) return;
    const m = FILE_PREFIX.exec(text);
    if (m !== null) {
      // grep over several files: "auth.log.1:Nov 24 10:07:01 host sshd[1]: ..."
      const rest = text.slice(m[0].length);
      this.text = rest;
      if (this.stamped(rest)) return;
      this.text = text;
    }
    this.bare(text);
  }

  /** The counts, and the events tallied since the last call handed to the collector. */
  result(): ServerLogResult {
    this.flushReboot(undefined);
    this.flush();
    const journal = this.journalMarkers > 0 || this.nJournal > 0;
    const kinds: ServerLogResult['format'][] = [];
    if (this.nSyslog > 0 && !journal) kinds.push('syslog');
    if (this.nIso > 0 && !journal) kinds.push('iso');
    if (journal) kinds.push('journal');
    if (this.nBare > 0) kinds.push('sshd-E');
    const format = kinds.length === 0 ? 'empty' : kinds.length === 1 ? kinds[0]! : 'mixed';
    const openssh = this.version ?? (this.sawAuthBinary ? '>=10.0' : this.sawSession ? '>=9.8' : undefined);
    return {
      lines: this.lines,
      recognised: this.recognised,
      unparsed: this.unparsed,
      format,
      ...(this.nSyslog > 0 ? { dating: this.dater.describe() } : {}),
      ...(openssh !== undefined ? { openssh } : {}),
    };
  }

  /** Handles a line that starts with a timestamp; false when it does not. */
  private stamped(text: string): boolean {
    const len = text.length;
    const c0 = text.charCodeAt(0);
    let end: number;
    if (c0 >= 65 && c0 <= 90) {
      // "Nov 24 10:07:01 " (optionally ".123456"), or short-full "Tue 2026-11-24 10:07:01 UTC "
      if (len >= 16 && text.charCodeAt(3) === 32 && text.charCodeAt(9) === 58 && text.charCodeAt(12) === 58) {
        if (c0 !== this.m0 || text.charCodeAt(1) !== this.m1 || text.charCodeAt(2) !== this.m2) {
          if (!this.newMonth(text)) return false;
        }
        end = 15;
        if (text.charCodeAt(15) === 46) {
          end = 16;
          while (isDigit(text.charCodeAt(end))) end++;
        }
        this.stamp = Stamp.Syslog;
        this.nSyslog++;
      } else if (len >= 28 && text.charCodeAt(3) === 32 && text.charCodeAt(8) === 45 && text.charCodeAt(17) === 58) {
        end = text.indexOf(' ', 24); // after the zone name
        if (end < 0) return false;
        this.stamp = Stamp.Full;
        this.nJournal++;
      } else return false;
    } else if (c0 >= 48 && c0 <= 57) {
      // "2026-11-24T10:07:01.123456+00:00 ", "2026-11-24T10:07:01+0000 ", fail2ban "2026-11-24 10:07:01,123 "
      if (!(len >= 20 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(13) === 58)) return false;
      end = text.indexOf(' ', 19);
      if (end < 0) return false;
      if (text.charCodeAt(10) === 32 || text.charCodeAt(end - 3) === 58 || text.charCodeAt(end - 1) === 90 /* Z */) {
        this.stamp = Stamp.Iso;
        this.nIso++;
      } else {
        this.stamp = Stamp.IsoJournal;
        this.nJournal++;
      }
    } else if (c0 === 45 && text.startsWith('-- ')) {
      this.journalMarker(text);
      return true;
    } else return false;

    this.recognised++;
    this.stampEnd = end;
    if (this.pendingReboot !== null) this.flushReboot(this.at());
    let p = end + 1;
    if (text.charCodeAt(p) === 102 /* f */ && text.startsWith('fail2ban', p)) {
      this.fail2ban(text, p); // fail2ban.log: no host field
      return true;
    }
    // host, then the program tag; some syslogs put "facility.level" between them, some
    // (busybox) write no host
    const hostEnd = text.indexOf(' ', p);
    if (hostEnd < 0) return true;
    if (text.charCodeAt(hostEnd - 1) === 58 /* : */) {
      this.tagged(text, p, hostEnd - 1);
      return true;
    }
    let tag = hostEnd + 1;
    // fail2ban pads its logger name: "fail2ban.actions        [901]: NOTICE  [sshd] Ban ..."
    if (text.startsWith('fail2ban', tag)) {
      const end = text.indexOf(']:', tag);
      if (end > 0) this.fail2ban(text, end + 3);
      return true;
    }
    const colon = text.indexOf(':', tag);
    if (colon < 0) return true;
    const sp = text.indexOf(' ', tag);
    if (sp >= 0 && sp < colon) {
      tag = sp + 1;
      const sp2 = text.indexOf(' ', tag);
      if (sp2 >= 0 && sp2 < colon) return true;
    }
    this.tagged(text, tag, colon);
    return true;
  }

  /** Dispatches on the program tag starting at `tag`; `colon` ends it. */
  private tagged(text: string, tag: number, colon: number): void {
    const msg = text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
    const c = text.charCodeAt(tag);
    if (c === 115 /* s */) {
      if (text.startsWith('sshd', tag)) {
        let p = tag + 4;
        const c4 = text.charCodeAt(p);
        if (c4 === 91 /* [ */ || c4 === 58 /* : */) this.prefix = 'sshd';
        else if (text.startsWith('-session', p)) {
          this.prefix = 'sshd-session';
          this.sawSession = true;
          p += 8;
        } else if (text.startsWith('-auth', p)) {
          this.prefix = 'sshd-auth';
          this.sawAuthBinary = true;
          p += 5;
        } else return; // sshd-keygen and the like
        this.pid = text.charCodeAt(p) === 91 ? readInt(text, p + 1) : -1;
        this.sshd(text, msg);
      } else if (text.startsWith('systemd', tag)) {
        if (text.startsWith('systemd-logind', tag)) this.logind(text, msg);
        else if (text.charCodeAt(tag + 7) === 91 /* [ */) this.systemd(text, msg);
      } else if (text.startsWith('sshguard', tag)) this.sshguard(text, msg);
    } else if (c === 107 /* k */) {
      if (text.startsWith('kernel', tag)) this.kernel(text, msg);
    } else if (c === 102 /* f */) {
      if (text.startsWith('fail2ban', tag)) this.fail2ban(text, msg);
    }
  }

  /** A line without timestamp: an `sshd -E` line, a bare "sshd[pid]: msg", or junk. */
  private bare(text: string): void {
    let p = 0;
    while (p < text.length && (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 9)) p++;
    if (p === text.length) return; // blank
    if (text.length > LONG_LINE || isJunk(text)) {
      this.unparsed++;
      return;
    }
    this.stamp = Stamp.None;
    if (text.startsWith('sshd', p)) {
      const colon = text.indexOf(': ', p);
      const bracket = text.indexOf('[', p);
      if (colon > 0 && bracket > 0 && bracket < colon && text.indexOf(' ', p) > colon) {
        this.recognised++;
        this.nBare++;
        this.tagged(text, p, colon);
        return;
      }
    }
    this.prefix = '';
    this.pid = -1;
    if (this.sshd(text, p) || SSHD_KNOWN.test(text.slice(p))) {
      this.recognised++;
      this.nBare++;
    } else this.unparsed++;
  }

  private journalMarker(text: string): void {
    this.recognised++;
    this.journalMarkers++;
    if (/^-- (Reboot|Boot [0-9a-f]+) --/i.test(text) && this.recognised > this.journalMarkers) {
      this.flushReboot(undefined);
      this.pendingReboot = { text, line: this.lineNo };
    }
  }

  private flushReboot(at: string | undefined): void {
    const r = this.pendingReboot;
    if (r === null) return;
    this.pendingReboot = null;
    this.record('server-reboot', r.text, r.line, at, { how: 'journal' });
  }

  /** sshd's message at `p`; true when it is a known sshd message (for lines without timestamp). */
  private sshd(text: string, p: number): boolean {
    // level prefix: sshd writes "error: ", "fatal: ", "debugN: " (logit and verbose have none)
    let known = false;
    const c0 = text.charCodeAt(p);
    if (c0 === 100 && text.startsWith('debug', p) && text.charCodeAt(p + 6) === 58) {
      p += 8;
      known = true;
    } else if ((c0 === 101 && text.startsWith('error: ', p)) || (c0 === 102 && text.startsWith('fatal: ', p))) {
      p += 7;
      known = true;
    }
    const pid = this.pid;
    let m: RegExpExecArray | null;
    switch (text.charCodeAt(p) | 0x20) {
      case 0x61: // a
        if (test(R.accepted, text, p)) return this.ev('server-accepted', R.accepted, p, fAccepted);
        break;
      case 0x62: // b
        if (test(R.beginMaxStartups, text, p)) return this.emit('server-maxstartups', { how: 'begin' });
        if (test(R.badLength, text, p)) return this.ev('server-packet-corrupt', R.badLength, p, fBadLength);
        break;
      case 0x63: // c
        if (test(R.closedBy, text, p)) {
          if (preauth(text)) return this.ev('server-closed-preauth', R.closedBy, p, fClosedPreauth);
          if (pid !== -1 && this.kexPids.delete(pid)) return this.ev('server-closed-preauth', R.closedBy, p, fClosedBanner);
          return this.ev('server-closed-by-client', R.closedBy, p, fRid);
        }
        if (test(R.resetBy, text, p)) {
          if (preauth(text)) return this.ev('server-closed-preauth', R.resetBy, p, fResetPreauth);
          return this.ev('server-connection-reset', R.resetBy, p, fRid);
        }
        if (test(R.connTimedOut, text, p)) return this.ev('server-connection-timed-out', R.connTimedOut, p, fRidText);
        if (test(R.corruptedMac, text, p)) return this.emit('server-packet-corrupt', { error: 'Corrupted MAC on input' });
        if (test(R.channelTimeout, text, p)) return this.ev('server-channel-inactivity', R.channelTimeout, p, fChannel);
        break;
      case 0x64: // d
        if (test(R.disconnecting, text, p)) {
          if (!TOO_MANY.test(text)) return true;
          return this.ev('server-too-many-auth-failures', R.disconnecting, p, fDisconnecting);
        }
        if (test(R.disconnected, text, p)) {
          if (preauth(text)) return true; // follows "Received disconnect ... [preauth]"
          return this.ev('server-disconnected', R.disconnected, p, fRid);
        }
        if (test(R.drop, text, p)) {
          if (MAXSTARTUPS_END.test(text)) return this.ev('server-maxstartups', R.drop, p, fDropMaxStartups);
          return this.ev('server-penalty', R.drop, p, fDropPenalty);
        }
        break;
      case 0x65: // e
        if (test(R.exitedMaxStartups, text, p)) return this.ev('server-maxstartups', R.exitedMaxStartups, p, fExitedMaxStartups);
        break;
      case 0x66: // f
        if (test(R.failed, text, p)) return this.ev('server-auth-failed', R.failed, p, fFailed);
        break;
      case 0x69: // i
        if (test(R.invalid, text, p)) return this.ev('server-auth-failed', R.invalid, p, fInvalid);
        if (test(R.inMaxStartups, text, p)) return this.ev('server-maxstartups', R.inMaxStartups, p, fInMaxStartups);
        break;
      case 0x6b: // k
        if (test(R.kex, text, p)) {
          if (pid !== -1) {
            if (this.kexPids.size >= 1024) this.kexPids.clear();
            this.kexPids.add(pid);
          }
          return true;
        }
        break;
      case 0x6d: // m
        if ((m = exec(R.mmWrite, text, p))) return this.transportError(stripPreauth(m[1]!), {}) || true;
        break;
      case 0x70: // p
        if (test(R.pamSession, text, p)) {
          const opened = (text.charCodeAt(p + 32) | 0x20) === 0x6f; // "pam_unix(sshd:session): session o|c"
          return this.ev(opened ? 'server-session-opened' : 'server-session-closed', R.pamSession, p, fPamSession);
        }
        break;
      case 0x72: // r
        if (test(R.receivedDisconnect, text, p)) {
          if (TOO_MANY.test(text)) return this.ev('server-too-many-auth-failures', R.receivedDisconnect, p, fReceivedDisconnect);
          if (preauth(text)) return this.ev('server-closed-preauth', R.receivedDisconnect, p, fReceivedDisconnectPreauth);
          return this.ev('server-received-disconnect', R.receivedDisconnect, p, fReceivedDisconnect);
        }
        if (test(R.readError, text, p)) return this.ev('server-read-error', R.readError, p, fReadError);
        if (test(R.receivedSignal, text, p)) return this.ev('server-received-signal', R.receivedSignal, p, fSignal);
        break;
      case 0x73: // s
        if (test(R.listening, text, p)) return this.ev('server-listening', R.listening, p, fListening);
        if ((m = exec(R.version, text, p))) {
          this.version ??= m[1]!;
          return this.emit('server-version', { version: m[1]! });
        }
        if (test(R.penalty, text, p)) return this.ev('server-penalty', R.penalty, p, fPenalty);
        break;
      case 0x74: // t
        if (test(R.clientAlive, text, p)) return this.ev('server-clientalive-timeout', R.clientAlive, p, fRid);
        if (test(R.grace, text, p)) return this.ev('server-login-grace-timeout', R.grace, p, fGrace);
        if (test(R.unused, text, p)) return this.ev('server-unused-connection-timeout', R.unused, p, fRid);
        break;
      case 0x77: // w
        if ((m = exec(R.writeFailed, text, p))) return this.transportError(stripPreauth(m[1]!), {}) || true;
        break;
    }
    // "<tag>: Connection from <remote_id>: <error>" (sshpkt_fatal: ssh_dispatch_run_fatal,
    // process_output: ssh_packet_write_poll, packet_write_wait, ...)
    const k = text.indexOf(': Connection from ', p);
    if (k > p) {
      const e = text.indexOf(': ', k + 18);
      if (e > 0) return this.transportError(stripPreauth(text.slice(e + 2)), ridText(text.slice(k + 18, e))) || true;
    }
    return known;
  }

  /** A transport error on the server, by its error text; false when it is none of the mapped kinds. */
  private transportError(error: string, f: Fields): boolean {
    const e = error.toLowerCase();
    f.error = error;
    if (e.startsWith('message authentication code incorrect') || e.startsWith('connection corrupted')) {
      return this.emit('server-packet-corrupt', f);
    }
    if (preauth(this.text)) {
      if (e.startsWith('broken pipe') || e.startsWith('connection reset') || e.includes('timed out')) {
        return this.emit('server-closed-preauth', { ...f, how: 'error' });
      }
      return false;
    }
    if (e.startsWith('broken pipe')) return this.emit('server-write-failed', f);
    if (e.startsWith('connection reset')) return this.emit('server-connection-reset', f);
    if (e.startsWith('connection timed out') || e.startsWith('operation timed out')) return this.emit('server-connection-timed-out', f);
    return false;
  }

  private logind(text: string, p: number): void {
    let m: RegExpExecArray | null;
    if ((m = exec(R.logindIdle, text, p))) {
      this.emit('server-logind-idle-stop', { session: m[1]!, user: m[2]! }, false);
    } else if ((m = exec(R.logindReboot, text, p))) {
      this.emit('server-reboot', { how: m[1]!.toLowerCase() === 'rebooting' ? 'logind-reboot' : 'logind-poweroff' }, false);
    }
  }

  private systemd(text: string, p: number): void {
    const m = exec(R.systemdStop, text, p);
    if (m === null || text.includes('per-connection')) return;
    if (m[1]!.toLowerCase() === 'stopping') {
      this.stopping = true;
      this.emit('server-received-signal', { how: 'systemd-stop' }, false);
    } else if (this.stopping) this.stopping = false;
    else this.emit('server-received-signal', { how: 'systemd-stop' }, false);
  }

  private kernel(text: string, p: number): void {
    const oom = text.indexOf('ut of memory', p);
    if (oom >= 0) {
      const m = OOM.exec(text);
      if (m !== null && SSH_OOM.test(m[2]!)) this.emit('server-oom-kill', { pid: +m[1]!, process: m[2]! }, false);
      return;
    }
    const lv = text.indexOf('Linux version ', p);
    if (lv >= 0 && lv - p < 20) this.emit('server-reboot', { how: 'boot' }, false);
  }

  private fail2ban(text: string, p: number): void {
    if (!text.includes('Ban ', p)) return;
    const m = FAIL2BAN.exec(text.slice(p));
    if (m === null || m[3]!.toLowerCase() !== 'ban' || !/ssh|recidive/i.test(m[1]!)) return;
    this.emit('server-ban', { addr: m[4]!, jail: m[1]!, how: m[2] !== undefined ? 'fail2ban-restore' : 'fail2ban' }, false);
  }

  private sshguard(text: string, p: number): void {
    let m: RegExpExecArray | null;
    if ((m = exec(R.sshguardBlock, text, p))) {
      this.emit('server-ban', { addr: m[1]!, seconds: +m[2]!, how: 'block' }, false);
    } else if ((m = exec(R.sshguardAttack, text, p)) && /ssh|^100$/i.test(m[2]!.replace(/[.,]$/, ''))) {
      this.emit('server-ban', { addr: m[1]!, service: m[2]!.replace(/[.,]$/, ''), how: 'attack' }, false);
    }
  }

  /** ISO time of the current line, or undefined without timestamp. */
  private at(): string | undefined {
    const t = this.text;
    switch (this.stamp) {
      case Stamp.Syslog: {
        const day = (t.charCodeAt(4) === 32 ? 0 : (t.charCodeAt(4) - 48) * 10) + t.charCodeAt(5) - 48;
        let prefix = this.dayPrefixes[day];
        if (prefix === undefined) {
          const y = this.dater.yearOf(this.month, day, twoDigits(t, 7), twoDigits(t, 10), twoDigits(t, 13));
          prefix = `${y}-${pad2(this.month)}-${pad2(day)}T`;
          this.dayPrefixes[day] = prefix;
        }
        return prefix + t.slice(7, this.stampEnd);
      }
      case Stamp.Iso:
      case Stamp.IsoJournal:
        return normaliseIso(t.slice(0, this.stampEnd));
      case Stamp.Full:
        return `${t.slice(4, 14)}T${t.slice(15, 23)}`;
      default:
        return undefined;
    }
  }

  /**
   * The current sshd line is a `type` event whose fields `build` makes from `r` matched at `p`.
   * Fields are kept for a type's first occurrence only, so only then is `r` run for its groups.
   */
  private ev(type: EventType, r: RegExp, p: number, build: (m: RegExpExecArray) => Fields): true {
    const t = this.tallies.get(type);
    if (t !== undefined) this.again(t, this.text, this.lineNo, this.at());
    else this.emit(type, build(exec(r, this.text, p)!));
    return true;
  }

  /** One event of the current line (`sshd`: add the sshd pid and program name to its fields). */
  private emit(type: EventType, fields: Fields, sshd = true): true {
    if (sshd) {
      if (this.pid !== -1) fields.pid = this.pid;
      if (this.prefix !== '') fields.prefix = this.prefix;
    }
    this.record(type, this.text, this.lineNo, this.at(), fields);
    return true;
  }

  private record(type: EventType, text: string, line: number, at: string | undefined, fields: Fields): void {
    const t = this.tallies.get(type);
    if (t !== undefined) {
      this.again(t, text, line, at);
      return;
    }
    const first: RawEvent = { type, side: 'server', text, source: this.source, line, fields };
    if (at !== undefined) first.at = at;
    this.tallies.set(type, { first, count: 1, seq: ++this.seq, minAt: at, maxAt: at, lastText: text, lastLine: line, lastAt: at });
  }

  private again(t: Tally, text: string, line: number, at: string | undefined): void {
    t.count++;
    t.seq = ++this.seq;
    t.lastText = text;
    t.lastLine = line;
    t.lastAt = at;
    if (at !== undefined) {
      if (t.minAt === undefined || at < t.minAt) t.minAt = at;
      if (t.maxAt === undefined || at > t.maxAt) t.maxAt = at;
    }
  }

  /**
   * Hands the tallied events to the collector, leaving it exactly as one add() per event would
   * have: the first occurrence is added, the middle ones merged (count, earliest and latest
   * time), the last one added; types go in the order of their last occurrence so that the
   * collector's last event is right.
   */
  private flush(): void {
    const tallies = [...this.tallies.values()].sort((a, b) => a.seq - b.seq);
    this.tallies.clear();
    for (const t of tallies) {
      const { type } = t.first;
      this.collector.add(t.first);
      if (t.count > 2) {
        const ref = { text: t.lastText, source: this.source, line: t.lastLine };
        this.collector.merge([
          { type, side: 'server', count: t.count - 2, firstAt: t.minAt, lastAt: t.maxAt, sample: ref, last: ref, fields: {} },
        ]);
      }
      if (t.count > 1) {
        const last: RawEvent = { type, side: 'server', text: t.lastText, source: this.source, line: t.lastLine };
        if (t.lastAt !== undefined) last.at = t.lastAt;
        this.collector.add(last);
      }
    }
  }

  /** A syslog line whose month differs from the last one; false when it is no month name. */
  private newMonth(text: string): boolean {
    const month = monthAt(text, 0);
    if (month === 0 || !isDigit(text.charCodeAt(5)) || !isDigit(text.charCodeAt(14))) return false;
    const day = (text.charCodeAt(4) === 32 ? 0 : (text.charCodeAt(4) - 48) * 10) + text.charCodeAt(5) - 48;
    this.dater.yearOf(month, day, twoDigits(text, 7), twoDigits(text, 10), twoDigits(text, 13));
    this.month = month;
    this.dayPrefixes = [];
    this.m0 = text.charCodeAt(0);
    this.m1 = text.charCodeAt(1);
    this.m2 = text.charCodeAt(2);
    return true;
  }
}

// Field builders for ServerLogParser.ev(), one per message shape.
const fAccepted = (m: RegExpExecArray): Fields => ({ method: m[1]!, user: m[2]!, addr: m[3]!, port: +m[4]! });
const fBadLength = (m: RegExpExecArray): Fields => ({ error: 'Bad packet length', length: +m[1]! });
const fRid = (m: RegExpExecArray): Fields => rid(m, 1);
const fRidText = (m: RegExpExecArray): Fields => ridText(m[1]!);
const fClosedPreauth = (m: RegExpExecArray): Fields => ({ ...rid(m, 1), how: 'closed' });
const fClosedBanner = (m: RegExpExecArray): Fields => ({ ...rid(m, 1), how: 'banner' });
const fResetPreauth = (m: RegExpExecArray): Fields => ({ ...rid(m, 1), how: 'reset' });
const fChannel = (m: RegExpExecArray): Fields => ({ channel: +m[1]!, seconds: +m[2]! });
const fDisconnecting = (m: RegExpExecArray): Fields => ({ ...ridText(m[1] ?? ''), message: m[2]! });
const fDrop = (m: RegExpExecArray): Fields => ({ addr: m[2]!, port: +m[3]!, startups: +m[1]!, how: 'drop' });
const fDropMaxStartups = fDrop;
const fDropPenalty = (m: RegExpExecArray): Fields => ({ ...fDrop(m), reason: m[6]!.replace(/^penalty: /i, '') });
const fExitedMaxStartups = (m: RegExpExecArray): Fields => ({ how: 'exit', duration: m[1]!, count: +m[2]! });
const fInMaxStartups = (m: RegExpExecArray): Fields => ({ how: 'ongoing', duration: m[1]!, count: +m[2]! });
function fFailed(m: RegExpExecArray): Fields {
  const f: Fields = { method: m[1]!, user: m[3]!, addr: m[4]!, port: +m[5]! };
  if (m[2] !== undefined) f.invalid = 1;
  return f;
}
function fInvalid(m: RegExpExecArray): Fields {
  const f: Fields = { user: m[1]!, addr: m[2]!, invalid: 1 };
  if (m[3] !== undefined) f.port = +m[3];
  return f;
}
const fPamSession = (m: RegExpExecArray): Fields => ({ user: m[2]! });
function fReceivedDisconnect(m: RegExpExecArray): Fields {
  const f: Fields = { addr: m[1]!, reason: +m[3]!, message: m[4]! };
  if (m[2] !== undefined) f.port = +m[2];
  return f;
}
const fReceivedDisconnectPreauth = (m: RegExpExecArray): Fields => ({ ...fReceivedDisconnect(m), how: 'disconnect' });
const fReadError = (m: RegExpExecArray): Fields => ({ addr: m[1]!, port: +m[2]!, error: stripPreauth(m[3]!) });
const fSignal = (m: RegExpExecArray): Fields => ({ signal: +m[1]!, how: 'signal' });
const fListening = (m: RegExpExecArray): Fields => ({ addr: m[1]!, port: +m[2]! });
function fPenalty(m: RegExpExecArray): Fields {
  const net = m[1] ?? m[3]!;
  return {
    addr: net.replace(/\/\d+$/, ''),
    net,
    seconds: +m[4]!,
    reason: m[5]!.replace(/^penalty: /i, ''),
    state: m[2] !== undefined ? m[2].toLowerCase() : 'activating',
  };
}
function fGrace(m: RegExpExecArray): Fields {
  if (m[1] !== undefined) return { addr: stripPort(m[1]), to: stripPort(m[2]!), sessionPid: +m[3]! };
  return { addr: m[4]!, port: +m[5]! };
}

function exec(r: RegExp, text: string, p: number): RegExpExecArray | null {
  r.lastIndex = p;
  return r.exec(text);
}

function test(r: RegExp, text: string, p: number): boolean {
  r.lastIndex = p;
  return r.test(text);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function twoDigits(t: string, i: number): number {
  return (t.charCodeAt(i) - 48) * 10 + t.charCodeAt(i + 1) - 48;
}

function readInt(t: string, i: number): number {
  let n = 0;
  let c = t.charCodeAt(i);
  if (!isDigit(c)) return -1;
  while (isDigit(c)) {
    n = n * 10 + c - 48;
    c = t.charCodeAt(++i);
  }
  return n;
}

function preauth(text: string): boolean {
  return text.endsWith('[preauth]');
}

function stripPreauth(s: string): string {
  return s.endsWith(' [preauth]') ? s.slice(0, -10) : s;
}

function stripPort(s: string): string {
  // "192.0.2.1" or "[2001:db8::1]:22" / "192.0.2.1:22" style endpoints
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  return m ? m[1]! : s;
}

/** Fields from RID groups starting at group i: user, addr, port. */
function rid(m: RegExpExecArray, i: number): Fields {
  const f: Fields = {};
  if (m[i] !== undefined) f.user = m[i]!;
  if (m[i + 1] !== undefined) f.addr = m[i + 1]!;
  if (m[i + 2] !== undefined) f.port = +m[i + 2]!;
  return f;
}

const RID_TEXT = new RegExp(`^${RID}`, 'i');

/** Fields from a remote_id string ("user alice 192.0.2.1 port 51234"). */
function ridText(s: string): Fields {
  const m = RID_TEXT.exec(s.trim());
  return m ? rid(m, 1) : {};
}

function normaliseIso(s: string): string {
  let out = s;
  if (out.charCodeAt(10) === 32) out = `${out.slice(0, 10)}T${out.slice(11)}`;
  if (out.includes(',')) out = out.replace(',', '.');
  const n = out.length;
  const sign = out.charCodeAt(n - 5);
  if ((sign === 43 || sign === 45) && isDigit(out.charCodeAt(n - 1)) && out.charCodeAt(n - 3) !== 58 && n - 5 > 18) {
    out = `${out.slice(0, n - 2)}:${out.slice(n - 2)}`;
  }
  return out;
}
