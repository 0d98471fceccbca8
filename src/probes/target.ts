// Resolves `ssh-doctor <target>` to what the user's own `ssh <target>` would use: the effective
// client configuration from `ssh -G` (spawned with a fixed argv, never through a shell), or, when
// there is no ssh binary, from ~/.ssh/config and /etc/ssh/ssh_config parsed here.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ConfigEvidence, Target } from '../evidence/types.js';
import { UsageError } from '../errors.js';
import { parseSshG } from '../parsers/ssh-G.js';
import { resolveSshConfig } from '../parsers/ssh-config.js';

export interface TargetSpec {
  /** `host`, `user@host`, `user@host:port`, `user@[v6]:port`, `ssh://user@host:port` or a Host alias. */
  target: string;
  port?: number;
  user?: string;
  identity?: string[];
  configFile?: string;
  jump?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs `ssh` with the given arguments (no shell). Rejects with code ENOENT when there is no ssh. */
export type RunSsh = (args: string[], opts: { timeoutMs: number }) => Promise<RunResult>;

export interface ResolveDeps {
  runSsh?: RunSsh;
  home?: string;
  localUser?: string;
  localHost?: string;
  env?: NodeJS.ProcessEnv;
  /** For the no-ssh fallback (default: the local file system). */
  readFile?: (p: string) => Promise<string>;
}

export interface ResolvedTarget {
  /** host = the name as typed (alias or address), port and user as resolved. */
  target: Target;
  /** The host argument as given to ssh (after user@ and :port were split off). */
  alias: string;
  /** HostName: where ssh connects. */
  hostname: string;
  port: number;
  user: string;
  /** IdentityFile entries, `~` and %-tokens expanded, in order (they may not exist). */
  identityFiles: string[];
  identitiesOnly: boolean;
  certificateFiles: string[];
  /** ProxyJump hops as written (comma-separated), undefined when none. */
  proxyJump?: string;
  /** ProxyCommand exactly as configured: %-tokens are expanded by probes/proxy. */
  proxyCommand?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hostKeyAlias?: string;
  strictHostKeyChecking: string;
  serverAliveInterval: number;
  serverAliveCountMax: number;
  tcpKeepAlive: boolean;
  ipqos: string;
  /** ConnectTimeout in seconds, null when unset. */
  connectTimeout: number | null;
  kexAlgorithms: string[];
  hostKeyAlgorithms: string[];
  gssapiAuthentication: boolean;
  addKeysToAgent: string;
  /** IdentityAgent after expansion: a socket path, 'none', or undefined (use SSH_AUTH_SOCK). */
  identityAgent?: string;
  batchMode: boolean;
  passwordAuthentication: boolean;
  kbdInteractiveAuthentication: boolean;
  pubkeyAuthentication: boolean;
  preferredAuthentications?: string[];
  /** AddressFamily: any | inet | inet6. */
  addressFamily: string;
  /** -F file, passed on to ProxyJump's ssh. */
  configFile?: string;
  /** The client-config evidence (ssh -G output, or the parsed ssh_config in the fallback). */
  config: ConfigEvidence;
  /** How the configuration was obtained when it was not `ssh -G`, and other caveats. */
  notes: string[];
}

const SSH_G_TIMEOUT_MS = 10_000;

/**
 * Splits `user@host:port` (and `ssh://user@host:port`, `[v6]:port`). A trailing `:digits` is a
 * port unless the host part is a bare IPv6 literal; ssh(1) itself does not take host:port, the
 * ssh-doctor contract does. The user is everything before the LAST `@` (like ssh.c).
 */
export function parseDestination(text: string): { host: string; user?: string; port?: number } {
  let s = text.trim();
  if (s === '') throw new UsageError('empty target: give a host, user@host or user@host:port');
  let uri = false;
  if (/^ssh:\/\//i.test(s)) {
    uri = true;
    s = s.slice(6).replace(/\/$/, '');
  }
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at === 0) throw new UsageError(`bad target ${JSON.stringify(text)}: empty user name before @`);
  if (at > 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
    if (uri) user = decodeURIComponent(user.replace(/;.*$/, ''));
  }
  let port: number | undefined;
  let host = s;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1];
    if (bracket[2] !== undefined) port = portNumber(bracket[2], text);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (m) {
      host = m[1];
      port = portNumber(m[2], text);
    } else if (/:$/.test(s) && !s.slice(0, -1).includes(':')) {
      throw new UsageError(`bad target ${JSON.stringify(text)}: missing port after ':'`);
    }
  }
  if (host === '') throw new UsageError(`bad target ${JSON.stringify(text)}: empty host name`);
  if (host.startsWith('-')) throw new UsageError(`bad target ${JSON.stringify(text)}: a host name cannot start with '-'`);
  if (/[\s\0]/.test(host)) throw new UsageError(`bad target ${JSON.stringify(text)}: white space in the host name`);
  const out: { host: string; user?: string; port?: number } = { host };
  if (user !== undefined) out.user = user;
  if (port !== undefined) out.port = port;
  return out;
}

