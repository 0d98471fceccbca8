import type { Argv } from 'yargs';
import { evidenceFromFiles } from '../evidence/assemble.js';
import { diagnose } from '../engine/evaluate.js';
import { loadRules } from '../engine/load.js';
import { buildReport, exitCodeOf } from '../report/model.js';
import { UsageError } from '../errors.js';
import { emit } from './output.js';
import { outputOptions, type CommonArgs } from './options.js';

interface ExplainArgs extends CommonArgs {
  bundle?: string;
  clientLog?: string[];
  serverLog?: string[];
  sshConfig?: string;
  sshG?: string;
  sshdConfig?: string;
  sshdT?: string;
  host?: string;
}

export function explainCommand(y: Argv<CommonArgs>): Argv<ExplainArgs> {
  return y
    .positional('bundle', { type: 'string', describe: 'a saved evidence bundle (--save-evidence) to re-run' })
    .option('client-log', { type: 'string', array: true, describe: 'client ssh -v/-vv/-vvv transcript (repeatable)' })
    .option('server-log', { type: 'string', array: true, describe: "server sshd log: auth.log, secure, journalctl -u ssh, sshd -E (repeatable; '-' = stdin)" })
    .option('ssh-config', { type: 'string', describe: 'client ssh_config file (resolved for --host)' })
    .option('ssh-G', { type: 'string', describe: 'saved output of ssh -G host' })
    .option('sshd-config', { type: 'string', describe: 'server sshd_config file' })
    .option('sshd-T', { type: 'string', describe: 'saved output of sshd -T' })
    .option('host', { type: 'string', describe: 'target whose Host/Match blocks apply in a raw ssh_config' }) as unknown as Argv<ExplainArgs>;
}

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
  const diagnosis = diagnose(ev, rules);
  const report = buildReport(ev, diagnosis, { startedAt, redact: args.redact });
  await emit(report, ev, outputOptions(args));
  return exitCodeOf(report);
}
