// `npm run bench`: measurements, not pass/fail. Prints a table and writes bench/results.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { PACKAGE_ROOT } from '../src/paths.js';
import { writeAuthLog } from './auth-log.js';
import { formatIdleBench, idleBench } from './idle.js';
import { measure } from './measure.js';
import { writeMixedPaste } from './paste.js';
import { corpusFigures } from './calibration.js';

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

/** A million-line mixed paste, read with no flag at all, beside grep -c on the same file. */
async function mixedPaste(dir: string) {
  const path = join(dir, 'paste.txt');
  const lines = await writeMixedPaste(path, Number(process.env['BENCH_PASTE_LINES'] ?? 1_000_000));
  const ours = await measure(process.execPath, [CLI, 'explain', path, '--json']);
  const grep = await measure('grep', ['-c', 'ssh', path]);
  rmSync(path);
  return {
    lines,
    explainMs: Math.round(ours.wallMs),
    explainLinesPerSec: Math.round(lines / (ours.wallMs / 1000)),
    explainPeakRssMb: ours.peakRssKb === null ? null : Math.round(ours.peakRssKb / 1024),
    grepLinesPerSec: Math.round(lines / (grep.wallMs / 1000)),
  };
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
    const paste = await mixedPaste(dir);
    process.stdout.write(
      `Mixed paste (logs of every kind, configs, listings, prose; no flag): ${paste.lines} lines in ${paste.explainMs} ms = ${paste.explainLinesPerSec} lines/s, peak RSS ${paste.explainPeakRssMb ?? '?'} MB (grep -c: ${paste.grepLinesPerSec} lines/s)\n`,
    );
    const corpus = await corpusFigures();
    const ct = new Table({ head: ['corpus', 'catalogued', 'top-1', 'top-3', 'outside', 'outside >= 0.8', 'unrecognised'] });
    for (const [name, f] of [['evidence alone', corpus.evidenceAlone], ['with the users\' words', corpus.withDescriptions]] as const) {
      ct.push([name, f.catalogued, `${f.top1} (${f.top1Share})`, `${f.top3} (${f.top3Share})`, f.outside, f.outsideConfident, f.unrecognised]);
    }
    process.stdout.write(`Real-world corpus (corpus/cases)\n${ct.toString()}\n`);
    const cal = new Table({ head: ['confidence', 'causes named', 'mean confidence', 'share right'] });
    for (const r of corpus.calibration) cal.push([r.bin, r.causes, r.meanConfidence.toFixed(2), r.shareRight.toFixed(2)]);
    process.stdout.write(`Calibration (every cause named, with the users' words): is a cause named at confidence c right about c of the time?\n${cal.toString()}\n`);
    const start = await cliStart();
    const t = new Table({ head: ['lines', 'explain ms', 'explain lines/s', 'peak RSS MB', 'grep -c ms', 'grep lines/s', 'top cause'] });
    for (const r of parse) t.push([r.lines, r.explainMs, r.explainLinesPerSec, r.explainPeakRssMb ?? '?', r.grepMs, r.grepLinesPerSec, r.topCause]);
    process.stdout.write(`Log parse: explain --server-log on a generated auth.log, beside grep -c\n${t.toString()}\n`);
    process.stdout.write(`CLI start (ssh-doctor --version), median of 5: ${start.medianMs} ms\n`);
    const results = { date: new Date().toISOString(), node: process.version, idle, logParse: parse, mixedPaste: paste, corpus, cliStart: start };
    writeFileSync(join(PACKAGE_ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
