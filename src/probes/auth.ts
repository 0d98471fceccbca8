// User authentication the way ssh(1) would do it for this host, within what ssh2 can do:
// - keys in the order ssh offers them (sshconnect2.c pubkey_prepare): each IdentityFile in turn,
//   through the agent when the agent holds it, else from the file when it is not encrypted; then,
//   unless IdentitiesOnly, the agent's other keys. Offering every agent key is what trips
//   "Too many authentication failures", fail2ban and sshd's PerSourcePenalties;
// - encrypted keys the agent does not hold are not prompted for: a clear message says to ssh-add
//   them (no hang, no prompt);
// - one password prompt per run at most (on /dev/tty, only when it is a TTY), shared by password
//   and keyboard-interactive and kept in memory only;
// - what ssh2 cannot do (FIDO -sk keys, user certificates, GSSAPI) is detected and reported.
// Secrets (passwords, key material) never reach a message or a debug line.

import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tty from 'node:tty';
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  AuthenticationType,
  AuthHandlerMiddleware,
  IdentityCallback,
  KeyboardInteractiveCallback,
  NextAuthHandler,
  ParsedKey,
  Prompt,
  SignCallback,
  SigningRequestOptions,
} from 'ssh2';
import { blobKeyType, fingerprint } from './known-hosts.js';

const { BaseAgent, OpenSSHAgent, utils } = ssh2;
type Agent = InstanceType<typeof BaseAgent>;

/** Asks the user for a secret; resolves null when there is no answer (no TTY, Ctrl-C, EOF). */
export type PasswordPrompt = (question: string) => Promise<string | null>;

export type UnsupportedAuth = 'security-key' | 'user-certificate' | 'gssapi';

export interface IdentityInfo {
  file: string;
  /** `~/.ssh/id_ed25519` style, for messages. */
  display: string;
  /** The public key blob, from the file itself, its .pub, or the private key. */
  publicBlob?: Buffer;
  type?: string;
  encrypted: boolean;
  /** FIDO security key (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com). */
  securityKey: boolean;
  /** Usable private key, when the file holds an unencrypted one ssh2 can parse. */
  privateKey?: ParsedKey;
  /** Why the file cannot be used by itself (not counting encryption). */
  problem?: string;
  /** `<file>-cert.pub` exists: ssh would authenticate with that certificate. */
  certificate?: string;
}

export interface AgentKey {
  blob: Buffer;
  type: string;
  comment: string;
  fingerprint: string;
}

export type PubkeyStep =
  | { kind: 'agent'; agent: FilteredAgent; label: string; blobs: Buffer[] }
  | { kind: 'key'; key: ParsedKey; label: string; blob: Buffer };

export interface AuthPlan {
  user: string;
  /** The agent socket used (path), when one is. */
  agentSocket?: string;
  agentKeys: AgentKey[];
  /** An agent was configured but could not be asked. */
  agentError?: string;
  identities: IdentityInfo[];
  pubkeySteps: PubkeyStep[];
  /** Method order (PreferredAuthentications, OpenSSH's default otherwise). */
  methods: string[];
  passwordAuthentication: boolean;
  kbdInteractiveAuthentication: boolean;
  batchMode: boolean;
  gssapiAuthentication: boolean;
  /** Problems that explain a failure: encrypted keys without an agent, unreadable files. */
  notes: string[];
  unsupported: Array<{ reason: UnsupportedAuth; message: string }>;
}

export interface AuthTargetInfo {
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  certificateFiles: string[];
  identityAgent?: string;
  pubkeyAuthentication: boolean;
  passwordAuthentication: boolean;
  kbdInteractiveAuthentication: boolean;
  gssapiAuthentication: boolean;
  batchMode: boolean;
  preferredAuthentications?: string[];
}

export interface AuthPlanOptions {
  /** Agent to use instead of SSH_AUTH_SOCK / IdentityAgent; null = no agent. */
  agent?: Agent | null;
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Time allowed for the agent to list its keys. */
  agentTimeoutMs?: number;
}

const DEFAULT_METHODS = ['gssapi-with-mic', 'hostbased', 'publickey', 'keyboard-interactive', 'password'];
const SK_TYPES = new Set(['sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com']);

