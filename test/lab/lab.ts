// The lab's programmatic API: a real OpenSSH sshd behind an nftables middlebox, in three network
// namespaces, for one scenario (scenarios.ts). Needs root, `ip`, `nft`, /usr/sbin/sshd and ssh
// (availability.ts says whether they are there).
//
//   const lab = await startLab('idle-silent');   // a name from scenarios.ts, or a Scenario object
//                                                // (e.g. { ...getScenario('healthy'), sshd: {...} })
//   try {
//     lab.target;          // { addr, port, user }: the sshd, as seen from the client namespace
//     lab.keyFile;         // client private key (authorized on the server)
//     lab.knownHostsFile;  // known_hosts with the server's host key (StrictHostKeyChecking=yes works)
//     lab.clientNs;        // namespace to run clients in (also middleboxNs, serverNs)
//     lab.sshdLogFile;     // sshd -E log, LogLevel VERBOSE (no timestamps, no sshd[pid] prefix)
//     lab.sshdConfigFile;  // the scenario's sshd_config
//     lab.sshConfigFile;   // ssh_config with `Host lab` for the target: `ssh -F <file> lab`
//     lab.sshCommand(['-o', 'ServerAliveInterval=5'], ['echo', 'ok']);  // full `ssh` argv for the target
//     await lab.exec(cmd, { timeoutMs, input });   // run a command to completion in the client namespace
//     lab.spawn(cmd);                              // a long-running command in the client namespace
//     await lab.outage(10);   // from now on every forwarded packet is dropped for 10 s (kernel-timed)
//     await lab.sshdLog();    // the sshd log so far
//   } finally {
//     await lab.stop();       // kills its processes, deletes namespaces, temp dir and slot claim
//   }
//
// Every lab started in a process is also stopped by stopAllLabs() and, synchronously, on process
// exit; stopLabsOnSignals() tears down on SIGINT/SIGTERM/SIGHUP. Leftovers of a crashed run (dead
// owner pid) are removed when the next lab starts.

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { middleboxSysctls, nftScript, outageCommand } from './middlebox.js';
import {
  cleanStale,
  claimSlot,
  createTopology,
  deleteNamespaces,
  deleteNamespacesSync,
  killPids,
  namespacesOf,
  nsExec,
  nsSpawn,
  releaseSlot,
  SLOT_ROOT,
  TMP_PREFIX,
  topologyFor,
  type ExecOptions,
  type ExecResult,
  type Topology,
} from './netns.js';
import { getScenario, type Scenario } from './scenarios.js';
import { ensureLabUser, LAB_USER, sshdArgv, writeSshdFiles, type SshdFiles } from './sshd.js';

export type { ExecOptions, ExecResult } from './netns.js';

export interface LabTarget {
  addr: string;
  port: number;
  user: string;
}

