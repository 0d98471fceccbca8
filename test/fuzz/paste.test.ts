// Fuzzing the input reader on what users paste: mixtures of every kind of line it knows (OpenSSH
// transcripts and server logs from the fixtures, every vocabulary example, config lines, the
// real-world corpus's evidence, prose), damaged, shuffled, with binary junk and huge lines. Every
// line is counted once, nothing crashes, and no crafted line makes a pattern slow.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { evidenceFromInputs } from '../../src/inputs/read.js';
import { builtinVocabulary } from '../../src/inputs/signatures.js';
import { loadCorpus } from '../corpus/score.js';
import { check, counted, countLines, fixtureLines, reportCounts, textBytes, timed } from './gen.js';

reportCounts('paste');

const vocabulary = builtinVocabulary();
const examples = vocabulary.messages.flatMap((m) => [...m.source.examples, ...(m.source.near ?? [])].map((x) => x.text));
const corpusLines = loadCorpus().flatMap((c) => [...c.evidence.flatMap((e) => e.text.split('\n')), c.description]);
const PROSE = [
  'My ssh sessions drop after about 10 minutes of inactivity, any idea why?',
  'It works fine from the office but not from home over the VPN.',
  'I already tried setting ServerAliveInterval 60 in ~/.ssh/config but nothing changed.',
];
const CONFIG = ['Host *', '  ServerAliveInterval 60', 'ClientAliveInterval 300', 'ClientAliveCountMax 0', 'Match User backup', 'TCPKeepAlive no', 'Port 22'];
const VOCAB = [...fixtureLines('client.log'), ...fixtureLines('server.log'), ...examples, ...corpusLines, ...PROSE, ...CONFIG, '```', '> quoted', ''];

describe('a pasted ticket of anything', () => {
  it('every line counted once, nothing crashes, the reading stays fast', async () => {
    await check(
      fc.asyncProperty(textBytes(corpusLines.length ? [corpusLines.join('\n')] : [''], VOCAB, { maxMutations: 4 }), async (bytes) => {
        counted('paste');
        const text = bytes.toString('utf8');
        const t0 = performance.now();
        let ev;
        try {
          ev = await evidenceFromInputs([{ path: 'paste', text }], { now: new Date('2026-12-01T00:00:00Z'), vocabulary });
        } catch (e) {
          // text that starts like JSON is taken for a bundle, and refused as one
          if (!(e instanceof UsageError)) throw e;
          expect(e.message).toMatch(/bundle/);
          return;
        }
        const ms = performance.now() - t0;
        const input = ev.inputs[0]!;
        expect(input.lines).toBe(countLines(text));
        expect(input.recognised + input.unparsed).toBeLessThanOrEqual(input.lines);
        expect(ms).toBeLessThan(3000);
      }),
      300,
    );
  });

  it('no pattern is slow on a crafted line: each example repeated to 16 KiB and broken at the end', () => {
    const matcher = vocabulary.matcher();
    for (const m of vocabulary.messages) {
      for (const x of m.source.examples) {
        const unit = x.text.replace(/\s+$/, '');
        const line = `${unit.repeat(Math.ceil(16_000 / Math.max(1, unit.length))).slice(0, 16_000)}\u0001`;
        counted('paste (crafted lines)');
        const { ms } = timed(() => matcher.match(line.slice(0, -1)));
        // a backtracking blow-up takes seconds or for ever; a linear pattern takes milliseconds even on a busy machine
        expect(ms, `${m.producer} #${m.index}`).toBeLessThan(1000);
      }
    }
  });
});
