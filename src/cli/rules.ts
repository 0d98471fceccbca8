import { join } from 'node:path';
import { loadRules, rulesDirOf } from '../engine/load.js';
import { runSuite } from '../engine/rule-tests.js';
import { BUILTIN_FIXTURES, PACKAGE_ROOT } from '../paths.js';
import { colorWanted, style } from '../report/style.js';

export function runRulesList(args: { rules?: string[]; json: boolean }): number {
  const rules = loadRules(args.rules ?? []);
  if (args.json) {
    const list = rules.map((r) => ({ id: r.id, kind: r.kind, title: r.title, file: r.file }));
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...rules.map((r) => r.id.length));
  for (const r of rules) process.stdout.write(`${r.id.padEnd(width)}  ${r.kind === 'advisory' ? '(advisory) ' : ''}${r.title}\n`);
  return 0;
}

/**
 * `rules test [dir]`: a rule pack is a folder with rules/ and fixtures/ (the package root is the
 * built-in pack). With a user's pack, its rules are tested together with the built-in ones, so a
 * user rule that steals the top rank from a built-in cause shows up.
 */
export async function runRulesTest(args: { dir?: string; rules?: string[]; json: boolean }): Promise<number> {
  const userPacks = [...(args.dir && args.dir !== PACKAGE_ROOT ? [args.dir] : []), ...(args.rules ?? [])];
  const rules = loadRules(userPacks);
  const testedPacks = userPacks.length > 0 ? userPacks : [PACKAGE_ROOT];
  const fixtures = testedPacks.map((p) => (p === PACKAGE_ROOT ? BUILTIN_FIXTURES : fixturesOf(p)));
  const own = userPacks.length > 0 ? loadRules(userPacks, { builtin: false }) : rules;
  const toCover = own.filter((r) => r.kind === 'cause').map((r) => r.id);
  const suite = await runSuite(fixtures, rules, toCover);
  const failed = suite.cases.filter((c) => c.problems.length > 0);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ cases: suite.cases.map((c) => ({ name: c.name, ok: c.problems.length === 0, problems: c.problems })), coverage: suite.coverage }, null, 2)}\n`,
    );
  } else {
    const s = style(colorWanted());
    for (const c of suite.cases) {
      process.stdout.write(`${c.problems.length === 0 ? s.green('ok  ') : s.red('FAIL')} ${c.name}\n`);
      for (const p of c.problems) process.stdout.write(`     ${p}\n`);
    }
    for (const c of suite.coverage) process.stdout.write(`${s.red('MISSING')} ${c}\n`);
    process.stdout.write(`${suite.cases.length - failed.length} passed, ${failed.length} failed\n`);
  }
  return failed.length > 0 || suite.coverage.length > 0 || suite.cases.length === 0 ? 1 : 0;
}

function fixturesOf(pack: string): string {
  const rulesDir = rulesDirOf(pack);
  return rulesDir === pack ? join(pack, 'fixtures') : join(pack, 'fixtures');
}