export function tildify(file: string, home: string = os.homedir()): string {
  if (home !== '' && home !== '/' && (file === home || file.startsWith(home + '/'))) return `~${file.slice(home.length)}`;
  return file;
}

function isSecurityKeyType(type: string | undefined): boolean {
  return type !== undefined && (SK_TYPES.has(type) || /^sk-.*-cert-v01@openssh\.com$/.test(type));
}

/** `type base64 [comment]` public key line -> blob, or null. */
export function parsePublicKeyLine(text: string): Buffer | null {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0].startsWith('#')) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(f[1])) continue;
    const blob = Buffer.from(f[1], 'base64');
    const t = blobKeyType(blob);
    if (t !== null && (t === f[0] || f[0].startsWith(t))) return blob;
  }
  return null;
}

/** The public half and cipher of an `openssh-key-v1` private key file (stored unencrypted). */
export function opensshKeyHeader(text: string): { cipher: string; publicBlob: Buffer } | null {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return null;
  const buf = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (buf.length < magic.length || buf.toString('latin1', 0, magic.length) !== magic) return null;
  let p = magic.length;
  const str = (): Buffer | null => {
    if (p + 4 > buf.length) return null;
    const len = buf.readUInt32BE(p);
    p += 4;
    if (p + len > buf.length) return null;
    const out = buf.subarray(p, p + len);
    p += len;
    return out;
  };
  const cipher = str();
  const kdf = str();
  const kdfOpts = str();
  if (cipher === null || kdf === null || kdfOpts === null || p + 4 > buf.length) return null;
  const n = buf.readUInt32BE(p);
  p += 4;
  if (n < 1) return null;
  const pub = str();
  if (pub === null) return null;
  return { cipher: cipher.toString('latin1'), publicBlob: Buffer.from(pub) };
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** What an IdentityFile holds, without asking for any passphrase. Null when neither it nor .pub exists. */
export function readIdentity(file: string, home: string = os.homedir()): IdentityInfo | null {
  const display = tildify(file, home);
  const text = readText(file);
  const pubText = readText(`${file}.pub`);
  if (text === null && pubText === null) return null;
  const info: IdentityInfo = { file, display, encrypted: false, securityKey: false };
  const pubFromPub = pubText !== null ? parsePublicKeyLine(pubText) : null;
  if (pubFromPub) info.publicBlob = pubFromPub;

  if (text !== null) {
    const header = opensshKeyHeader(text);
    if (header) {
      info.publicBlob ??= header.publicBlob;
      info.encrypted = header.cipher !== 'none';
    } else if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /Proc-Type:\s*4,ENCRYPTED/.test(text) || /^Encryption:\s*(?!none)\S+/m.test(text)) {
      info.encrypted = true;
    } else if (!/PRIVATE KEY-----|PuTTY-User-Key-File/.test(text)) {
      // the IdentityFile is itself a public key (common with agents such as 1Password)
      const blob = parsePublicKeyLine(text);
      if (blob) info.publicBlob ??= blob;
      else info.problem = `${display} is not a key file ssh-doctor understands`;
    }
    const type = info.publicBlob ? blobKeyType(info.publicBlob) ?? undefined : undefined;
    if (isSecurityKeyType(type)) info.securityKey = true;
    if (!info.encrypted && !info.securityKey && /PRIVATE KEY-----|PuTTY-User-Key-File/.test(text)) {
      const parsed = utils.parseKey(text);
      const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
      if (key === undefined || key instanceof Error) {
        const msg = key instanceof Error ? key.message : 'no key';
        if (/passphrase/i.test(msg)) info.encrypted = true;
        else info.problem = `cannot use key ${display}: ${msg}`;
      } else if (key.isPrivateKey()) {
        info.privateKey = key;
        info.publicBlob ??= key.getPublicSSH();
      }
    }
  }
  if (info.publicBlob) {
    const t = blobKeyType(info.publicBlob);
    if (t !== null) info.type = t;
    if (isSecurityKeyType(t ?? undefined)) info.securityKey = true;
  }
  if (existsSync(`${file}-cert.pub`)) info.certificate = `${file}-cert.pub`;
  return info;
}

