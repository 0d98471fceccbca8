// known_hosts lookup the way OpenSSH does it (hostfile.c, sshconnect.c check_host_key):
// - a line is `[@marker] hostpatterns keytype base64key [comment]`; markers are `@cert-authority`
//   and `@revoked`; anything else (comments, blank lines, SSH-1 keys, broken base64) is skipped;
// - host patterns are comma-separated, `*`/`?` wildcards, `!pattern` negates (a matching negated
//   pattern rules the line out), compared lowercased (match.c match_hostname);
// - a hashed entry `|1|base64(salt)|base64(HMAC-SHA1(key=salt, name))` names exactly one host;
// - the name looked up is `host` for port 22 and `[host]:port` otherwise (misc.c put_host_port),
//   or the HostKeyAlias (as is, without a port) when one is set.
// Nothing here trusts anything: the caller decides with `verifyHostKey`, which has no path that
// accepts a key that is neither listed nor the one fingerprint the user gave.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { matchPatternList } from '../parsers/config-syntax.js';

export interface KnownHostKey {
  /** Key type from the key blob (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256...). */
  type: string;
  blob: Buffer;
  file: string;
  line: number;
}

export interface HostKeyLookup {
  /** The name that was looked up: host, [host]:port, or the HostKeyAlias. */
  name: string;
  /** Plain host keys listed for the name (no marker). */
  keys: KnownHostKey[];
  /** Key blobs marked `@revoked` for the name: refused whatever else says. */
  revoked: Buffer[];
  /** The `@revoked` lines themselves (file:line for messages). */
  revokedEntries: KnownHostKey[];
  /** `@cert-authority` keys for the name: host certificates signed by them would be trusted by ssh. */
  certAuthorities: KnownHostKey[];
  /** Files that existed and were read. */
  filesRead: string[];
  /** Files that exist but could not be read (EACCES...), in words. */
  warnings: string[];
}

export type KnownHostsMarker = 'cert-authority' | 'revoked';

export interface KnownHostsEntry extends KnownHostKey {
  marker?: KnownHostsMarker;
  /** The hostnames field as written (comma-separated patterns, or one `|1|salt|hash`). */
  hosts: string;
}

const SHA1_LEN = 20;

/** `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Normalises a fingerprint given by a user: `SHA256:` prefix required (case-insensitive), base64
 * padding tolerated. Returns null when it is not a SHA256 fingerprint (MD5 `aa:bb:..` included).
 */
export function normaliseFingerprint(text: string): string | null {
  const m = /^sha256:([A-Za-z0-9+/]{43})=?$/i.exec(text.trim());
  return m ? `SHA256:${m[1]}` : null;
}

/** The key type stored inside an SSH public key blob (its first string), or null. */
export function blobKeyType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return null;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : null;
}

/** misc.c put_host_port(): `host` for port 22, `[host]:port` otherwise. */
export function hostKeyLookupName(host: string, port: number, hostKeyAlias?: string): string {
  if (hostKeyAlias !== undefined && hostKeyAlias !== '' && hostKeyAlias.toLowerCase() !== 'none') return hostKeyAlias;
  const h = host.toLowerCase();
  return port === 22 || port <= 0 ? h : `[${h}]:${port}`;
}

/** Parses known_hosts text; junk lines are skipped silently (ssh does the same). */
export function parseKnownHosts(text: string, file: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    const fields = raw.trim().split(/[ \t]+/);
    if (fields.length === 0 || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostsMarker | undefined;
    if (fields[0].startsWith('@')) {
      const m = fields[0].toLowerCase();
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else continue; // unknown marker: ssh skips the line
      fields.shift();
    }
    if (fields.length < 3) continue;
    const [hosts, typeField, b64] = fields;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const blob = Buffer.from(b64, 'base64');
    const type = blobKeyType(blob);
    if (type === null) continue;
    // the type field must agree with the blob (ssh parses the key and compares)
    if (typeField !== type && !(typeField.endsWith('-cert-v01@openssh.com') && typeField.startsWith(type))) continue;
    const entry: KnownHostsEntry = { type, blob, file, line: i + 1, hosts };
    if (marker !== undefined) entry.marker = marker;
    out.push(entry);
  }
  return out;
}

