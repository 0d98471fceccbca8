// Opens an SSH connection to a resolved target the way the user's own `ssh host` would reach it:
// same HostName/Port/User, same ProxyJump/ProxyCommand, same identities and agent, and strict
// host key verification against the same known_hosts files (or `--known-hosts FILE`).
// A host key that is neither listed nor the one `--accept-host-key` fingerprint stops the
// connection during key exchange, before any authentication is attempted.
// Failures are ConnectError with a kind the rules can use and one clear line of text.

import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as ClientType, ConnectConfig, KexAlgorithm, NegotiatedAlgorithms } from 'ssh2';
import type { HandshakeEvidence } from '../evidence/types.js';
import { scrubSecrets } from '../evidence/secrets.js';
import { UsageError } from '../errors.js';
import { AuthSession, planAuth, tildify, ttyPasswordPrompt, type AuthPlan, type AuthRecord, type PasswordPrompt } from './auth.js';
import {
  fingerprint,
  hostKeyAlgorithmsFor,
  lookupHostKeys,
  normaliseFingerprint,
  verifyHostKey,
  type HostKeyAlgorithm,
  type HostKeyLookup,
  type VerifyContext,
} from './known-hosts.js';
import { patientTimeout } from './patient-timer.js';
import { proxySpec, ProxySocket } from './proxy.js';
import type { ResolvedTarget } from './target.js';

const { Client } = ssh2;
type Agent = InstanceType<typeof ssh2.BaseAgent>;

export type ConnectErrorKind =
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'dns'
  | 'auth'
  | 'host-key-mismatch'
  | 'host-key-unknown'
  | 'host-key-revoked'
  | 'unsupported'
  | 'proxy'
  | 'other';

/** What ssh-doctor's SSH library (ssh2) cannot do that this target needs. */
export type UnsupportedFeature = 'host-certificate' | 'host-key-type' | 'algorithms' | 'security-key' | 'user-certificate' | 'gssapi';

export class ConnectError extends Error {
  override name = 'ConnectError';
  readonly kind: ConnectErrorKind;
  /** What was learned before the failure (server software, algorithms, host key status, timings). */
  readonly handshake?: HandshakeEvidence;
  /** Set for kind 'unsupported' (and for auth failures that unsupported features may explain). */
  readonly unsupported?: UnsupportedFeature[];
  /** Auth failures: problems found with the user's keys (encrypted without agent...). */
  readonly notes?: string[];
  /** Proxy failures: the last 4 KiB of the proxy's stderr (secrets scrubbed). */
  readonly stderr?: string;

  constructor(
    kind: ConnectErrorKind,
    message: string,
    extra: { handshake?: HandshakeEvidence; unsupported?: UnsupportedFeature[]; notes?: string[]; stderr?: string } = {},
  ) {
    super(oneLine(message));
    this.kind = kind;
    if (extra.handshake !== undefined) this.handshake = extra.handshake;
    if (extra.unsupported !== undefined && extra.unsupported.length > 0) this.unsupported = extra.unsupported;
    if (extra.notes !== undefined && extra.notes.length > 0) this.notes = extra.notes;
    if (extra.stderr !== undefined && extra.stderr !== '') this.stderr = extra.stderr;
  }
}

export type LookupFn = (
  hostname: string,
  options: { all: true; family: 0 | 4 | 6 },
) => Promise<Array<{ address: string; family: number }>>;

export interface ConnectOptions {
  /** `--known-hosts FILE`: verify against this file only (default: every file ssh -G names). */
  knownHostsFile?: string;
  /** `--accept-host-key SHA256:...`: trust exactly this fingerprint for this run. */
  acceptHostKey?: string;
  /** SSH-level keepalive (keepalive@openssh.com); default ServerAliveInterval. 0 = none. */
  keepaliveIntervalMs?: number;
  /** Default ServerAliveCountMax. */
  keepaliveCountMax?: number;
  /** Banner + key exchange + authentication, excluding time spent at a password prompt. Default 20 s. */
  readyTimeoutMs?: number;
  /** TCP connect per address. Default ConnectTimeout, else readyTimeoutMs. */
  connectTimeoutMs?: number;
  debug?: (line: string) => void;
  /** Asks for the password (once per run at most). Default: /dev/tty when stdin is a TTY; null = never. */
  passwordPrompt?: PasswordPrompt | null;
  /** Agent instead of IdentityAgent/SSH_AUTH_SOCK (tests); null = no agent. */
  agent?: Agent | null;
  /** Name resolution (default dns.lookup). */
  lookup?: LookupFn;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Whether prompts are possible at all (a jump ssh gets BatchMode=yes when not). Default: stdin is a TTY. */
  interactive?: boolean;
}

