import { diagnose } from '../engine/evaluate.js';
import { loadRules } from '../engine/load.js';
import { UsageError } from '../errors.js';
import { evidenceFromInputs, type InputSpec } from '../inputs/read.js';
import { buildReport, exitCodeOf } from '../report/model.js';
import { emit } from './output.js';
import { outputOptions, type ExplainArgs } from './options.js';

/** The inputs of `explain`: positional files, then each flag's files with their hint; stdin when piped and nothing else is given. */
export function inputSpecs(args: ExplainArgs, stdinIsTty: boolean): InputSpec[] {
  const specs: InputSpec[] = (args.files ?? []).map((path) => ({ path }));
  const flagged: Array<[string[] | undefined, InputSpec['hint']]> = [
    [args.clientLog, 'client-log'],
    [args.serverLog, 'server-log'],
    [args.sshConfig, 'ssh-config'],
    [args.sshG, 'ssh-G'],
    [args.sshdConfig, 'sshd-config'],
    [args.sshdT, 'sshd-T'],
  ];
  for (const [paths, hint] of flagged) for (const path of paths ?? []) specs.push({ path, ...(hint ? { hint } : {}) });
  const files = specs.length;
  (args.describe ?? []).forEach((text, i) => specs.push({ path: `--describe${(args.describe?.length ?? 0) > 1 ? ` #${i + 1}` : ''}`, text, hint: 'describe' }));
  if (files === 0 && !stdinIsTty) specs.push({ path: '-' });
  if (specs.length === 0) {
    throw new UsageError('explain needs evidence: files (logs, configs, a pasted ticket, a saved bundle) or standard input, e.g. `pbpaste | ssh-doctor explain`');
  }
  return specs;
}

export async function runExplain(args: ExplainArgs): Promise<number> {
  const startedAt = new Date();
  const rules = loadRules(args.rules ?? []);
  const specs = inputSpecs(args, Boolean(process.stdin.isTTY));
  const hasBundle = specs.some((s) => s.path.endsWith('.json'));
  let ev = await evidenceFromInputs(specs, { ...(args.host ? { host: args.host } : {}), now: startedAt });
  // questions only for a person at a terminal, whose answers can come from it
  const out = outputOptions(args);
  if (args.input && out.format !== 'json' && process.stdin.isTTY && process.stderr.isTTY && !specs.some((s) => s.path === '-')) {
    const { askQuestions } = await import('./ask.js');
    ev = await askQuestions(ev, rules, { input: process.stdin, output: process.stderr });
  }
  try {
    const report = buildReport(ev, diagnose(ev, rules), { startedAt, redact: args.redact });
    await emit(report, ev, out);
    return exitCodeOf(report);
  } catch (e) {
    // A saved bundle is input: data the schema lets through but the engine cannot use is bad
    // input (exit 2, one line), not an internal error.
    if (!hasBundle || e instanceof UsageError) throw e;
    throw new UsageError(`the evidence bundle holds data ssh-doctor cannot use (${e instanceof Error ? e.message : String(e)})`);
  }
}
