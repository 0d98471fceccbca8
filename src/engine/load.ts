import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readYamlData } from '../data-file.js';
import { RuleFileError, UsageError } from '../errors.js';
import { BUILTIN_RULES } from '../paths.js';
import { factsRead } from './conditions.js';
import { FACT_PREFIXES } from './facts.js';
import type { Condition, Rule } from './rule.js';
import { placeholders } from './template.js';

const MAX_RULE_BYTES = 256 * 1024;

function checkFacts(file: string, field: string, names: string[]): void {
  for (const n of names) {
    if (!FACT_PREFIXES.some((p) => n.startsWith(p))) {
      throw new RuleFileError(file, field, `unknown fact "${n}" (facts start with ${FACT_PREFIXES.join(' ')})`);
    }
  }
}

/**
 * Why a `matches` pattern could take exponential time on a hostile log line, or null. Rules are
 * data, and evidence text is the target's: a quantified group holding another quantifier or an
 * alternation (`(a+)+`, `(a|ab)*`) or a backreference can backtrack for ever on a crafted line.
 */
const MAX_UNBOUNDED = 2;

export function unsafePattern(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not allowed';
  // `.*a.*b.*c` backtracks polynomially (n^k): at most two unbounded repeats
  const unbounded = pattern.replace(/\\./g, '').replace(/\[(?:[^\]\\]|\\.)*\]/g, 'x').match(/[*+]|\{\d+,\}/g)?.length ?? 0;
  if (unbounded > MAX_UNBOUNDED) return `more than ${MAX_UNBOUNDED} unbounded repeats (*, +, {n,}) can take polynomial time on a long line`;
  // one frame per open group: does it (or a group inside it) hold a quantifier or an alternation?
  const stack: Array<{ quantified: boolean; alternation: boolean }> = [{ quantified: false, alternation: false }];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    const top = stack[stack.length - 1]!;
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ quantified: false, alternation: false });
    else if (c === '|') top.alternation = true;
    else if (c === '*' || c === '+' || (c === '{' && /^\{\d*,?\d*\}/.test(pattern.slice(i)))) top.quantified = true;
    else if (c === ')' && stack.length > 1) {
      const group = stack.pop()!;
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}|^\{\d*[2-9]\d*\}/.test(pattern.slice(i + 1)));
      if (repeated && (group.quantified || group.alternation)) {
        return 'a repeated group holding a quantifier or an alternation (like (a+)+ or (a|ab)*) can take exponential time';
      }
      const parent = stack[stack.length - 1]!;
      parent.quantified ||= group.quantified || repeated;
    }
  }
  return null;
}

function checkCondition(file: string, field: string, cond: Condition): void {
  checkFacts(file, field, factsRead(cond));
  const visit = (c: Condition): void => {
    if ('all' in c) c.all.forEach(visit);
    else if ('any' in c) c.any.forEach(visit);
    else if ('not' in c) visit(c.not);
    else if (c.matches !== undefined) {
      try {
        new RegExp(c.matches, 'i');
      } catch {
        throw new RuleFileError(file, field, `"matches" is not a valid regular expression: ${c.matches}`);
      }
      const unsafe = unsafePattern(c.matches);
      if (unsafe !== null) throw new RuleFileError(file, field, `"matches" ${c.matches}: ${unsafe}`);
    }
  };
  visit(cond);
}

/** Reads and checks one rule file. Everything a rule says is data; nothing in it is executed. */
export function loadRuleFile(path: string): Rule {
  const { file, data } = readYamlData(path, { schema: 'rule.schema.json', maxBytes: MAX_RULE_BYTES, fail: (f, field, problem) => new RuleFileError(f, field, problem) });
  const rule = { ...(data as Omit<Rule, 'file'>), file };
  if (basename(path).replace(/\.ya?ml$/, '') !== rule.id) {
    throw new RuleFileError(file, 'id', `must match the file name (${basename(path)})`);
  }
  checkCondition(file, 'when', rule.when);
  rule.signals?.forEach((s, i) => {
    checkCondition(file, `signals[${i}].when`, s.when);
    if (s.evidence) checkFacts(file, `signals[${i}].evidence`, placeholders(s.evidence));
  });
  rule.against?.forEach((a, i) => {
    checkCondition(file, `against[${i}].when`, a.when);
    if (a.weight === undefined && !a.veto) throw new RuleFileError(file, `against[${i}]`, 'needs a weight or veto: true');
  });
  if (rule.candidate) {
    checkCondition(file, 'candidate.when', rule.candidate.when);
    checkFacts(file, 'candidate.evidence', placeholders(rule.candidate.evidence));
  }
  rule.confirm?.forEach((c, i) => {
    if (c.when) checkCondition(file, `confirm[${i}].when`, c.when);
    checkFacts(file, `confirm[${i}]`, [...placeholders(c.command), ...placeholders(c.why)]);
  });
  rule.fixes.forEach((f, i) => {
    if (f.when) checkCondition(file, `fixes[${i}].when`, f.when);
    checkFacts(file, `fixes[${i}]`, [...placeholders(f.snippet), ...placeholders(f.why), ...placeholders(f.file ?? '')]);
  });
  return rule;
}

export function ruleFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new UsageError(`cannot read rule folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * A rule folder is a directory of <id>.yaml files; a rule pack is a directory holding `rules/`
 * (and `fixtures/`). The built-in rules are the pack at the package root: one layout for both.
 */
export function rulesDirOf(dir: string): string {
  try {
    if (statSync(join(dir, 'rules')).isDirectory()) return join(dir, 'rules');
  } catch {
    // not a pack: the folder holds the rule files itself
  }
  return dir;
}

export function loadRules(extraDirs: string[] = [], opts: { builtin?: boolean } = {}): Rule[] {
  const dirs = [...(opts.builtin === false ? [] : [BUILTIN_RULES]), ...extraDirs.map(rulesDirOf)];
  const rules: Rule[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    for (const path of ruleFilesIn(dir)) {
      const rule = loadRuleFile(path);
      const prev = seen.get(rule.id);
      if (prev) throw new RuleFileError(rule.file, 'id', `"${rule.id}" is already defined in ${prev}`);
      seen.set(rule.id, rule.file);
      rules.push(rule);
    }
  }
  return rules;
}