export interface Connection {
  client: ClientType;
  handshake: HandshakeEvidence;
  /** The proxy process carrying the connection (ProxyJump/ProxyCommand), if any. */
  proxy?: ProxySocket;
  /** Resolves when the connection has closed (for whatever reason). */
  closed: Promise<void>;
  /** Ends the connection (and kills the proxy). */
  end(): void;
}

/** Everything decided once per run: host key policy, algorithms, authentication. */
export interface ConnectionPlan {
  resolved: ResolvedTarget;
  knownHostsFiles: string[];
  hostKeys: HostKeyLookup;
  acceptHostKey?: string;
  /** Host key algorithms offered (only the types known_hosts holds), undefined = ssh2's defaults. */
  hostKeyAlgorithms?: HostKeyAlgorithm[];
  kexAlgorithms?: KexAlgorithm[];
  auth: AuthSession;
  notes: string[];
}

/** ssh2 1.17's key exchange algorithms. */
const SSH2_KEX: readonly KexAlgorithm[] = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group15-sha512',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group17-sha512',
  'diffie-hellman-group18-sha512',
  'diffie-hellman-group-exchange-sha1',
  'diffie-hellman-group14-sha1',
  'diffie-hellman-group1-sha1',
];

const DEFAULT_READY_TIMEOUT_MS = 20_000;

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

const defaultLookup: LookupFn = (hostname, options) => dns.promises.lookup(hostname, options);

/** Validates `--accept-host-key`: a SHA256 fingerprint as ssh-keygen -lf prints it. */
export function parseAcceptHostKey(text: string): string {
  const fp = normaliseFingerprint(text);
  if (fp === null) {
    throw new UsageError(`--accept-host-key ${JSON.stringify(text)}: expected a SHA256:... fingerprint as ssh-keygen -lf prints it`);
  }
  return fp;
}

