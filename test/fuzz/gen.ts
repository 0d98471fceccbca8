// Shared inputs for the fuzz suite (fast-check): what parsers meet in the wild, then broken.
//
// Inputs are bytes: real samples (the fixtures) and line-level vocabularies, mutated the ways
// files get damaged or forged: cut at any byte (mid UTF-8 sequence, mid line), random bytes
// inserted, invalid UTF-8 (lone continuation bytes, overlong forms, surrogates), NUL bytes, CRLF
// and bare CR, ANSI escapes, huge lines, lines shuffled and repeated; plus uniformly random
// bytes. Seeds are fixed (FUZZ_SEED overrides), so a failure replays; every property counts the
// inputs it ran and each file prints its figures.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

/** Runs per property: FUZZ_RUNS scales the suite (the default keeps it under a minute). */
export function runs(n: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

const counts = new Map<string, number>();

/** Counts one fuzzed input for `what` (the figures the suite reports). */
export function counted(what: string): void {
  counts.set(what, (counts.get(what) ?? 0) + 1);
}

/** Prints this file's figures when it is done: "fuzz: <what>: N inputs". */
export function reportCounts(file: string): void {
  afterAll(() => {
    const lines = [...counts].map(([what, n]) => `fuzz: ${what}: ${n} inputs`);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`${lines.join('\n')}\nfuzz: ${file}: ${total} inputs in all (seed ${SEED})`);
  });
}

/** A failure's message, cut: a counterexample may be megabytes (the seed and path come first). */
function trimmed(e: unknown): unknown {
  if (e instanceof Error && e.message.length > 6000) e.message = `${e.message.slice(0, 3000)}\n[... ${e.message.length - 6000} characters ...]\n${e.message.slice(-3000)}`;
  return e;
}

/** fc.assert with the suite's seed: failures print the seed, the path and the (cut) input. */
export function check<Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts>, numRuns: number): void;
export function check<Ts extends [unknown, ...unknown[]]>(prop: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void>;
export function check<Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, numRuns: number): void | Promise<void> {
  const params = { seed: SEED, numRuns: runs(numRuns), endOnFailure: true };
  try {
    const r = fc.assert(prop as fc.IAsyncProperty<Ts>, params) as Promise<void> | void;
    if (r instanceof Promise) return r.catch((e: unknown) => Promise.reject(trimmed(e)));
  } catch (e) {
    throw trimmed(e);
  }
}

// ---- samples ----

function walk(dir: string, name: string, out: string[]): void {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, name, out);
    else if (entry === name) out.push(p);
  }
}

/** The texts of every fixture file with this name (client.log, sshd-T.txt, bundle.json...). */
export function fixtures(name: string): string[] {
  const files: string[] = [];
  walk(join(PACKAGE_ROOT, 'fixtures'), name, files);
  return files.sort().map((f) => readFileSync(f, 'utf8'));
}

/** Lines of the fixtures with this name, deduplicated. */
export function fixtureLines(name: string): string[] {
  const set = new Set<string>();
  for (const t of fixtures(name)) for (const l of t.split('\n')) if (l.trim() !== '') set.add(l);
  return [...set];
}

// ---- damage ----

/** Byte sequences that are not valid UTF-8 (or are valid but hostile: NUL, DEL, C1, BOM, RTL). */
const BAD_BYTES: number[][] = [
  [0x00],
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xbf, 0xbf],
  [0xc3], // a lead byte without its continuation
  [0xc3, 0x28],
  [0xc0, 0xaf], // overlong '/'
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate in UTF-8
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf0, 0x9f, 0x98], // a cut 4-byte sequence
  [0x1b, 0x5b, 0x32, 0x4a], // ESC [2J
  [0x1b, 0x5d, 0x30, 0x3b, 0x78, 0x07], // OSC retitle
  [0x0d],
  [0x0d, 0x0a],
  [0x7f],
  [0xc2, 0x9b], // C1 CSI
  [0xef, 0xbb, 0xbf], // BOM
  [0xe2, 0x80, 0xae], // right-to-left override
  [0x08, 0x08, 0x08],
];

