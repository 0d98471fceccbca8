// Network namespaces for the lab: three per lab (client, middlebox, server) joined by veth
// pairs, addresses in 10.213.0.0/16 (two /24s per lab slot), helpers to run commands inside a
// namespace, and teardown that leaves nothing behind (processes by pid, then the namespaces).
//
// Slots make parallel labs unique: slot n is claimed atomically with mkdir(/run/ssh-doctor-lab/
// slot-n) and owns 10.213.<2n>.0/24 (client link) and 10.213.<2n+1>.0/24 (server link).
// Namespace names carry the owner's pid (sdlab<n>-<pid>-client), so leftovers of a crashed
// run are recognised by a dead pid and removed by cleanStale() when the next lab starts.

import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NS_PREFIX = 'sdlab';
export const SLOT_ROOT = '/run/ssh-doctor-lab';
export const TMP_PREFIX = 'ssh-doctor-lab-';
export const MAX_SLOTS = 128;

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this many milliseconds; default 30 s. */
  timeoutMs?: number;
  /** Written to stdin, then stdin is closed. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Throw when the command exits non-zero (default true for run(), false for lab.exec()). */
  check?: boolean;
}

/** Runs a command to completion, capturing its output. */
export function run(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = cmd;
  if (!file) throw new Error('run: empty command');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals }) | null;
        if (e && typeof e.code === 'string') return reject(new Error(`${cmd.join(' ')}: ${e.message}`));
        const res: ExecResult = {
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
          timedOut: Boolean(e?.killed),
        };
        if ((opts.check ?? true) && res.code !== 0) {
          return reject(new Error(`${cmd.join(' ')} failed (${res.code ?? res.signal}): ${res.stderr.trim() || res.stdout.trim()}`));
        }
        resolve(res);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** The argv that runs `cmd` inside namespace `ns`. */
export function inNs(ns: string, cmd: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...cmd];
}

/** Runs a command to completion inside a namespace. */
export function nsExec(ns: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(inNs(ns, cmd), opts);
}

/**
 * Starts a long-running command inside a namespace. `ip netns exec` execs the command in place,
 * so the child's pid is the command's own pid (teardown kills it by that pid).
 */
export function nsSpawn(ns: string, cmd: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

export interface Topology {
  slot: number;
  owner: number;
  clientNs: string;
  middleboxNs: string;
  serverNs: string;
  /** Client link: client eth0 <-> middlebox to-client. */
  clientAddr: string;
  middleboxClientAddr: string;
  clientSubnet: string;
  /** Server link: middlebox to-server <-> server eth0. */
  serverAddr: string;
  middleboxServerAddr: string;
  serverSubnet: string;
}

export function topologyFor(slot: number, owner = process.pid): Topology {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`lab slot out of range: ${slot}`);
  const c = 2 * slot;
  const s = 2 * slot + 1;
  const base = `${NS_PREFIX}${slot}-${owner}`;
  return {
    slot,
    owner,
    clientNs: `${base}-client`,
    middleboxNs: `${base}-mbox`,
    serverNs: `${base}-server`,
    clientAddr: `10.213.${c}.2`,
    middleboxClientAddr: `10.213.${c}.1`,
    clientSubnet: `10.213.${c}.0/24`,
    serverAddr: `10.213.${s}.2`,
    middleboxServerAddr: `10.213.${s}.1`,
    serverSubnet: `10.213.${s}.0/24`,
  };
}

export function namespacesOf(t: Topology): string[] {
  return [t.clientNs, t.middleboxNs, t.serverNs];
}

/** Whether a process lives (a zombie does not: it only waits for its parent to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Claims a free slot (the lowest free one, or `prefer` when it is free) for this process.
 * Recorded fixtures ask for a fixed slot so their addresses do not churn.
 */
export async function claimSlot(prefer?: number): Promise<number> {
  const order = [...(prefer !== undefined ? [prefer] : []), ...Array.from({ length: MAX_SLOTS }, (_, i) => i)];
  for (const n of order) {
    const dir = join(SLOT_ROOT, `slot-${n}`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await mkdir(dir);
        await writeFile(join(dir, 'pid'), `${process.pid}\n`);
        return n;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          await mkdir(SLOT_ROOT, { recursive: true, mode: 0o755 });
          continue;
        }
        if (code === 'EEXIST') break;
        throw e;
      }
    }
  }
  throw new Error(`no free lab slot in ${SLOT_ROOT} (all ${MAX_SLOTS} taken)`);
}

export async function releaseSlot(slot: number): Promise<void> {
  await rm(join(SLOT_ROOT, `slot-${slot}`), { recursive: true, force: true });
  await rmdir(SLOT_ROOT).catch(() => undefined); // only when empty: other labs may hold slots
}