/** Decides host key policy and authentication once; connections made from the plan share them. */
export async function prepareConnection(resolved: ResolvedTarget, opts: ConnectOptions = {}): Promise<ConnectionPlan> {
  const notes: string[] = [];
  const home = opts.home ?? os.homedir();
  const acceptHostKey = opts.acceptHostKey !== undefined ? parseAcceptHostKey(opts.acceptHostKey) : undefined;
  let knownHostsFiles: string[];
  if (opts.knownHostsFile !== undefined) {
    knownHostsFiles = [opts.knownHostsFile];
    const probe = lookupHostKeys(knownHostsFiles, resolved.hostname, resolved.port, { hostKeyAlias: resolved.hostKeyAlias });
    if (probe.filesRead.length === 0) {
      throw new UsageError(`cannot read known_hosts file ${opts.knownHostsFile}${probe.warnings.length > 0 ? `: ${probe.warnings[0].replace(/^.*: /, '')}` : ''}`);
    }
  } else {
    knownHostsFiles = [...resolved.userKnownHostsFiles, ...resolved.globalKnownHostsFiles];
  }
  const hostKeys = lookupHostKeys(knownHostsFiles, resolved.hostname, resolved.port, { hostKeyAlias: resolved.hostKeyAlias });
  notes.push(...hostKeys.warnings);

  let hostKeyAlgorithms: HostKeyAlgorithm[] | undefined;
  if (hostKeys.keys.length > 0 && acceptHostKey === undefined) {
    hostKeyAlgorithms = hostKeyAlgorithmsFor(hostKeys.keys, resolved.hostKeyAlgorithms);
    if (hostKeyAlgorithms.length === 0) {
      const types = [...new Set(hostKeys.keys.map((k) => k.type))].join(', ');
      throw new ConnectError(
        'unsupported',
        `known_hosts knows ${hostKeys.name} only by host key type(s) ${types}, which ssh-doctor's SSH library cannot verify`,
        { unsupported: ['host-key-type'], handshake: { hostKey: { status: 'unknown', expected: hostKeys.keys.map((k) => fingerprint(k.blob)) } } },
      );
    }
  }

  let kexAlgorithms: KexAlgorithm[] | undefined;
  if (resolved.kexAlgorithms.length > 0) {
    const list = resolved.kexAlgorithms.filter((a): a is KexAlgorithm => (SSH2_KEX as readonly string[]).includes(a));
    if (list.length > 0) kexAlgorithms = list;
    else notes.push(`none of KexAlgorithms (${resolved.kexAlgorithms.join(',')}) is supported by ssh2: its defaults are offered`);
  }

  const plan: AuthPlan = await planAuth(
    {
      user: resolved.user,
      identityFiles: resolved.identityFiles,
      identitiesOnly: resolved.identitiesOnly,
      certificateFiles: resolved.certificateFiles,
      ...(resolved.identityAgent !== undefined ? { identityAgent: resolved.identityAgent } : {}),
      pubkeyAuthentication: resolved.pubkeyAuthentication,
      passwordAuthentication: resolved.passwordAuthentication,
      kbdInteractiveAuthentication: resolved.kbdInteractiveAuthentication,
      gssapiAuthentication: resolved.gssapiAuthentication,
      batchMode: resolved.batchMode,
      ...(resolved.preferredAuthentications !== undefined ? { preferredAuthentications: resolved.preferredAuthentications } : {}),
    },
    { ...(opts.agent !== undefined ? { agent: opts.agent } : {}), ...(opts.env ? { env: opts.env } : {}), home },
  );
  const prompt = opts.passwordPrompt === undefined ? ttyPasswordPrompt() : opts.passwordPrompt;
  const auth = new AuthSession(plan, prompt, resolved.hostname);
  if (resolved.ipqos !== '' && !/^none( none)?$/i.test(resolved.ipqos)) {
    notes.push(`IPQoS ${resolved.ipqos} is not applied: Node cannot set the DSCP bits ssh would`);
  }
  const out: ConnectionPlan = { resolved, knownHostsFiles, hostKeys, auth, notes };
  if (acceptHostKey !== undefined) out.acceptHostKey = acceptHostKey;
  if (hostKeyAlgorithms !== undefined) out.hostKeyAlgorithms = hostKeyAlgorithms;
  if (kexAlgorithms !== undefined) out.kexAlgorithms = kexAlgorithms;
  return out;
}

/** Opens one authenticated connection. */
export async function openConnection(resolved: ResolvedTarget, opts: ConnectOptions = {}): Promise<Connection> {
  const plan = await prepareConnection(resolved, opts);
  return connectWithPlan(plan, opts);
}

/**
 * A reusable opener: every call opens a new connection with the same plan (known_hosts read once,
 * the password asked once at most). The plan is made on the first call.
 */
export function connector(resolved: ResolvedTarget, opts: ConnectOptions = {}): () => Promise<Connection> {
  let plan: Promise<ConnectionPlan> | null = null;
  return async () => {
    plan ??= prepareConnection(resolved, opts);
    return connectWithPlan(await plan, opts);
  };
}

function now(): number {
  return performance.now();
}

function ms(from: number, to: number): number {
  return Math.round((to - from) * 10) / 10;
}

const CONNECT_ERRORS: Record<string, { kind: ConnectErrorKind; text: string }> = {
  ECONNREFUSED: { kind: 'refused', text: 'Connection refused' },
  ETIMEDOUT: { kind: 'timeout', text: 'Connection timed out' },
  EHOSTUNREACH: { kind: 'unreachable', text: 'No route to host' },
  ENETUNREACH: { kind: 'unreachable', text: 'Network is unreachable' },
  EHOSTDOWN: { kind: 'unreachable', text: 'Host is down' },
  EADDRNOTAVAIL: { kind: 'unreachable', text: 'Cannot assign requested address' },
  ECONNRESET: { kind: 'other', text: 'Connection reset by peer' },
};

const DNS_ERRORS: Record<string, string> = {
  ENOTFOUND: 'Name or service not known',
  EAI_NONAME: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
  ENODATA: 'No address associated with hostname',
  EAI_NODATA: 'No address associated with hostname',
};