function portNumber(text: string, whole: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`bad target ${JSON.stringify(whole)}: port ${text} is not 1-65535`);
  return n;
}

/** The argv (after `ssh`) that prints the effective configuration for the target. */
export function sshGArgs(host: string, o: { configFile?: string; port?: number; user?: string; identity?: string[]; jump?: string }): string[] {
  const args = ['-G'];
  if (o.configFile !== undefined) args.push('-F', o.configFile);
  if (o.port !== undefined) args.push('-p', String(o.port));
  if (o.user !== undefined) args.push('-l', o.user);
  for (const id of o.identity ?? []) args.push('-i', id);
  if (o.jump !== undefined) args.push('-J', o.jump);
  // `--` so that a host that looks like an option can never be taken for one
  args.push('--', host);
  return args;
}

export const defaultRunSsh: RunSsh = (args, { timeoutMs }) =>
  new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(Object.assign(new Error(`ssh -G did not finish within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
      else resolve({ stdout, stderr, code });
    });
  });

export interface ExpandContext {
  home: string;
  localUser: string;
  localHost: string;
  hostname: string;
  remoteUser: string;
  port: number;
  originalHost: string;
  hostKeyAlias?: string;
  jump?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * `~` and the %-tokens ssh expands in IdentityFile, CertificateFile, IdentityAgent and
 * UserKnownHostsFile (%d %u %l %L %h %r %p %n %i %k %j %%), plus ${ENV}. Unknown tokens (%C)
 * are left as written.
 */
export function expandPath(value: string, c: ExpandContext): string {
  let v = value;
  if (v === '~' || v.startsWith('~/')) v = c.home + v.slice(1);
  v = v.replace(/%([%dulLhrpnikj])/g, (m, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'd':
        return c.home;
      case 'u':
        return c.localUser;
      case 'l':
        return c.localHost;
      case 'L':
        return c.localHost.split('.')[0];
      case 'h':
        return c.hostname;
      case 'r':
        return c.remoteUser;
      case 'p':
        return String(c.port);
      case 'n':
        return c.originalHost;
      case 'i':
        return typeof process.getuid === 'function' ? String(process.getuid()) : m;
      case 'k':
        return c.hostKeyAlias ?? c.originalHost;
      case 'j':
        return c.jump ?? '';
      default:
        return m;
    }
  });
  const env = c.env ?? process.env;
  v = v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => env[name] ?? m);
  return v;
}

/** Whitespace-separated file lists (UserKnownHostsFile, GlobalKnownHostsFile) with `~` and tokens. */
function fileList(value: string | undefined, c: ExpandContext): string[] {
  if (value === undefined || value.toLowerCase() === 'none') return [];
  return value
    .split(/\s+/)
    .filter((s) => s !== '')
    .map((s) => expandPath(s, c));
}

/** Raw `keyword value` lines of `ssh -G`, every occurrence kept (identityfile repeats). */
function rawOptions(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([a-z][a-z0-9]*) (.*?)\r?$/i.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const list = out.get(key) ?? [];
    list.push(m[2]);
    out.set(key, list);
  }
  return out;
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Pseudo-terminal will not be allocated/.test(l));
  return lines.length > 0 ? lines[lines.length - 1] : '';
}

function yes(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  const s = v.toLowerCase();
  if (s === 'yes' || s === 'true') return true;
  if (s === 'no' || s === 'false') return false;
  return dflt;
}

function num(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

function list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').filter((s) => s !== '');
}

function noneToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v.toLowerCase() === 'none' ? undefined : v;
}

/** OpenSSH's IdentityFile defaults (readconf.c fill_default_options via add_identity_file). */
const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

export async function resolveTarget(spec: TargetSpec, deps: ResolveDeps = {}): Promise<ResolvedTarget> {
  const dest = parseDestination(spec.target);
  // like ssh: -l beats user@, -p beats :port (and ssh://host:port)
  const user = spec.user ?? dest.user;
  const port = spec.port ?? dest.port;
  const home = deps.home ?? os.homedir();
  const localUser = deps.localUser ?? safeLocalUser();
  const localHost = deps.localHost ?? os.hostname();
  const env = deps.env ?? process.env;
  if (spec.configFile !== undefined && !existsSync(spec.configFile) && deps.readFile === undefined) {
    throw new UsageError(`cannot read ssh config ${spec.configFile}: ENOENT`);
  }

  const runSsh = deps.runSsh ?? defaultRunSsh;
  const args = sshGArgs(dest.host, { configFile: spec.configFile, port, user, identity: spec.identity, jump: spec.jump });
  let run: RunResult | null = null;
  try {
    run = await runSsh(args, { timeoutMs: SSH_G_TIMEOUT_MS });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ENOENT') {
      throw new UsageError(`ssh -G ${dest.host} failed: ${(e as Error).message ?? String(e)}`);
    }
  }

  const notes: string[] = [];
  let raw: Map<string, string[]>;
  let config: ConfigEvidence;
  if (run !== null) {
    if (run.code !== 0) {
      const why = lastLine(run.stderr) || `exit status ${run.code}`;
      throw new UsageError(`ssh -G ${dest.host} failed: ${why}`);
    }
    raw = rawOptions(run.stdout);
    config = parseSshG(run.stdout).config;
    const files: string[] = [];
    if (spec.configFile !== undefined) files.push(spec.configFile);
    if (files.length > 0) config.files = files;
  } else {
    const fb = await fallbackConfig(dest.host, { spec, user, port, home, localUser, readFile: deps.readFile });
    raw = fb.raw;
    config = fb.config;
    notes.push(...fb.notes);
  }

  const one = (k: string): string | undefined => {
    const v = raw.get(k);
    return v === undefined ? undefined : v[0];
  };
  const hostname = one('hostname') ?? dest.host;
  const resolvedPort = num(one('port'), port ?? 22);
  const remoteUser = one('user') ?? user ?? localUser;
  const hostKeyAlias = noneToUndefined(one('hostkeyalias'));
  const proxyJump = noneToUndefined(one('proxyjump'));
  const ctx: ExpandContext = {
    home,
    localUser,
    localHost,
    hostname,
    remoteUser,
    port: resolvedPort,
    originalHost: dest.host,
    hostKeyAlias,
    jump: proxyJump,
    env,
  };

  const identityFiles = (raw.get('identityfile') ?? []).filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, ctx));
  const certificateFiles = (raw.get('certificatefile') ?? []).filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, ctx));
  let identityAgent = one('identityagent');
  if (identityAgent !== undefined) {
    if (identityAgent === 'SSH_AUTH_SOCK') identityAgent = undefined;
    else if (identityAgent.toLowerCase() === 'none') identityAgent = 'none';
    else if (identityAgent.startsWith('$')) identityAgent = env[identityAgent.slice(1).replace(/^\{|\}$/g, '')] ?? 'none';
    else identityAgent = expandPath(identityAgent, ctx);
  }
  const connectTimeoutRaw = one('connecttimeout');
  const connectTimeout = connectTimeoutRaw === undefined || connectTimeoutRaw === 'none' ? null : num(connectTimeoutRaw, 0) || null;
  const proxyCommand = proxyJump === undefined ? noneToUndefined(one('proxycommand')) : undefined;
  if (one('proxyusefdpass') === 'yes' && proxyCommand !== undefined) {
    notes.push('ProxyUseFdpass is set: ssh-doctor runs the ProxyCommand as a plain stdin/stdout pipe');
  }

  const resolved: ResolvedTarget = {
    target: { host: dest.host, port: resolvedPort, user: remoteUser },
    alias: dest.host,
    hostname,
    port: resolvedPort,
    user: remoteUser,
    identityFiles,
    identitiesOnly: yes(one('identitiesonly'), false),
    certificateFiles,
    userKnownHostsFiles: fileList(one('userknownhostsfile') ?? '~/.ssh/known_hosts ~/.ssh/known_hosts2', ctx),
    globalKnownHostsFiles: fileList(one('globalknownhostsfile') ?? '/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2', ctx),
    strictHostKeyChecking: (one('stricthostkeychecking') ?? 'ask').toLowerCase(),
    serverAliveInterval: num(one('serveraliveinterval'), 0),
    serverAliveCountMax: num(one('serveralivecountmax'), 3),
    tcpKeepAlive: yes(one('tcpkeepalive'), true),
    ipqos: one('ipqos') ?? 'af21 cs1',
    connectTimeout,
    kexAlgorithms: list(one('kexalgorithms')),
    hostKeyAlgorithms: list(one('hostkeyalgorithms')),
    gssapiAuthentication: yes(one('gssapiauthentication'), false),
    addKeysToAgent: (one('addkeystoagent') ?? 'no').toLowerCase(),
    batchMode: yes(one('batchmode'), false),
    passwordAuthentication: yes(one('passwordauthentication'), true),
    kbdInteractiveAuthentication: yes(one('kbdinteractiveauthentication'), true),
    pubkeyAuthentication: !/^(no|false)$/i.test(one('pubkeyauthentication') ?? 'yes'),
    addressFamily: (one('addressfamily') ?? 'any').toLowerCase(),
    config,
    notes,
  };
  if (proxyJump !== undefined) resolved.proxyJump = proxyJump;
  if (proxyCommand !== undefined) resolved.proxyCommand = proxyCommand;
  if (hostKeyAlias !== undefined) resolved.hostKeyAlias = hostKeyAlias;
  if (identityAgent !== undefined) resolved.identityAgent = identityAgent;
  const preferred = one('preferredauthentications');
  if (preferred !== undefined) resolved.preferredAuthentications = list(preferred);
  if (spec.configFile !== undefined) resolved.configFile = spec.configFile;
  if (isIP(hostname) === 0 && /[^A-Za-z0-9.\-_]/.test(hostname)) {
    notes.push(`HostName ${JSON.stringify(hostname)} has unusual characters`);
  }
  return resolved;
}

async function fallbackConfig(
  host: string,
  o: { spec: TargetSpec; user?: string; port?: number; home: string; localUser: string; readFile?: (p: string) => Promise<string> },
): Promise<{ raw: Map<string, string[]>; config: ConfigEvidence; notes: string[] }> {
  const notes: string[] = [];
  const candidates =
    o.spec.configFile !== undefined ? [o.spec.configFile] : [path.join(o.home, '.ssh', 'config'), '/etc/ssh/ssh_config'];
  const merged = new Map<string, string>();
  const identity: string[] = [...(o.spec.identity ?? [])];
  const certificates: string[] = [];
  const files: string[] = [];
  const conditional: ConfigEvidence['conditional'] = [];
  const read = o.readFile;
  for (const file of candidates) {
    let result;
    try {
      result = await resolveSshConfig(file, host, { user: o.user, home: o.home, localUser: o.localUser, ...(read ? { readFile: read } : {}) });
    } catch (e) {
      if (o.spec.configFile !== undefined) throw new UsageError((e as Error).message);
      continue; // a missing ~/.ssh/config or ssh_config is normal
    }
    files.push(...(result.config.files ?? [file]));
    conditional.push(...result.config.conditional);
    for (const [k, v] of Object.entries(result.config.options)) {
      if (result.defaulted.includes(k)) continue;
      if (k === 'identityfile') identity.push(...v.split(' '));
      else if (k === 'certificatefile') certificates.push(...v.split(' '));
      else if (!merged.has(k)) merged.set(k, v);
    }
    for (const w of result.warnings) notes.push(w);
  }
  notes.unshift(
    `no ssh binary found: the client configuration was read from ${files.length > 0 ? files.join(', ') : 'no file (none exists)'} by ssh-doctor itself, not by ssh -G (Match exec and canonicalisation are not evaluated)`,
  );
  // command line first, like ssh
  if (o.port !== undefined) merged.set('port', String(o.port));
  if (o.user !== undefined) merged.set('user', o.user);
  if (o.spec.jump !== undefined) {
    merged.set('proxyjump', o.spec.jump);
    merged.delete('proxycommand');
  }
  if (!merged.has('hostname')) merged.set('hostname', host);
  if (!merged.has('port')) merged.set('port', '22');
  if (!merged.has('user')) merged.set('user', o.localUser);
  for (const [k, v] of [
    ['serveraliveinterval', '0'],
    ['serveralivecountmax', '3'],
    ['tcpkeepalive', 'yes'],
    ['stricthostkeychecking', 'ask'],
    ['userknownhostsfile', '~/.ssh/known_hosts ~/.ssh/known_hosts2'],
    ['globalknownhostsfile', '/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2'],
  ] as const) {
    if (!merged.has(k)) merged.set(k, v);
  }
  if (identity.length === 0) {
    for (const id of DEFAULT_IDENTITIES) identity.push(`~/.ssh/${id}`);
  }
  const raw = new Map<string, string[]>();
  for (const [k, v] of merged) raw.set(k, [v]);
  raw.set('identityfile', identity);
  if (certificates.length > 0) raw.set('certificatefile', certificates);
  const options: Record<string, string> = Object.fromEntries(merged);
  options.identityfile = identity.join(' ');
  if (certificates.length > 0) options.certificatefile = certificates.join(' ');
  const config: ConfigEvidence = { source: 'ssh_config', options, conditional, host, files };
  return { raw, config, notes };
}

function safeLocalUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}
