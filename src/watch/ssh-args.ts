// The user's own ssh command line, read the way ssh(1) reads it: option letters (bundled or
// not, with their argument attached or next), the destination, options after it, then the
// remote command. Used to run that ssh as it is, with -v and -E added, and to reconnect with
// the same connection options (and none of the forwardings) to read the server's side.
import { basename } from 'node:path';
import { UsageError } from '../errors.js';

const NO_ARG = new Set('1246afgknqstvxACGKMNTVXYy'.split(''));
const WITH_ARG = new Set('bceilmopBDEFIJLOPQRSwW'.split(''));
/** Options that shape how the connection is made and authenticated: kept when reconnecting. */
const KEEP_FLAGS = new Set(['4', '6', 'C', 'k', 'K']);
const KEEP_WITH_ARG = new Set(['b', 'B', 'c', 'F', 'i', 'I', 'J', 'l', 'm', 'o', 'p', 'P']);

export interface SshOption {
  flag: string;
  value?: string;
}

export interface SshCommand {
  /** The program as given (ssh, /usr/bin/ssh). */
  program: string;
  /** The arguments after it, exactly as given. */
  args: string[];
  options: SshOption[];
  destination: string;
  command: string[];
  /** The user's own -E file, if any. */
  logFile?: string;
  verbose: number;
  quiet: boolean;
}

export function parseSshCommand(words: string[]): SshCommand {
  const [program, ...args] = words;
  if (!program) throw new UsageError('watch --: give the ssh command to run, e.g. ssh-doctor watch -- ssh db1');
  if (basename(program) !== 'ssh') throw new UsageError(`watch -- runs your ssh; "${program}" is not ssh (ssh-doctor watch -- ssh [options] host)`);
  const options: SshOption[] = [];
  let destination: string | undefined;
  const command: string[] = [];
  let i = 0;
  let endOfOptions = false;
  while (i < args.length) {
    const a = args[i]!;
    if (destination !== undefined && (endOfOptions || !a.startsWith('-') || a === '-')) {
      command.push(...args.slice(i));
      break;
    }
    if (!endOfOptions && a === '--') {
      endOfOptions = true;
      i++;
      continue;
    }
    if (endOfOptions || !a.startsWith('-') || a === '-') {
      destination = a;
      endOfOptions = false;
      i++;
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if (NO_ARG.has(f)) options.push({ flag: f });
      else if (WITH_ARG.has(f)) {
        let value = a.slice(j + 1);
        if (value === '') {
          i++;
          if (i >= args.length) throw new UsageError(`watch -- ssh: option -${f} needs an argument`);
          value = args[i]!;
        }
        options.push({ flag: f, value });
        break;
      } else throw new UsageError(`watch -- ssh: unknown ssh option -${f}`);
    }
    i++;
  }
  if (destination === undefined) throw new UsageError('watch -- ssh: no destination in the ssh command');
  const flags = new Set(options.map((o) => o.flag));
  for (const [f, why] of [
    ['G', 'only prints the configuration'],
    ['V', 'only prints the version'],
    ['Q', 'only queries algorithms'],
    ['O', 'controls a master connection, it opens no session'],
    ['f', 'goes to the background, where its drop cannot be watched'],
  ] as const) {
    if (flags.has(f)) throw new UsageError(`watch -- ssh: -${f} ${why}`);
  }
  const out: SshCommand = {
    program,
    args,
    options,
    destination,
    command,
    verbose: options.filter((o) => o.flag === 'v').length,
    quiet: flags.has('q'),
  };
  const e = options.filter((o) => o.flag === 'E').pop();
  if (e?.value) out.logFile = e.value;
  return out;
}

/** The connection options to reuse when reconnecting (identities, port, user, config, jump, -o...). */
export function connectionOptions(c: SshCommand): string[] {
  const out: string[] = [];
  for (const o of c.options) {
    if (o.value === undefined) {
      if (KEEP_FLAGS.has(o.flag)) out.push(`-${o.flag}`);
    } else if (KEEP_WITH_ARG.has(o.flag)) out.push(`-${o.flag}`, o.value);
  }
  return out;
}

/** The argv (after the program) of the session itself: the user's, with -v and -E FILE in front. */
export function sessionArgs(c: SshCommand, logFile: string): string[] {
  const extra: string[] = [];
  if (c.verbose === 0) extra.push('-v');
  if (c.logFile === undefined) extra.push('-E', logFile);
  return [...extra, ...c.args];
}