/**
 * An agent that shows ssh2 only some of another agent's keys (IdentitiesOnly, ssh's ordering),
 * in the order given by `order` when set. Signing goes to the wrapped agent.
 */
export class FilteredAgent extends BaseAgent {
  constructor(
    private readonly inner: Agent,
    private readonly allow: (blob: Buffer) => boolean,
    private readonly order?: Buffer[],
  ) {
    super();
  }

  getIdentities(cb: IdentityCallback): void {
    this.inner.getIdentities((err, keys) => {
      if (err) return cb(err);
      const parsed: ParsedKey[] = [];
      for (const k of keys ?? []) {
        const p = utils.parseKey(k as Buffer | string | ParsedKey);
        const key = Array.isArray(p) ? (p[0] as ParsedKey | undefined) : p;
        if (key === undefined || key instanceof Error) continue;
        if (this.allow(key.getPublicSSH())) parsed.push(key);
      }
      if (this.order !== undefined) {
        const order = this.order;
        const rank = (k: ParsedKey): number => {
          const i = order.findIndex((b) => b.equals(k.getPublicSSH()));
          return i === -1 ? order.length : i;
        };
        parsed.sort((a, b) => rank(a) - rank(b));
      }
      cb(null, parsed);
    });
  }

  sign(pubKey: ParsedKey | Buffer | string, data: Buffer, options: SigningRequestOptions, cb?: SignCallback): void;
  sign(pubKey: ParsedKey | Buffer | string, data: Buffer, cb: SignCallback): void;
  sign(pubKey: ParsedKey | Buffer | string, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    if (typeof options === 'function') this.inner.sign(pubKey, data, {}, options);
    else this.inner.sign(pubKey, data, options, cb);
  }
}