async function tcpConnect(
  resolved: ResolvedTarget,
  opts: ConnectOptions,
  debug: (line: string) => void,
  handshake: HandshakeEvidence,
): Promise<net.Socket> {
  const host = resolved.hostname;
  const port = resolved.port;
  const family: 0 | 4 | 6 = resolved.addressFamily === 'inet' ? 4 : resolved.addressFamily === 'inet6' ? 6 : 0;
  let addresses: Array<{ address: string; family: number }>;
  if (net.isIP(host) !== 0) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await (opts.lookup ?? defaultLookup)(host, { all: true, family });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const text = DNS_ERRORS[code] ?? (e as Error).message;
      throw new ConnectError(code in DNS_ERRORS ? 'dns' : 'other', `ssh: Could not resolve hostname ${host}: ${text}`, { handshake });
    }
    if (addresses.length === 0) {
      throw new ConnectError('dns', `ssh: Could not resolve hostname ${host}: No address associated with hostname`, { handshake });
    }
  }
  const timeoutMs =
    opts.connectTimeoutMs ?? (resolved.connectTimeout !== null ? resolved.connectTimeout * 1000 : (opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS));
  let last: ConnectError | null = null;
  for (const a of addresses) {
    debug(`connect: connecting to ${host} [${a.address}] port ${port}`);
    try {
      return await connectOne(a.address, port, timeoutMs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const known = CONNECT_ERRORS[code];
      const text = known?.text ?? (e as Error).message;
      const extra = code === 'ETIMEDOUT' ? ` (no answer within ${Math.round(timeoutMs / 100) / 10} s)` : '';
      last = new ConnectError(known?.kind ?? 'other', `ssh: connect to host ${host} port ${port}: ${text}${extra}`, { handshake });
      debug(`connect: ${last.message}`);
    }
  }
  throw last!;
}

function connectOne(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    const cancel = patientTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error('Connection timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      cancel();
      sock.removeAllListeners('error');
      // until ssh2 attaches its own listener, an early reset must not become an uncaught error
      sock.on('error', () => undefined);
      resolve(sock);
    });
    sock.once('error', (e) => {
      cancel();
      sock.destroy();
      reject(e);
    });
  });
}

