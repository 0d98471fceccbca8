// Shared syntax of ssh_config / sshd_config files and of their dumps (`ssh -G`, `sshd -T`).
// Tokenising follows OpenSSH: readconf.c process_config_line_depth() (keyword, optional `=`),
// misc.c argv_split() (quotes, backslash escapes, `#` comments at the start of a word).
// Nothing here throws on bad input: a line that is not `keyword value` is reported as junk.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { textLines } from './lines.js';

export interface ParseStats {
  lines: number;
  recognised: number;
  unparsed: number;
}

export function emptyStats(): ParseStats {
  return { lines: 0, recognised: 0, unparsed: 0 };
}

export type ConfigLine =
  | { kind: 'blank' }
  | { kind: 'directive'; /** lowercase */ keyword: string; args: string[] }
  | { kind: 'junk'; reason: string };

/** OpenSSH keywords are ASCII letters and digits; anything else in keyword position is junk. */
const KEYWORD = /^[A-Za-z][A-Za-z0-9]*$/;
/** Control characters other than tab (NUL bytes, escapes...) never occur in a real config line. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const TRAILING_SPACE = /[ \t\r\n\f]+$/;

/** Splits text into lines (LF, trailing CR dropped, each cut at 16 KiB like parsers/lines). */
export function configLines(text: string): string[] {
  const out: string[] = [];
  if (text.length === 0) return out;
  textLines(text, { line: (l) => out.push(l) });
  return out;
}

/** One line of ssh_config / sshd_config. Keywords are lowercased; `Keyword=value` is accepted. */
export function tokenizeConfigLine(line: string): ConfigLine {
  const s = line.replace(TRAILING_SPACE, '');
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  if (i === s.length || s[i] === '#') return { kind: 'blank' };
  if (CONTROL.test(s)) return { kind: 'junk', reason: 'control characters' };
  let j = i;
  while (j < s.length && !' \t="\''.includes(s[j])) j++;
  const keyword = s.slice(i, j);
  if (!KEYWORD.test(keyword)) return { kind: 'junk', reason: 'not a keyword' };
  while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
  if (s[j] === '=') {
    j++;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
  }
  const rest = s.slice(j);
  if (rest.length === 0) return { kind: 'junk', reason: 'no argument' };
  const args = splitArgs(rest);
  if (args === null) return { kind: 'junk', reason: 'unterminated quote' };
  if (args.length === 0) return { kind: 'junk', reason: 'no argument' };
  return { kind: 'directive', keyword: keyword.toLowerCase(), args };
}

/**
 * misc.c argv_split(s, ..., terminate_on_comment=1): words separated by spaces/tabs, "double" and
 * 'single' quotes group, backslash escapes quotes, backslash and (outside quotes) space, a `#` at
 * the start of a word ends the line. Returns null for an unterminated quote.
 */
export function splitArgs(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') {
      i++;
      continue;
    }
    if (s[i] === '#') break;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) {
          i++;
          arg += n;
        } else {
          arg += c;
        }
      } else if (quote === '' && (c === ' ' || c === '\t')) {
        break;
      } else if (quote === '' && (c === '"' || c === "'")) {
        quote = c;
      } else if (quote !== '' && c === quote) {
        quote = '';
      } else {
        arg += c;
      }
    }
    if (quote !== '') return null;
    out.push(arg);
  }
  return out;
}

