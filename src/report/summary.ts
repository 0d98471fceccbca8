import type { InputFile, Measurements } from '../evidence/types.js';

function n(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** One-line readings of the measurements, shared by the terminal and Markdown reports. */
export function idleSummary(m: Measurements): string[] {
  const out: string[] = [];
  const idle = m.idle;
  if (idle) {
    if (idle.verdict === 'drops' && idle.dropAfterSeconds) {
      const { low, high } = idle.dropAfterSeconds;
      out.push(
        `Idle test: idle connections die after ${n(low)}-${n(high)} s (${idle.dropKind ?? 'unknown'})` +
          `${idle.keepaliveSurvived === true ? '; with keepalives the control connection survived' : idle.keepaliveSurvived === false ? '; the keepalive control died too' : ''}` +
          `${idle.matchedDefault ? `; matches ${idle.matchedDefault.name} (a hint)` : ''}.`,
      );
    } else {
      out.push(`Idle test: nothing dropped while idle for up to ${n(idle.testedUpToSeconds)} s.`);
    }
  }
  const sh = m.shellIdle;
  if (sh) {
    out.push(
      sh.verdict === 'closed'
        ? `Idle shell: closed after ${sh.afterSeconds === null ? '?' : n(sh.afterSeconds)} s (${sh.how ?? 'unknown'}${sh.message ? `: "${sh.message}"` : ''}).`
        : `Idle shell: still open after ${n(sh.testedUpToSeconds)} s.`,
    );
  }
  const v = m.verify;
  if (v) {
    out.push(`Verify: keepalive every ${v.keepaliveInterval} s ${v.survived ? 'kept' : 'did NOT keep'} a connection alive for ${n(v.heldSeconds)} s.`);
  }
  return out;
}

/** One input in words: what it was read as, how much of it was understood, and any disagreement with its flag. */
export function inputSummary(i: InputFile): string {
  const parts = i.readAs?.length ? i.readAs.map((r) => `${r.what} ${r.lines}`).join(', ') : i.kind;
  return (
    `${i.source}${i.given ? ` (${i.given})` : ''}: ${i.lines} lines, ${i.recognised} recognised, ${i.unparsed} not understood; read as ${parts}` +
    `${i.note ? `; ${i.note}` : ''}${i.dating ? `; ${i.dating}` : ''}`
  );
}

/** Below this, the top cause does not stand out: the report presents candidates to tell apart. */
export const STANDS_OUT = 0.6;

/** The verdict in one line, as every format opens with it. */
export function headline(report: { causes: Array<{ id: string; title: string; confidence: number }> }): { kind: 'none' | 'likely' | 'candidates'; text: string } {
  const top = report.causes[0];
  if (!top) return { kind: 'none', text: 'No likely cause of dropped sessions found.' };
  const pct = `${Math.round(top.confidence * 100)}%`;
  if (top.confidence >= STANDS_OUT) return { kind: 'likely', text: `Most likely: ${top.title} (${top.id}, ${pct})` };
  const n = report.causes.length;
  return {
    kind: 'candidates',
    text: `No cause stands out on this evidence: ${n === 1 ? 'one candidate' : `${n} candidates`}, best first (${top.id}, ${pct}); the next tests below tell them apart`,
  };
}

/** The causes whose fixes a report shows: those the evidence points to, or the best candidate when there are only candidates. */
export function causesWithFixes<C extends { candidate?: boolean }>(causes: C[]): C[] {
  const pointed = causes.filter((c) => !c.candidate);
  return pointed.length ? pointed : causes.slice(0, 1);
}
