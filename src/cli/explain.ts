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
  if (specs.length === 0 && !stdinIsTty) specs.push({ path: '-' });
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
  const ev = await evidenceFromInputs(specs, { ...(args.host ? { host: args.host } : {}), now: startedAt });
  try {
    const report = buildReport(ev, diagnose(ev, rules), { startedAt, redact: args.redact });
    await emit(report, ev, outputOptions(args));
    return exitCodeOf(report);
  } catch (e) {
    // A saved bundle is input: data the schema lets through but the engine cannot use is bad
    // input (exit 2, one line), not an internal error.
    if (!hasBundle || e instanceof UsageError) throw e;
    throw new UsageError(`the evidence bundle holds data ssh-doctor cannot use (${e instanceof Error ? e.message : String(e)})`);
  }
}
