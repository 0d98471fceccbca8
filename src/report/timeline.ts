// The idle test drawn as a timeline: one line per connection over the test's wall time, pings
// and deaths marked, then the idle ages tested with the bracket for T. Plain text (ASCII, so it
// survives any terminal, log or ticket) or Markdown (the same drawing in a code block).
import type { DropKind, IdleConnectionTrace, IdleMeasurement } from '../evidence/types.js';

export interface TimelineOptions {
  /** Total width in columns (the terminal's width, or 100 for files). */
  width: number;
  markdown?: boolean;
}

const MARK: Record<DropKind, string> = { silent: 'x', reset: 'R', 'closed-by-server': 'C', 'channel-closed': 'C' };
const KIND_WORDS: Record<DropKind, string> = {
  silent: 'silently (pings went unanswered)',
  reset: 'with a TCP reset',
  'closed-by-server': 'closed by the server',
  'channel-closed': 'channel closed by the server',
};
const LEGEND = ['o ping answered', 'x no answer (silent drop)', 'R reset', 'C closed by the server', 'ka keepalive control', '| opened'];
const LABEL = 6;

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, ''));

/** Word-wraps one paragraph to `width` columns. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function legend(width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const item of LEGEND) {
    if (line && line.length + 3 + item.length > width) {
      out.push(line);
      line = item;
    } else line = line ? `${line}   ${item}` : item;
  }
  if (line) out.push(line);
  return out;
}

function niceStep(span: number, slots: number): number {
  const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
  return steps.find((s) => span / s <= slots) ?? steps[steps.length - 1]!;
}

/** A scale line: tick labels placed at their column, never overlapping. */
function axis(span: number, plotW: number, unit: string): string {
  const cells = Array.from({ length: plotW }, () => ' ');
  const step = niceStep(span, Math.max(1, Math.floor(plotW / 7)));
  let free = 0;
  for (let v = 0; v <= span + 1e-9; v += step) {
    const label = fmt(v);
    const col = Math.round((v / span) * (plotW - 1));
    const startCol = Math.min(col, plotW - label.length);
    if (startCol < free) continue;
    for (let i = 0; i < label.length; i++) cells[startCol + i] = label[i]!;
    free = startCol + label.length + 1;
  }
  return `${unit.padEnd(LABEL)}${cells.join('').trimEnd()}`;
}

function row(trace: IdleConnectionTrace, span: number, plotW: number, end: number): string {
  const col = (t: number) => Math.max(0, Math.min(plotW - 1, Math.round((t / span) * (plotW - 1))));
  const cells = Array.from({ length: plotW }, () => ' ');
  const from = col(trace.openedAt);
  const to = col(trace.diedAt ?? end);
  for (let i = from; i <= to; i++) cells[i] = '-';
  cells[from] = '|';
  for (const p of trace.pings) cells[col(p.at)] = p.ok ? 'o' : MARK[p.kind ?? 'silent'];
  if (trace.diedAt !== undefined) cells[to] = MARK[trace.kind ?? 'silent'];
  const label = trace.id === 0 ? 'ka' : `#${trace.id}`;
  return `${label.padEnd(LABEL - 1)} ${cells.join('').trimEnd()}`;
}

/** The idle ages that were tested, with T's bracket as `[###]`. */
function ageLine(m: IdleMeasurement, plotW: number): { scale: string; line: string } {
  const traces = (m.traces ?? []).filter((t) => t.id !== 0);
  const ages = traces.flatMap((t) => t.pings.map((p) => p.atIdle));
  const span = Math.max(1, m.testedUpToSeconds, m.dropAfterSeconds?.high ?? 0, ...ages) * 1.02;
  const col = (a: number) => Math.max(0, Math.min(plotW - 1, Math.round((a / span) * (plotW - 1))));
  const cells = Array.from({ length: plotW }, () => '.');
  const b = m.dropAfterSeconds;
  if (b) {
    const lo = col(b.low);
    const hi = col(b.high);
    for (let i = lo; i <= hi; i++) cells[i] = '#';
    cells[lo] = '(';
    cells[hi] = ']';
  }
  // answered ages first, deaths over them
  for (const t of traces) for (const p of t.pings) if (p.ok && cells[col(p.atIdle)] === '.') cells[col(p.atIdle)] = 'o';
  for (const t of traces) for (const p of t.pings) if (!p.ok && cells[col(p.atIdle)] === '.') cells[col(p.atIdle)] = MARK[p.kind ?? 'silent'];
  return { scale: axis(span, plotW, 'idle'), line: `${'age'.padEnd(LABEL)}${cells.join('')}` };
}

function summary(m: IdleMeasurement): string[] {
  const out: string[] = [];
  const b = m.dropAfterSeconds;
  if (m.verdict === 'drops' && b) {
    const how = m.dropKind ? `, ${KIND_WORDS[m.dropKind]}` : '';
    out.push(`Idle connections drop after T in (${fmt(b.low)} s, ${fmt(b.high)} s]${how}.`);
    if (m.disconnectReason) out.push(`Server's reason: ${m.disconnectReason}`);
    if (m.matchedDefault) out.push(`Matches a known default: ${m.matchedDefault.name}.`);
  } else {
    out.push(`No idle connection dropped up to ${fmt(m.testedUpToSeconds)} s idle.`);
  }
  if (m.keepaliveSurvived === true) out.push('The keepalive control connection survived: idleness, not connection age, ends them.');
  else if (m.keepaliveSurvived === false) {
    out.push(
      `The keepalive control connection died too${m.controlDiedAfterSeconds != null ? ` (after ${fmt(m.controlDiedAfterSeconds)} s)` : ''}: something ends connections whatever their traffic.`,
    );
  }
  out.push(`${m.connections} connections, ${fmt(m.wallSeconds)} s.`);
  if (m.note) out.push(`Note: ${m.note}`);
  return out;
}

export function renderIdleTimeline(m: IdleMeasurement, opts: TimelineOptions): string {
  const plotW = Math.max(20, Math.floor(opts.width) - LABEL - (opts.markdown ? 0 : 1));
  const traces = m.traces ?? [];
  const end = m.wallSeconds;
  const span = Math.max(1, end, ...traces.flatMap((t) => [t.diedAt ?? 0, ...t.pings.map((p) => p.at)]));
  const drawing: string[] = [];
  if (traces.length) {
    drawing.push(axis(span, plotW, 'time'));
    for (const t of [...traces].sort((a, b) => a.id - b.id)) drawing.push(row(t, span, plotW, end));
  }
  const age = ageLine(m, plotW);
  drawing.push('', age.scale, age.line);
  const text = summary(m);
  const width = Math.max(LABEL + 20, Math.floor(opts.width));
  if (opts.markdown) {
    return [`**Idle test.** ${text.join(' ')}`, '', '```text', ...drawing, '', ...legend(width), '```', ''].join('\n');
  }
  return [...text.flatMap((t) => wrap(t, width)), '', ...drawing, '', ...legend(width), ''].join('\n');
}