/** Whether a known_hosts hostnames field names `name` (hashed or patterns, with negation). */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatches(hosts, name);
  return matchPatternList(name.toLowerCase(), hosts, true) === 1;
}

function hashedMatches(field: string, name: string): boolean {
  // |1|salt|hash — the only hash format OpenSSH has ever written
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  if (salt.length !== SHA1_LEN || want.length !== SHA1_LEN) return false;
  const got = createHmac('sha1', salt).update(name).digest();
  return timingSafeEqual(got, want);
}

/**
 * Looks `host` (port) up in every file, like ssh's load_hostkeys over UserKnownHostsFile then
 * GlobalKnownHostsFile. Missing files are fine (a fresh account has none).
 */
export function lookupHostKeys(
  files: string[],
  hostForLookup: string,
  port: number,
  opts: { hostKeyAlias?: string; readFile?: (file: string) => string } = {},
): HostKeyLookup {
  const name = hostKeyLookupName(hostForLookup, port, opts.hostKeyAlias);
  const read = opts.readFile ?? ((f: string) => readFileSync(f, 'utf8'));
  const result: HostKeyLookup = { name, keys: [], revoked: [], revokedEntries: [], certAuthorities: [], filesRead: [], warnings: [] };
  const seen = new Set<string>();
  for (const file of files) {
    if (file === '' || seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') result.warnings.push(`cannot read known_hosts ${file}: ${code ?? String(e)}`);
      continue;
    }
    result.filesRead.push(file);
    for (const entry of parseKnownHosts(text, file)) {
      if (!hostsFieldMatches(entry.hosts, name)) continue;
      const key: KnownHostKey = { type: entry.type, blob: entry.blob, file: entry.file, line: entry.line };
      if (entry.marker === 'revoked') {
        result.revoked.push(entry.blob);
        result.revokedEntries.push(key);
      } else if (entry.marker === 'cert-authority') result.certAuthorities.push(key);
      else result.keys.push(key);
    }
  }
  return result;
}

/** Host key algorithms (as ssh2 names them) that can present a key of each known type. */
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/** ssh2 1.17's supported server host key algorithms, in its default preference order. */
export const SSH2_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
  'ssh-dss',
] as const;
export type HostKeyAlgorithm = (typeof SSH2_HOST_KEY_ALGORITHMS)[number];

/**
 * The host key algorithms to offer so the server presents a key known_hosts holds (what ssh's
 * order_hostkeyalgs achieves): only algorithms for the known key types, in the order of the
 * user's HostKeyAlgorithms when given (ssh2's order otherwise). Empty when no known key type is
 * one ssh2 can verify.
 */
export function hostKeyAlgorithmsFor(keys: KnownHostKey[], preferred: string[] = []): HostKeyAlgorithm[] {
  const allowed = new Set<string>();
  for (const k of keys) for (const a of ALGORITHMS_FOR_TYPE[k.type] ?? []) allowed.add(a);
  const supported = new Set<string>(SSH2_HOST_KEY_ALGORITHMS);
  const out: HostKeyAlgorithm[] = [];
  for (const a of preferred) if (allowed.has(a) && supported.has(a) && !out.includes(a as HostKeyAlgorithm)) out.push(a as HostKeyAlgorithm);
  if (out.length > 0) return out;
  // the user's list rules every known type out (or none was given): ssh2's order
  return SSH2_HOST_KEY_ALGORITHMS.filter((a) => allowed.has(a));
}

export type HostKeyVerdict =
  | { status: 'verified'; offered: string; expected: string[]; matched: KnownHostKey }
  | { status: 'accepted'; offered: string; expected: string[] }
  | { status: 'mismatch'; offered: string; expected: string[]; message: string }
  | { status: 'revoked'; offered: string; expected: string[]; message: string; entry?: KnownHostKey }
  | { status: 'unknown'; offered: string; expected: string[]; message: string }
  | { status: 'unsupported'; unsupported: 'host-certificate'; offered: string; expected: string[]; message: string };

export interface VerifyContext {
  lookup: HostKeyLookup;
  /** The host as `ssh-keyscan` needs it (HostName, not the alias). */
  host: string;
  port: number;
  /** `--accept-host-key`: trusts exactly this fingerprint (normalised). */
  acceptHostKey?: string;
  /** Files searched, for the "unknown" message. */
  files: string[];
  /** Where the user would add the key (first UserKnownHostsFile). */
  addTo?: string;
}

