import type { Evidence } from '../evidence/types.js';
import { holds } from './conditions.js';
import { factsFrom, type Facts } from './facts.js';
import { loadPrevalence } from './prevalence.js';
import type { Advisory, Cause, Diagnosis, Fix, Rule, RuledOut } from './rule.js';
import { render } from './template.js';

const DEFAULT_BASE = 0.3;

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function fixesOf(rule: Rule, facts: Facts): Fix[] {
  const out: Fix[] = [];
  for (const f of rule.fixes) {
    if (f.when && !holds(f.when, facts)) continue;
    const snippet = render(f.snippet, facts);
    const why = render(f.why, facts);
    const file = f.file === undefined ? undefined : render(f.file, facts);
    if (snippet === null || why === null || file === null) continue;
    out.push({ where: f.where, ...(file !== undefined ? { file } : {}), snippet: snippet.replace(/\n+$/, ''), why: why.trim() });
  }
  return out;
}

function confirmsOf(rule: Rule, facts: Facts): Array<{ command: string; why: string }> {
  const out: Array<{ command: string; why: string }> = [];
  for (const c of rule.confirm ?? []) {
    if (c.when && !holds(c.when, facts)) continue;
    const command = render(c.command, facts);
    const why = render(c.why, facts);
    if (command === null || why === null) continue;
    out.push({ command: command.trim(), why: why.trim() });
  }
  return out;
}

type Verdict = { confidence: number; evidence: string[] } | { ruledOut: string } | null;

/**
 * Confidence = base + the weights of the signals that hold - the weights of contradicting
 * evidence, clamped to 0..1. A veto (or confidence falling to 0) means the cause does not fire:
 * it is ruled out, with the veto's words, when its own conditions held.
 */
function judge(rule: Rule, facts: Facts): Verdict {
  if (!holds(rule.when, facts)) return null;
  let confidence = rule.base ?? DEFAULT_BASE;
  const evidence: string[] = [];
  for (const s of rule.signals ?? []) {
    if (!holds(s.when, facts)) continue;
    confidence += s.weight;
    const line = s.evidence ? render(s.evidence, facts) : null;
    if (line && !evidence.includes(line)) evidence.push(line);
  }
  for (const a of rule.against ?? []) {
    if (!holds(a.when, facts)) continue;
    if (a.veto) {
      const why = a.evidence ? render(a.evidence, facts) : null;
      return { ruledOut: why ?? 'the evidence contradicts it' };
    }
    confidence -= a.weight ?? 0;
    const line = a.evidence ? render(a.evidence, facts) : null;
    if (line) evidence.push(`against: ${line}`);
  }
  confidence = Math.min(1, confidence);
  if (confidence <= 0) return { ruledOut: evidence.filter((e) => e.startsWith('against: ')).map((e) => e.slice(9)).join('; ') || 'the evidence contradicts it' };
  return { confidence: round(confidence), evidence };
}

export interface DiagnoseOptions {
  /**
   * How common each cause is among confirmed real-world cases (corpus/prevalence.json): where
   * the evidence cannot separate two causes, the commoner ranks first.
   */
  prevalence?: Record<string, number>;
}