/** Lists an agent's keys through ssh2's BaseAgent API (sk keys and certificates are dropped by ssh2). */
function agentIdentities(agent: Agent, timeoutMs: number): Promise<AgentKey[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not list its keys within ${timeoutMs} ms`)), timeoutMs);
    agent.getIdentities((err, keys) => {
      clearTimeout(timer);
      if (err) return reject(err);
      const out: AgentKey[] = [];
      for (const k of keys ?? []) {
        const p = utils.parseKey(k as Buffer | string | ParsedKey);
        const key = Array.isArray(p) ? (p[0] as ParsedKey | undefined) : p;
        if (key === undefined || key instanceof Error) continue;
        const blob = key.getPublicSSH();
        out.push({ blob, type: blobKeyType(blob) ?? key.type, comment: key.comment ?? '', fingerprint: fingerprint(blob) });
      }
      resolve(out);
    });
  });
}

/**
 * The agent's keys as the agent protocol lists them (SSH2_AGENTC_REQUEST_IDENTITIES), including
 * the ones ssh2 cannot parse (FIDO keys, certificates). Empty on any failure.
 */
export function listAgentSocket(socketPath: string, timeoutMs = 2000): Promise<AgentKey[]> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let buf = Buffer.alloc(0);
    const done = (keys: AgentKey[]): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(keys);
    };
    const timer = setTimeout(() => done([]), timeoutMs);
    sock.on('error', () => done([]));
    sock.on('connect', () => sock.write(Buffer.from([0, 0, 0, 1, 11])));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      const len = buf.readUInt32BE(0);
      if (len > 1024 * 1024) return done([]);
      if (buf.length < 4 + len) return;
      const msg = buf.subarray(4, 4 + len);
      if (msg[0] !== 12 || msg.length < 5) return done([]);
      const n = msg.readUInt32BE(1);
      const keys: AgentKey[] = [];
      let p = 5;
      for (let i = 0; i < n; i++) {
        if (p + 4 > msg.length) break;
        const bl = msg.readUInt32BE(p);
        const blob = Buffer.from(msg.subarray(p + 4, p + 4 + bl));
        p += 4 + bl;
        if (p + 4 > msg.length) break;
        const cl = msg.readUInt32BE(p);
        const comment = msg.toString('utf8', p + 4, p + 4 + cl);
        p += 4 + cl;
        keys.push({ blob, type: blobKeyType(blob) ?? 'unknown', comment, fingerprint: fingerprint(blob) });
      }
      done(keys);
    });
  });
}

/** Builds the authentication plan: reads identity files and asks the agent for its keys, once. */
export async function planAuth(t: AuthTargetInfo, opts: AuthPlanOptions = {}): Promise<AuthPlan> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? os.homedir();
  const plan: AuthPlan = {
    user: t.user,
    agentKeys: [],
    identities: [],
    pubkeySteps: [],
    methods: t.preferredAuthentications && t.preferredAuthentications.length > 0 ? t.preferredAuthentications : DEFAULT_METHODS,
    passwordAuthentication: t.passwordAuthentication,
    kbdInteractiveAuthentication: t.kbdInteractiveAuthentication,
    batchMode: t.batchMode,
    gssapiAuthentication: t.gssapiAuthentication,
    notes: [],
    unsupported: [],
  };
  if (t.gssapiAuthentication) {
    plan.unsupported.push({
      reason: 'gssapi',
      message: 'GSSAPIAuthentication is enabled for this host: ssh2 cannot do GSSAPI (Kerberos), so ssh-doctor cannot log in the way ssh may',
    });
  }

  // the agent
  let agent: Agent | null = null;
  let rawAgentKeys: AgentKey[] = [];
  if (opts.agent !== undefined) agent = opts.agent;
  else {
    const socket = t.identityAgent === 'none' ? undefined : t.identityAgent ?? env.SSH_AUTH_SOCK;
    if (socket !== undefined && socket !== '') {
      plan.agentSocket = socket;
      agent = new OpenSSHAgent(socket);
      rawAgentKeys = await listAgentSocket(socket, opts.agentTimeoutMs ?? 2000);
    }
  }
  if (agent !== null) {
    try {
      plan.agentKeys = await agentIdentities(agent, opts.agentTimeoutMs ?? 3000);
    } catch (e) {
      plan.agentError = `the SSH agent${plan.agentSocket ? ` (${plan.agentSocket})` : ''} could not be used: ${(e as Error).message}`;
      plan.notes.push(plan.agentError);
      agent = null;
    }
  }
  const inAgent = (blob: Buffer | undefined): boolean => blob !== undefined && plan.agentKeys.some((k) => k.blob.equals(blob));

  // identity files, in ssh's order
  for (const file of t.identityFiles) {
    const info = readIdentity(file, home);
    if (info === null) continue; // ssh skips identity files that do not exist
    plan.identities.push(info);
  }
  for (const file of t.certificateFiles) {
    if (existsSync(file)) {
      plan.unsupported.push({
        reason: 'user-certificate',
        message: `CertificateFile ${tildify(file, home)}: ssh2 cannot authenticate with user certificates, so only plain keys are offered`,
      });
    }
  }

  if (t.pubkeyAuthentication) {
    const matched: Buffer[] = [];
    for (const info of plan.identities) {
      if (info.certificate !== undefined) {
        plan.unsupported.push({
          reason: 'user-certificate',
          message: `${tildify(info.certificate, home)}: ssh would offer this certificate; ssh2 cannot authenticate with user certificates`,
        });
      }
      if (info.securityKey) {
        plan.unsupported.push({
          reason: 'security-key',
          message: `key ${info.display} is a FIDO security key (${info.type ?? 'sk-*'}): ssh2 cannot use -sk keys`,
        });
        continue;
      }
      if (agent !== null && inAgent(info.publicBlob)) {
        const blob = info.publicBlob!;
        if (!matched.some((b) => b.equals(blob))) {
          matched.push(blob);
          plan.pubkeySteps.push({
            kind: 'agent',
            agent: new FilteredAgent(agent, (b) => b.equals(blob)),
            label: `${info.display} (agent, ${fingerprint(blob)})`,
            blobs: [blob],
          });
        }
        continue;
      }
      if (info.privateKey !== undefined) {
        const blob = info.privateKey.getPublicSSH();
        plan.pubkeySteps.push({ kind: 'key', key: info.privateKey, label: `${info.display} (${fingerprint(blob)})`, blob });
        continue;
      }
      if (info.encrypted) {
        plan.notes.push(`key ${info.display} is encrypted and no agent holds it: ssh-add it first`);
      } else if (info.problem !== undefined) {
        plan.notes.push(info.problem);
      } else if (info.publicBlob !== undefined && agent === null) {
        plan.notes.push(`${info.display} is a public key only and no agent is available to sign with it`);
      } else if (info.publicBlob !== undefined) {
        plan.notes.push(`${info.display}: the agent does not hold this key`);
      }
    }
    if (agent !== null && !t.identitiesOnly) {
      const rest = plan.agentKeys.filter((k) => !matched.some((b) => b.equals(k.blob)));
      if (rest.length > 0) {
        const blobs = rest.map((k) => k.blob);
        plan.pubkeySteps.push({
          kind: 'agent',
          agent: new FilteredAgent(agent, (b) => blobs.some((x) => x.equals(b)), blobs),
          label: `${rest.length} other agent key(s)`,
          blobs,
        });
      }
    } else if (agent !== null && t.identitiesOnly) {
      const skipped = plan.agentKeys.length - matched.length;
      if (skipped > 0) plan.notes.push(`IdentitiesOnly: ${skipped} agent key(s) not matching an IdentityFile were not offered`);
    }
    // what ssh2 silently dropped from the agent's list
    for (const k of rawAgentKeys) {
      if (plan.agentKeys.some((a) => a.blob.equals(k.blob))) continue;
      if (t.identitiesOnly && !plan.identities.some((i) => i.publicBlob?.equals(k.blob))) continue;
      if (isSecurityKeyType(k.type)) {
        plan.unsupported.push({ reason: 'security-key', message: `agent key ${k.fingerprint} is a FIDO security key (${k.type}): ssh2 cannot use -sk keys` });
      } else if (k.type.endsWith('-cert-v01@openssh.com')) {
        plan.unsupported.push({ reason: 'user-certificate', message: `agent certificate ${k.fingerprint} (${k.type}): ssh2 cannot authenticate with user certificates` });
      }
    }
  } else {
    plan.notes.push('PubkeyAuthentication is off for this host');
  }
  return plan;
}

/** What one connection's authentication did, for messages (no secrets). */
export interface AuthRecord {
  /** Methods the server said can continue (from its first USERAUTH_FAILURE). */
  serverMethods: string[] | null;
  /** Methods and keys tried, in order: `publickey ~/.ssh/id_ed25519 (SHA256:...)`, `password`. */
  tried: string[];
  /** Set when a user prompt could not be answered (keyboard-interactive challenge...). */
  notes: string[];
  partialSuccess: boolean;
}

export interface PromptHooks {
  /** Called around user prompts so timeouts do not count the user's typing. */
  onPromptStart?: () => void;
  onPromptEnd?: () => void;
  debug?: (line: string) => void;
}

/**
 * State shared by every connection of one run: the plan, the password (asked once at most, kept in
 * memory only) and whether it was rejected.
 */
export class AuthSession {
  private password: string | null = null;
  private asked = false;
  private rejected = false;

  constructor(
    readonly plan: AuthPlan,
    private readonly prompt: PasswordPrompt | null,
    private readonly host: string,
  ) {}

  /** True when a password is held in memory (for scrubbing debug lines). */
  secretForScrub(): string | null {
    return this.password;
  }

  private canPrompt(): boolean {
    return this.prompt !== null && !this.plan.batchMode && !this.asked;
  }

  private async getPassword(hooks: PromptHooks): Promise<string | null> {
    if (this.rejected) return null;
    if (this.password !== null) return this.password;
    if (!this.canPrompt()) return null;
    this.asked = true;
    hooks.onPromptStart?.();
    try {
      const pw = await this.prompt!(`${this.plan.user}@${this.host}'s password: `);
      this.password = pw === null || pw === '' ? null : pw;
    } catch {
      this.password = null;
    } finally {
      hooks.onPromptEnd?.();
    }
    return this.password;
  }

  private passwordPossible(): boolean {
    return !this.rejected && (this.password !== null || this.canPrompt());
  }

  /** A fresh ssh2 authHandler for one connection, and the record it fills. */
  handler(hooks: PromptHooks = {}): { authHandler: AuthHandlerMiddleware; record: AuthRecord } {
    const plan = this.plan;
    const record: AuthRecord = { serverMethods: null, tried: [], notes: [], partialSuccess: false };
    const username = plan.user;
    let started = false;
    let pkIndex = 0;
    let passwordTried = false;
    let kbdTried = false;
    let usedPassword = false;
    const debug = hooks.debug ?? (() => undefined);

    const authHandler = ((authsLeft: AuthenticationType[] | null, partialSuccess: boolean | null, next: NextAuthHandler): void => {
      if (usedPassword) {
        usedPassword = false;
        if (partialSuccess !== true) {
          // the password just tried was refused: never use it again in this run
          this.rejected = true;
          this.password = null;
        }
      }
      if (!started) {
        started = true;
        next({ type: 'none', username });
        return;
      }
      const left = (authsLeft ?? []) as string[];
      if (record.serverMethods === null) record.serverMethods = [...left];
      if (partialSuccess) record.partialSuccess = true;
      void pick(left).then((m) => next(m === false ? (false as unknown as AnyAuthMethod) : m));
    }) as AuthHandlerMiddleware;

    const pick = async (left: string[]): Promise<AnyAuthMethod | false> => {
      for (const method of plan.methods) {
        if (!left.includes(method)) continue;
        if (method === 'publickey') {
          while (pkIndex < plan.pubkeySteps.length) {
            const step = plan.pubkeySteps[pkIndex++];
            record.tried.push(`publickey ${step.label}`);
            debug(`auth: offering ${step.label}`);
            if (step.kind === 'agent') return { type: 'agent', username, agent: step.agent };
            return { type: 'publickey', username, key: step.key };
          }
        } else if (method === 'keyboard-interactive') {
          if (kbdTried || !plan.kbdInteractiveAuthentication || !this.passwordPossible()) continue;
          kbdTried = true;
          record.tried.push('keyboard-interactive');
          debug('auth: trying keyboard-interactive');
          return {
            type: 'keyboard-interactive',
            username,
            prompt: (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback) => {
              if (prompts.length === 0) return finish([]);
              const first = prompts[0];
              if (prompts.length === 1 && first.echo !== true && /pass(word|code|phrase)?|PIN/i.test(first.prompt)) {
                void this.getPassword(hooks).then((pw) => {
                  if (pw !== null) usedPassword = true;
                  finish([pw ?? '']);
                });
                return;
              }
              record.notes.push(`keyboard-interactive asked ${JSON.stringify(first.prompt.trim())}, which ssh-doctor cannot answer on every connection`);
              finish(prompts.map(() => ''));
            },
          };
        } else if (method === 'password') {
          if (passwordTried || !plan.passwordAuthentication) continue;
          passwordTried = true;
          const pw = await this.getPassword(hooks);
          if (pw === null) continue;
          usedPassword = true;
          record.tried.push('password');
          debug('auth: trying password');
          return { type: 'password', username, password: pw };
        }
      }
      return false;
    };

    return { authHandler, record };
  }
}

