// The vocabulary of the SSH world beyond OpenSSH's own logs: one data file per producer
// (signatures/<producer>.yaml: PuTTY, Paramiko, Go's x/crypto/ssh, Windows OpenSSH, rsync,
// fail2ban, tracepath...), each message a case-insensitive pattern searched in a line and the
// typed event it means, the same events the OpenSSH parsers emit (a Go `i/o timeout` on dial is
// OpenSSH's `Connection timed out`). Adding a client's messages is a data change plus examples.
//
// Matching has to keep up with multi-million-line logs: every message has literal keywords
// (given, or the longest literal its pattern requires), and one regular expression of all
// keywords finds which messages are worth trying on a line; most lines hit none and cost one
// test. When several messages match a line, the longest match wins (the most specific
// message: "Network error: Connection refused" over a bare "Connection refused").
//
// A message may apply only within a section (an `iptables -L` chain of fail2ban's, say): a
// line matching the section's `start` opens it, a line matching `end` (or, without `end`, a blank
// line) closes it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readYamlData } from '../data-file.js';
import { SignatureFileError, UsageError } from '../errors.js';
import { unsafePattern } from '../engine/load.js';
import { EVENT_TYPES, type EventType, type FieldValue, type Side } from '../evidence/types.js';
import { BUILTIN_SIGNATURES } from '../paths.js';

const MAX_SIGNATURE_BYTES = 512 * 1024;
const MIN_KEYWORD = 4;

export interface SignatureExample {
  text: string;
  from: string;
  fields?: Record<string, FieldValue>;
  section?: string;
}

export interface SignatureMessage {
  match: string;
  event: string;
  side?: Side;
  fields?: Record<string, FieldValue>;
  within?: string;
  keywords?: string[];
  means?: string;
  examples: SignatureExample[];
  near?: SignatureExample[];
}

export interface SignatureFile {
  producer: string;
  title: string;
  side: Side;
  about: string;
  sections?: Array<{ id: string; start: string; end?: string; keywords?: string[] }>;
  messages: SignatureMessage[];
  file: string;
}

export interface CompiledMessage {
  producer: string;
  /** Index within its file (for tests and ties). */
  index: number;
  event: EventType;
  side: Side;
  fields: Record<string, FieldValue>;
  re: RegExp;
  within?: string;
  keywords: string[];
  source: SignatureMessage;
}

interface CompiledSection {
  key: string;
  start: RegExp;
  end?: RegExp;
  keywords: string[];
}

export interface SignatureMatch {
  message: CompiledMessage;
  fields: Record<string, FieldValue>;
}

const EVENTS = new Set<string>(EVENT_TYPES);

/**
 * The literal text a pattern requires wherever it matches, longest run first: characters at the
 * top level that are not optional. Empty when the pattern has a top-level alternation.
 */
