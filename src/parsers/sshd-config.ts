// Reads a raw sshd_config (and its Includes) the way `sshd -T` sees it without `-C`
// (servconf.c parse_server_config):
// - global options: first obtained value wins; Port, ListenAddress, HostKey, HostCertificate,
//   AcceptEnv, Subsystem and Allow/DenyUsers/Groups accumulate (joined by a space);
// - repeated ChannelTimeout lines: the first line wins, with all its type=interval pairs, verbatim;
// - `Match` blocks are never merged: each is recorded in `conditional` as {criteria, options}
//   (first value wins inside a block). `Match all` matches every connection, so what follows it is
//   global again, as in `sshd -T`. A Match inside an included file that was itself included from
//   a Match block applies only when both match: its criteria are the two joined (sshd ANDs the
//   criteria of one Match line);
// - `Include` with globs, relative paths against /etc/ssh (for a file outside /etc/ssh, a pasted
//   copy, its directory stands in for /etc/ssh), at most 16 levels deep; the Match state of the
//   including file is restored after each included file;
// - times are printed as sshd -T does: ClientAliveInterval / LoginGraceTime / UnusedConnectionTimeout
//   in seconds (`2m` -> `120`, UnusedConnectionTimeout `none` or `0` -> `none`), MaxStartups `N`
//   -> `N:30:N`;
// - the keepalive/timeout defaults (servconf.c / servconf.h) are added after the explicit options,
//   and listed in `defaulted`.

import path from 'node:path';
import type { ConfigEvidence } from '../evidence/types.js';
import { scrubOption } from '../evidence/secrets.js';
import {
  configIo,
  configLines,
  emptyStats,
  isInside,
  joinArgs,
  normaliseFlag,
  includeBudget,
  readIncludes,
  readTopConfig,
  toRecord,
  tokenizeConfigLine,
  type ParseStats,
} from './config-syntax.js';
import { parseTimeFormat, timeAsPrinted } from './time-format.js';

export type { ParseStats } from './config-syntax.js';

export interface ParseSshdConfigOptions {
  readFile?: (p: string) => Promise<string>;
  /**
   * Lists a directory, for Include globs. Defaults to the local file system unless `readFile` is
   * given (a remote reader): then globs expand to nothing and a warning says so.
   */
  readDir?: (dir: string) => Promise<string[]>;
}

export interface SshdConfigResult {
  config: ConfigEvidence;
  stats: ParseStats;
  /** Options filled from sshd defaults because no global line set them. */
  defaulted: string[];
  /** Include problems that did not stop the parse. */
  warnings: string[];
}

/** sshd's defaults for the options that end or keep idle sessions (MESSAGES.md section 3). */
export const SSHD_TIMEOUT_DEFAULTS: ReadonlyArray<[string, string]> = [
  ['clientaliveinterval', '0'],
  ['clientalivecountmax', '3'],
  ['tcpkeepalive', 'yes'],
  ['logingracetime', '120'],
  ['maxstartups', '10:30:100'],
  ['unusedconnectiontimeout', 'none'],
  ['channeltimeout', 'none'],
];

const ACCUMULATE = new Set([
  'port', 'listenaddress', 'hostkey', 'hostcertificate', 'acceptenv', 'subsystem',
  'allowusers', 'denyusers', 'allowgroups', 'denygroups',
]);
const MAX_DEPTH = 16;
const SSHDIR = '/etc/ssh';

interface Entry {
  criteria: string;
  options: Map<string, string>;
}
type Block = { kind: 'global' } | { kind: 'match'; entry: Entry };
const GLOBAL: Block = { kind: 'global' };

export async function parseSshdConfig(file: string, opts: ParseSshdConfigOptions = {}): Promise<SshdConfigResult> {
  const { read, listDir } = configIo(opts);
  const top = await readTopConfig(file, read, 'sshd config');

  const stats = emptyStats();
  const files: string[] = [file];
  const warnings: string[] = [];
  const budget = includeBudget();
  const global = new Map<string, string>();
  const conditional: Entry[] = [];
  const abs = path.resolve(file);
  const includeBase = isInside(abs, SSHDIR) ? SSHDIR : path.dirname(abs);

  await processText(top, 0, GLOBAL);

  const defaulted: string[] = [];
  for (const [key, value] of SSHD_TIMEOUT_DEFAULTS) {
    if (!global.has(key)) {
      global.set(key, value);
      defaulted.push(key);
    }
  }
  const config: ConfigEvidence = {
    source: 'sshd_config',
    options: toRecord(global),
    conditional: conditional.map((e) => ({ criteria: e.criteria, options: toRecord(e.options) })),
    files,
  };
  return { config, stats, defaulted, warnings };

  /** `outer` is the block the Include line was in: `Match all` returns to it. */
  async function processText(text: string, depth: number, outer: Block): Promise<void> {
    let block = outer;
    for (const line of configLines(text)) {
      stats.lines++;
      const t = tokenizeConfigLine(line);
      if (t.kind === 'blank') continue;
      if (t.kind === 'junk') {
        stats.unparsed++;
        continue;
      }
      stats.recognised++;
      if (t.keyword === 'match') {
        if (t.args.length === 1 && t.args[0].toLowerCase() === 'all') {
          block = outer;
        } else {
          const own = joinArgs(t.args);
          const entry: Entry = {
            criteria: outer.kind === 'match' ? `${outer.entry.criteria} ${own}` : own,
            options: new Map(),
          };
          conditional.push(entry);
          block = { kind: 'match', entry };
        }
      } else if (t.keyword === 'include') {
        for (const arg of t.args) await include(arg, depth, block);
      } else {
        set(block.kind === 'global' ? global : block.entry.options, t.keyword, t.args);
      }
    }
  }

  async function include(arg: string, depth: number, block: Block): Promise<void> {
    if (depth + 1 > MAX_DEPTH) {
      const w = `Include ${arg}: more than ${MAX_DEPTH} nested includes, not read`;
      if (!warnings.includes(w)) warnings.push(w);
      return;
    }
    const p = arg.startsWith('/') || arg.startsWith('~') ? arg : path.join(includeBase, arg);
    for (const { file, text } of await readIncludes(p, { read, listDir, warnings, budget })) {
      files.push(file);
      await processText(text, depth + 1, block);
    }
  }
}

function set(target: Map<string, string>, key: string, args: string[]): void {
  let value = args.join(' ');
  switch (key) {
    case 'clientaliveinterval':
    case 'logingracetime':
      value = timeAsPrinted(args[0]);
      break;
    case 'unusedconnectiontimeout': {
      const seconds = parseTimeFormat(args[0]);
      value = seconds === null || seconds === 0 ? 'none' : seconds === undefined ? args[0] : String(seconds);
      break;
    }
    case 'maxstartups':
      if (/^\d+$/.test(args[0])) value = `${args[0]}:30:${args[0]}`;
      break;
    default:
      value = normaliseFlag(key, value);
  }
  value = scrubOption(key, value);
  const prev = target.get(key);
  if (prev === undefined) target.set(key, value);
  else if (ACCUMULATE.has(key)) target.set(key, `${prev} ${value}`);
}
