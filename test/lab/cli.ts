// npm run lab -- list
// npm run lab -- run <scenario> [--hold]   measure what the scenario does (checks.ts), print the facts;
//                                          --hold: then keep the lab up for manual use until Ctrl-C
// npm run lab -- record [scenario...]      record fixtures/lab/<scenario>/ (all scenarios by default)

import { labAvailability } from './availability.js';
import { CHECKS, type CheckName } from './checks.js';
import { startLab, stopLabsOnSignals } from './lab.js';
import { recordAll, writeFixture } from './record.js';
import { getScenario, SCENARIOS } from './scenarios.js';

const USAGE = 'usage: npm run lab -- list | run <scenario> [--hold] | record [scenario...]';

function fail(msg: string, code = 2): never {
  process.stderr.write(`lab: ${msg}\n`);
  process.exit(code);
}

function scenarioOrUsage(name: string): ReturnType<typeof getScenario> {
  try {
    return getScenario(name);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

function requireLab(): void {
  const a = labAvailability();
  if (!a.ok) fail(`cannot run here: ${a.why}`, 3);
}

async function list(): Promise<void> {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  for (const s of SCENARIOS) {
    process.stdout.write(`${s.name.padEnd(width)}  ${(s.cause ?? '(none: healthy)').padEnd(26)}  ${s.summary}\n`);
  }
}

async function runOne(name: string | undefined, hold: boolean): Promise<void> {
  if (!name) fail(USAGE);
  const sc = scenarioOrUsage(name);
  requireLab();
  const lab = await startLab(sc);
  try {
    process.stderr.write(`lab: ${sc.name} up (${lab.clientNs} -> ${lab.middleboxNs} -> ${lab.serverNs}); measuring...\n`);
    const t = Date.now();
    const facts = await CHECKS[sc.name as CheckName](lab);
    process.stdout.write(JSON.stringify({ scenario: sc.name, cause: sc.cause, seconds: (Date.now() - t) / 1000, facts }, null, 2) + '\n');
    if (hold) {
      process.stderr.write(
        `lab: holding; try:\n  ip netns exec ${lab.clientNs} ${lab.sshCommand().map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\n` +
          `  sshd log: ${lab.sshdLogFile}\nCtrl-C tears it down.\n`,
      );
      await new Promise(() => undefined); // until a signal
    }
  } finally {
    await lab.stop();
  }
}

async function record(names: string[]): Promise<void> {
  for (const n of names) scenarioOrUsage(n);
  requireLab();
  const t = Date.now();
  const recs = await recordAll(names.length ? names : undefined);
  for (const rec of recs) {
    const files = await writeFixture(rec);
    const how = rec.exit.killed ? 'killed at the limit' : rec.exit.signal ? `signal ${rec.exit.signal}` : `exit ${rec.exit.code}`;
    process.stdout.write(`${rec.scenario.name}: ssh ended after ${rec.exit.seconds} s (${how}); wrote ${files.length} files in ${files[0]?.replace(/\/[^/]+$/, '')}\n`);
  }
  process.stdout.write(`recorded ${recs.length} scenario(s) in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}

async function main(argv: string[]): Promise<void> {
  stopLabsOnSignals();
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'list':
      return list();
    case 'run':
      return runOne(rest.find((a) => !a.startsWith('--')), rest.includes('--hold'));
    case 'record':
      return record(rest);
    default:
      fail(USAGE);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => fail(e instanceof Error ? e.message : String(e), 1),
);
