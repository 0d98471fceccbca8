// Everything `explain` is given, read into one evidence bundle: positional files, standard
// input, and the explicit flags (--client-log, --sshd-config...), which are hints that win where
// the text cannot tell (and are said to be wrong where it can). A saved bundle is the base the
// rest adds to. Logs are streamed; repeated events are aggregated, so memory does not grow with
// the size of a log.
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { checkTextFile, loadBundle, MAX_BUNDLE_BYTES, pastedReader, wrapRead, parseBundleText } from '../evidence/assemble.js';
import { EventCollector } from '../evidence/collector.js';
import { emptyEvidence, type ConfigEvidence, type Evidence, type InputFile } from '../evidence/types.js';
import { streamLines } from '../parsers/lines.js';
import { resolveSshConfig } from '../parsers/ssh-config.js';
import { parseSshdConfig } from '../parsers/sshd-config.js';
import { parseSshG } from '../parsers/ssh-G.js';
import { parseSshdT } from '../parsers/sshd-T.js';
import { CONFIG_NAMES, InputReader, type ConfigBlock, type ConfigKind, type Hint, type ReadResult } from './reader.js';
import { builtinVocabulary, type Vocabulary } from './signatures.js';
import { builtinSymptoms, type SymptomReader } from './symptoms.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { matchPattern } from '../parsers/config-syntax.js';

export interface InputSpec {
  /** A file, or '-' for standard input; with `text`, only the name the report gives it. */
  path: string;
  /** The input itself, already in memory (a description, a test's paste). */
  text?: string;
  /** The flag it was given with, if any. */
  hint?: Hint | 'bundle';
}

export interface ReadOptions {
  /** The target whose Host/Match blocks apply in a raw ssh_config. */
  host?: string;
  now?: Date;
  vocabulary?: Vocabulary;
  symptoms?: SymptomReader;
}

const FLAG: Record<Hint | 'bundle', string> = {
  describe: '--describe',
  'client-log': '--client-log',
  'server-log': '--server-log',
  'ssh-config': '--ssh-config',
  'sshd-config': '--sshd-config',
  'ssh-G': '--ssh-G',
  'sshd-T': '--sshd-T',
  bundle: 'a bundle',
};

/** The host an ssh_config is read for when no target is known: only `Host *`-like blocks match it. */
const ANY_HOST = '*';

type Block = ConfigBlock & { source: string; file?: string };

interface ReadInput {
  spec: InputSpec;
  source: string;
  result: ReadResult;
}