/** Writes arguments back as one line, quoting those that need it (for criteria strings). */
export function joinArgs(args: string[]): string {
  return args.map((a) => (a === '' || /[\s"'#\\]/.test(a) ? `"${a.replace(/(["\\])/g, '\\$1')}"` : a)).join(' ');
}

/**
 * `ssh -G` / `sshd -T` output: `keyword value...` per line, printed by OpenSSH itself, so values
 * are kept verbatim (no quote processing). Keys are lowercased (sshd 10.4+ prints mixed case).
 * Repeated keys (identityfile, hostkey, listenaddress...) are joined by one space in order.
 */
export function parseDump(
  text: string,
  store: (key: string, value: string) => string,
): { options: Map<string, string>; stats: ParseStats } {
  const options = new Map<string, string>();
  const stats = emptyStats();
  for (const raw of configLines(text)) {
    stats.lines++;
    const line = raw.replace(TRAILING_SPACE, '');
    if (/^[ \t]*$/.test(line)) continue;
    const m = CONTROL.test(line) ? null : /^[ \t]*([A-Za-z][A-Za-z0-9]*)[ \t]+(\S.*)$/.exec(line);
    if (m === null) {
      stats.unparsed++;
      continue;
    }
    stats.recognised++;
    const key = m[1].toLowerCase();
    const value = store(key, m[2]);
    const prev = options.get(key);
    options.set(key, prev === undefined ? value : `${prev} ${value}`);
  }
  return { options, stats };
}

// yes/no options: OpenSSH compares these case-insensitively and accepts true/false; the dumps
// print yes/no. Normalising them lets rules compare `tcpkeepalive == "no"` whatever was written.
const FLAG_KEYS = new Set([
  // client
  'tcpkeepalive', 'batchmode', 'checkhostip', 'compression', 'enablesshkeysign', 'exitonforwardfailure',
  'forkafterauthentication', 'forwardx11', 'forwardx11trusted', 'gatewayports', 'gssapiauthentication',
  'gssapidelegatecredentials', 'hashknownhosts', 'hostbasedauthentication', 'identitiesonly',
  'kbdinteractiveauthentication', 'nohostauthenticationforlocalhost', 'passwordauthentication',
  'permitlocalcommand', 'proxyusefdpass', 'stdinnull', 'streamlocalbindunlink', 'visualhostkey',
  'clearallforwardings', 'enableescapecommandline', 'requesttty', 'controlmaster', 'stricthostkeychecking',
  'updatehostkeys', 'verifyhostkeydns', 'addkeystoagent', 'canonicalizehostname', 'canonicalizefallbacklocal',
  // server
  'usedns', 'x11forwarding', 'x11uselocalhost', 'allowtcpforwarding', 'allowagentforwarding',
  'allowstreamlocalforwarding', 'permittty', 'printmotd', 'printlastlog', 'strictmodes', 'usepam',
  'ignorerhosts', 'ignoreuserknownhosts', 'permituserenvironment', 'exposeauthinfo', 'disableforwarding',
  'permittunnel', 'permitemptypasswords', 'permitrootlogin', 'pubkeyauthentication', 'refuseconnection',
  'challengeresponseauthentication', 'kerberosauthentication', 'gssapicleanupcredentials',
]);

/** Single-word values of yes/no-like options, lowercased, true/false -> yes/no. */
export function normaliseFlag(key: string, value: string): string {
  if (!FLAG_KEYS.has(key) || /\s/.test(value)) return value;
  const v = value.toLowerCase();
  return v === 'true' ? 'yes' : v === 'false' ? 'no' : v;
}

// ---- patterns (match.c) ----

/**
 * match.c match_pattern(): `*` and `?` wildcards, whole string, case-sensitive. Linear-time
 * (greedy with one backtrack point), so a hostile pattern cannot stall the parser.
 */
export function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || (pattern[pi] !== '*' && pattern[pi] === s[si]))) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP !== -1) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/**
 * match.c match_pattern_list(): comma-separated patterns, `!` negates. 1 = a positive pattern
 * matched, -1 = a negated pattern matched (overrides), 0 = nothing matched.
 */
export function matchPatternList(s: string, list: string, dolower: boolean): 1 | 0 | -1 {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    let sub = negated ? raw.slice(1) : raw;
    if (dolower) sub = sub.toLowerCase();
    if (matchPattern(s, sub)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

// ---- reading files and Include globs ----

export type ReadFile = (p: string) => Promise<string>;
export type ReadDir = (dir: string) => Promise<string[]>;

export const defaultReadFile: ReadFile = (p) => readFile(p, 'utf8');
export const defaultReadDir: ReadDir = async (dir) => {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
};

/**
 * How a parser reads files: the caller's reader (a remote target, a pasted folder) or the local
 * file system. A caller's reader without a directory lister expands no Include globs.
 */
export function configIo(opts: { readFile?: ReadFile; readDir?: ReadDir }): { read: ReadFile; listDir: ReadDir | undefined } {
  return { read: opts.readFile ?? defaultReadFile, listDir: opts.readDir ?? (opts.readFile ? undefined : defaultReadDir) };
}

/** Reads the top-level config file; its absence is an error (a missing Include is not). */
export async function readTopConfig(file: string, read: ReadFile, what: string): Promise<string> {
  try {
    return await read(file);
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${errorCode(e)}`);
  }
}

/** The errno code of a failed read (ENOENT, EACCES...), or its message. */
export function errorCode(e: unknown): string {
  if (e !== null && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return String(e);
}

const GLOB_MAGIC = /[*?[]/;

/** fnmatch(3)-style segment pattern: `*`, `?`, `[...]` (with `!`/`^` negation); no `/`. */
function segmentRegExp(seg: string): RegExp {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') {
      if (seg[i - 1] !== '*') out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      let cls = seg.slice(i + 1, close);
      const negate = cls.startsWith('!') || cls.startsWith('^');
      if (negate) cls = cls.slice(1);
      out += `[${negate ? '^' : ''}${cls.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
      i = close;
    } else if (c === '\\' && i + 1 < seg.length) {
      out += seg[++i].replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
    } else out += c.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
  }
  try {
    return new RegExp(`^${out}$`);
  } catch {
    return /(?!)/; // e.g. a reversed range [z-a]: glob(3) matches nothing either
  }
}

/**
 * Expands an absolute path pattern like glob(3): segment by segment, names starting with `.`
 * only match a pattern that starts with `.`, results sorted. A path without wildcards is returned
 * as is (the read that follows decides whether it exists). Without `listDir`, patterns with
 * wildcards expand to nothing.
 */
export async function expandGlob(pattern: string, listDir: ReadDir | undefined): Promise<string[]> {
  if (!GLOB_MAGIC.test(pattern)) return [pattern];
  if (listDir === undefined) return [];
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s) => s.length > 0);
  let bases = [absolute ? '/' : ''];
  for (const seg of segments) {
    const next: string[] = [];
    if (!GLOB_MAGIC.test(seg)) {
      for (const b of bases) next.push(b === '' ? seg : path.posix.join(b, seg));
    } else {
      const re = segmentRegExp(seg);
      for (const b of bases) {
        const names = await listDir(b === '' ? '.' : b);
        for (const name of names) {
          if (name.startsWith('.') && !seg.startsWith('.')) continue;
          if (re.test(name)) next.push(b === '' ? name : path.posix.join(b, name));
        }
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The files an Include pattern names, read: missing ones are skipped silently as ssh and sshd
 * do, unreadable ones and unexpandable globs become warnings.
 */
/**
 * Files one parse may include in all. Depth alone does not bound the work: `Include x x x` in x
 * is 3^16 reads at depth 16. No real configuration comes near this.
 */
export const MAX_INCLUDED_FILES = 256;

/** The include budget of one parse (shared by every Include line of it). */
export interface IncludeBudget {
  files: number;
  exhausted?: boolean;
}

export function includeBudget(): IncludeBudget {
  return { files: MAX_INCLUDED_FILES };
}

export async function readIncludes(
  pattern: string,
  io: { read: ReadFile; listDir: ReadDir | undefined; warnings: string[]; budget?: IncludeBudget },
): Promise<Array<{ file: string; text: string }>> {
  const matches = await expandGlob(pattern, io.listDir);
  if (matches.length === 0 && io.listDir === undefined) {
    io.warnings.push(`Include ${pattern}: wildcards not expanded (no directory listing available)`);
  }
  const out: Array<{ file: string; text: string }> = [];
  for (const file of matches) {
    if (io.budget !== undefined && io.budget.files-- <= 0) {
      if (!io.budget.exhausted) io.warnings.push(`Include ${file}: more than ${MAX_INCLUDED_FILES} included files in all, the rest not read`);
      io.budget.exhausted = true;
      break;
    }
    try {
      out.push({ file, text: await io.read(file) });
    } catch (e) {
      const code = errorCode(e);
      if (code !== 'ENOENT') io.warnings.push(`Include ${file}: cannot read: ${code}`);
    }
  }
  return out;
}

/** Whether `p` is `dir` or inside it (both absolute, normalised). */
export function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Map -> plain object, in insertion order. */
export function toRecord(m: Map<string, string>): Record<string, string> {
  return Object.fromEntries(m);
}
