import type { Evidence } from '../evidence/types.js';
import { holds } from './conditions.js';
import { factsFrom, type Facts } from './facts.js';
import type { Advisory, Cause, Diagnosis, Fix, Rule } from './rule.js';
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

/**
 * Confidence = base + the weights of the signals that hold - the weights of contradicting
 * evidence, clamped to 0..1. A veto (or confidence falling to 0) means the cause does not fire.
 */
function judge(rule: Rule, facts: Facts): { confidence: number; evidence: string[] } | null {
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
    if (a.veto) return null;
    confidence -= a.weight ?? 0;
    const line = a.evidence ? render(a.evidence, facts) : null;
    if (line) evidence.push(`against: ${line}`);
  }
  confidence = Math.min(1, confidence);
  if (confidence <= 0) return null;
  return { confidence: round(confidence), evidence };
}

export function diagnose(ev: Evidence, rules: Rule[]): Diagnosis {
  const facts = factsFrom(ev);
  const causes: Cause[] = [];
  const advisoryRules: Rule[] = [];
  for (const rule of rules) {
    if (rule.kind === 'advisory') {
      advisoryRules.push(rule);
      continue;
    }
    const verdict = judge(rule, facts);
    if (!verdict) continue;
    causes.push({
      id: rule.id,
      rule: rule.file,
      title: rule.title,
      confidence: verdict.confidence,
      evidence: verdict.evidence,
      fixes: fixesOf(rule, facts),
    });
  }
  applyRanksBelow(causes, rules);
  causes.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));

  const fired = new Set(causes.map((c) => c.id));
  const advisories: Advisory[] = [];
  for (const rule of advisoryRules) {
    if (rule.suppressedBy?.some((id) => fired.has(id))) continue;
    if (!holds(rule.when, facts)) continue;
    if (rule.against?.some((a) => holds(a.when, facts))) continue;
    const why = render(rule.summary, facts) ?? rule.summary;
    advisories.push({ id: rule.id, title: rule.title, why: why.trim(), fixes: fixesOf(rule, facts) });
  }
  return { causes, advisories };
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