export type Mutation =
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'bad'; at: number; which: number; times: number }
  | { kind: 'crlf' }
  | { kind: 'cr' }
  | { kind: 'huge'; at: number; len: number; char: number }
  | { kind: 'repeat'; at: number; times: number }
  | { kind: 'shuffle'; seed: number }
  | { kind: 'drop-newlines' }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array };

/** How big a "huge" line gets in the everyday properties (the memory tests go far beyond). */
export const HUGE = 80_000;

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('bad' as const), at: fc.nat(), which: fc.nat({ max: BAD_BYTES.length - 1 }), times: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('crlf' as const) }),
  fc.record({ kind: fc.constant('cr' as const) }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), len: fc.integer({ min: 4000, max: HUGE }), char: fc.integer({ min: 0x20, max: 0x7e }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 50 }) }),
  fc.record({ kind: fc.constant('shuffle' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('drop-newlines' as const) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

function lineStarts(b: Buffer): number[] {
  const starts = [0];
  for (let i = 0; i < b.length; i++) if (b[i] === 10) starts.push(i + 1);
  return starts;
}

export function mutate(input: Buffer, m: Mutation): Buffer {
  const pos = (at: number) => (input.length === 0 ? 0 : at % (input.length + 1));
  switch (m.kind) {
    case 'cut':
      return input.subarray(0, pos(m.at));
    case 'insert':
      return Buffer.concat([input.subarray(0, pos(m.at)), m.bytes, input.subarray(pos(m.at))]);
    case 'bad': {
      const bad = Buffer.from(Array.from({ length: m.times }, () => BAD_BYTES[m.which]!).flat());
      return Buffer.concat([input.subarray(0, pos(m.at)), bad, input.subarray(pos(m.at))]);
    }
    case 'crlf':
      return Buffer.from(input.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    case 'cr':
      return Buffer.from(input.toString('latin1').replace(/\n/g, '\r'), 'latin1');
    case 'huge':
      return Buffer.concat([input.subarray(0, pos(m.at)), Buffer.alloc(m.len, m.char), input.subarray(pos(m.at))]);
    case 'repeat': {
      const starts = lineStarts(input);
      const i = m.at % starts.length;
      const line = input.subarray(starts[i]!, starts[i + 1] ?? input.length);
      return Buffer.concat([input.subarray(0, starts[i]!), ...Array.from({ length: m.times }, () => line), input.subarray(starts[i]!)]);
    }
    case 'shuffle': {
      const lines = input.toString('latin1').split('\n');
      let s = m.seed | 0 || 1;
      for (let i = lines.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        const j = s % (i + 1);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 'drop-newlines':
      return Buffer.from(input.toString('latin1').replace(/\n/g, ' '), 'latin1');
    case 'overwrite': {
      const out = Buffer.from(input);
      const at = pos(m.at);
      for (let i = 0; i < m.bytes.length && at + i < out.length; i++) out[at + i] = m.bytes[i]!;
      return out;
    }
  }
}

/**
 * Bytes for a parser of this kind of text: a sample (a whole fixture, or lines of them) with up
 * to `maxMutations` damages, or random bytes, or random lines of the vocabulary.
 */
export function textBytes(samples: string[], vocabulary: string[], opts: { maxMutations?: number } = {}): fc.Arbitrary<Buffer> {
  const sample = fc.constantFrom(...(samples.length ? samples : ['']));
  const lines = fc.array(fc.constantFrom(...(vocabulary.length ? vocabulary : [''])), { maxLength: 40 }).map((ls) => ls.join('\n'));
  const base = fc.oneof({ weight: 3, arbitrary: sample }, { weight: 3, arbitrary: lines }, { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) });
  const damaged = fc
    .tuple(base, fc.array(mutationArb, { maxLength: opts.maxMutations ?? 4 }))
    .map(([text, ms]) => ms.reduce<Buffer>((b, m) => mutate(b, m), Buffer.from(text, 'utf8')));
  return fc.oneof({ weight: 6, arbitrary: damaged }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u)) });
}

/** The lines a text splits into, as the parsers count them (LF; a final line without LF counts). */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** Splits a buffer into chunks at the given cut points (a stream's arbitrary chunking). */
export function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % (buf.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}

/** Milliseconds a synchronous call takes. */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

/** Control characters other than tab: none may reach a parsed value. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u0008\u000a-\u001f\u007f]/;
