// The client's own network, polled: addresses (os.networkInterfaces), default routes
// (/proc/net/route, /proc/net/ipv6_route) and interface states (/sys/class/net/*/operstate).
// Reading these costs a few small file reads, so polling every two seconds is cheap; on systems
// without /proc and /sys (macOS) only the addresses are compared.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface NetSnapshot {
  /** interface -> addresses ("192.168.1.20/24"), loopback and IPv6 link-local left out. */
  addrs: Map<string, Set<string>>;
  /** "via 192.168.1.1 dev wlan0", "dev tun0" (IPv6 ones prefixed "inet6 "). */
  defaultRoutes: Set<string>;
  /** interface -> operstate ("up", "down", "dormant"...), loopback left out. */
  links: Map<string, string>;
}

export interface NetChange {
  kind: 'address' | 'route' | 'link';
  text: string;
  /** The address (without prefix) that was removed, when one was. */
  removed?: string;
}

export interface NetSources {
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  readFile?: (path: string) => string | null;
  listDir?: (path: string) => string[];
}

function safeRead(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** 0100A8C0 (little-endian hex, /proc/net/route) -> 192.168.0.1 */
export function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

/** 32 hex digits in network order (/proc/net/ipv6_route) -> compressed IPv6. */
export function hexToIpv6(hex: string): string {
  const groups = (hex.match(/.{4}/g) ?? []).map((g) => Number.parseInt(g, 16).toString(16));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parseDefaultRoutes(route: string | null, route6: string | null): Set<string> {
  const out = new Set<string>();
  for (const line of (route ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gw, flags, , , , mask] = f;
    if (dest !== '00000000' || mask !== '00000000') continue;
    if ((Number.parseInt(flags ?? '0', 16) & 1) === 0) continue; // RTF_UP
    out.add(gw && gw !== '00000000' ? `via ${hexToIpv4(gw)} dev ${iface}` : `dev ${iface}`);
  }
  for (const line of (route6 ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, plen, , , gw, , , , flags, iface] = f;
    if (dest !== '00000000000000000000000000000000' || plen !== '00' || iface === 'lo') continue;
    if ((Number.parseInt(flags ?? '0', 16) & 0x200) !== 0) continue; // RTF_REJECT: the unreachable default
    out.add(gw && !/^0+$/.test(gw) ? `inet6 via ${hexToIpv6(gw)} dev ${iface}` : `inet6 dev ${iface}`);
  }
  return out;
}

export function readNetSnapshot(src: NetSources = {}): NetSnapshot {
  const interfaces = src.interfaces ?? os.networkInterfaces;
  const read = src.readFile ?? safeRead;
  const list = src.listDir ?? safeList;
  const addrs = new Map<string, Set<string>>();
  for (const [name, infos] of Object.entries(interfaces())) {
    for (const i of infos ?? []) {
      if (i.internal) continue;
      if (i.family === 'IPv6' && /^fe80:/i.test(i.address)) continue;
      const set = addrs.get(name) ?? new Set<string>();
      set.add(i.cidr ?? i.address);
      addrs.set(name, set);
    }
  }
  const defaultRoutes = parseDefaultRoutes(read('/proc/net/route'), read('/proc/net/ipv6_route'));
  const links = new Map<string, string>();
  for (const name of list('/sys/class/net')) {
    if (name === 'lo') continue;
    const state = read(`/sys/class/net/${name}/operstate`);
    if (state !== null) links.set(name, state.trim());
  }
  return { addrs, defaultRoutes, links };
}

const bare = (a: string) => a.replace(/\/\d+$/, '');

/** What changed from one snapshot to the next, in words. */
export function diffNet(a: NetSnapshot, b: NetSnapshot): NetChange[] {
  const out: NetChange[] = [];
  for (const [name, state] of b.links) {
    const before = a.links.get(name);
    if (before === undefined) out.push({ kind: 'link', text: `interface ${name} appeared (${state})` });
    else if (before !== state) out.push({ kind: 'link', text: `interface ${name} ${state} (was ${before})` });
  }
  for (const name of a.links.keys()) if (!b.links.has(name)) out.push({ kind: 'link', text: `interface ${name} went away` });
  const names = new Set([...a.addrs.keys(), ...b.addrs.keys()]);
  for (const name of names) {
    const before = a.addrs.get(name) ?? new Set<string>();
    const after = b.addrs.get(name) ?? new Set<string>();
    for (const x of before) if (!after.has(x)) out.push({ kind: 'address', text: `address ${x} removed from ${name}`, removed: bare(x) });
    for (const x of after) if (!before.has(x)) out.push({ kind: 'address', text: `address ${x} added on ${name}` });
  }
  const gone = [...a.defaultRoutes].filter((r) => !b.defaultRoutes.has(r));
  const added = [...b.defaultRoutes].filter((r) => !a.defaultRoutes.has(r));
  if (gone.length || added.length) {
    const now = [...b.defaultRoutes].join(', ') || 'none';
    const was = [...a.defaultRoutes].join(', ') || 'none';
    out.push({ kind: 'route', text: `default route now ${now} (was ${was})` });
  }
  return out;
}

/** Whether an address (as a socket reports it, IPv4-mapped or not) is still on an interface. */
export function hasAddress(s: NetSnapshot, address: string): boolean {
  const want = address.replace(/^::ffff:/i, '').toLowerCase();
  for (const set of s.addrs.values()) for (const x of set) if (bare(x).toLowerCase() === want) return true;
  return false;
}

/** Polls the network every `intervalMs` and reports changes. */
export class NetworkWatcher {
  private last: NetSnapshot;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs = 2000,
    private readonly sources: NetSources = {},
  ) {
    this.last = readNetSnapshot(sources);
  }

  snapshot(): NetSnapshot {
    return this.last;
  }

  /** Reads now; returns what changed since the last read. */
  poll(): NetChange[] {
    const next = readNetSnapshot(this.sources);
    const changes = diffNet(this.last, next);
    this.last = next;
    return changes;
  }

  start(on: (changes: NetChange[]) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      const c = this.poll();
      if (c.length) on(c);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
