import { readFile, readdir, stat, open } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute, join as joinPath } from 'node:path';
import { homedir } from 'node:os';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { SCHEMA_DIR } from '../paths.js';
import { ClientLogParser } from '../parsers/client-log.js';
import { streamLines } from '../parsers/lines.js';
import { ServerLogParser } from '../parsers/server-log.js';
import { parseSshG } from '../parsers/ssh-G.js';
import { resolveSshConfig } from '../parsers/ssh-config.js';
import { parseSshdConfig } from '../parsers/sshd-config.js';
import { parseSshdT } from '../parsers/sshd-T.js';
import { EventCollector } from './collector.js';
import { EVENT_TYPES, EVIDENCE_FORMAT, emptyEvidence, type Evidence, type InputFile } from './types.js';

/** The files a user can hand to `explain` (every one optional; logs repeatable). */
export interface EvidenceFiles {
  bundle?: string;
  clientLogs?: string[];
  serverLogs?: string[];
  sshConfig?: string;
  sshG?: string;
  sshdConfig?: string;
  sshdT?: string;
  /** The target whose Host/Match blocks apply in a raw ssh_config. */
  host?: string;
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

/**
 * Checks a file exists, is a regular file and is text. Binary files (a NUL in the first 8 KiB)
 * and empty files are refused: parsing them would only produce an empty, misleading report.
 */
async function checkTextFile(path: string, what: string): Promise<void> {
  if (path === '-') return;
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UsageError(`${what} ${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} ${path}: ${code(e)}`);
  }
  if (size === 0) throw new UsageError(`${what} ${path} is empty`);
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size, 8192));
      await fh.read(buf, 0, buf.length, 0);
      head = buf;
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${code(e)}`);
  }
  if (head.includes(0)) throw new UsageError(`${what} ${path} is a binary file, not text`);
}

async function readConfigText(path: string, what: string): Promise<string> {
  await checkTextFile(path, what);
  const st = await stat(path);
  if (st.size > MAX_CONFIG_BYTES) throw new UsageError(`${what} ${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
  return readFile(path, 'utf8');
}

let bundleValidator: ReturnType<Ajv['compile']> | undefined;

export async function loadBundle(path: string): Promise<Evidence> {
  await checkTextFile(path, 'evidence bundle');
  const st = await stat(path);
  if (st.size > MAX_BUNDLE_BYTES) throw new UsageError(`evidence bundle ${path} is larger than ${MAX_BUNDLE_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`evidence bundle ${path} is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof data !== 'object' || data === null || (data as { format?: unknown }).format !== EVIDENCE_FORMAT) {
    throw new UsageError(`${path} is not an ssh-doctor evidence bundle (no "format": "${EVIDENCE_FORMAT}")`);
  }
  bundleValidator ??= new Ajv({ allErrors: false, strict: false }).compile(
    JSON.parse(readFileSync(join(SCHEMA_DIR, 'evidence.schema.json'), 'utf8')) as object,
  );
  if (!bundleValidator(data)) {
    const err = bundleValidator.errors?.[0];
    throw new UsageError(`evidence bundle ${path}: ${err?.instancePath || '(top level)'} ${err?.message ?? 'is invalid'}`);
  }
  const problem = sanityProblem(data);
  if (problem !== null) throw new UsageError(`evidence bundle ${path}: ${problem}`);
  const ev = data as Evidence;
  const known = new Set<string>(EVENT_TYPES);
  const unknown = ev.events.find((e) => !known.has(e.type));
  if (unknown) throw new UsageError(`evidence bundle ${path}: unknown event type "${unknown.type}"`);
  return ev;
}

/** No number ssh-doctor records comes near this (seconds over centuries, milliseconds over months). */
const MAX_NUMBER = 1e10;
/** Bundles are shallow (about 8 levels); a deeper one was made to exhaust recursion. */
const MAX_DEPTH = 64;
const DROP_KINDS = new Set(['silent', 'reset', 'closed-by-server', 'channel-closed']);

/**
 * What the schema does not say about a bundle and the engine and renderers rely on: no absurd
 * numbers (a drop "after 1e308 s" would have the timeline draw for ever), no nesting deep
 * enough to exhaust the stack, and the idle test's traces in their shape. Null when sane.
 */
