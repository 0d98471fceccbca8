import Table from 'cli-table3';
import type { Report } from './model.js';
import { percent, style, targetLabel } from './style.js';
import { causesWithFixes, headline, idleSummary, inputSummary } from './summary.js';
import { renderWatchTimeline } from './watch-timeline.js';
import { renderIdleTimeline } from './timeline.js';

/** The terminal report: a short verdict first, then causes, fixes, advisories and probe status. */
export function renderTable(report: Report, opts: { color: boolean; width?: number }): string {
  const s = style(opts.color);
  const width = Math.max(60, Math.min(opts.width ?? 100, 140));
  const out: string[] = [];
  const head = (t: string) => out.push('', s.bold(t));

  out.push(`${s.bold('ssh-doctor')} ${report.version}: ${targetLabel(report.target)}`);
  const verdict = headline(report);
  out.push(verdict.kind === 'none' ? s.green(verdict.text) : verdict.kind === 'likely' ? s.red(verdict.text) : s.yellow(verdict.text));
  for (const line of idleSummary(report.measurements)) out.push(line);
  if (report.measurements.watch) out.push('', renderWatchTimeline(report.measurements.watch, { width }).trimEnd());

  if (report.measurements.idle?.traces?.length) {
    head('Idle test');
    out.push(renderIdleTimeline(report.measurements.idle, { width }));
  }

  if (report.causes.length > 0) {
    head('Causes, most likely first');
    const evidenceWidth = width - 40;
    const table = new Table({
      head: ['#', 'cause', 'conf.', 'evidence'],
      colWidths: [4, 28, 7, evidenceWidth],
      wordWrap: true,
      style: { head: opts.color ? ['bold'] : [], border: opts.color ? ['grey'] : [] },
    });
    report.causes.forEach((c, i) => {
      table.push([String(i + 1), `${c.id}${c.candidate ? ' (candidate)' : ''}\n${s.dim(c.title)}`, percent(c.confidence), c.evidence.map((e) => `- ${e}`).join('\n') || '-']);
    });
    out.push(table.toString());

    if (report.causes.some((c) => c.confirmWith?.length)) {
      head('Next tests (what would confirm or rule each out)');
      report.causes.forEach((c, i) => {
        if (!c.confirmWith?.length) return;
        out.push(`${i + 1}. ${s.bold(c.id)}`);
        for (const t of c.confirmWith) {
          out.push(`   ${t.why}`);
          for (const l of t.command.split('\n')) out.push(`      ${l}`);
        }
      });
    }

    head('Fixes');
    const fixed = new Set(causesWithFixes(report.causes));
    report.causes.forEach((c, i) => {
      if (c.fixes.length === 0 || !fixed.has(c)) return;
      out.push(`${i + 1}. ${s.bold(c.id)}`);
      for (const f of c.fixes) {
        out.push(`   [${f.where}]${f.file ? ` ${f.file}` : ''}: ${f.why}`);
        for (const l of f.snippet.split('\n')) out.push(`      ${l}`);
      }
    });
  }

  if (report.ruledOut.length > 0) {
    head('Ruled out');
    for (const r of report.ruledOut) out.push(`- ${r.id}: ${r.why}`);
  }
  if (report.symptoms.length > 0) {
    head('Read from your words');
    for (const x of report.symptoms) out.push(`- "${x.from}": ${x.means ?? x.fact}${typeof x.value === 'number' ? ` (${x.value} s)` : ''}`);
  }

  if (report.advisories.length > 0) {
    head('Advisories (risks, no drop seen)');
    for (const a of report.advisories) {
      out.push(`${s.yellow('[WARN]')} ${a.title} (${a.id})`);
      out.push(`   ${a.why}`);
      for (const f of a.fixes) {
        out.push(`   [${f.where}]${f.file ? ` ${f.file}` : ''}:`);
        for (const l of f.snippet.split('\n')) out.push(`      ${l}`);
      }
    }
  }

  if (report.probes.length > 0) {
    head('Probes');
    for (const p of report.probes) {
      const tag = p.status === 'ok' ? s.green('[OK]     ') : p.status === 'failed' ? s.red('[FAILED] ') : s.dim('[SKIPPED]');
      out.push(`${tag} ${p.id} (${p.durationMs} ms)${p.detail ? ` -- ${p.detail}` : ''}`);
    }
  }
  if (report.inputs.length > 0) {
    head('Inputs');
    for (const i of report.inputs) out.push(inputSummary(i));
  }
  if (report.errors.length > 0) {
    head('Errors');
    for (const e of report.errors) out.push(s.red(`- ${e}`));
  }
  return `${out.join('\n')}\n`;
}
