// Reads one input (a file, standard input, a pasted ticket) line by line and sends each line to
// what produced it: OpenSSH's client (ssh -v), the server's logs (sshd, syslog, the journal, the
// programs around sshd), another producer's vocabulary (signatures/), a config block, or the
// user's own words. Nothing needs the right flag: a flag is a hint for what cannot be told from
// the text (whose bare `Connection closed by ...` this is), and the content decides the rest.
//
// Per line, in order:
//  - decoration is removed: markdown quote marks (`> `), code fences, and a line quoted whole in
//    backquotes;
//  - the OpenSSH parsers try it, the owner of bare lines first (the client for an `ssh -v`
//    transcript, sshd for an `sshd -E` log: the hint, else whichever has more unmistakable lines
//    so far); a line one of them turns into an event is done;
//  - the vocabulary of other producers is searched (also in timestamped lines that the server
//    parser knows but made no event of: a kernel firewall line, say);
//  - a line nothing recognised may still hold a message: inside a JSON string (`\n`-escaped
//    lines split), after a logger's prefix (`msg="ssh: connect to host ..."`), or split over two
//    lines by a forum's wrapping (the line and the one before it are tried together);
//  - runs of `Keyword value` lines whose keywords are OpenSSH's are config blocks, told apart
//    (ssh_config, sshd_config, ssh -G, sshd -T) by their keywords when the run ends;
//  - sentences are the user's words (kept, bounded, for the symptom reading);
//  - the rest is counted: junk (binary, control characters) as unparsed, other text as lines
//    nobody produced that we know.
// Memory stays bounded whatever the input's size: events are aggregated, config runs and prose
// are capped.
import type { EventCollector } from '../evidence/collector.js';
import type { FieldValue, RawEvent } from '../evidence/types.js';
import { ClientLogParser, isJunk, LONG_LINE, type ClientLogResult } from '../parsers/client-log.js';
import { tokenizeConfigLine } from '../parsers/config-syntax.js';
import type { LineSink } from '../parsers/lines.js';
import { ServerLogParser, type ServerLogResult } from '../parsers/server-log.js';
import { CLIENT_KEYWORDS, SERVER_KEYWORDS } from './config-keywords.js';
import type { LineMatcher, Vocabulary } from './signatures.js';

export type ConfigKind = 'ssh-config' | 'sshd-config' | 'ssh-G' | 'sshd-T';
/** The flag an input came with; `describe` is the user's own words (--describe). */
export type Hint = 'client-log' | 'server-log' | ConfigKind | 'describe';

export interface ConfigBlock {
  kind: ConfigKind;
  text: string;
  firstLine: number;
  lines: number;
}

export interface ReadResult {
  lines: number;
  /** Lines understood: log lines of a known producer, config lines, decoration. */
  recognised: number;
  /** Junk: binary, control characters, overlong lines. */
  unparsed: number;
  /** What the input was read as, by producer, with the lines each gave. */
  readAs: Array<{ what: string; lines: number }>;
  configs: ConfigBlock[];
  /** The user's own sentences (bounded). */
  prose: string[];
  client: ClientLogResult;
  server: ServerLogResult;
}

/** Config runs longer than this are cut (no real config is); prose is kept up to MAX_PROSE lines. */
const MAX_CONFIG_LINES = 5000;
const MAX_PROSE = 400;
const MAX_COMMENTS = 200;
const MAX_CONFIG_BLOCKS = 64;
/** The owner of bare lines is decided over the first lines; after that it stays. */
const OWNER_WINDOW = 5000;