export async function listNamespaces(): Promise<string[]> {
  const res = await run(['ip', 'netns', 'list'], { check: false });
  return res.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

async function nsPids(ns: string): Promise<number[]> {
  const res = await run(['ip', 'netns', 'pids', ns], { check: false });
  return res.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function killPids(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Pids that are some process's parent, zombies' parents included (they have yet to reap). */
function parentsOnHost(): Set<number> {
  const parents = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  return parents;
}

/**
 * Kills every process inside the namespaces (by pid), leaves first, so each parent (sshd, the
 * shell) can reap its children rather than orphan them; then deletes the namespaces. (sshd's
 * own monitor may still exit before reaping its session child: PID 1 reaps that zombie.)
 */
export async function deleteNamespaces(names: string[]): Promise<void> {
  for (let round = 0; round < 60; round++) {
    const pids = (await Promise.all(names.map(nsPids))).flat();
    if (pids.length === 0) break;
    const parents = parentsOnHost();
    const leaves = pids.filter((p) => !parents.has(p));
    killPids(round < 40 && leaves.length ? leaves : pids, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 30));
  }
  const existing = new Set(await listNamespaces());
  for (const ns of names) {
    if (existing.has(ns)) await run(['ip', 'netns', 'del', ns], { check: false });
  }
}

/** Synchronous last-resort teardown (process 'exit' handlers cannot wait). */
export function deleteNamespacesSync(names: string[]): void {
  for (let round = 0; round < 5; round++) {
    const pids = names.flatMap((ns) =>
      spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => Number(l.trim()))
        .filter((n) => Number.isInteger(n) && n > 0),
    );
    if (pids.length === 0) break;
    killPids(pids, 'SIGKILL');
    spawnSync('sleep', ['0.05']);
  }
  for (const ns of names) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/**
 * Removes what crashed earlier runs left: namespaces named sdlab<n>-<pid>-* and temp dirs
 * ssh-doctor-lab-<pid>-* whose pid is dead, and slot claims whose owner is dead. Returns what
 * it removed, for the log.
 */
export async function cleanStale(): Promise<string[]> {
  const removed: string[] = [];
  const nsRe = new RegExp(`^${NS_PREFIX}(\\d+)-(\\d+)-`);
  const stale = (await listNamespaces()).filter((ns) => {
    const m = nsRe.exec(ns);
    return m !== null && !alive(Number(m[2]));
  });
  if (stale.length) {
    await deleteNamespaces(stale);
    removed.push(...stale.map((ns) => `netns ${ns}`));
  }
  const tmp = tmpdir();
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const m = new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(name);
    if (m && !alive(Number(m[1]))) {
      await rm(join(tmp, name), { recursive: true, force: true });
      removed.push(`dir ${join(tmp, name)}`);
    }
  }
  for (const name of await readdir(SLOT_ROOT).catch(() => [] as string[])) {
    const dir = join(SLOT_ROOT, name);
    const pid = Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim());
    const st = await stat(dir).catch(() => null);
    const young = st !== null && Date.now() - st.mtimeMs < 30_000;
    if (pid > 0 ? !alive(pid) : !young) {
      await rm(dir, { recursive: true, force: true });
      removed.push(`slot ${dir}`);
    }
  }
  return removed;
}

export interface TopologyOptions {
  /** Route MTU on the middlebox toward the client (interfaces stay at 1500): an MTU black hole. */
  clientRouteMtu?: number;
  /** sysctls set inside the middlebox namespace (ip_forward=1 is always set). */
  middleboxSysctls?: Record<string, string | number>;
}

/** Creates the three namespaces, the two veth pairs, addresses, routes and forwarding. */
export async function createTopology(t: Topology, opts: TopologyOptions = {}): Promise<void> {
  for (const ns of namespacesOf(t)) {
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const ipn = (ns: string, ...args: string[]) => run(['ip', '-n', ns, ...args]);
  await ipn(t.clientNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'to-client', 'netns', t.middleboxNs);
  await ipn(t.serverNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'to-server', 'netns', t.middleboxNs);
  await ipn(t.clientNs, 'addr', 'add', `${t.clientAddr}/24`, 'dev', 'eth0');
  await ipn(t.serverNs, 'addr', 'add', `${t.serverAddr}/24`, 'dev', 'eth0');
  await ipn(t.middleboxNs, 'addr', 'add', `${t.middleboxClientAddr}/24`, 'dev', 'to-client');
  await ipn(t.middleboxNs, 'addr', 'add', `${t.middleboxServerAddr}/24`, 'dev', 'to-server');
  await ipn(t.clientNs, 'link', 'set', 'eth0', 'up');
  await ipn(t.serverNs, 'link', 'set', 'eth0', 'up');
  await ipn(t.middleboxNs, 'link', 'set', 'to-client', 'up');
  await ipn(t.middleboxNs, 'link', 'set', 'to-server', 'up');
  await ipn(t.clientNs, 'route', 'add', 'default', 'via', t.middleboxClientAddr);
  await ipn(t.serverNs, 'route', 'add', 'default', 'via', t.middleboxServerAddr);
  if (opts.clientRouteMtu) {
    // Forwarding honours a route's MTU metric: segments from the server larger than this need
    // fragmenting (DF is set), so the middlebox answers ICMP frag-needed, which its own output
    // hook may drop. Interface MTUs stay 1500, so both ends advertise MSS 1460.
    await ipn(t.middleboxNs, 'route', 'replace', t.clientSubnet, 'dev', 'to-client', 'proto', 'kernel', 'scope', 'link',
      'src', t.middleboxClientAddr, 'mtu', 'lock', String(opts.clientRouteMtu));
  }
  const sysctls = { 'net.ipv4.ip_forward': 1, ...(opts.middleboxSysctls ?? {}) };
  await nsExec(t.middleboxNs, ['sysctl', '-q', '-w', ...Object.entries(sysctls).map(([k, v]) => `${k}=${v}`)]);
}
