// Named values the engine computes from evidence. Rules compare against them and fix templates
// substitute them; rule files never do arithmetic.
import { parseTimeFormat } from '../parsers/time-format.js';

/** Friendly keepalive intervals, largest first (CAUSES.md: "the keepalive fix value"). */
const FRIENDLY = [60, 45, 30, 20, 15, 10, 5];

/** Known idle timeouts of common middleboxes, in seconds. A match is a hint, never a certainty. */
export const MIDDLEBOX_DEFAULTS: ReadonlyArray<{ name: string; seconds: number }> = [
  { name: 'Azure load balancer / NAT gateway (4 min)', seconds: 240 },
  { name: 'AWS NLB / NAT gateway (350 s)', seconds: 350 },
  { name: 'GCP VPC firewall (10 min)', seconds: 600 },
  { name: 'GCP Cloud NAT (20 min)', seconds: 1200 },
  { name: 'Cisco ASA / Palo Alto / Fortinet (1 h)', seconds: 3600 },
  { name: 'Linux conntrack established (5 days)', seconds: 432000 },
];

/**
 * The largest friendly value not above low/3, where low is the end of the measured bracket that
 * was proven alive, or the known default of the matched middlebox. Without either, 60 s: below
 * a third of every common default (Azure's 240 s is the shortest).
 */
export function keepaliveFix(low: number | undefined, matchedDefault: number | undefined): { value: number; basis: string } {
  const known = low ?? matchedDefault;
  if (known === undefined || known <= 0) {
    return { value: 60, basis: 'no idle timeout measured: 60 s stays under a third of the shortest common middlebox timeout (240 s)' };
  }
  const third = known / 3;
  const friendly = FRIENDLY.find((v) => v <= third);
  const value = friendly ?? Math.max(1, Math.floor(third));
  const source = low !== undefined ? `a connection idle for ${fmt(low)} s was proven alive` : `the matched middlebox default is ${fmt(known)} s`;
  return { value, basis: `${source}; ${value} s is the largest friendly interval not above a third of it` };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The default whose timeout lies inside the measured bracket (widened by 10% for timer slack). */
export function matchMiddleboxDefault(bracket: { low: number; high: number }): { name: string; seconds: number } | undefined {
  return MIDDLEBOX_DEFAULTS.find((d) => d.seconds >= bracket.low * 0.9 && d.seconds <= bracket.high * 1.1);
}

/** "OpenSSH_9.2p1 Debian-2", "SSH-2.0-OpenSSH_8.9p1", ">=9.8" -> 9.2, 8.9, 9.8. */
export function opensshVersionNumber(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /(?:OpenSSH_|>=)(\d+)\.(\d+)/i.exec(text);
  return m ? Number(`${m[1]}.${m[2]}`) : undefined;
}

/**
 * What a ChannelTimeout line means for session channels on a given server version. 9.2-9.6
 * name session channels `session:shell`, `session:command`, `session:subsystem:NAME` (so
 * `session:*` matches and a plain `session` matches nothing); 9.7+ name them `session` (so
 * `session:*` matches nothing). Unknown version: both spellings are taken at face value.
 */
export function channelTimeoutFor(
  value: string,
  version: number | undefined,
): { seconds: number | undefined; ignored: string | undefined; sessionType: string } {
  const newNames = version !== undefined && version >= 9.7;
  const sessionType = version === undefined ? 'session (9.7+) or session:* (9.2-9.6)' : newNames ? 'session' : 'session:*';
  let seconds: number | undefined;
  let ignored: string | undefined;
  for (const pair of value.split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const type = pair.slice(0, eq).toLowerCase();
    const secs = parseTimeFormat(pair.slice(eq + 1));
    if (secs === null || secs === undefined || secs === 0) continue;
    const matchesOld = type === 'session:*' || type.startsWith('session:') || type === '*';
    const matchesNew = type === 'session' || type === 'session*' || type === '*';
    const effective = version === undefined ? matchesOld || matchesNew : newNames ? matchesNew : matchesOld;
    if (effective) {
      seconds = seconds === undefined ? secs : Math.min(seconds, secs);
    } else if (matchesOld || matchesNew) {
      ignored = pair;
    }
  }
  return { seconds, ignored, sessionType };
}
