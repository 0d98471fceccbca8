// Recording fixtures: run a scenario's RecordPlan with the real `ssh -vvv` client inside the
// client namespace and keep what a user would paste (client transcript), the sshd -E log,
// `sshd -T` and an expectation, under fixtures/lab/<scenario>/.
//
// The transcript is ssh's stderr, plus stdout for pty sessions (shell output such as the TMOUT
// message is part of it), in the order written (one pipe for both), byte for byte as
// `ssh -vvv ... 2>&1 | tee client.log` would keep it: ssh's log lines and pty output end in CRLF,
// bash's auto-logout message starts with BEL. server.log is the -E file as sshd wrote it (CRLF
// too). Keys are fixed (sshd.ts) and each scenario asks for its own slot, so fingerprints and
// addresses do not churn between recordings; temp dir paths, ports and pids do (they are facts).

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { holdRawConnections } from './checks.js';
import { ClientProc, sleep } from './client.js';
import { startLab, type Lab } from './lab.js';
import { nsExec, run } from './netns.js';
import { SCENARIOS, type RecordPlan, type Scenario } from './scenarios.js';
import { sshdDashT } from './sshd.js';

export interface Recording {
  scenario: Scenario;
  /** `ssh -V` output, e.g. "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026". */
  sshVersion: string;
  clientLog: string;
  /** Control transcripts (RecordPlan.controls), by name. */
  controls: Array<{ name: string; log: string }>;
  serverLog: string;
  sshdT: string;
  /** How ssh ended: exit code or signal, after how long; `killed` when the plan's limit hit. */
  exit: { code: number | null; signal: string | null; seconds: number; killed: boolean };
}

/** The repository root (where package.json is), from this module's location (src or dist). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export async function sshVersion(): Promise<string> {
  const res = await run(['ssh', '-V'], { check: false });
  return (res.stderr || res.stdout).trim();
}

/** The `ssh -vvv` argv of a plan, wrapped so stdout (pty sessions) and stderr share one pipe. */
export function recordArgv(lab: Lab, plan: RecordPlan): string[] {
  const ssh = lab.sshCommand(['-vvv', ...(plan.tty ? ['-tt'] : []), ...plan.options], plan.command ? [plan.command] : []);
  return ['sh', '-c', plan.tty ? 'exec "$@" 2>&1' : 'exec "$@" 2>&1 >/dev/null', 'sh', ...ssh];
}

/** Runs a plan's steps against a running ssh; returns whether it had to be killed at the limit. */
async function drive(lab: Lab, proc: ClientProc, plan: RecordPlan): Promise<boolean> {
  const limitMs = plan.limit * 1000;
  const origin = plan.startAt === 'connect' ? 0 : await proc.waitFor(/Entering interactive session/, limitMs);
  for (const step of origin === null ? [] : plan.steps) {
    const wait = proc.startedAt + (origin ?? 0) + step.at * 1000 - Date.now();
    if (wait > 0 && (await proc.waitExit(wait))) break;
    if ('type' in step) proc.write(step.type);
    else if ('outage' in step) await lab.outage(step.outage);
    else proc.kill(step.signal);
  }
  if (await proc.waitExit(Math.max(0, proc.startedAt + limitMs - Date.now()))) return false;
  await proc.stop();
  return true;
}

export async function recordScenario(sc: Scenario, opts: { slot?: number } = {}): Promise<Recording> {
  const lab = await startLab(sc, opts);
  let holder: ClientProc | null = null;
  try {
    const plan = sc.record;
    if (plan.rawConnections) {
      holder = await holdRawConnections(lab, plan.rawConnections);
      await sleep(500);
    }
    if (plan.clientSysctls) {
      await nsExec(lab.clientNs, ['sysctl', '-q', '-w', ...Object.entries(plan.clientSysctls).map(([k, v]) => `${k}=${v}`)]);
    }
    const proc = new ClientProc(lab.spawn(recordArgv(lab, plan)));
    const killed = await drive(lab, proc, plan);
    await sleep(1000); // let the server log what it saw
    const exit = proc.exit ?? { code: null, signal: null, ms: proc.elapsed() };
    const controls: Recording['controls'] = [];
    for (const control of plan.controls ?? []) {
      // ssh takes the first value of an option: the control's come first
      const cp = { ...plan, options: [...control.options, ...plan.options], steps: [] };
      const c = new ClientProc(lab.spawn(recordArgv(lab, { ...cp, command: plan.command ?? 'exit' })));
      if (!(await c.waitExit(plan.limit * 1000))) await c.stop();
      controls.push({ name: control.name, log: c.transcript });
    }
    return {
      scenario: sc,
      sshVersion: await sshVersion(),
      clientLog: proc.transcript,
      controls,
      serverLog: await lab.sshdLog(),
      sshdT: await sshdDashT(lab.sshdConfigFile),
      exit: { code: exit.code, signal: exit.signal, seconds: Math.round(exit.ms / 100) / 10, killed },
    };
  } finally {
    await holder?.stop();
    await lab.stop();
  }
}

export function expectYaml(rec: Recording, date = new Date()): string {
  const sc = rec.scenario;
  const controls = (sc.record.controls ?? []).map((c) => `; client-${c.name}.log: the same with ${c.options.join(' ')}`).join('');
  const note =
    `recorded from the lab scenario ${sc.name} with ${rec.sshVersion}, sshd -E log at VERBOSE, ` +
    `${date.toISOString().slice(0, 10)}; variant: ${sc.record.variant}${controls}` +
    (sc.record.top ? `; not expected first: ${sc.record.top.why}` : '');
  const doc: Record<string, unknown> = { note, fires: sc.cause };
  if (sc.cause === null) doc.clean = true;
  doc.top = sc.record.top ? sc.record.top.value : true;
  return stringify(doc, { lineWidth: 0 });
}

/** Writes client.log, server.log, sshd-T.txt and expect.yaml; returns the paths written. */
export async function writeFixture(rec: Recording, root = join(repoRoot(), 'fixtures', 'lab')): Promise<string[]> {
  const dir = resolve(root, rec.scenario.name);
  await mkdir(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['client.log', rec.clientLog],
    ...rec.controls.map((c): [string, string] => [`client-${c.name}.log`, c.log]),
    ['server.log', rec.serverLog],
    ['sshd-T.txt', rec.sshdT],
    ['expect.yaml', expectYaml(rec)],
  ];
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}

/**
 * Slots of recordings: scenario i records in slot RECORD_SLOT_BASE + i (10.213.<200+2i>.0/24 and
 * 10.213.<201+2i>.0/24), away from the low slots tests take, so addresses stay put.
 */
export const RECORD_SLOT_BASE = 100;

/** Records the named scenarios (all by default) in parallel, each in its own fixed slot. */
export async function recordAll(names: string[] = SCENARIOS.map((s) => s.name)): Promise<Recording[]> {
  const chosen = names.map((n) => {
    const i = SCENARIOS.findIndex((s) => s.name === n);
    if (i < 0) throw new Error(`unknown lab scenario "${n}"`);
    return { sc: SCENARIOS[i] as Scenario, slot: RECORD_SLOT_BASE + i };
  });
  return Promise.all(chosen.map(({ sc, slot }) => recordScenario(sc, { slot })));
}
