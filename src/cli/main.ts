#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError, errorMessage } from '../errors.js';
import { VERSION } from '../paths.js';
import { printable } from '../evidence/secrets.js';
import { checkIdleArgs, commonOptions, demoOptions, explainCommand, idleOptions, targetOptions } from './options.js';
import { watchCommand } from './watch.js';

/**
 * yargs reads a lone `-` after an array option as a positional; `--server-log -` (stdin) is
 * what users type, so it is joined into `--server-log=-` before parsing.
 */
function joinStdinDash(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--') && !a.includes('=') && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}

// Commands load their modules when run: `--help` and `--version` stay fast, and explain never
// loads ssh2.

/** Exit status: 0 no cause, 1 causes found, 2 bad usage or input, 3 target not diagnosable live. */
async function main(argv: string[]): Promise<number> {
  let code = 0;
  const run = (p: Promise<number> | number) => Promise.resolve(p).then((c) => void (code = c));
  const parser = commonOptions(yargs(joinStdinDash(argv)))
    .scriptName('ssh-doctor')
    .usage('$0 <host> | explain [FILE...] | demo | rules list|test\n\nExplains why SSH sessions drop: causes ranked, with evidence and fixes.')
    .command(
      '$0 <host>',
      'diagnose a host live: reach it as your own ssh would, run read-only probes, rank the causes',
      (y) => idleOptions(targetOptions(y)),
      (a) => {
        checkIdleArgs(a);
        return run(import('./diagnose.js').then((c) => c.runDiagnose(a)));
      },
    )
    .command(
      'explain [files..]',
      'diagnose offline from whatever you have: logs, configs, listings, a pasted ticket, a saved evidence bundle',
      (y) => explainCommand(y),
      (a) => run(import('./explain.js').then((c) => c.runExplain(a))),
    )
    .command(
      'watch [host]',
      'watch a connection (or your own ssh after --) until it drops, then explain that drop from the timeline',
      (y) => watchCommand(y),
      (a) => run(import('./watch.js').then((c) => c.runWatch(a))),
    )
    .command(
      'demo',
      'diagnose an embedded SSH server behind an embedded idle-dropping middlebox on loopback: no host, no root',
      (y) => demoOptions(y),
      (a) => {
        checkIdleArgs(a);
        if (!(a.demoTimeout > 0)) throw new UsageError(`invalid --demo-timeout: ${String(a.demoTimeout)}`);
        return run(import('./demo.js').then((c) => c.runDemo(a)));
      },
    )
    .command('rules', 'list or test the rules', (y) =>
      y
        .command('list', 'list the loaded rules', {}, (a) => run(import('./rules.js').then((c) => c.runRulesList(a as unknown as { rules?: string[]; json: boolean }))))
        .command(
          'test [dir]',
          'run the fixture-based rule tests (of the built-in rules, or of a rule pack: a folder with rules/ and fixtures/)',
          (yy) => yy.positional('dir', { type: 'string' }),
          (a) => run(import('./rules.js').then((c) => c.runRulesTest(a))),
        )
        .demandCommand(1, 'rules needs a subcommand: list or test'),
    )
    .strict()
    .demandCommand(1, 'give a host to diagnose, or a command (explain, rules); see --help')
    .version(VERSION)
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg.replace(/\s*\n\s*/g, ' '));
    });
  await parser.parseAsync();
  return code;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const verbose = process.argv.includes('-v') || process.argv.includes('--verbose');
    if (err instanceof UsageError) {
      process.stderr.write(`ssh-doctor: ${printable(err.message)}\n`);
    } else {
      process.stderr.write(`ssh-doctor: internal error: ${printable(errorMessage(err))}\n`);
      if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = 2;
  },
);