function sanityProblem(data: unknown): string | null {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: data, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'number' && !(Number.isFinite(v) && Math.abs(v) <= MAX_NUMBER)) return `${path || '(top level)'} ${v} is out of range`;
    // times (collectedAt, startedAt, firstAt...) are drawn and compared: they must be dates
    if (typeof v === 'string' && /At$/.test(path) && Number.isNaN(Date.parse(v))) return `${path} is not a date`;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return `${path} is nested more than ${MAX_DEPTH} levels deep`;
    for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: `${path}/${k}`, depth: depth + 1 });
  }
  // the handshake is an open object in the schema; the engine reads these
  const hostKey = (data as { handshake?: { hostKey?: unknown } }).handshake?.hostKey;
  if (hostKey !== undefined) {
    const hk = hostKey as Record<string, unknown> | null;
    if (hk === null || typeof hk !== 'object') return '/handshake/hostKey must be an object';
    if (hk.expected !== undefined && !(Array.isArray(hk.expected) && hk.expected.every((x) => typeof x === 'string'))) return '/handshake/hostKey/expected must be a list of fingerprints';
    for (const k of ['offered', 'status']) if (hk[k] !== undefined && typeof hk[k] !== 'string') return `/handshake/hostKey/${k} must be a string`;
  }
  const timings = (data as { handshake?: { timingsMs?: unknown } }).handshake?.timingsMs;
  if (timings !== undefined && (timings === null || typeof timings !== 'object' || Object.values(timings).some((t) => typeof t !== 'number'))) {
    return '/handshake/timingsMs must map phases to milliseconds';
  }
  const traces = (data as { measurements?: { idle?: { traces?: unknown } } }).measurements?.idle?.traces;
  if (traces === undefined) return null;
  const num = (x: unknown) => typeof x === 'number';
  const kind = (x: unknown) => x === undefined || (typeof x === 'string' && DROP_KINDS.has(x));
  if (!Array.isArray(traces)) return '/measurements/idle/traces must be an array';
  for (const [i, t] of traces.entries()) {
    const at = `/measurements/idle/traces/${i}`;
    if (t === null || typeof t !== 'object') return `${at} must be an object`;
    const tr = t as Record<string, unknown>;
    if (!num(tr.id) || !num(tr.openedAt) || !(tr.diedAt === undefined || num(tr.diedAt)) || !kind(tr.kind)) return `${at} is not a connection trace`;
    if (!Array.isArray(tr.pings)) return `${at}/pings must be an array`;
    for (const [j, p] of (tr.pings as unknown[]).entries()) {
      const pg = p as Record<string, unknown> | null;
      if (pg === null || typeof pg !== 'object' || !num(pg.atIdle) || !num(pg.at) || typeof pg.ok !== 'boolean' || !kind(pg.kind)) return `${at}/pings/${j} is not a ping`;
    }
  }
  return null;
}

/**
 * Builds one evidence bundle from the files a user collected. Logs are streamed; repeated
 * events are aggregated, so memory does not grow with the size of a log.
 */
