import type { Condition, Operand, Scalar } from './rule.js';
import type { Facts } from './facts.js';

const regexCache = new Map<string, RegExp>();

function regex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(source, 'i');
    regexCache.set(source, re);
  }
  return re;
}

function resolve(op: Operand, facts: Facts): Scalar | undefined {
  return op !== null && typeof op === 'object' ? facts.get(op.fact) : op;
}

function compare(a: Scalar, b: Scalar): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b);
  return undefined;
}

/** Text a `matches` pattern is tried on, at most (load.ts bounds the pattern's backtracking). */
export const MATCH_TEXT_MAX = 8192;

function same(a: Scalar, b: Scalar): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/**
 * Evaluates a condition against the facts. A comparison on a fact that is not known is false
 * (only `exists: false` holds for it): unknown evidence never fires a rule by itself.
 */
export function holds(cond: Condition, facts: Facts): boolean {
  if ('all' in cond) return cond.all.every((c) => holds(c, facts));
  if ('any' in cond) return cond.any.some((c) => holds(c, facts));
  if ('not' in cond) return !holds(cond.not, facts);
  const value = facts.get(cond.fact);
  if (cond.exists !== undefined) return (value !== undefined && value !== null) === cond.exists;
  if (value === undefined || value === null) return false;
  if (cond.in !== undefined) return cond.in.some((v) => v !== null && same(value, v));
  // a log line is at most a few KiB; the cut bounds what a pattern can cost on a crafted one
  if (cond.matches !== undefined) return regex(cond.matches).test(String(value).slice(0, MATCH_TEXT_MAX));
  for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) {
    const raw = cond[op];
    if (raw === undefined) continue;
    const other = resolve(raw, facts);
    if (other === undefined || other === null) return false;
    if (op === 'eq') return same(value, other);
    if (op === 'ne') return !same(value, other);
    const c = compare(value, other);
    if (c === undefined) return false;
    return op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
  }
  return false;
}

/** Every fact name a condition reads: used to check rules only name facts the engine knows. */
export function factsRead(cond: Condition, out: string[] = []): string[] {
  if ('all' in cond) cond.all.forEach((c) => factsRead(c, out));
  else if ('any' in cond) cond.any.forEach((c) => factsRead(c, out));
  else if ('not' in cond) factsRead(cond.not, out);
  else {
    out.push(cond.fact);
    for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) {
      const raw = cond[op];
      if (raw !== null && typeof raw === 'object') out.push(raw.fact);
    }
  }
  return out;
}
