// A mixed paste as big as a user could make one: a ticket's worth of everything (an ssh -v
// transcript, sshd's log, a PuTTY error, a Paramiko traceback, firewall and network listings,
// configs, the user's words) repeated to a million lines, so that every reader is exercised.
// The lines are real ones: the repository's fixtures and the vocabulary's examples.
import { createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { builtinVocabulary } from '../src/inputs/signatures.js';
import { BUILTIN_FIXTURES } from '../src/paths.js';

function fixtureTexts(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fixtureTexts(p, out);
    else if (/\.log$|_config$|\.txt$/.test(name)) out.push(readFileSync(p, 'utf8'));
  }
}

const PROSE = [
  'My ssh sessions drop after about 10 minutes of inactivity and I do not know why.',
  'It works fine from the office LAN but not from home over the VPN, any ideas?',
  'I already tried ServerAliveInterval 60 in my config and it made no difference at all.',
];

/** One "ticket": fixture files, vocabulary examples and prose, blank-line separated. */
export function ticket(): string {
  const parts: string[] = [];
  fixtureTexts(BUILTIN_FIXTURES, parts);
  const examples = builtinVocabulary().messages.flatMap((m) => m.source.examples.map((x) => x.text));
  parts.push(examples.join('\n'), PROSE.join('\n'));
  return parts.map((p) => p.trimEnd()).join('\n\n') + '\n';
}

/** Writes about `lines` lines of repeated tickets to `path`; returns the exact line count. */
export async function writeMixedPaste(path: string, lines: number): Promise<number> {
  const unit = ticket();
  const unitLines = unit.split('\n').length - 1;
  const out = createWriteStream(path);
  let written = 0;
  while (written < lines) {
    if (!out.write(unit)) await once(out, 'drain');
    written += unitLines;
  }
  out.end();
  await once(out, 'finish');
  return written;
}
