import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { Redactor } from '../evidence/redact.js';
import { printableDeep } from '../evidence/secrets.js';
import type { Evidence } from '../evidence/types.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import type { Report } from '../report/model.js';
import { colorWanted } from '../report/style.js';
import { renderTable } from '../report/table.js';

export type Format = 'table' | 'json' | 'markdown';

export interface OutputOptions {
  format: Format;
  output?: string;
  saveEvidence?: string;
  redact: boolean;
}

/**
 * The report as text. Table and Markdown are printed on terminals and pasted into tickets: the
 * target's own text in them (banner, stderr, log lines) has its control characters made visible,
 * so it cannot drive the terminal. JSON escapes them itself.
 */
export function render(report: Report, format: Format, toTerminal: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(printableDeep(report));
    case 'table':
      return renderTable(printableDeep(report), { color: toTerminal && colorWanted(), width: process.stdout.columns });
  }
}

async function write(path: string, text: string, what: string): Promise<void> {
  try {
    await writeFile(path, text, { mode: 0o600 });
  } catch (e) {
    throw new UsageError(`cannot write ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Writes the report (stdout or -o FILE) and, if asked, the evidence bundle. */
export async function emit(report: Report, ev: Evidence, opts: OutputOptions): Promise<void> {
  if (opts.saveEvidence) {
    const bundle = opts.redact ? new Redactor(ev).deep(ev) : ev;
    await write(opts.saveEvidence, `${JSON.stringify(bundle, null, 2)}\n`, 'evidence bundle');
  }
  if (opts.output) await write(opts.output, render(report, opts.format, false), 'report');
  else process.stdout.write(render(report, opts.format, true));
}