const QUOTE = /^(?:\s*>)+ ?/;
const FENCE = /^\s*(?:```|~~~)/;
const BACKQUOTED = /^`([^`]+)`$/;
const CLIENT_MARK = /^(?:debug[1-3]: |OpenSSH_\d|Authenticat(?:ed|ing) to |client_loop: |ssh: connect to host |Warning: Permanently added|Pseudo-terminal will not|Transferred: sent)/;
const SERVER_MARK =
  /\bsshd(?:-session|-auth)?\[\d+\]: |^(?:Accepted \w+ for |Server listening on |Received disconnect from \S+ port \d+:\d+: .*\[preauth\]|Disconnected from (?:invalid |authenticating )?user |pam_unix\(sshd|Connection closed by .*\[preauth\])/;
/** Where an OpenSSH client message starts inside another program's line (a JSON field, a logger's msg=). */
const EMBEDDED =
  /(?:ssh: connect to host |ssh: Could not resolve hostname |client_loop: |packet_write_wait: |kex_exchange_identification: |ssh_exchange_identification: |Connection timed out during banner exchange|Connection (?:reset|closed) by |Permission denied \(|Host key verification failed|Timeout, server |Read from remote host |Write failed: |Received disconnect from |Bad packet length|Corrupted MAC on input|REMOTE HOST IDENTIFICATION HAS CHANGED|Unable to negotiate with |Connection to \S+ closed by remote host|expecting SSH2_MSG_KEX\w*)/i;
const JSON_NEWLINE = /\\r\\n|\\n|\\r/;
/** What comes before an embedded message on a server's line: an sshd tag, or Windows sshd.log's `PID DATE TIME`. */
const SERVER_LINE = /\bsshd(?:-session|-auth)?(?:\[\d+\])?:|^\s*\d+ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;
const FIRST_WORD = /^\s*([A-Za-z][A-Za-z0-9]*)(?:[\s=]|$)/;
const WORD = /^[\p{L}][\p{L}'’-]*[,.;:!?)]*$/u;

const SYSLOG_STAMP = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ (?!debug[1-3]|error|fatal|warning|verbose|info)[\w.@/-]+(?:\[\d+\])?: /;

/** `STAMP HOST PROGRAM[PID]: ` (syslog, journalctl short and short-iso), but not a client transcript with a capture tool's times. */
function isProgramLine(s: string): boolean {
  const c = s.charCodeAt(0);
  if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57))) return false;
  return SYSLOG_STAMP.test(s);
}

function isProse(s: string): boolean {
  if (s.length < 20) return false;
  const tokens = s.split(/\s+/);
  if (tokens.length < 5) return false;
  let words = 0;
  for (const t of tokens) if (WORD.test(t.replace(/^[("'“]+/, ''))) words++;
  return words / tokens.length >= 0.7;
}

export class InputReader implements LineSink {
  private readonly client: ClientLogParser;
  private readonly server: ServerLogParser;
  private readonly matcher: LineMatcher;
  private owner: 'client' | 'server';
  private ownerFixed: boolean;
  private clientMarks = 0;
  private serverMarks = 0;
  private nonBlank = 0;

  private lines = 0;
  private recognised = 0;
  private unparsed = 0;
  private readonly producers = new Map<string, number>();
  private readonly configs: ConfigBlock[] = [];
  private readonly configTexts = new Set<string>();
  private run: RunLine[] = [];
  private readonly prose: string[] = [];
  private readonly proseSeen = new Set<string>();
  /** Comment lines seen before any config line: they join the config that follows, if one does. */
  private comments: Array<{ text: string; lineNo: number }> = [];
  /** The last line nothing recognised: a forum may have wrapped a message over it and this one. */
  private pending: { text: string; lineNo: number } | null = null;

  constructor(
    private readonly source: string,
    private readonly collector: EventCollector,
    vocabulary: Vocabulary,
    private readonly hint: Hint | undefined,
    reference: Date,
  ) {
    this.client = new ClientLogParser(source, collector);
    this.server = new ServerLogParser(source, collector, { reference });
    this.matcher = vocabulary.matcher();
    // the flag says who owns bare lines until the text itself says otherwise
    this.owner = hint === 'server-log' ? 'server' : 'client';
    this.ownerFixed = false;
  }

  line(raw: string, lineNo: number): void {
    this.lines++;
    let text = raw;
    if (text.length > LONG_LINE || isJunk(text)) {
      this.endRun();
      this.unparsed++;
      return;
    }
    if (text.charCodeAt(0) === 62 /* > */ || text.trimStart().startsWith('>')) text = text.replace(QUOTE, '');
    const trimmed = text.trim();
    if (trimmed === '') {
      this.blank(text, lineNo);
      return;
    }
    this.nonBlank++;
    if (FENCE.test(trimmed)) {
      this.endRun();
      this.recognised++;
      return;
    }
    const bq = BACKQUOTED.exec(trimmed);
    if (bq) text = bq[1]!;
    // a comment belongs to the config after it, if one follows: held until the next line says
    if (trimmed.startsWith('#') && this.run.length === 0) {
      if (this.comments.length < MAX_COMMENTS) this.comments.push({ text, lineNo });
      else this.process(text, lineNo);
      return;
    }
    this.process(text, lineNo);
  }

  private process(text: string, lineNo: number): void {
    // a JSON string or an escaped blob holds several lines: each is read as its own
    if (text.length > 40 && JSON_NEWLINE.test(text)) {
      for (const piece of text.split(JSON_NEWLINE)) if (piece.trim()) this.process(piece, lineNo);
      return;
    }
    const trimmed = text.trim();
    if (!this.ownerFixed) this.decideOwner(text);
    // the user's own words are read as such even when they quote a message ("it says Permission denied")
    if (this.hint === 'describe') this.keepProse(trimmed);
    // inside a config, the next `Keyword value` line is more of it
    if (this.run.length > 0) {
      const keyword = this.configKeyword(text);
      if (keyword !== undefined) {
        this.run.push({ text, lineNo, blank: false, keyword });
        if (this.run.length >= MAX_CONFIG_LINES) this.endRun();
        return;
      }
    }

    const routed = this.route(text, lineNo);
    if (routed !== 'none') {
      // comments that a log line follows were no config's
      this.flushComments();
      this.endRun();
      // a client line known only by its level (`fatal: [web1]: UNREACHABLE! => {...}`) may quote ssh's message
      if (routed === 'client-known') this.embedded(text, lineNo);
      this.recognised++;
      this.pending = null;
      return;
    }
    const keyword = this.configKeyword(text);
    if (keyword !== undefined) {
      this.pending = null;
      for (const c of this.comments.splice(0)) this.run.push({ ...c, blank: false, keyword: null });
      this.run.push({ text, lineNo, blank: false, keyword });
      if (this.run.length >= MAX_CONFIG_LINES) this.endRun();
      return;
    }
    this.flushComments();
    this.endRun();
    if (this.unwrap(text, lineNo)) {
      this.recognised++;
      this.pending = null;
      return;
    }
    if (this.hint === 'describe' || isProse(trimmed)) {
      if (this.hint !== 'describe') this.keepProse(trimmed);
      this.count('prose', 1);
      this.pending = null;
      return;
    }
    this.pending = { text, lineNo };
  }

  /** A sentence of the user's, once (a ticket pasted twice says nothing more), up to MAX_PROSE. */
  private keepProse(sentence: string): void {
    if (this.prose.length >= MAX_PROSE || this.proseSeen.has(sentence)) return;
    this.proseSeen.add(sentence);
    this.prose.push(sentence);
  }

  /** Comments that no config followed: lines like any other. */
  private flushComments(): void {
    for (const c of this.comments.splice(0)) this.process(c.text, c.lineNo);
  }

  finish(): ReadResult {
    this.flushComments();
    this.endRun();
    const client = this.client.result();
    const server = this.server.result();
    return {
      lines: this.lines,
      recognised: this.recognised,
      unparsed: this.unparsed,
      readAs: [...this.producers.entries()].map(([what, lines]) => ({ what, lines })).sort((a, b) => b.lines - a.lines),
      configs: this.configs,
      prose: this.prose,
      client,
      server,
    };
  }

  private count(what: string, n: number): void {
    this.producers.set(what, (this.producers.get(what) ?? 0) + n);
  }

  private decideOwner(text: string): void {
    if (CLIENT_MARK.test(text)) this.clientMarks++;
    else if (SERVER_MARK.test(text)) this.serverMarks++;
    if (this.serverMarks !== this.clientMarks) this.owner = this.serverMarks > this.clientMarks ? 'server' : 'client';
    if (this.nonBlank >= OWNER_WINDOW) this.ownerFixed = true;
  }

  /**
   * The OpenSSH parsers, then the vocabulary: 'event' when the line made an event, 'known' when
   * it is a known line without one ('client-known' when only the client parser knew it), 'none'.
   */
  private route(text: string, lineNo: number): 'event' | 'known' | 'client-known' | 'none' {
    // a syslog or journal line of a program (`Nov 24 10:07:01 host sshd[42]: ...`) is the
    // server side's whoever owns bare lines: the client parser need not look at it
    const serverFirst = this.owner === 'server' || isProgramLine(text);
    const order = serverFirst ? (['server', 'client'] as const) : (['client', 'server'] as const);
    let known: 'client' | 'server' | null = null;
    for (const who of order) {
      const before = who === 'client' ? this.client.emitted : this.server.emitted;
      const v = who === 'client' ? this.client.read(text, lineNo) : this.server.read(text, lineNo);
      const after = who === 'client' ? this.client.emitted : this.server.emitted;
      if (after > before) {
        this.count(PARSER_NAMES[who], 1);
        return 'event';
      }
      if (v === 'yes') {
        known = who;
        break;
      }
    }
    if (this.signature(text, lineNo)) return 'event';
    if (known !== null) {
      this.count(PARSER_NAMES[known], 1);
      return known === 'client' ? 'client-known' : 'known';
    }
    return 'none';
  }

  /** The other producers' vocabulary; true when the line is one of their messages (or opens a section). */
  private signature(text: string, lineNo: number): boolean {
    const m = this.matcher.match(text);
    if (m === null) return false;
    if ('section' in m) return true;
    const ev: RawEvent = { type: m.message.event, side: m.message.side, text: text.trim(), source: this.source, line: lineNo, fields: m.fields as Record<string, FieldValue> };
    const at = isoAt(text);
    if (at) ev.at = at;
    this.collector.add(ev);
    this.count(m.message.producer, 1);
    return true;
  }

  /** A message inside another line (a JSON string, a logger's field), or wrapped over two lines. */
  private unwrap(text: string, lineNo: number): boolean {
    if (this.embedded(text, lineNo)) return true;
    const prev = this.pending;
    if (prev !== null && prev.lineNo === lineNo - 1) {
      const joined = `${prev.text.trimEnd()} ${text.trim()}`;
      if (this.eventFrom(joined, lineNo)) {
        this.pending = null;
        return true;
      }
    }
    return false;
  }

  /**
   * An OpenSSH client message that starts inside the line: it runs to the end of its quoted
   * field. Not in a server's line (sshd's, or Windows sshd.log's `PID TIME ...`): the same words
   * there are the server's.
   */
  private embedded(text: string, lineNo: number): boolean {
    const m = EMBEDDED.exec(text);
    if (!m || m.index === 0 || SERVER_LINE.test(text.slice(0, m.index))) return false;
    let inner = text.slice(m.index);
    const quote = inner.search(/(?<!\\)["']/);
    if (quote > 0) inner = inner.slice(0, quote);
    const before = this.client.emitted;
    this.client.read(inner.replace(/\\"/g, '"'), lineNo);
    if (this.client.emitted === before) return false;
    this.count(PARSER_NAMES.client, 1);
    return true;
  }

  /** True when the text makes an event (a recognised line without one does not count here). */
  private eventFrom(text: string, lineNo: number): boolean {
    const before = this.client.emitted;
    this.client.read(text, lineNo);
    if (this.client.emitted > before) {
      this.count(PARSER_NAMES.client, 1);
      return true;
    }
    return this.signature(text, lineNo);
  }

  private blank(text: string, lineNo: number): void {
    this.matcher.match(text); // a blank line closes sections
    if (this.run.length) this.run.push({ text, lineNo, blank: true, keyword: null });
    this.pending = null;
  }

  /**
   * The OpenSSH keyword of a `Keyword value` line (null for a comment inside a run), or undefined
   * when the line is no config line. The first word is looked up before the line is tokenised:
   * most lines of a log are not config.
   */
  private configKeyword(text: string): string | null | undefined {
    const first = FIRST_WORD.exec(text);
    if (first === null) return text.trimStart().startsWith('#') && this.run.length > 0 ? null : undefined;
    const word = first[1]!.toLowerCase();
    if (!CLIENT_KEYWORDS.has(word) && !SERVER_KEYWORDS.has(word)) return undefined;
    const t = tokenizeConfigLine(text);
    return t.kind === 'directive' ? t.keyword : undefined;
  }

  /**
   * A run of config lines ended. Two files pasted one after the other (an ssh_config, then an
   * sshd_config) are split where the keywords change side: the unindented shared lines just
   * before the change (`Include ...`, `Port 22`) start the second file.
   */
  private endRun(): void {
    if (!this.run.length) return;
    const run = this.run;
    this.run = [];
    const segments: Array<{ side: 'client' | 'server' | null; lines: RunLine[] }> = [];
    let cur: { side: 'client' | 'server' | null; lines: RunLine[] } = { side: null, lines: [] };
    for (const l of run) {
      const side = sideOf(l.keyword);
      if (side !== null && cur.side !== null && side !== cur.side) {
        const carry: RunLine[] = [];
        while (cur.lines.length) {
          const last = cur.lines[cur.lines.length - 1]!;
          const k = last.keyword;
          const shared = k !== null && sideOf(k) === null && !/^\s/.test(last.text);
          if (!(last.blank || shared || k === null)) break;
          carry.unshift(cur.lines.pop()!);
        }
        segments.push(cur);
        cur = { side, lines: carry };
      }
      if (side !== null && cur.side === null) cur.side = side;
      cur.lines.push(l);
    }
    segments.push(cur);
    for (const seg of segments) this.configSegment(seg.lines);
  }

  /** One file's worth of config lines: a config block, or (too little to tell) lines like any other. */
  private configSegment(lines: RunLine[]): void {
    while (lines.length && lines[lines.length - 1]!.blank) lines.pop();
    while (lines.length && lines[0]!.blank) lines.shift();
    const directives = lines.filter((l) => l.keyword !== null);
    if (!directives.length) return;
    const keys = directives.map((l) => l.keyword!);
    let clientOnly = 0;
    let serverOnly = 0;
    for (const k of keys) {
      const side = sideOf(k);
      if (side === 'client') clientOnly++;
      else if (side === 'server') serverOnly++;
    }
    // one shared keyword alone ("Port 22" where a sentence might be) says too little, unless it
    // is written as OpenSSH spells it (`IPQoS cs0`, `TCPKeepAlive no`): no sentence does that
    const canonical = directives.length === 1 && /^\s*[A-Za-z][a-z0-9]*[A-Z]/.test(directives[0]!.text);
    if (directives.length < 2 && clientOnly + serverOnly === 0 && !canonical) {
      for (const l of lines) if (!l.blank) this.pending = l;
      return;
    }
    const hasHost = keys.includes('host');
    const lower = directives.every((l) => /^\s*[a-z0-9]+\s/.test(l.text));
    const hintKind = this.hint === 'ssh-config' || this.hint === 'sshd-config' || this.hint === 'ssh-G' || this.hint === 'sshd-T' ? this.hint : undefined;
    const clientSide = hasHost || clientOnly > serverOnly || (clientOnly === serverOnly && (hintKind === 'ssh-config' || hintKind === 'ssh-G'));
    const dump = lower && directives.length >= 15 && !hasHost && !keys.includes('match');
    let kind: ConfigKind = dump ? (clientSide ? 'ssh-G' : 'sshd-T') : clientSide ? 'ssh-config' : 'sshd-config';
    // what the text cannot tell (only shared keywords), the flag can
    if (hintKind && clientOnly === serverOnly && (hintKind === 'ssh-G' || hintKind === 'sshd-T') === dump) kind = hintKind;
    const text = lines.map((l) => l.text).join('\n');
    const n = lines.filter((l) => !l.blank).length;
    // the same block pasted again adds nothing; and no real input holds hundreds of configs
    if (!this.configTexts.has(text) && this.configs.length < MAX_CONFIG_BLOCKS) {
      this.configTexts.add(text);
      this.configs.push({ kind, text, firstLine: lines[0]!.lineNo, lines: n });
    }
    this.recognised += n;
    this.count(CONFIG_NAMES[kind], n);
  }
}

interface RunLine {
  text: string;
  lineNo: number;
  blank: boolean;
  /** The line's OpenSSH keyword (lowercase); null for comments and blank lines. */
  keyword: string | null;
}

/** Which side a keyword belongs to alone; null for shared ones (Port, Ciphers...) and non-keywords. */
function sideOf(k: string | null): 'client' | 'server' | null {
  if (k === null) return null;
  const c = CLIENT_KEYWORDS.has(k);
  const s = SERVER_KEYWORDS.has(k);
  return c && !s ? 'client' : s && !c ? 'server' : null;
}

const PARSER_NAMES = { client: 'OpenSSH client (ssh -v)', server: 'server log (sshd, syslog, journal)' } as const;

export const CONFIG_NAMES: Record<ConfigKind, string> = {
  'ssh-config': 'ssh_config',
  'sshd-config': 'sshd_config',
  'ssh-G': 'ssh -G output',
  'sshd-T': 'sshd -T output',
};


const ISO = /^\[?(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:[.,]\d+)?)(Z|[+-]\d\d:?\d\d)?/;

/** An ISO-8601 time at the start of a line (loggers of libraries and tools), as the event's time. */
function isoAt(text: string): string | undefined {
  const m = ISO.exec(text.trimStart());
  if (!m) return undefined;
  const zone = m[3] === undefined ? '' : m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3];
  return `${m[1]}T${m[2]!.replace(',', '.')}${zone}`;
}