export interface Lab {
  readonly scenario: Scenario;
  readonly target: LabTarget;
  readonly keyFile: string;
  readonly knownHostsFile: string;
  readonly clientNs: string;
  readonly middleboxNs: string;
  readonly serverNs: string;
  /** The lab's temp dir (config, keys, logs); removed by stop(). */
  readonly dir: string;
  readonly sshdLogFile: string;
  readonly sshdConfigFile: string;
  /** ssh_config with `Host lab` (HostName, User, key, known_hosts...): `ssh -F <file> lab`. */
  readonly sshConfigFile: string;
  readonly topology: Topology;
  /** `ssh` argv: -F /dev/null, the lab key and known_hosts, strict host key checking, BatchMode. */
  sshCommand(options?: string[], remote?: string[]): string[];
  /** Runs a command to completion in the client namespace (non-zero exit is not an error). */
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Starts a command in the client namespace; stop() kills it if it still runs. */
  spawn(cmd: string[], opts?: SpawnOptions): ChildProcess;
  /** Drops every forwarded packet for `seconds`, starting now; resolves once the drop is in place. */
  outage(seconds: number): Promise<void>;
  sshdLog(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Preferred slot (addresses 10.213.<2n>.0/24 and 10.213.<2n+1>.0/24); another if it is taken. */
  slot?: number;
}

interface Resources {
  slot?: number;
  topology?: Topology;
  dir?: string;
  children: Set<ChildProcess>;
}

const active = new Map<Resources, () => Promise<void>>();
let staleCleaned: Promise<string[]> | null = null;
let exitHook = false;

/**
 * The lab's client options (besides the identity): strict host key checking, no agent, no
 * prompts. Mind Debian's ssh: BatchMode=yes makes ServerAliveInterval default to 300 (not 0),
 * so measurements that depend on keepalives set ServerAliveInterval explicitly.
 */
function clientOptions(knownHostsFile: string): Array<[string, string]> {
  return [
    ['IdentitiesOnly', 'yes'],
    ['IdentityAgent', 'none'],
    ['UserKnownHostsFile', knownHostsFile],
    ['GlobalKnownHostsFile', '/dev/null'],
    ['StrictHostKeyChecking', 'yes'],
    ['UpdateHostKeys', 'no'],
    ['BatchMode', 'yes'],
    ['ConnectTimeout', '5'],
  ];
}

/** Base `ssh` options for the lab (before any caller options). */
export function baseSshOptions(keyFile: string, knownHostsFile: string): string[] {
  return ['-F', '/dev/null', '-i', keyFile, ...clientOptions(knownHostsFile).flatMap(([k, v]) => ['-o', `${k}=${v}`])];
}

/** An ssh_config with `Host lab` for the target, for tools that take `-F file host`. */
function sshConfigText(target: LabTarget, keyFile: string, knownHostsFile: string): string {
  const opts: Array<[string, string]> = [
    ['HostName', target.addr],
    ['Port', String(target.port)],
    ['User', target.user],
    ['IdentityFile', keyFile],
    ...clientOptions(knownHostsFile),
  ];
  return ['Host lab', ...opts.map(([k, v]) => `  ${k} ${v}`), ''].join('\n');
}

/** A clean environment for clients: no agent, C locale, a dumb terminal for pty sessions. */
export const CLIENT_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C',
  TERM: 'dumb',
  HOME: '/root',
};

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const res of active.keys()) teardownSync(res);
  });
}

function teardownSync(res: Resources): void {
  killPids([...res.children].flatMap((c) => (c.pid && c.exitCode === null ? [c.pid] : [])), 'SIGKILL');
  if (res.topology) deleteNamespacesSync(namespacesOf(res.topology));
  if (res.dir) rmSync(res.dir, { recursive: true, force: true });
  if (res.slot !== undefined) rmSync(join(SLOT_ROOT, `slot-${res.slot}`), { recursive: true, force: true });
}

async function teardown(res: Resources): Promise<void> {
  // Everything the lab started runs inside its namespaces: killed there, leaves first.
  if (res.topology) await deleteNamespaces(namespacesOf(res.topology));
  await Promise.all(
    [...res.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            if (c.pid) killPids([c.pid], 'SIGKILL');
            resolve();
          }, 1000);
          c.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
  if (res.dir) await rm(res.dir, { recursive: true, force: true });
  if (res.slot !== undefined) await releaseSlot(res.slot);
}

