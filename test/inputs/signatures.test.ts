// The vocabulary is data with its fixtures beside it: every message of every producer carries
// real example lines (with where each comes from), and each example, pasted alone as a user
// would, must be read as that message's event with the fields it names; each near miss must not.
// Loading refuses unsafe or unknown patterns, event types and sections, naming file and field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SignatureFileError } from '../../src/errors.js';
import { evidenceFromInputs } from '../../src/inputs/read.js';
import { builtinVocabulary, loadSignatureFiles, requiredLiterals, Vocabulary } from '../../src/inputs/signatures.js';

const vocabulary = builtinVocabulary();

async function eventsOf(text: string) {
  const ev = await evidenceFromInputs([{ path: 'example', text: `${text}\n` }], { now: new Date('2026-12-01T00:00:00Z'), vocabulary });
  return ev.events;
}

describe('every message of every producer reads its own examples, and not its near misses', () => {
  const cases = vocabulary.messages.flatMap((m) =>
    m.source.examples.map((x, i) => ({ name: `${m.producer} #${m.index} ${m.event} example ${i + 1}`, m, x, near: false })).concat(
      (m.source.near ?? []).map((x, i) => ({ name: `${m.producer} #${m.index} ${m.event} near miss ${i + 1}`, m, x, near: true })),
    ),
  );
  it('there is a vocabulary to test', () => {
    expect(vocabulary.files.length).toBeGreaterThan(10);
    expect(cases.length).toBeGreaterThan(vocabulary.messages.length);
  });
  it.each(cases)('$name', async ({ m, x, near }) => {
    const events = await eventsOf(x.section ? `${x.section}\n${x.text}` : x.text);
    const mine = events.find((e) => e.type === m.event);
    if (near) {
      expect(mine, `near miss "${x.text}" read as ${m.event}`).toBeUndefined();
      return;
    }
    expect(mine, `"${x.text}" gave [${events.map((e) => e.type).join(', ')}]`).toBeDefined();
    for (const [k, v] of Object.entries(x.fields ?? {})) expect(mine!.fields[k], `field ${k}`).toBe(v);
  });
});

describe('keywords', () => {
  it('are the longest literal a pattern requires', () => {
    expect(requiredLiterals('Network error: Software caused connection abort')[0]).toBe('Network error: Software caused connection abort');
    expect(requiredLiterals('(?:Server|Remote side) unexpectedly closed network connection')[0]).toBe('unexpectedly closed network connection');
    expect(requiredLiterals('dial tcp (?<addr>\\S+): i/o timeout')[0]).toBe(': i/o timeout');
    expect(requiredLiterals('Blocking "?(?<addr>[^" ]+)')[0]).toBe('Blocking');
    expect(requiredLiterals('a|b')).toEqual([]);
    expect(requiredLiterals('colou?r')[0]).toBe('colo');
  });
});

describe('loading refuses what could not work, naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-doctor-sig-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = (message: string) => `producer: p\ntitle: t\nside: client\nabout: a\nmessages:\n${message}`;
  const bad: Array<[string, string, RegExp]> = [
    ['an unknown event type', "  - match: 'some message'\n    event: client-nonsense\n    examples: [{ text: 'some message', from: 'here' }]\n", /messages\[0\]\.event: unknown event type/],
    ['an exponential pattern', "  - match: '(a+)+b'\n    event: client-broken-pipe\n    keywords: [aaaa]\n    examples: [{ text: 'aab', from: 'here' }]\n", /messages\[0\]\.match: .*exponential/],
    ['no literal to find it by', "  - match: '\\d+ \\w+'\n    event: client-broken-pipe\n    examples: [{ text: '1 a', from: 'here' }]\n", /messages\[0\]\.keywords/],
    ['a server event on the client side', "  - match: 'some message'\n    event: server-ban\n    examples: [{ text: 'some message', from: 'here' }]\n", /messages\[0\]\.side/],
    ['an unknown section', "  - match: 'some message'\n    event: server-ban\n    side: server\n    within: nowhere\n    examples: [{ text: 'some message', from: 'here' }]\n", /messages\[0\]\.within: no section/],
    ['an example without its source', "  - match: 'some message'\n    event: client-broken-pipe\n    examples: [{ text: 'some message' }]\n", /messages\[0\]\.examples\[0\].*from/],
  ];
  it.each(bad)('%s', (_name, message, why) => {
    const sub = mkdtempSync(join(dir, 'x'));
    writeFileSync(join(sub, 'p.yaml'), base(message));
    let err: unknown;
    try {
      new Vocabulary(loadSignatureFiles([sub]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SignatureFileError);
    expect((err as Error).message).toMatch(/^invalid signature file .*p\.yaml: /);
    expect((err as Error).message).toMatch(why);
  });
  it('a file whose producer is not its name', () => {
    const sub = mkdtempSync(join(dir, 'y'));
    writeFileSync(join(sub, 'other.yaml'), base("  - match: 'some message'\n    event: client-broken-pipe\n    examples: [{ text: 'some message', from: 'here' }]\n"));
    expect(() => loadSignatureFiles([sub])).toThrow(/producer: must match the file name/);
  });
});