export function diagnose(ev: Evidence, rules: Rule[], opts: DiagnoseOptions = {}): Diagnosis {
  const facts = factsFrom(ev);
  const causes: Cause[] = [];
  const ruledOut: RuledOut[] = [];
  const advisoryRules: Rule[] = [];
  for (const rule of rules) {
    if (rule.kind === 'advisory') {
      advisoryRules.push(rule);
      continue;
    }
    const verdict = judge(rule, facts);
    if (!verdict) continue;
    if ('ruledOut' in verdict) {
      ruledOut.push({ id: rule.id, title: rule.title, why: verdict.ruledOut });
      continue;
    }
    const confirmWith = confirmsOf(rule, facts);
    causes.push({
      id: rule.id,
      rule: rule.file,
      title: rule.title,
      confidence: verdict.confidence,
      evidence: verdict.evidence,
      fixes: fixesOf(rule, facts),
      ...(confirmWith.length ? { confirmWith } : {}),
    });
  }
  applyRanksBelow(causes, rules);
  const common = opts.prevalence ?? loadPrevalence().byCause;
  addCandidates(causes, ruledOut, rules, facts, common);
  causes.sort((a, b) => b.confidence - a.confidence || (common[b.id] ?? 0) - (common[a.id] ?? 0) || a.id.localeCompare(b.id));

  const fired = new Set(causes.map((c) => c.id));
  const advisories: Advisory[] = [];
  for (const rule of advisoryRules) {
    if (rule.suppressedBy?.some((id) => fired.has(id))) continue;
    if (!holds(rule.when, facts)) continue;
    if (rule.against?.some((a) => holds(a.when, facts))) continue;
    const why = render(rule.summary, facts) ?? rule.summary;
    advisories.push({ id: rule.id, title: rule.title, why: why.trim(), fixes: fixesOf(rule, facts) });
  }
  return { causes, advisories, ruledOut };
}

/** A candidate's confidence is at most this: it fits, but nothing singled it out. */
const CANDIDATE_MAX = 0.4;
/**
 * A candidate's share of the commonness among candidates, scaled: across the corpus the top
 * candidate is the confirmed cause less often than its share alone says (npm run bench prints
 * the calibration).
 */
const CANDIDATE_SCALE = 0.7;
/** A cause at this confidence stands out: no candidates are listed below it. */
const STANDS_OUT = 0.6;
/** A differential names the commonest few; the rest would be noise. */
const MAX_CANDIDATES = 5;

/**
 * Causes that fit the evidence without being singled out by it (a drop of some kind, and
 * nothing that tells which): listed after the causes the evidence points to, each with its share
 * of how common it is among these candidates in confirmed real-world cases, so a thin report
 * is a ranked differential with its next tests rather than silence.
 */
function addCandidates(causes: Cause[], ruledOut: RuledOut[], rules: Rule[], facts: Facts, common: Record<string, number>): void {
  // evidence that singles a cause out needs no differential below it
  if (causes.some((c) => c.confidence >= STANDS_OUT)) return;
  const named = new Set([...causes.map((c) => c.id), ...ruledOut.map((r) => r.id)]);
  const all = rules.filter((r) => r.kind === 'cause' && r.candidate && !named.has(r.id) && holds(r.candidate.when, facts));
  const total = all.reduce((n, r) => n + (common[r.id] ?? 1), 0);
  const fit = all.sort((a, b) => (common[b.id] ?? 1) - (common[a.id] ?? 1) || a.id.localeCompare(b.id)).slice(0, MAX_CANDIDATES);
  const ceiling = causes.length ? Math.min(CANDIDATE_MAX, Math.min(...causes.map((c) => c.confidence)) - 0.01) : CANDIDATE_MAX;
  for (const rule of fit) {
    const share = (common[rule.id] ?? 1) / total;
    const line = render(rule.candidate!.evidence, facts);
    const confirmWith = confirmsOf(rule, facts);
    causes.push({
      id: rule.id,
      rule: rule.file,
      title: rule.title,
      confidence: round(Math.max(0.05, Math.min(ceiling, CANDIDATE_SCALE * share))),
      evidence: [
        ...(line ? [line] : []),
        `a candidate: the evidence fits it without singling it out (${common[rule.id] ?? 0} of the corpus's confirmed cases had this cause)`,
      ],
      fixes: fixesOf(rule, facts),
      ...(confirmWith.length ? { confirmWith } : {}),
      candidate: true,
    });
  }
}

/** A contributing reason ranks just below the cause it contributes to, whatever its own weight. */
function applyRanksBelow(causes: Cause[], rules: Rule[]): void {
  const byId = new Map(causes.map((c) => [c.id, c]));
  for (const rule of rules) {
    const me = byId.get(rule.id);
    if (!me) continue;
    for (const above of rule.ranksBelow ?? []) {
      const other = byId.get(above);
      if (other && me.confidence >= other.confidence) me.confidence = round(Math.max(0.01, other.confidence - 0.05));
    }
  }
}
