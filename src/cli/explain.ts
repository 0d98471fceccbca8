import { evidenceFromFiles } from '../evidence/assemble.js';
import { diagnose } from '../engine/evaluate.js';
import { loadRules } from '../engine/load.js';
import { buildReport, exitCodeOf } from '../report/model.js';
import { UsageError } from '../errors.js';
import { emit } from './output.js';
import { outputOptions, type ExplainArgs } from './options.js';

export async function runExplain(args: ExplainArgs): Promise<number> {
  const startedAt = new Date();
  const rules = loadRules(args.rules ?? []);
  const files = {
    ...(args.bundle ? { bundle: args.bundle } : {}),
    clientLogs: args.clientLog ?? [],
    serverLogs: args.serverLog ?? [],
    ...(args.sshConfig ? { sshConfig: args.sshConfig } : {}),
    ...(args.sshG ? { sshG: args.sshG } : {}),
    ...(args.sshdConfig ? { sshdConfig: args.sshdConfig } : {}),
    ...(args.sshdT ? { sshdT: args.sshdT } : {}),
    ...(args.host ? { host: args.host } : {}),
  };
  if (!files.bundle && files.clientLogs.length === 0 && files.serverLogs.length === 0 && !files.sshConfig && !files.sshG && !files.sshdConfig && !files.sshdT) {
    throw new UsageError('explain needs evidence: a bundle, or --client-log / --server-log / --ssh-config / --ssh-G / --sshd-config / --sshd-T');
  }
  if (files.serverLogs.filter((p) => p === '-').length > 1) throw new UsageError("--server-log - (stdin) can be given once");
  const ev = await evidenceFromFiles(files, startedAt);
  let diagnosis: ReturnType<typeof diagnose>;
  let report: ReturnType<typeof buildReport>;
  try {
    diagnosis = diagnose(ev, rules);
    report = buildReport(ev, diagnosis, { startedAt, redact: args.redact });
    await emit(report, ev, outputOptions(args));
  } catch (e) {
    // A saved bundle is input: data the schema lets through but the engine cannot use is bad
    // input (exit 2, one line), not an internal error.
    if (!files.bundle || e instanceof UsageError) throw e;
    throw new UsageError(`evidence bundle ${files.bundle} holds data ssh-doctor cannot use (${e instanceof Error ? e.message : String(e)})`);
  }
  return exitCodeOf(report);
}
