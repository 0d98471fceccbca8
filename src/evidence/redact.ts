import type { Evidence } from './types.js';

type Kind = 'host' | 'user' | 'addr';

const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
// Full or compressed IPv6 with at least two colons; avoids matching times like 10:07:01.
const IPV6 = /(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}(?::|[0-9a-f]{1,4})(?![\w:])|(?<![\w:])::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}(?![\w:])/gi;
// ssh's own wording names hosts before a port: "connect to host X port 22", "closed by X port 22"
const HOST_BEFORE_PORT = /\b(?:host|by|to|from)\s+([a-z0-9][a-z0-9.-]*[a-z0-9])\s+port\s+\d+/gi;
const USER_AT_HOST = /\b([a-z_][a-z0-9_.-]{0,31})@([a-z0-9][a-z0-9.-]*[a-z0-9])\b/gi;
const MAX_VALUE = 255;
const MAX_VALUES = 10_000;
const NEVER = new Set(['localhost', 'ssh', 'sshd', 'root@', 'none', 'yes', 'no', 'openssh.com', 'any', 'all', '*']);

/**
 * Replaces user names, host names and addresses with stable placeholders (`host-1`, `user-1`,
 * `addr-1`): the same value gets the same placeholder everywhere in one report, so a reader can
 * still follow which line speaks of which host.
 */
export class Redactor {
  private readonly maps: Record<Kind, Map<string, string>> = { host: new Map(), user: new Map(), addr: new Map() };
  private pattern: RegExp | null = null;

  constructor(ev?: Evidence) {
    if (ev) this.learn(ev);
  }

  add(kind: Kind, value: string | number | undefined): void {
    if (value === undefined) return;
    const v = String(value).trim();
    if (v.length < 2 || NEVER.has(v.toLowerCase()) || /^(host|user|addr)-\d+$/.test(v)) return;
    // no host name, user name or address is longer than a DNS name (253): a longer "value" from a
    // forged bundle would only bloat the pattern (past the regular expression size limit)
    if (v.length > MAX_VALUE || this.maps[kind].size >= MAX_VALUES) return;
    if (/^\d+$/.test(v)) return;
    const map = this.maps[kind];
    if (!map.has(v)) {
      map.set(v, `${kind}-${map.size + 1}`);
      this.pattern = null;
    }
  }

  learn(ev: Evidence): void {
    if (ev.target) {
      this.add('host', ev.target.host);
      this.add('user', ev.target.user);
    }
    const client = ev.client.config?.options;
    if (client) {
      this.add('host', ev.client.config?.host);
      this.add('host', client['hostname']);
      this.add('user', client['user']);
      this.add('host', client['hostkeyalias']);
      // jump hosts: [user@]host[:port], comma-separated
      for (const hop of (client['proxyjump'] ?? '').split(',')) {
        const m = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?\[?([^\]\s:]+)\]?(?::\d+)?$/.exec(hop.trim());
        if (!m || m[2]?.toLowerCase() === 'none') continue;
        this.add('user', m[1]);
        this.add('host', m[2]);
      }
    }
    for (const e of ev.events) {
      for (const [k, v] of Object.entries(e.fields)) {
        if (k === 'user') this.add('user', v);
        else if (k === 'host') this.add('host', v);
        else if (k === 'addr') this.add('addr', v);
      }
    }
    // Then every address and user@host in the evidence's free text, in one fixed order: the
    // report and the saved bundle of a run are redacted by separate Redactors, and a value must
    // get the same placeholder in both.
    const walk = (v: unknown, key?: string): void => {
      if (typeof v === 'string') {
        if (key === undefined || !KEEP_KEYS.has(key)) this.discover(v);
      } else if (Array.isArray(v)) v.forEach((x) => walk(x));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    walk(ev);
  }

  /** Discovers addresses and user@host pairs in free text before redacting it. */
  private discover(text: string): void {
    for (const m of text.matchAll(IPV4)) this.add('addr', m[0]);
    for (const m of text.matchAll(IPV6)) this.add('addr', m[0]);
    for (const m of text.matchAll(HOST_BEFORE_PORT)) {
      const h = m[1] ?? '';
      if (!/^[\d.]+$/.test(h) && /[a-z]/i.test(h)) this.add('host', h);
    }
    for (const m of text.matchAll(USER_AT_HOST)) {
      this.add('user', m[1]);
      if (!/^\d/.test(m[2] ?? '') && !(m[2] ?? '').endsWith('openssh.com')) this.add('host', m[2]);
    }
  }

  text(value: string): string {
    this.discover(value);
    if (!this.pattern) {
      const all = [...this.maps.addr.keys(), ...this.maps.host.keys(), ...this.maps.user.keys()];
      if (all.length === 0) return value;
      all.sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(`(?<![\\w.-])(${all.map(escape).join('|')})(?![\\w-]|\\.\\w)`, 'g');
    }
    return value.replace(this.pattern, (m) => this.maps.addr.get(m) ?? this.maps.host.get(m) ?? this.maps.user.get(m) ?? m);
  }

  /** Deep copy with every string redacted, except keys that hold ids and vocabulary. */
  deep<T>(value: T, keep: ReadonlySet<string> = KEEP_KEYS): T {
    const walk = (v: unknown, key?: string): unknown => {
      if (typeof v === 'string') return key !== undefined && keep.has(key) ? v : this.text(v);
      if (Array.isArray(v)) return v.map((x) => walk(x));
      if (v && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
      }
      return v;
    };
    // First pass learns every value, so the first occurrence in a later field still matches.
    walk(value);
    return walk(value) as T;
  }
}

const KEEP_KEYS = new Set(['id', 'rule', 'where', 'tool', 'version', 'status', 'verdict', 'dropKind', 'how', 'type', 'side', 'kind', 'format', 'startedAt', 'collectedAt', 'at', 'firstAt', 'lastAt']);

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