export async function evidenceFromFiles(files: EvidenceFiles, now: Date = new Date()): Promise<Evidence> {
  const ev = files.bundle ? await loadBundle(files.bundle) : emptyEvidence(now);
  const collector = new EventCollector();
  collector.merge(ev.events);
  const inputs: InputFile[] = [...ev.inputs];
  const lastEvent = { ...ev.lastEvent };

  const transcripts: Array<{ tos?: string; authenticated: boolean }> = [];
  for (const path of files.clientLogs ?? []) {
    await checkTextFile(path, 'client log');
    const parser = new ClientLogParser(path, collector);
    try {
      await streamLines(path, parser);
    } catch (e) {
      throw new UsageError(`cannot read client log ${path}: ${code(e)}`);
    }
    const r = parser.result();
    transcripts.push(r);
    inputs.push({ source: path, kind: 'client-log', lines: r.lines, recognised: r.recognised, unparsed: r.unparsed });
    ev.client.openssh ??= r.openssh;
    if (r.serverSoftware) ev.server.openssh ??= r.serverSoftware;
    if (r.host && !files.host) files = { ...files, host: r.host };
  }
  for (const path of files.serverLogs ?? []) {
    await checkTextFile(path, 'server log');
    let reference = now;
    if (path !== '-') reference = (await stat(path)).mtime;
    const parser = new ServerLogParser(path === '-' ? 'stdin' : path, collector, { reference });
    try {
      await streamLines(path, parser);
    } catch (e) {
      throw new UsageError(`cannot read server log ${path}: ${code(e)}`);
    }
    const r = parser.result();
    inputs.push({
      source: path === '-' ? 'stdin' : path,
      kind: 'server-log',
      lines: r.lines,
      recognised: r.recognised,
      unparsed: r.unparsed,
      ...(r.dating ? { dating: r.dating } : {}),
    });
    if (r.openssh && (!ev.server.openssh || r.openssh.startsWith('OpenSSH_'))) ev.server.openssh = r.openssh;
  }
  Object.assign(lastEvent, collector.lastEvent());

  if (files.sshG) {
    const { config, stats } = parseSshG(await readConfigText(files.sshG, 'ssh -G output'));
    ev.client.config = config;
    inputs.push({ source: files.sshG, kind: 'ssh-G', ...stats });
  } else if (files.sshConfig) {
    await checkTextFile(files.sshConfig, 'ssh config');
    const host = files.host ?? ev.target?.host;
    if (!host) throw new UsageError('a raw ssh_config needs a target: give --host NAME (or a client log that names the host)');
    const reader = pastedReader(files.sshConfig, [joinPath(homedir(), '.ssh'), '/etc/ssh']);
    const { config, stats, warnings } = await wrapRead(() => resolveSshConfig(files.sshConfig as string, host, reader), 'ssh config', files.sshConfig);
    ev.client.config = config;
    ev.errors.push(...warnings.map((w) => `ssh config: ${w}`));
    inputs.push({ source: files.sshConfig, kind: 'ssh-config', ...stats });
  }
  if (files.sshdT) {
    const { config, stats } = parseSshdT(await readConfigText(files.sshdT, 'sshd -T output'));
    ev.server.config = config;
    inputs.push({ source: files.sshdT, kind: 'sshd-T', ...stats });
  } else if (files.sshdConfig) {
    await checkTextFile(files.sshdConfig, 'sshd config');
    const reader = pastedReader(files.sshdConfig, ['/etc/ssh']);
    const { config, stats, warnings } = await wrapRead(() => parseSshdConfig(files.sshdConfig as string, reader), 'sshd config', files.sshdConfig);
    ev.server.config = config;
    ev.errors.push(...warnings.map((w) => `sshd config: ${w}`));
    inputs.push({ source: files.sshdConfig, kind: 'sshd-config', ...stats });
  }

  const ipqos = ipqosComparison(transcripts);
  if (ipqos) ev.measurements.network = { ...ev.measurements.network, ipqos };

  ev.events = collector.summaries();
  ev.lastEvent = lastEvent;
  ev.inputs = inputs;
  return ev;
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

/**
 * A pasted config is explained as the server or client has it, not as this machine has it: its
 * Includes are read only from the pasted file's folder. An absolute Include under one of the
 * config's home folders (/etc/ssh/sshd_config.d/*.conf) is looked up beside the pasted file
 * (./sshd_config.d/*.conf); anything else is not read, and the report says so.
 */
function pastedReader(file: string, homes: string[]): { readFile: (p: string) => Promise<string>; readDir: (d: string) => Promise<string[]> } {
  const base = dirname(resolve(file));
  const map = (p: string): string => {
    const abs = resolve(p);
    const inside = (dir: string) => {
      const rel = relative(dir, abs);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? rel : null;
    };
    if (inside(base) !== null) return abs;
    for (const home of homes) {
      const rel = inside(home);
      if (rel !== null) return joinPath(base, rel);
    }
    throw Object.assign(new Error('outside the pasted config folder'), { code: 'not read: outside the pasted config folder' });
  };
  return {
    // the pasted file and each Include: no bigger than a config file can be (a 2 GB "config"
    // would otherwise be read whole)
    readFile: async (p) => {
      const file = map(p);
      const st = await stat(file);
      if (st.size > MAX_CONFIG_BYTES) throw Object.assign(new Error('too large'), { code: `larger than ${MAX_CONFIG_BYTES} bytes` });
      return readFile(file, 'utf8');
    },
    readDir: async (d) => {
      try {
        return await readdir(map(d));
      } catch {
        return [];
      }
    },
  };
}

async function wrapRead<T>(fn: () => Promise<T>, what: string, path: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new UsageError(msg.startsWith('cannot read') ? msg : `cannot read ${what} ${path}: ${msg}`);
  }
}
