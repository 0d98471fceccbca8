// ProxyJump and ProxyCommand as ssh(1) runs them, handed to ssh2 as its `sock`:
// - ProxyJump a,b,c  -> ssh [-l user] [-p port] [-J a,b] [-F cfg] -W [host]:port c
//   (what ssh.c builds for options.jump_host; the jump ssh does its own host key checking);
// - ProxyCommand     -> $SHELL -c "exec <command>" (sshconnect.c ssh_proxy_connect; /bin/sh when
//   SHELL is unset), with %h %p %r %n %% expanded (ssh -G prints them unexpanded).
// The child's stdin/stdout become a Duplex; its stderr is kept (last 4 KiB) for error messages.
// Destroying the Duplex kills the child.

import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';

const STDERR_TAIL = 4096;

export interface ProxyTarget {
  hostname: string;
  port: number;
  user: string;
  /** The host as given on the command line (%n). */
  alias: string;
  proxyJump?: string;
  proxyCommand?: string;
  configFile?: string;
}

export interface ProxySpec {
  kind: 'jump' | 'command';
  file: string;
  args: string[];
  /** For messages and debug lines (secrets scrubbed by the caller when it logs). */
  display: string;
}

export interface ProxyOptions {
  /** false: no prompts are possible (adds -o BatchMode=yes to the jump ssh). Default: stdin is a TTY. */
  interactive?: boolean;
  env?: NodeJS.ProcessEnv;
  shell?: string;
}

/** `%h %p %r %n %%` as ssh expands them in ProxyCommand; unknown tokens are left as written. */
export function expandProxyCommand(command: string, t: Pick<ProxyTarget, 'hostname' | 'port' | 'user' | 'alias'>): string {
  return command.replace(/%([%hprn])/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'h':
        return t.hostname;
      case 'p':
        return String(t.port);
      case 'r':
        return t.user;
      default:
        return t.alias;
    }
  });
}

export interface JumpHop {
  user?: string;
  host: string;
  port?: number;
}

/** One ProxyJump hop: `[user@]host[:port]`, `[user@][v6]:port` or `ssh://[user@]host[:port]`. */
export function parseJumpHop(hop: string): JumpHop {
  let s = hop.trim();
  if (/^ssh:\/\//i.test(s)) s = s.slice(6).replace(/\/$/, '');
  const out: JumpHop = { host: s };
  const at = s.lastIndexOf('@');
  if (at > 0) {
    out.user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const plain = /^([^:]+):(\d+)$/.exec(s);
  if (bracket) {
    out.host = bracket[1];
    if (bracket[2] !== undefined) out.port = Number(bracket[2]);
  } else if (plain) {
    out.host = plain[1];
    out.port = Number(plain[2]);
  } else {
    out.host = s;
  }
  return out;
}

function forwardTarget(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The process that carries the connection, or null for a direct TCP connection. */
export function proxySpec(t: ProxyTarget, opts: ProxyOptions = {}): ProxySpec | null {
  const interactive = opts.interactive ?? process.stdin.isTTY === true;
  if (t.proxyJump !== undefined && t.proxyJump.toLowerCase() !== 'none') {
    const hops = t.proxyJump
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    if (hops.length > 0) {
      const last = parseJumpHop(hops[hops.length - 1]);
      const args: string[] = [];
      if (last.user !== undefined) args.push('-l', last.user);
      if (last.port !== undefined) args.push('-p', String(last.port));
      if (hops.length > 1) args.push('-J', hops.slice(0, -1).join(','));
      if (t.configFile !== undefined) args.push('-F', t.configFile);
      if (!interactive) args.push('-o', 'BatchMode=yes');
      args.push('-W', forwardTarget(t.hostname, t.port), '--', last.host);
      return { kind: 'jump', file: 'ssh', args, display: `ssh ${args.join(' ')}` };
    }
  }
  if (t.proxyCommand !== undefined && t.proxyCommand.toLowerCase() !== 'none') {
    const command = expandProxyCommand(t.proxyCommand, t);
    const env = opts.env ?? process.env;
    const shell = opts.shell ?? (env.SHELL !== undefined && env.SHELL !== '' ? env.SHELL : '/bin/sh');
    return { kind: 'command', file: shell, args: ['-c', `exec ${command}`], display: command };
  }
  return null;
}

/**
 * A spawned proxy as a Duplex: writes go to the child's stdin, its stdout is read. `stderrTail()`
 * returns the last 4 KiB of its stderr; `exit` resolves when it has exited.
 */
export class ProxySocket extends Duplex {
  readonly child: ChildProcess;
  readonly spec: ProxySpec;
  private stderrBuf = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: Error | null = null;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(spec: ProxySpec, env?: NodeJS.ProcessEnv) {
    super({ allowHalfOpen: false });
    this.spec = spec;
    this.child = spawn(spec.file, spec.args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false, env: env ?? process.env });
    const child = this.child;
    let resolveExit!: (v: { code: number | null; signal: NodeJS.Signals | null }) => void;
    this.exit = new Promise((r) => (resolveExit = r));
    child.stdout!.on('data', (d: Buffer) => {
      if (!this.push(d)) child.stdout!.pause();
    });
    child.stdout!.on('end', () => this.push(null));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderrBuf = (this.stderrBuf + d).slice(-STDERR_TAIL);
    });
    child.stdin!.on('error', () => undefined); // EPIPE once the proxy is gone; 'close' reports it
    child.on('error', (e) => {
      this.spawnError = e;
      this.exited ??= { code: null, signal: null };
      resolveExit(this.exited);
      this.destroy(new Error(`proxy ${spec.kind === 'jump' ? 'ssh' : 'command'} could not start: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    child.on('close', (code, signal) => {
      this.exited = { code, signal };
      resolveExit(this.exited);
      // stdout may have ended already; make sure readers see the end
      this.push(null);
    });
  }

  /** The last 4 KiB of the proxy's stderr. */
  stderrTail(): string {
    return this.stderrBuf;
  }

  /** The last meaningful stderr line (ssh's own diagnostics), for one-line messages. */
  stderrLastLine(): string {
    const lines = this.stderrBuf
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^Pseudo-terminal will not be allocated/.test(l) && !/^Warning: Permanently added/.test(l));
    return lines.length > 0 ? lines[lines.length - 1] : '';
  }

  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exited;
  }

  startError(): Error | null {
    return this.spawnError;
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed) {
      cb();
      return;
    }
    stdin.write(chunk, () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin?.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.kill();
    cb(err);
  }

  /** Ends the proxy process (SIGTERM, then SIGKILL if it lingers). */
  kill(): void {
    const child = this.child;
    if (this.exited !== null || child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.destroy();
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2000);
    t.unref();
  }
}

/** Starts the proxy for the target, or returns null for a direct TCP connection. */
export function startProxy(t: ProxyTarget, opts: ProxyOptions = {}): ProxySocket | null {
  const spec = proxySpec(t, opts);
  return spec === null ? null : new ProxySocket(spec, opts.env);
}