/** Waits for sshd's "Server listening" in its log; throws with the log and stderr if it won't. */
async function waitForListening(file: string, proc: ChildProcess, timeoutMs = 10_000): Promise<void> {
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/Server listening on /.test(text)) return;
    const why = proc.exitCode !== null || proc.signalCode !== null ? 'sshd exited early' : Date.now() > until ? `sshd did not start within ${timeoutMs} ms` : null;
    if (why) throw new Error(`${why}:\n${(text + stderr).trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the lab for a scenario (by name or object). Throws, having cleaned up, if it can't. */
export async function startLab(scenario: string | Scenario, opts: StartOptions = {}): Promise<Lab> {
  const sc = typeof scenario === 'string' ? getScenario(scenario) : scenario;
  installExitHook();
  staleCleaned ??= cleanStale().then((removed) => {
    if (removed.length) console.error(`lab: removed leftovers of a crashed run: ${removed.join(', ')}`);
    return removed;
  });
  await staleCleaned;
  await ensureLabUser();

  const res: Resources = { children: new Set() };
  const stop = async () => {
    if (!active.has(res)) return;
    active.delete(res);
    await teardown(res);
  };
  active.set(res, stop);
  try {
    res.slot = await claimSlot(opts.slot);
    const topo = topologyFor(res.slot);
    res.dir = await mkdtemp(join(tmpdir(), `${TMP_PREFIX}${process.pid}-${sc.name}-`));
    res.topology = topo;
    await createTopology(topo, {
      clientRouteMtu: sc.middlebox.clientRouteMtu,
      middleboxSysctls: middleboxSysctls(sc.middlebox),
    });
    await nsExec(topo.middleboxNs, ['nft', '-f', '-'], { input: nftScript(sc.middlebox) });
    const files: SshdFiles = await writeSshdFiles(res.dir, {
      scenario: sc.name,
      listenAddr: topo.serverAddr,
      port: 22,
      options: sc.sshd,
      setEnv: sc.setEnv,
    });
    const sshd = nsSpawn(topo.serverNs, sshdArgv(files), { stdio: ['ignore', 'ignore', 'pipe'] });
    res.children.add(sshd);
    await waitForListening(files.log, sshd);

    const target: LabTarget = { addr: topo.serverAddr, port: 22, user: LAB_USER };
    const sshConfigFile = join(res.dir, 'ssh_config');
    await writeFile(sshConfigFile, sshConfigText(target, files.clientKey, files.knownHosts));
    const lab: Lab = {
      scenario: sc,
      target,
      keyFile: files.clientKey,
      knownHostsFile: files.knownHosts,
      clientNs: topo.clientNs,
      middleboxNs: topo.middleboxNs,
      serverNs: topo.serverNs,
      dir: res.dir,
      sshdLogFile: files.log,
      sshdConfigFile: files.config,
      sshConfigFile,
      topology: topo,
      sshCommand: (options = [], remote = []) => [
        'ssh',
        ...baseSshOptions(files.clientKey, files.knownHosts),
        ...options,
        '-p', String(target.port),
        '-l', target.user,
        target.addr,
        ...remote,
      ],
      exec: (cmd, o = {}) => nsExec(topo.clientNs, cmd, { check: false, env: CLIENT_ENV, ...o }),
      spawn: (cmd, o = {}) => {
        const child = nsSpawn(topo.clientNs, cmd, { env: CLIENT_ENV, ...o });
        res.children.add(child);
        child.on('close', () => res.children.delete(child));
        return child;
      },
      outage: async (seconds) => {
        await nsExec(topo.middleboxNs, outageCommand(seconds));
      },
      sshdLog: () => readFile(files.log, 'utf8'),
      stop,
    };
    return lab;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Stops every lab this process started. */
/** Runs `fn` against a fresh lab of the scenario, and stops the lab whatever happens. */
export async function withLab<T>(scenario: string | Scenario, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await startLab(scenario);
  try {
    return await fn(lab);
  } finally {
    await lab.stop();
  }
}

export async function stopAllLabs(): Promise<void> {
  await Promise.all([...active.values()].map((stop) => stop()));
}

/** Tears every lab down on SIGINT/SIGTERM/SIGHUP, then exits (128 + signal number). */
export function stopLabsOnSignals(): void {
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  for (const [sig, n] of Object.entries(codes) as Array<[NodeJS.Signals, number]>) {
    process.once(sig, () => {
      process.stderr.write(`\nlab: ${sig}, tearing down\n`);
      void stopAllLabs().finally(() => process.exit(128 + n));
    });
  }
}