function describe(k: KnownHostKey): string {
  return `${fingerprint(k.blob)} (${k.type}, ${k.file}:${k.line})`;
}

/**
 * Decides about the key the server offered. The only outcomes that let a connection go on are
 * `verified` (listed in known_hosts, not revoked) and `accepted` (exactly the --accept-host-key
 * fingerprint, not revoked).
 */
export function verifyHostKey(offeredBlob: Buffer, ctx: VerifyContext): HostKeyVerdict {
  const offered = fingerprint(offeredBlob);
  const offeredType = blobKeyType(offeredBlob) ?? 'unknown-type';
  const { lookup } = ctx;
  const expected = lookup.keys.map((k) => fingerprint(k.blob));
  const where = lookup.name;

  const revokedEntry = lookup.revokedEntries.find((k) => k.blob.equals(offeredBlob));
  if (revokedEntry !== undefined || lookup.revoked.some((b) => b.equals(offeredBlob))) {
    const at = revokedEntry ? ` (${revokedEntry.file}:${revokedEntry.line})` : '';
    const verdict: HostKeyVerdict = {
      status: 'revoked',
      offered,
      expected,
      message: `host key for ${where} is REVOKED: the server offered ${offeredType} ${offered}, which known_hosts marks @revoked${at}; refusing to connect`,
    };
    if (revokedEntry) verdict.entry = revokedEntry;
    return verdict;
  }

  const matched = lookup.keys.find((k) => k.blob.equals(offeredBlob));
  if (matched !== undefined) return { status: 'verified', offered, expected, matched };

  if (ctx.acceptHostKey !== undefined) {
    if (offered === ctx.acceptHostKey) return { status: 'accepted', offered, expected };
    const listed = lookup.keys.map(describe);
    return {
      status: 'mismatch',
      offered,
      expected: [...expected, ctx.acceptHostKey],
      message:
        `host key for ${where} does not match: the server offered ${offeredType} ${offered}, ` +
        `but --accept-host-key expects ${ctx.acceptHostKey}` +
        (listed.length > 0 ? ` and known_hosts lists ${listed.join(', ')}` : '') +
        '; refusing to connect before authentication',
    };
  }

  if (lookup.keys.length > 0) {
    return {
      status: 'mismatch',
      offered,
      expected,
      message:
        `REMOTE HOST IDENTIFICATION HAS CHANGED for ${where}: expected ${lookup.keys.map(describe).join(', ')}; ` +
        `the server offered ${offeredType} ${offered}. Refused before authentication. If the change is expected, ` +
        `verify the new fingerprint out of band, then remove the old entry (ssh-keygen -R '${where}') or rerun with --accept-host-key ${offered}`,
    };
  }

  if (lookup.certAuthorities.length > 0) {
    const cas = lookup.certAuthorities.map((k) => `${k.file}:${k.line}`).join(', ');
    return {
      status: 'unsupported',
      unsupported: 'host-certificate',
      offered,
      expected,
      message:
        `${where} is known only through @cert-authority (${cas}): host certificates cannot be verified by ssh-doctor's SSH library; ` +
        `the server offered plain ${offeredType} ${offered}: verify it out of band, then rerun with --accept-host-key ${offered}`,
    };
  }

  const portArg = ctx.port === 22 ? '' : `-p ${ctx.port} `;
  const keyscanType = offeredType.startsWith('ecdsa-') ? 'ecdsa' : offeredType.replace(/^ssh-/, '');
  const addTo = ctx.addTo ?? '~/.ssh/known_hosts';
  const searched = ctx.files.length > 0 ? ctx.files.join(', ') : 'no known_hosts file';
  return {
    status: 'unknown',
    offered,
    expected,
    message:
      `host key for ${where} is not known (searched ${searched}); the server offered ${offeredType} ${offered}. ` +
      `ssh-doctor never trusts an unknown host: verify this fingerprint out of band, then add it with ` +
      `\`ssh-keyscan ${portArg}-t ${keyscanType} ${ctx.host} >> ${addTo}\`, or rerun with --accept-host-key ${offered}`,
  };
}