/** `Remote ident: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'` (ssh2's debug line) -> the ident. */
export function identFromDebug(line: string): string | null {
  const m = /^Remote ident: (['"])(.*)\1$/.exec(line);
  if (!m) return null;
  return m[2].replace(/\\r\\n$|\\n$|\\r$/, '').replace(/\\'/g, "'");
}

function summariseAuthFailure(plan: ConnectionPlan, record: AuthRecord): ConnectError['unsupported'] {
  const unsupported: UnsupportedFeature[] = [];
  const server = record.serverMethods ?? [];
  for (const u of plan.auth.plan.unsupported) {
    if (u.reason === 'gssapi' && !server.includes('gssapi-with-mic')) continue;
    if (!unsupported.includes(u.reason)) unsupported.push(u.reason);
  }
  return unsupported;
}

function authFailureMessage(plan: ConnectionPlan, record: AuthRecord, why?: string): string {
  const r = plan.resolved;
  const a = plan.auth.plan;
  const server = record.serverMethods;
  const parts: string[] = [];
  parts.push(`${r.user}@${r.hostname}: Permission denied${server ? ` (${server.join(',')})` : ''}${why ? `: ${why}` : ''}`);
  const keys = record.tried.filter((t) => t.startsWith('publickey ')).map((t) => t.slice('publickey '.length));
  if (keys.length > 0) parts.push(`offered ${keys.join(', ')}`);
  else if (server === null || server.includes('publickey')) parts.push('no usable key was offered');
  const notes = [...a.notes, ...record.notes];
  const relevant = a.unsupported.filter((u) => u.reason !== 'gssapi' || (server ?? []).includes('gssapi-with-mic'));
  for (const u of relevant) notes.push(u.message);
  if (server !== null && server.includes('password') && !record.tried.includes('password')) {
    if (a.batchMode) notes.push('BatchMode is set: no password prompt');
    else if (a.passwordAuthentication) notes.push('no terminal to ask for a password');
  }
  if (notes.length > 0) parts.push(notes.join('; '));
  return parts.join('; ');
}

/** Opens one connection from a prepared plan. */
export async function connectWithPlan(plan: ConnectionPlan, opts: ConnectOptions = {}): Promise<Connection> {
  const r = plan.resolved;
  const handshake: HandshakeEvidence = { timingsMs: {}, authenticated: false };
  const timings = handshake.timingsMs!;
  const userDebug = opts.debug;
  const scrub = (line: string): string => {
    let s = scrubSecrets(line);
    const pw = plan.auth.secretForScrub();
    if (pw !== null && pw.length >= 3) s = s.split(pw).join('[secret]');
    return s;
  };
  const debug = (line: string): void => {
    if (userDebug) userDebug(scrub(line));
  };
  for (const n of plan.notes) debug(`note: ${n}`);

  const t0 = now();
  let sock: Duplex;
  let proxy: ProxySocket | undefined;
  const spec = proxySpec(r, { ...(opts.interactive !== undefined ? { interactive: opts.interactive } : {}), ...(opts.env ? { env: opts.env } : {}) });
  if (spec !== null) {
    debug(`proxy: ${spec.kind === 'jump' ? 'ProxyJump' : 'ProxyCommand'}: ${spec.display}`);
    proxy = new ProxySocket(spec, opts.env);
    sock = proxy;
  } else {
    sock = await tcpConnect(r, opts, debug, handshake);
    timings.connect = ms(t0, now());
    const s = sock as net.Socket;
    s.setNoDelay(true);
    if (r.tcpKeepAlive) s.setKeepAlive(true, 0);
  }
  const tConnected = now();

  let tBanner: number | null = null;
  let tKex: number | null = null;
  let hostKeyError: ConnectError | null = null;
  let promptPausedAt: number | null = null;
  let promptMs = 0;
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let cancelTimer: (() => void) | null = null;
  let onTimeout: () => void = () => undefined;
  let settled = false;
  const clearTimer = (): void => {
    cancelTimer?.();
    cancelTimer = null;
  };
  const armTimer = (): void => {
    if (promptPausedAt !== null) {
      promptMs += now() - promptPausedAt;
      promptPausedAt = null;
    }
    clearTimer();
    if (settled) return;
    cancelTimer = patientTimeout(() => onTimeout(), readyTimeoutMs);
  };
  const pauseTimer = (): void => {
    clearTimer();
    promptPausedAt = now();
  };

  const client = new Client();
  const { authHandler, record } = plan.auth.handler({
    debug,
    onPromptStart: () => pauseTimer(),
    onPromptEnd: () => armTimer(),
  });

  const verifyCtx: VerifyContext = {
    lookup: plan.hostKeys,
    host: r.hostname,
    port: r.port,
    files: plan.knownHostsFiles.map((f) => tildify(f, opts.home)),
    ...(plan.acceptHostKey !== undefined ? { acceptHostKey: plan.acceptHostKey } : {}),
    ...(opts.knownHostsFile === undefined && r.userKnownHostsFiles.length > 0
      ? { addTo: tildify(r.userKnownHostsFiles[0], opts.home) }
      : opts.knownHostsFile !== undefined
        ? { addTo: opts.knownHostsFile }
        : {}),
  };

  const hostVerifier = (key: Buffer): boolean => {
    const v = verifyHostKey(key, verifyCtx);
    const status = v.status === 'unsupported' ? 'unknown' : v.status;
    handshake.hostKey = { status, offered: v.offered, expected: v.expected };
    switch (v.status) {
      case 'verified':
        debug(`host key: ${v.offered} verified (${v.matched.file}:${v.matched.line})`);
        return true;
      case 'accepted':
        debug(`host key: ${v.offered} accepted (--accept-host-key)`);
        return true;
      case 'mismatch':
        hostKeyError = new ConnectError('host-key-mismatch', v.message, { handshake });
        return false;
      case 'revoked':
        hostKeyError = new ConnectError('host-key-revoked', v.message, { handshake });
        return false;
      case 'unknown':
        hostKeyError = new ConnectError('host-key-unknown', v.message, { handshake });
        return false;
      case 'unsupported':
        hostKeyError = new ConnectError('unsupported', v.message, { handshake, unsupported: [v.unsupported] });
        return false;
    }
  };

  const remoteLists = new Map<string, string>();
  const onDebug = (line: string): void => {
    const offer = /^Handshake: \(remote\) (.+?): (.*)$/.exec(line);
    if (offer) remoteLists.set(offer[1], offer[2]);
    if (tBanner === null) {
      const ident = identFromDebug(line);
      if (ident !== null) {
        tBanner = now();
        handshake.serverSoftware = ident;
        timings.banner = ms(tConnected, tBanner);
      }
    }
    debug(`ssh2: ${line}`);
  };

  const algorithms: NonNullable<ConnectConfig['algorithms']> = {};
  if (plan.hostKeyAlgorithms !== undefined) algorithms.serverHostKey = plan.hostKeyAlgorithms;
  if (plan.kexAlgorithms !== undefined) algorithms.kex = plan.kexAlgorithms;

  const keepaliveInterval = opts.keepaliveIntervalMs ?? r.serverAliveInterval * 1000;
  const config: ConnectConfig = {
    sock: sock as unknown as ConnectConfig['sock'],
    username: r.user,
    hostVerifier,
    authHandler,
    readyTimeout: 0, // our own timer below: it does not count the user's typing
    keepaliveInterval,
    keepaliveCountMax: opts.keepaliveCountMax ?? r.serverAliveCountMax,
    debug: onDebug,
    ...(Object.keys(algorithms).length > 0 ? { algorithms } : {}),
  };

  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('close', () => proxy?.destroy());

  return new Promise<Connection>((resolve, reject) => {
    const fail = (e: ConnectError): void => {
      if (settled) return;
      settled = true;
      clearTimer();
      client.removeListener('ready', onReady);
      try {
        client.end();
      } catch {
        // already gone
      }
      sock.destroy();
      proxy?.kill();
      reject(e);
    };

    onTimeout = (): void => {
      const secs = Math.round(readyTimeoutMs / 100) / 10;
      let e: ConnectError;
      if (tBanner === null) {
        e = proxyFailure() ?? new ConnectError('timeout', `Connection timed out during banner exchange: no SSH banner from ${r.hostname} port ${r.port} within ${secs} s`, { handshake });
      } else if (tKex === null) {
        e = new ConnectError('timeout', `key exchange with ${r.hostname} did not finish within ${secs} s (stalled after the banner: no KEX reply)`, { handshake });
      } else {
        e = new ConnectError('timeout', `authentication to ${r.user}@${r.hostname} did not finish within ${secs} s`, { handshake });
      }
      fail(e);
    };

    const proxyFailure = (): ConnectError | null => {
      if (proxy === undefined) return null;
      const line = proxy.stderrLastLine();
      const startErr = proxy.startError();
      const exit = proxy.exitStatus();
      const via = spec?.kind === 'jump' ? `ProxyJump ${r.proxyJump}` : `ProxyCommand`;
      if (startErr !== null) return new ConnectError('proxy', `${via} could not start: ${startErr.message}`, { handshake });
      if (line === '' && exit === null) return null;
      const how = exit === null ? '' : exit.code !== null ? ` (exit status ${exit.code})` : ` (killed by ${exit.signal})`;
      let kind: ConnectErrorKind = 'proxy';
      if (spec?.kind === 'jump' && /open failed: connect failed: Connection refused/i.test(line)) kind = 'refused';
      else if (spec?.kind === 'jump' && /open failed: connect failed: (Connection timed out|Operation timed out)/i.test(line)) kind = 'timeout';
      else if (spec?.kind === 'jump' && /open failed: connect failed: (No route to host|Network is unreachable)/i.test(line)) kind = 'unreachable';
      else if (spec?.kind === 'jump' && /open failed: connect failed: .*(Name or service not known|not known|resolve)/i.test(line)) kind = 'dns';
      // ssh -W says only this when the jump host could not open the forward (target down,
      // filtered, or forwarding refused by the jump host): say what it means
      const means =
        spec?.kind === 'jump' && /^stdio forwarding failed$/i.test(line)
          ? ` (the jump host was reached, but it could not open a connection to ${r.hostname} port ${r.port}: the target is down or unreachable from it, or it forbids forwarding)`
          : '';
      return new ConnectError(kind, `${via} failed${how}: ${scrub(line) || 'no error output'}${means}`, { handshake, stderr: scrub(proxy.stderrTail()) });
    };

    const onReady = (): void => {
      if (settled) return;
      settled = true;
      clearTimer();
      const tReady = now();
      timings.auth = ms(tKex ?? tConnected, tReady - promptMs);
      handshake.authenticated = true;
      client.removeListener('error', onError);
      // keep a listener so a later error never becomes an uncaught exception; users add their own
      client.on('error', (e: Error) => debug(`connection error: ${e.message}`));
      const conn: Connection = {
        client,
        handshake,
        closed,
        end: () => {
          try {
            client.end();
          } catch {
            // gone
          }
          proxy?.destroy();
          // A peer the path has forgotten never acknowledges the close: a second later the socket
          // goes, rather than keeping the process alive until TCP gives up (minutes).
          setTimeout(() => sock.destroy(), 1000).unref();
        },
      };
      if (proxy !== undefined) conn.proxy = proxy;
      resolve(conn);
    };

    const onError = (err: Error & { level?: string; code?: unknown }): void => {
      if (settled) return;
      const msg = err.message ?? String(err);
      debug(`ssh2 error (${err.level ?? 'unknown'}): ${msg}`);
      if (hostKeyError !== null) return fail(hostKeyError);
      if (err.level === 'client-authentication') {
        const unsupported = summariseAuthFailure(plan, record) ?? [];
        const kind: ConnectErrorKind = record.tried.length === 0 && unsupported.length > 0 ? 'unsupported' : 'auth';
        return fail(new ConnectError(kind, authFailureMessage(plan, record), { handshake, unsupported, notes: [...plan.auth.plan.notes, ...record.notes] }));
      }
      const noMatch = /^Handshake failed: no matching (.+)$/i.exec(msg);
      if (noMatch) return fail(negotiationFailure(plan, noMatch[1], remoteLists, handshake));
      if (typeof err.code === 'number' && tKex !== null) {
        // SSH_MSG_DISCONNECT from the server during authentication
        const kind: ConnectErrorKind = /authentication|too many/i.test(msg) ? 'auth' : 'other';
        return fail(new ConnectError(kind, `Received disconnect from ${r.hostname} port ${r.port}: ${msg}`, { handshake, notes: plan.auth.plan.notes }));
      }
      if (typeof err.code === 'number') {
        return fail(new ConnectError('other', `Received disconnect from ${r.hostname} port ${r.port}: ${msg}`, { handshake }));
      }
      const generic = (): ConnectError => {
        if (err.level === 'client-socket' || /Connection lost before handshake/i.test(msg)) {
          const code = typeof err.code === 'string' ? err.code : '';
          if (tBanner === null) {
            const reason = code === 'ECONNRESET' ? 'read: Connection reset by peer' : 'Connection closed by remote host';
            return new ConnectError('other', `kex_exchange_identification: ${reason} (${r.hostname} port ${r.port})`, { handshake });
          }
          const text = CONNECT_ERRORS[code]?.text ?? msg;
          return new ConnectError('other', `connection to ${r.hostname} port ${r.port} lost ${tKex === null ? 'during key exchange' : 'during authentication'}: ${text}`, { handshake });
        }
        return new ConnectError('other', `${r.hostname} port ${r.port}: ${msg}`, { handshake });
      };
      return failAfterProxy(generic);
    };

    /**
     * Before the banner, a failure through a proxy is the proxy's: wait (briefly) for it to exit
     * so its stderr is complete, then report that.
     */
    let waitingForProxy = false;
    const failAfterProxy = (fallback: () => ConnectError): void => {
      if (settled || waitingForProxy) return;
      if (proxy === undefined || tBanner !== null) return fail(fallback());
      waitingForProxy = true;
      const p = proxy;
      void Promise.race([p.exit, new Promise((res) => setTimeout(res, 1500).unref())]).then(() => {
        if (p.exitStatus() === null) p.kill();
        fail(proxyFailure() ?? fallback());
      });
    };

    client.on('ready', onReady);
    client.on('error', onError);
    client.on('handshake', (negotiated: NegotiatedAlgorithms) => {
      if (tKex !== null) return; // a later re-key
      tKex = now();
      handshake.kex = negotiated.kex;
      handshake.hostKeyAlgorithm = negotiated.serverHostKey;
      handshake.cipher = negotiated.cs.cipher;
      handshake.mac = negotiated.cs.mac === '' ? '<implicit>' : negotiated.cs.mac;
      timings.kex = ms(tBanner ?? tConnected, tKex);
    });
    client.once('close', () => {
      if (settled) return;
      // closed without an error event
      if (hostKeyError !== null) return fail(hostKeyError);
      const phase = tBanner === null ? 'before the SSH banner' : tKex === null ? 'during key exchange' : 'during authentication';
      const kind: ConnectErrorKind = tKex !== null ? 'auth' : 'other';
      const text =
        tBanner === null
          ? `kex_exchange_identification: Connection closed by remote host (${r.hostname} port ${r.port})`
          : `Connection closed by ${r.hostname} port ${r.port} ${phase}`;
      failAfterProxy(() => new ConnectError(kind === 'auth' && record.tried.length === 0 ? 'other' : kind, text, { handshake }));
    });

    armTimer();
    try {
      client.connect(config);
    } catch (e) {
      fail(new ConnectError('other', `cannot start the SSH client: ${(e as Error).message}`, { handshake }));
    }
  });
}

/** ssh2's "no matching X" -> ssh's wording, and whether ssh itself would have agreed. */
const NEGOTIATION: Record<string, { label: string; word: string; option: string }> = {
  'key exchange algorithm': { label: 'KEX method', word: 'key exchange method', option: 'kexalgorithms' },
  'host key format': { label: 'Host key format', word: 'host key type', option: 'hostkeyalgorithms' },
  'C->S cipher': { label: 'C->S cipher', word: 'cipher', option: 'ciphers' },
  'S->C cipher': { label: 'S->C cipher', word: 'cipher', option: 'ciphers' },
  'C->S MAC': { label: 'C->S MAC', word: 'MAC', option: 'macs' },
  'S->C MAC': { label: 'S->C MAC', word: 'MAC', option: 'macs' },
  'C->S compression': { label: 'C->S compression', word: 'compression method', option: 'compression' },
  'S->C compression': { label: 'S->C compression', word: 'compression method', option: 'compression' },
};

/** The key type a host key algorithm presents (rsa-sha2-512 -> ssh-rsa, certs -> their key). */
function keyTypeOfAlgorithm(a: string): string {
  if (a === 'rsa-sha2-256' || a === 'rsa-sha2-512') return 'ssh-rsa';
  return a.replace(/-cert-v01@openssh\.com$/, '').replace(/^rsa-sha2-(256|512)$/, 'ssh-rsa');
}

function negotiationFailure(plan: ConnectionPlan, what: string, remote: Map<string, string>, handshake: HandshakeEvidence): ConnectError {
  const r = plan.resolved;
  const n = NEGOTIATION[what] ?? { label: what, word: what, option: '' };
  const theirs = (remote.get(n.label) ?? '').split(',').filter((x) => x !== '');
  const base = `Unable to negotiate with ${r.hostname} port ${r.port}: no matching ${n.word} found.${theirs.length > 0 ? ` Their offer: ${theirs.join(',')}` : ''}`;
  if (what === 'host key format' && plan.hostKeyAlgorithms !== undefined) {
    const known = new Set(plan.hostKeys.keys.map((k) => k.type));
    const expected = plan.hostKeys.keys.map((k) => fingerprint(k.blob));
    if (theirs.length > 0 && !theirs.some((a) => known.has(keyTypeOfAlgorithm(a)))) {
      handshake.hostKey = { status: 'mismatch', expected };
      const listed = plan.hostKeys.keys.map((k) => `${fingerprint(k.blob)} (${k.type}, ${k.file}:${k.line})`).join(', ');
      return new ConnectError(
        'host-key-mismatch',
        `${base}; known_hosts knows ${plan.hostKeys.name} only as ${listed}: the server's host keys may have been replaced; ` +
          'verify the new key out of band, then rerun with --accept-host-key SHA256:...',
        { handshake },
      );
    }
  }
  // would ssh itself have agreed? (its effective list from ssh -G)
  const sshList =
    n.option === 'kexalgorithms'
      ? r.kexAlgorithms
      : n.option === 'hostkeyalgorithms'
        ? r.hostKeyAlgorithms
        : (r.config.options[n.option] ?? '').split(',').filter((x) => x !== '');
  const sshAgrees = theirs.find((a) => sshList.includes(a));
  if (sshAgrees !== undefined) {
    return new ConnectError('unsupported', `${base} (ssh itself would use ${sshAgrees}, which ssh-doctor's SSH library does not implement)`, {
      handshake,
      unsupported: ['algorithms'],
    });
  }
  return new ConnectError('other', sshList.length > 0 ? `${base} (ssh with this configuration fails the same way)` : base, { handshake });
}
