// `npm run bench`: measurements, not pass/fail. Prints a table and writes bench/results.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { PACKAGE_ROOT } from '../src/paths.js';
import { writeAuthLog } from './auth-log.js';
import { formatIdleBench, idleBench } from './idle.js';
import { measure } from './measure.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const SIZES = (process.env['BENCH_LINES'] ?? '1000000,4000000').split(',').map(Number);

async function logParse(dir: string) {
  const rows = [];
  for (const lines of SIZES) {
    const log = join(dir, `auth-${lines}.log`);
    await writeAuthLog(log, lines);
    const ours = await measure(process.execPath, [CLI, 'explain', '--server-log', log, '--json']);
    const grep = await measure('grep', ['-c', 'sshd', log]);
    const top = (JSON.parse(ours.stdout) as { causes: Array<{ id: string }> }).causes[0]?.id ?? 'none';
    rows.push({
      lines,
      explainMs: Math.round(ours.wallMs),
      explainLinesPerSec: Math.round(lines / (ours.wallMs / 1000)),
      explainPeakRssMb: ours.peakRssKb === null ? null : Math.round(ours.peakRssKb / 1024),
      grepMs: Math.round(grep.wallMs),
      grepLinesPerSec: Math.round(lines / (grep.wallMs / 1000)),
      topCause: top,
    });
    rmSync(log);
  }
  return rows;
}

async function cliStart() {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push((await measure(process.execPath, [CLI, '--version'])).wallMs);
  runs.sort((a, b) => a - b);
  return { medianMs: Math.round(runs[2]!) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-doctor-bench-'));
  try {
    const idle = await idleBench();
    process.stdout.write(`Idle test: ssh-doctor vs naive sequential bisection (loopback: the embedded middlebox; simulated: a slow server)\n${formatIdleBench(idle)}\n`);
    const parse = await logParse(dir);
    const start = await cliStart();
    const t = new Table({ head: ['lines', 'explain ms', 'explain lines/s', 'peak RSS MB', 'grep -c ms', 'grep lines/s', 'top cause'] });
    for (const r of parse) t.push([r.lines, r.explainMs, r.explainLinesPerSec, r.explainPeakRssMb ?? '?', r.grepMs, r.grepLinesPerSec, r.topCause]);
    process.stdout.write(`Log parse: explain --server-log on a generated auth.log, beside grep -c\n${t.toString()}\n`);
    process.stdout.write(`CLI start (ssh-doctor --version), median of 5: ${start.medianMs} ms\n`);
    const results = { date: new Date().toISOString(), node: process.version, idle, logParse: parse, cliStart: start };
    writeFileSync(join(PACKAGE_ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
