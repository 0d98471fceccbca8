// Resolves a raw ssh_config for one host the way ssh(1) does (readconf.c), without running ssh:
// - first obtained value wins; IdentityFile, CertificateFile, Local/Remote/DynamicForward and
//   SendEnv accumulate (SetEnv does not: since OpenSSH 8.7 its first line wins like the rest);
// - `Host` patterns are whitespace-separated, each may use `*`, `?` and a leading `!` (a matching
//   negated pattern cancels the block); they are compared with the host argument as typed
//   (case-sensitive, like match_pattern). Commas are NOT list separators in Host lines (ssh treats
//   them literally); they are in `Match` criteria;
// - `Match all|host|originalhost|user|localuser|tagged` are evaluated; `exec` is NEVER run, and
//   `canonical`, `final`, `localnetwork`, `version`, `command`, `sessiontype` and unknown criteria
//   cannot be decided here: such a block is treated as not matching and, when nothing else rules
//   it out, recorded in `conditional` with its criteria so the report can say it was not evaluated;
// - `Include` with globs, up to 16 levels deep; inside a Host/Match block it applies only when the
//   block matches; Host/Match lines inside an included file do not change the including file's state.
//   Relative Include paths are resolved like ssh: against ~/.ssh for a file under ~/.ssh, against
//   /etc/ssh for a file under /etc/ssh; for a config elsewhere (a copy pasted for `explain`), the
//   directory of the top-level file stands in for ~/.ssh.
// Unset keepalive options get OpenSSH's defaults (readconf.c fill_default_options); they are
// listed in `defaulted` so a report can say "default" instead of "configured".

import os from 'node:os';
import path from 'node:path';
import type { ConfigEvidence } from '../evidence/types.js';
import { scrubOption, scrubSecrets } from '../evidence/secrets.js';
import {
  configIo,
  configLines,
  emptyStats,
  isInside,
  joinArgs,
  matchPattern,
  matchPatternList,
  normaliseFlag,
  includeBudget,
  readIncludes,
  readTopConfig,
  toRecord,
  tokenizeConfigLine,
  type ParseStats,
} from './config-syntax.js';
import { parseTimeFormat } from './time-format.js';

export type { ParseStats } from './config-syntax.js';

export interface ResolveSshConfigOptions {
  /** Remote user given on the command line (user@host, -l): it overrides any `User` line. */
  user?: string;
  readFile?: (p: string) => Promise<string>;
  home?: string;
  /**
   * Lists a directory, for Include globs. Defaults to the local file system unless `readFile` is
   * given (a remote reader): then globs expand to nothing and a warning says so.
   */
  readDir?: (dir: string) => Promise<string[]>;
  /** Local user name for `Match localuser` and `%u` (default: os.userInfo()). */
  localUser?: string;
}

export interface SshConfigResult {
  config: ConfigEvidence;
  stats: ParseStats;
  /** Options filled from OpenSSH defaults because no line set them. */
  defaulted: string[];
  /** Include problems that did not stop the parse (unreadable file, too deep, glob not expanded). */
  warnings: string[];
}

/** Defaults ssh(1) uses when nothing sets them (readconf.c fill_default_options). */
export const SSH_KEEPALIVE_DEFAULTS: ReadonlyArray<[string, string]> = [
  ['serveraliveinterval', '0'],
  ['serveralivecountmax', '3'],
  ['tcpkeepalive', 'yes'],
  ['connecttimeout', 'none'],
];

const ACCUMULATE = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv']);
const DEDUPE = new Set(['identityfile', 'certificatefile']);
const TIME_KEYS = new Set(['serveraliveinterval', 'connecttimeout']);
/** Match criteria that may be written `attr=value` (readconf.c match_cfg_line). */
const EQ_CRITERIA = new Set(['host', 'originalhost', 'user', 'localuser', 'localnetwork', 'version', 'tagged', 'command', 'exec']);
const MAX_DEPTH = 16;