/** Standard input: a bundle is JSON from its first byte; anything else is streamed. */
async function stdinSource(): Promise<{ bundleText?: string; stream?: Readable }> {
  const it = process.stdin[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return {};
  const head = Buffer.isBuffer(first.value) ? first.value : Buffer.from(String(first.value));
  if (isBundleHead(head.subarray(0, 512).toString('utf8'))) {
    const chunks = [head];
    let size = head.length;
    for (let n = await it.next(); !n.done; n = await it.next()) {
      const b = Buffer.isBuffer(n.value) ? n.value : Buffer.from(String(n.value));
      size += b.length;
      if (size > MAX_BUNDLE_BYTES) throw new UsageError(`standard input is larger than ${MAX_BUNDLE_BYTES} bytes and starts like JSON`);
      chunks.push(b);
    }
    return { bundleText: Buffer.concat(chunks).toString('utf8') };
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield Buffer.isBuffer(n.value) ? n.value : Buffer.from(String(n.value));
  }
  return { stream: Readable.from(rest()) };
}

/**
 * A saved bundle starts `{"format": "ssh-doctor/evidence"`; any other JSON (a logger's lines, a
 * cloud CLI's output) is text to read like the rest.
 */
function isBundleHead(head: string): boolean {
  return /^\s*\{\s*"format"\s*:\s*"ssh-doctor\/evidence"/.test(head);
}

async function startsLikeBundle(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return isBundleHead(buf.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await fh.close();
  }
}

export async function evidenceFromInputs(specs: InputSpec[], opts: ReadOptions = {}): Promise<Evidence> {
  const now = opts.now ?? new Date();
  const vocabulary = opts.vocabulary ?? builtinVocabulary();
  if (specs.filter((s) => s.path === '-').length > 1) throw new UsageError('standard input (-) can be read once');
  // a saved bundle is the base; the other inputs add to it
  let ev: Evidence | undefined;
  const texts: Array<{ spec: InputSpec; stream?: Readable }> = [];
  for (const spec of specs) {
    const isBundle = async (): Promise<string | boolean> => {
      if (spec.text !== undefined) {
        if (spec.hint === 'bundle' || isBundleHead(spec.text.slice(0, 512))) return spec.text;
        texts.push({ spec, stream: Readable.from([spec.text]) });
        return 'streamed';
      }
      if (spec.hint === 'bundle') return true;
      if (spec.hint !== undefined) return false;
      if (spec.path === '-') {
        const s = await stdinSource();
        if (s.bundleText !== undefined) return s.bundleText;
        // nothing piped: an error only when nothing else was given
        if (!s.stream) {
          if (specs.length === 1) throw new UsageError('standard input is empty: paste or pipe the evidence (logs, configs, a ticket), or give files');
          return 'streamed';
        }
        texts.push({ spec, stream: s.stream });
        return 'streamed';
      }
      await checkTextFile(spec.path, 'input');
      return startsLikeBundle(spec.path);
    };
    const b = await isBundle();
    if (b === 'streamed') continue;
    if (b === false) {
      texts.push({ spec });
      continue;
    }
    if (ev) throw new UsageError(`only one evidence bundle can be read (${spec.path === '-' ? 'standard input' : spec.path} is a second one)`);
    ev = typeof b === 'string' ? parseBundleText(b, spec.path === '-' ? 'standard input' : spec.path) : await loadBundle(spec.path);
  }
  ev ??= emptyEvidence(now);

  const collector = new EventCollector();
  collector.merge(ev.events);
  const lastEvent = { ...ev.lastEvent };
  const inputs: InputFile[] = [...ev.inputs];
  const read: ReadInput[] = [];
  for (const { spec, stream } of texts) {
    const source = spec.path === '-' ? 'stdin' : spec.path;
    const inMemory = spec.path === '-' || spec.text !== undefined;
    if (!inMemory) await checkTextFile(spec.path, spec.hint ? FLAG[spec.hint] : 'input');
    const reference = inMemory ? now : (await stat(spec.path)).mtime;
    const reader = new InputReader(source, collector, vocabulary, spec.hint === 'bundle' ? undefined : spec.hint, reference);
    try {
      await streamLines(stream ?? spec.path, reader);
    } catch (e) {
      throw new UsageError(`cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    read.push({ spec, source, result: reader.finish() });
  }
  Object.assign(lastEvent, collector.lastEvent());

  const transcripts: Array<{ tos?: string; authenticated: boolean }> = [];
  let host = opts.host;
  for (const r of read) {
    const c = r.result.client;
    if (c.recognised > 0) transcripts.push(c);
    ev.client.openssh ??= c.openssh;
    if (c.serverSoftware) ev.server.openssh ??= c.serverSoftware;
    host ??= c.host;
    const s = r.result.server;
    if (s.openssh && (!ev.server.openssh || s.openssh.startsWith('OpenSSH_'))) ev.server.openssh = s.openssh;
  }
  host ??= ev.target?.host;

  // configs: a whole file that is one config is read as a file (its Includes beside it); blocks
  // of a paste are read from their text
  const blocks: Record<ConfigKind, Block[]> = { 'ssh-config': [], 'sshd-config': [], 'ssh-G': [], 'sshd-T': [] };
  for (const r of read) {
    const nonBlank = r.result.lines;
    for (const b of r.result.configs) {
      const whole = r.spec.path !== '-' && r.spec.text === undefined && r.result.configs.length === 1 && b.lines >= nonBlank * 0.8;
      blocks[b.kind].push({ ...b, source: r.source, ...(whole ? { file: r.spec.path } : {}) });
    }
  }
  const warnings: string[] = [];
  const notes = new Map<string, string>();
  const client = await readConfigs(blocks['ssh-G'], blocks['ssh-config'], 'client', host, warnings, notes);
  if (client) ev.client.config = client;
  const server = await readConfigs(blocks['sshd-T'], blocks['sshd-config'], 'server', host, warnings, notes);
  if (server) ev.server.config = server;
  ev.errors.push(...warnings);

  // the users' words: each fact from its first mention (a saved bundle's come first)
  const words = opts.symptoms ?? builtinSymptoms();
  const symptoms = [...(ev.symptoms ?? [])];
  const seen = new Set(symptoms.map((x) => x.fact));
  for (const r of read) {
    for (const sentence of r.result.prose) {
      for (const f of words.read(sentence)) {
        if (seen.has(f.fact)) continue;
        seen.add(f.fact);
        symptoms.push(f);
      }
    }
  }
  if (symptoms.length) ev.symptoms = symptoms;

  for (const r of read) {
    const input = describeInput(r);
    const note = notes.get(r.source);
    if (note) input.note = input.note ? `${input.note}; ${note}` : note;
    inputs.push(input);
  }

  const ipqos = ipqosComparison(transcripts);
  if (ipqos) ev.measurements.network = { ...ev.measurements.network, ipqos };
  ev.events = collector.summaries();
  ev.lastEvent = lastEvent;
  ev.inputs = inputs;
  return ev;
}

/** What one input was read as, for the report (and a word when its flag was the wrong one). */
function describeInput(r: ReadInput): InputFile {
  const res = r.result;
  const top = res.readAs.filter((x) => x.what !== 'prose');
  const kindOf = (what: string): InputFile['kind'] => {
    if (what.startsWith('OpenSSH client')) return 'client-log';
    if (what.startsWith('server log')) return 'server-log';
    const cfg = (Object.entries(CONFIG_NAMES) as Array<[ConfigKind, string]>).find(([, name]) => name === what);
    return cfg ? cfg[0] : 'log';
  };
  const kinds = [...new Set(top.map((x) => kindOf(x.what)))];
  const kind: InputFile['kind'] = kinds.length === 1 ? kinds[0]! : kinds.length === 0 ? (res.readAs.length ? 'prose' : 'unrecognised') : 'mixed';
  const out: InputFile = {
    source: r.source,
    kind,
    lines: res.lines,
    recognised: res.recognised,
    unparsed: res.unparsed,
    readAs: res.readAs,
    ...(res.server.dating ? { dating: res.server.dating } : {}),
  };
  const hint = r.spec.hint;
  if (hint === 'describe') out.given = FLAG[hint];
  else if (hint && hint !== 'bundle') {
    out.given = FLAG[hint];
    const dominant = top[0] ? kindOf(top[0].what) : null;
    if (dominant !== null && dominant !== hint && !(kind === 'mixed' && kinds.includes(hint))) {
      out.note = `given as ${FLAG[hint]}, read as ${top[0]!.what}`;
    } else if (dominant === null) {
      out.note = `given as ${FLAG[hint]}, but nothing in it was recognised`;
    }
  }
  return out;
}

/**
 * A side's config from its blocks: a dump (ssh -G / sshd -T) wins over a raw config; several
 * blocks of one kind are read as one file in their order (each later block starts afresh with
 * `Host *` / `Match all`, as separate files would).
 */
async function readConfigs(
  dumps: Block[],
  raws: Block[],
  side: 'client' | 'server',
  host: string | undefined,
  warnings: string[],
  notes: Map<string, string>,
): Promise<ConfigEvidence | undefined> {
  const name = side === 'client' ? 'ssh config' : 'sshd config';
  if (dumps.length) {
    const text = dumps.map((d) => d.text).join('\n');
    return side === 'client' ? parseSshG(text).config : parseSshdT(text).config;
  }
  if (!raws.length) return undefined;
  const whole = raws.length === 1 ? raws[0]!.file : undefined;
  const target = host ?? ANY_HOST;
  let file: string;
  let reader: { readFile: (p: string) => Promise<string>; readDir: (d: string) => Promise<string[]> };
  if (whole) {
    file = whole;
    reader = pastedReader(whole, side === 'client' ? [join(homedir(), '.ssh'), '/etc/ssh'] : ['/etc/ssh']);
  } else {
    const reset = side === 'client' ? 'Host *' : 'Match all';
    const text = raws.map((b, i) => (i === 0 ? b.text : `${reset}\n${b.text}`)).join('\n');
    file = side === 'client' ? '(pasted ssh_config)' : '(pasted sshd_config)';
    reader = {
      readFile: async (p) => {
        if (p === file) return text;
        throw Object.assign(new Error('not read'), { code: 'not read: an Include of a pasted config' });
      },
      readDir: async () => [],
    };
  }
  if (side === 'client') {
    const r = await wrapRead(() => resolveSshConfig(file, target, reader), name, file);
    warnings.push(...r.warnings.map((w) => `ssh config: ${w}`));
    if (host === undefined) {
      const text = whole ? await reader.readFile(whole).catch(() => '') : raws.map((b) => b.text).join('\n');
      const note = `ssh_config read for every host, no target being named (--host): ${hostBlocksNote(text)}`;
      for (const b of raws) notes.set(b.source, note);
    }
    return r.config;
  }
  const r = await wrapRead(() => parseSshdConfig(file, reader), name, file);
  warnings.push(...r.warnings.map((w) => `sshd config: ${w}`));
  return r.config;
}

/** Which Host blocks a config read for every host applied and which it left out. */
function hostBlocksNote(text: string): string {
  const applied: string[] = [];
  const left: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*Host\s+(.+?)\s*$/i.exec(line);
    if (!m) continue;
    const patterns = m[1]!.split(/\s+/);
    (patterns.some((p) => !p.startsWith('!') && matchPattern(ANY_HOST, p)) ? applied : left).push(m[1]!);
  }
  const parts = [];
  parts.push(applied.length ? `applied: Host ${applied.join(', Host ')}` : 'no Host * block');
  if (left.length) parts.push(`left out: Host ${left.join(', Host ')}`);
  return parts.join('; ');
}

const UNMARKED = new Set(['0x00', '0x0']);

/**
 * Two transcripts of the same target, one whose packets carried a DSCP mark and failed, one
 * without a mark (`-o IPQoS=none`) that got in: the same comparison the live IPQoS probe makes.
 */
function ipqosComparison(ts: Array<{ tos?: string; authenticated: boolean }>): { defaultWorks: boolean; noneWorks: boolean } | undefined {
  const marked = ts.filter((t) => t.tos !== undefined && !UNMARKED.has(t.tos));
  const unmarked = ts.filter((t) => t.tos === undefined || UNMARKED.has(t.tos));
  if (marked.length === 0 || unmarked.length === 0) return undefined;
  return { defaultWorks: marked.some((t) => t.authenticated), noneWorks: unmarked.some((t) => t.authenticated) };
}
