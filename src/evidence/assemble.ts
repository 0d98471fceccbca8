// Loading what a user hands over as files: the checks every input gets (a regular text file),
// saved evidence bundles (schema, sanity), and the reader of a pasted config's Includes.
import { readFile, readdir, stat, open } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute, join as joinPath } from 'node:path';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { SCHEMA_DIR } from '../paths.js';
import { EVENT_TYPES, EVIDENCE_FORMAT, type Evidence } from './types.js';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

/**
 * Checks a file exists, is a regular file and is text. Binary files (a NUL in the first 8 KiB)
 * and empty files are refused: parsing them would only produce an empty, misleading report.
 */
export async function checkTextFile(path: string, what: string): Promise<void> {
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

let bundleValidator: ReturnType<Ajv['compile']> | undefined;

export async function loadBundle(path: string): Promise<Evidence> {
  await checkTextFile(path, 'evidence bundle');
  const st = await stat(path);
  if (st.size > MAX_BUNDLE_BYTES) throw new UsageError(`evidence bundle ${path} is larger than ${MAX_BUNDLE_BYTES} bytes`);
  return parseBundleText(await readFile(path, 'utf8'), path);
}

/** A bundle from its JSON text (`name` is the file, or "standard input", for messages). */
export function parseBundleText(text: string, name: string): Evidence {
  const path = name;
  let data: unknown;
  try {
    data = JSON.parse(text);
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
 * A pasted config is explained as the server or client has it, not as this machine has it: its
 * Includes are read only from the pasted file's folder. An absolute Include under one of the
 * config's home folders (/etc/ssh/sshd_config.d/*.conf) is looked up beside the pasted file
 * (./sshd_config.d/*.conf); anything else is not read, and the report says so.
 */
export function pastedReader(file: string, homes: string[]): { readFile: (p: string) => Promise<string>; readDir: (d: string) => Promise<string[]> } {
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

export async function wrapRead<T>(fn: () => Promise<T>, what: string, path: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new UsageError(msg.startsWith('cannot read') ? msg : `cannot read ${what} ${path}: ${msg}`);
  }
}
