import type { Report } from './model.js';
import { percent, targetLabel } from './style.js';
import { causesWithFixes, headline, idleSummary, inputSummary } from './summary.js';
import { renderWatchTimeline } from './watch-timeline.js';
import { renderIdleTimeline } from './timeline.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

/** The same content as the other formats, for pasting into a ticket. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  out.push(`## ssh-doctor report: ${targetLabel(report.target)}`, '');
  out.push(`ssh-doctor ${report.version}, ${report.startedAt}, ${report.durationMs} ms.`, '');
  out.push(`**${headline(report).text}**`, '');
  const summary = idleSummary(report.measurements);
  if (summary.length) out.push(...summary.map((l) => `- ${l}`), '');
  if (report.measurements.watch) out.push(renderWatchTimeline(report.measurements.watch, { width: 100, markdown: true }));
  if (report.measurements.idle?.traces?.length) {
    out.push('### Idle test', '', renderIdleTimeline(report.measurements.idle, { width: 100, markdown: true }), '');
  }

  if (report.causes.length > 0) {
    out.push('### Causes', '', '| # | cause | confidence | evidence |', '|---|---|---|---|');
    report.causes.forEach((c, i) => {
      out.push(`| ${i + 1} | \`${c.id}\`${c.candidate ? ' (candidate)' : ''}<br>${cell(c.title)} | ${percent(c.confidence)} | ${c.evidence.map(cell).join('<br>')} |`);
    });
    if (report.causes.some((c) => c.confirmWith?.length)) {
      out.push('', '### Next tests', '');
      report.causes.forEach((c, i) => {
        if (!c.confirmWith?.length) return;
        out.push(`${i + 1}. **${c.id}**`, '');
        for (const t of c.confirmWith) out.push(`   ${t.why}`, '', '   ```', ...t.command.split('\n').map((l) => `   ${l}`), '   ```', '');
      });
    }
    out.push('', '### Fixes', '');
    const fixed = new Set(causesWithFixes(report.causes));
    report.causes.forEach((c, i) => {
      if (c.fixes.length === 0 || !fixed.has(c)) return;
      out.push(`${i + 1}. **${c.id}**`, '');
      for (const f of c.fixes) {
        out.push(`   *${f.where}*${f.file ? ` \`${f.file}\`` : ''}: ${f.why}`, '', '   ```', ...f.snippet.split('\n').map((l) => `   ${l}`), '   ```', '');
      }
    });
  }
  if (report.ruledOut.length > 0) out.push('### Ruled out', '', ...report.ruledOut.map((r) => `- \`${r.id}\`: ${r.why}`), '');
  if (report.symptoms.length > 0) {
    out.push('### Read from your words', '', ...report.symptoms.map((x) => `- "${x.from}": ${x.means ?? x.fact}${typeof x.value === 'number' ? ` (${x.value} s)` : ''}`), '');
  }
  if (report.advisories.length > 0) {
    out.push('### Advisories', '');
    for (const a of report.advisories) {
      out.push(`- **${a.title}** (\`${a.id}\`): ${a.why}`);
      for (const f of a.fixes) out.push('', '  ```', ...f.snippet.split('\n').map((l) => `  ${l}`), '  ```');
    }
    out.push('');
  }
  if (report.probes.length > 0) {
    out.push('### Probes', '', '| probe | status | ms | detail |', '|---|---|---|---|');
    for (const p of report.probes) out.push(`| ${p.id} | ${p.status} | ${p.durationMs} | ${cell(p.detail ?? '')} |`);
    out.push('');
  }
  if (report.inputs.length > 0) {
    out.push('### Inputs', '');
    for (const i of report.inputs) out.push(`- ${cell(inputSummary(i))}`);
    out.push('');
  }
  if (report.errors.length > 0) {
    out.push('### Errors', '', ...report.errors.map((e) => `- ${e}`), '');
  }
  return `${out.join('\n')}\n`;
}