export function requiredLiterals(pattern: string): string[] {
  const runs: string[] = [];
  let run = '';
  let depth = 0;
  const flush = () => {
    if (run.length) runs.push(run);
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const next = pattern[i + 1];
    const optionalNext = (j: number) => {
      const q = pattern[j];
      return q === '?' || q === '*' || (q === '{' && /^\{0[,}]/.test(pattern.slice(j)));
    };
    if (depth === 0 && c === '|') return [];
    if (c === '\\') {
      const e = next ?? '';
      i++;
      if (depth > 0) continue;
      if (/[A-Za-z0-9]/.test(e)) {
        flush(); // \s \d \w \b ...: not a literal
        continue;
      }
      if (optionalNext(i + 1)) {
        flush();
        continue;
      }
      run += e;
      continue;
    }
    if (c === '[') {
      // a class: skip it
      let j = i + 1;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
      flush();
      continue;
    }
    if (c === '(') {
      depth++;
      flush();
      continue;
    }
    if (c === ')') {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth > 0) continue;
    if ('^$.'.includes(c)) {
      flush();
      continue;
    }
    if ('?*+{'.includes(c)) {
      // the character before a ? or * is optional, before a + at least once
      if ((c === '?' || c === '*' || c === '{') && run.length) run = run.slice(0, -1);
      flush();
      if (c === '{') while (i < pattern.length && pattern[i] !== '}') i++;
      continue;
    }
    if (optionalNext(i + 1)) {
      flush();
      continue;
    }
    run += c;
  }
  flush();
  return runs.map((r) => r.trim()).filter((r) => r.length > 0).sort((a, b) => b.length - a.length);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function numeric(v: string): FieldValue {
  return /^\d{1,15}$/.test(v) ? Number(v) : v;
}

function compileFile(sig: SignatureFile): { messages: CompiledMessage[]; sections: CompiledSection[] } {
  const fail = (field: string, problem: string) => new SignatureFileError(sig.file, field, problem);
  const regex = (field: string, src: string): RegExp => {
    const unsafe = unsafePattern(src);
    if (unsafe !== null) throw fail(field, `${src}: ${unsafe}`);
    try {
      return new RegExp(src, 'i');
    } catch (e) {
      throw fail(field, `not a valid regular expression: ${(e as Error).message}`);
    }
  };
  const sections: CompiledSection[] = (sig.sections ?? []).map((s, i) => {
    const keywords = (s.keywords ?? requiredLiterals(s.start).slice(0, 1)).map((k) => k.toLowerCase());
    if (!keywords.length || keywords.some((k) => k.length < MIN_KEYWORD)) {
      throw fail(`sections[${i}].keywords`, `the start pattern requires no literal of ${MIN_KEYWORD}+ characters to find it by: give keywords`);
    }
    return {
      key: `${sig.producer}/${s.id}`,
      start: regex(`sections[${i}].start`, s.start),
      ...(s.end ? { end: regex(`sections[${i}].end`, s.end) } : {}),
      keywords,
    };
  });
  const messages = sig.messages.map((m, i): CompiledMessage => {
    const field = `messages[${i}]`;
    if (!EVENTS.has(m.event)) throw fail(`${field}.event`, `unknown event type "${m.event}"`);
    const side = m.side ?? sig.side;
    if ((m.event.startsWith('client-') && side !== 'client') || (m.event.startsWith('server-') && side !== 'server')) {
      throw fail(`${field}.side`, `${m.event} is a ${m.event.split('-')[0]} event, the message says ${side}`);
    }
    if (m.within !== undefined && !(sig.sections ?? []).some((s) => s.id === m.within)) throw fail(`${field}.within`, `no section "${m.within}"`);
    const re = regex(`${field}.match`, m.match);
    const keywords = (m.keywords ?? requiredLiterals(m.match).slice(0, 1)).map((k) => k.toLowerCase());
    const short = keywords.find((k) => k.length < MIN_KEYWORD);
    if (!keywords.length || short !== undefined) {
      throw fail(`${field}.keywords`, `the pattern requires no literal of ${MIN_KEYWORD}+ characters to find it by: give keywords (one of them is in every matching line)`);
    }
    return {
      producer: sig.producer,
      index: i,
      event: m.event as EventType,
      side,
      fields: { ...(m.fields ?? {}) },
      re,
      ...(m.within ? { within: `${sig.producer}/${m.within}` } : {}),
      keywords,
      source: m,
    };
  });
  return { messages, sections };
}

/** Loads every signature file of the given folders (the built-in one first). */
export function loadSignatureFiles(dirs: string[] = [BUILTIN_SIGNATURES]): SignatureFile[] {
  const files: SignatureFile[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch (e) {
      throw new UsageError(`cannot read signature folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    for (const name of names) {
      const { file, data } = readYamlData(join(dir, name), {
        schema: 'signature.schema.json',
        maxBytes: MAX_SIGNATURE_BYTES,
        fail: (f, field, problem) => new SignatureFileError(f, field, problem),
      });
      const sig = { ...(data as Omit<SignatureFile, 'file'>), file };
      if (name.replace(/\.ya?ml$/, '') !== sig.producer) throw new SignatureFileError(file, 'producer', `must match the file name (${name})`);
      const prev = seen.get(sig.producer);
      if (prev) throw new SignatureFileError(file, 'producer', `"${sig.producer}" is already defined in ${prev}`);
      seen.set(sig.producer, file);
      files.push(sig);
    }
  }
  return files;
}

/** All producers' messages, compiled once; `matcher()` makes the per-input state (open sections). */
export class Vocabulary {
  readonly messages: CompiledMessage[] = [];
  private readonly byKeyword = new Map<string, Array<CompiledMessage | CompiledSection>>();
  private readonly finder: RegExp;

  constructor(readonly files: SignatureFile[]) {
    const sections: CompiledSection[] = [];
    for (const f of files) {
      const c = compileFile(f);
      this.messages.push(...c.messages);
      sections.push(...c.sections);
    }
    for (const item of [...this.messages, ...sections]) {
      for (const k of item.keywords) {
        const list = this.byKeyword.get(k) ?? [];
        list.push(item);
        this.byKeyword.set(k, list);
      }
    }
    // longest first, so a keyword that contains another is found as itself; the finder then
    // reports only the longest keyword at a position, so each keyword also brings the messages
    // of the shorter keywords it begins with
    const keys = [...this.byKeyword.keys()].sort((a, b) => b.length - a.length);
    for (const k of keys) {
      const own = this.byKeyword.get(k)!;
      for (const shorter of keys) if (shorter.length < k.length && k.startsWith(shorter)) own.push(...this.byKeyword.get(shorter)!.filter((x) => !own.includes(x)));
    }
    this.finder = new RegExp(keys.map(escapeRe).join('|') || '(?!)', 'gi');
  }

  matcher(): LineMatcher {
    return new LineMatcher(this.byKeyword, this.finder);
  }
}

export class LineMatcher {
  private readonly open = new Set<CompiledSection>();

  constructor(
    private readonly byKeyword: Map<string, Array<CompiledMessage | CompiledSection>>,
    private readonly finder: RegExp,
  ) {}

  /**
   * The message this line is, or null. A line that opens or closes a section is recognised as
   * such (`section: true`) without an event.
   */
  match(line: string): SignatureMatch | { section: true } | null {
    let sectionChanged = false;
    if (this.open.size) {
      const blank = line.trim() === '';
      for (const s of this.open) {
        if (s.end ? s.end.test(line) : blank) {
          this.open.delete(s);
          sectionChanged = true;
        }
      }
    }
    this.finder.lastIndex = 0;
    let best: { m: CompiledMessage; len: number; groups: Record<string, string | undefined> | undefined } | undefined;
    const tried = new Set<CompiledMessage | CompiledSection>();
    const candidates: CompiledMessage[] = [];
    let hit: RegExpExecArray | null;
    while ((hit = this.finder.exec(line)) !== null) {
      // keywords may overlap ("connection refused" holds "refused"): look again one character on
      this.finder.lastIndex = hit.index + 1;
      for (const item of this.byKeyword.get(hit[0].toLowerCase()) ?? []) {
        if (tried.has(item)) continue;
        tried.add(item);
        if ('event' in item) candidates.push(item);
        else if (item.start.test(line)) {
          this.open.add(item);
          sectionChanged = true;
        }
      }
    }
    for (const m of candidates) {
      if (m.within !== undefined && ![...this.open].some((s) => s.key === m.within)) continue;
      const r = m.re.exec(line);
      if (r && (!best || r[0].length > best.len)) best = { m, len: r[0].length, groups: r.groups };
    }
    if (!best) return sectionChanged ? { section: true } : null;
    const fields: Record<string, FieldValue> = { ...best.m.fields, producer: best.m.producer };
    for (const [k, v] of Object.entries(best.groups ?? {})) if (v !== undefined && v !== '') fields[k] = numeric(v);
    return { message: best.m, fields };
  }
}

let builtin: Vocabulary | undefined;

/** The built-in vocabulary, loaded once. */
export function builtinVocabulary(): Vocabulary {
  builtin ??= new Vocabulary(loadSignatureFiles());
  return builtin;
}