interface Entry {
  criteria: string;
  options: Map<string, string>;
  lists: Map<string, string[]>;
}
type Block = { kind: 'active' } | { kind: 'inactive' } | { kind: 'conditional'; entry: Entry };
const ACTIVE: Block = { kind: 'active' };
const INACTIVE: Block = { kind: 'inactive' };

export async function resolveSshConfig(
  file: string,
  host: string,
  opts: ResolveSshConfigOptions = {},
): Promise<SshConfigResult> {
  const home = opts.home ?? os.homedir();
  const localUser = opts.localUser ?? safeLocalUser();
  const { read, listDir } = configIo(opts);
  const top = await readTopConfig(file, read, 'ssh config');

  const stats = emptyStats();
  const files: string[] = [file];
  const warnings: string[] = [];
  const budget = includeBudget();
  const conditional: Entry[] = [];
  const global: Entry = { criteria: '', options: new Map(), lists: new Map() };
  if (opts.user !== undefined) global.options.set('user', opts.user);

  const abs = path.resolve(file);
  const userDir = path.join(home, '.ssh');
  const includeBase = isInside(abs, userDir) ? userDir : isInside(abs, '/etc/ssh') ? '/etc/ssh' : path.dirname(abs);

  await processText(top, 0, ACTIVE, false);

  const defaulted: string[] = [];
  for (const [key, value] of SSH_KEEPALIVE_DEFAULTS) {
    if (!global.options.has(key)) {
      global.options.set(key, value);
      defaulted.push(key);
    }
  }
  if (!global.options.has('hostname')) {
    global.options.set('hostname', host);
    defaulted.push('hostname');
  }

  const config: ConfigEvidence = {
    source: 'ssh_config',
    options: toRecord(global.options),
    conditional: conditional.map((e) => ({ criteria: e.criteria, options: toRecord(e.options) })),
    host,
    files,
  };
  return { config, stats, defaulted, warnings };

  async function processText(text: string, depth: number, start: Block, neverMatch: boolean): Promise<void> {
    let block = start;
    for (const line of configLines(text)) {
      stats.lines++;
      const t = tokenizeConfigLine(line);
      if (t.kind === 'blank') continue;
      if (t.kind === 'junk') {
        stats.unparsed++;
        continue;
      }
      stats.recognised++;
      switch (t.keyword) {
        case 'host':
          block = !neverMatch && matchHost(t.args) ? ACTIVE : INACTIVE;
          break;
        case 'match': {
          const b = evaluateMatch(t.args);
          if (b === null) {
            // ssh refuses the whole file on a bad Match line; here the block is just skipped
            stats.recognised--;
            stats.unparsed++;
            block = INACTIVE;
          } else if (neverMatch) {
            block = INACTIVE;
          } else {
            if (b.kind === 'conditional') conditional.push(b.entry);
            block = b;
          }
          break;
        }
        case 'include':
          if (block.kind === 'inactive') break; // ssh only syntax-checks these
          for (const arg of t.args) await include(arg, depth, block, neverMatch || block.kind !== 'active');
          break;
        default:
          if (block.kind === 'active') set(global, t.keyword, t.args);
          else if (block.kind === 'conditional') set(block.entry, t.keyword, t.args);
      }
    }
  }

  async function include(arg: string, depth: number, block: Block, neverMatch: boolean): Promise<void> {
    if (depth + 1 > MAX_DEPTH) {
      const w = `Include ${arg}: more than ${MAX_DEPTH} nested includes, not read`;
      if (!warnings.includes(w)) warnings.push(w);
      return;
    }
    let p = arg.replace(/%([%dhnru])/g, (m, c: string) => {
      switch (c) {
        case '%':
          return '%';
        case 'd':
          return home;
        case 'h':
          return global.options.get('hostname') ?? host;
        case 'n':
          return host;
        case 'r':
          return global.options.get('user') ?? localUser ?? m;
        default:
          return localUser ?? m;
      }
    });
    if (p === '~' || p.startsWith('~/')) p = home + p.slice(1);
    else if (!path.isAbsolute(p)) p = path.join(includeBase, p);
    for (const { file, text } of await readIncludes(p, { read, listDir, warnings, budget })) {
      files.push(file);
      await processText(text, depth + 1, block, neverMatch);
    }
  }

  function matchHost(patterns: string[]): boolean {
    let active = false;
    for (const raw of patterns) {
      const negated = raw.startsWith('!');
      if (matchPattern(host, negated ? raw.slice(1) : raw)) {
        if (negated) return false;
        active = true;
      }
    }
    return active;
  }

  /** A Block, or null when the Match line is malformed. */
  function evaluateMatch(args: string[]): Block | null {
    const hostname = (global.options.get('hostname') ?? host).toLowerCase();
    const ruser = global.options.get('user') ?? localUser;
    let failed = false;
    let undecided = false;
    let attributes = 0;
    for (let i = 0; i < args.length; i++) {
      const negate = args[i].startsWith('!');
      let attrib = (negate ? args[i].slice(1) : args[i]).toLowerCase();
      if (attrib === 'all') {
        if (attributes > 1 || i + 1 < args.length) return null;
        if (negate) failed = true;
        break;
      }
      attributes++;
      if (attrib === 'canonical' || attrib === 'final') {
        undecided = true;
        continue;
      }
      let arg: string | undefined;
      const eq = attrib.indexOf('=');
      if (eq > 0 && EQ_CRITERIA.has(attrib.slice(0, eq))) {
        arg = args[i].slice(args[i].indexOf('=') + 1);
        attrib = attrib.slice(0, eq);
      } else {
        arg = args[++i];
      }
      if (arg === undefined || (arg === '' && attrib !== 'tagged' && attrib !== 'command')) return null;
      let r: boolean;
      switch (attrib) {
        case 'host':
          r = matchPatternList(hostname, arg, true) === 1;
          break;
        case 'originalhost':
          r = matchPatternList(host.toLowerCase(), arg, true) === 1;
          break;
        case 'user':
          if (ruser === undefined) {
            undecided = true;
            continue;
          }
          r = matchPatternList(ruser, arg, false) === 1;
          break;
        case 'localuser':
          if (localUser === undefined) {
            undecided = true;
            continue;
          }
          r = matchPatternList(localUser, arg, false) === 1;
          break;
        case 'tagged': {
          const tag = global.options.get('tag') ?? '';
          r = tag === '' ? arg === '' : matchPatternList(tag, arg, false) === 1;
          break;
        }
        default:
          // exec (never run), localnetwork, version, command, sessiontype, newer criteria
          undecided = true;
          continue;
      }
      if (r === negate) failed = true;
    }
    if (failed) return INACTIVE;
    if (!undecided) return ACTIVE;
    return { kind: 'conditional', entry: { criteria: scrubSecrets(joinArgs(args)), options: new Map(), lists: new Map() } };
  }

  function set(target: Entry, key: string, args: string[]): void {
    let value = args.join(' ');
    if (TIME_KEYS.has(key)) {
      const seconds = parseTimeFormat(args[0]);
      // `none` leaves the option unset in ssh (a later line may still set it)
      if (seconds === null) return;
      if (seconds !== undefined) value = String(seconds);
    } else if (key === 'hostname') {
      value = value.replace(/%([%h])/g, (_m, c: string) => (c === '%' ? '%' : host));
    } else {
      value = normaliseFlag(key, value);
    }
    value = scrubOption(key, value);
    if (ACCUMULATE.has(key)) {
      const list = target.lists.get(key) ?? [];
      if (DEDUPE.has(key) && list.includes(value)) return;
      list.push(value);
      target.lists.set(key, list);
      target.options.set(key, list.join(' '));
    } else if (!target.options.has(key)) {
      target.options.set(key, value);
    }
  }
}

function safeLocalUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME;
  }
}