/**
 * A no-echo prompt on /dev/tty, or null when there is no terminal (stdin not a TTY, or no
 * controlling terminal): then nothing ever prompts.
 */
export function ttyPasswordPrompt(): PasswordPrompt | null {
  if (process.stdin.isTTY !== true) return null;
  return (question) =>
    new Promise((resolve) => {
      let fd: number;
      try {
        fd = openSync('/dev/tty', 'r+');
      } catch {
        resolve(null);
        return;
      }
      if (!tty.isatty(fd)) {
        closeSync(fd);
        resolve(null);
        return;
      }
      writeSync(fd, question);
      const input = new tty.ReadStream(fd);
      input.setRawMode(true);
      let answer = '';
      let finished = false;
      const done = (value: string | null): void => {
        if (finished) return;
        finished = true;
        try {
          input.setRawMode(false);
          writeSync(fd, '\n');
        } catch {
          // the terminal went away
        }
        input.destroy();
        resolve(value);
      };
      input.on('error', () => done(null));
      input.on('data', (d: Buffer) => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return done(answer);
          if (ch === '\u0003') return done(null); // Ctrl-C
          if (ch === '\u0004') return done(answer === '' ? null : answer); // Ctrl-D
          if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
          else if (ch === '\u0015') answer = ''; // Ctrl-U
          else if (ch >= ' ') answer += ch;
        }
      });
    });
}
