// Asking on the terminal: at most three multiple-choice questions, only on a TTY (never with
// --json, --no-input, or input that is not a terminal), each answer added to the evidence.
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { isOpen, MAX_QUESTIONS, pickQuestion, withAnswer } from '../engine/questions.js';
import { diagnose } from '../engine/evaluate.js';
import type { Rule } from '../engine/rule.js';
import type { Evidence } from '../evidence/types.js';

export async function askQuestions(ev: Evidence, rules: Rule[], io: { input: Readable; output: Writable }): Promise<Evidence> {
  const asked = new Set<string>();
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  try {
    for (let i = 0; i < MAX_QUESTIONS && isOpen(diagnose(ev, rules)); i++) {
      const q = pickQuestion(ev, rules, asked);
      if (!q) break;
      asked.add(q.id);
      io.output.write(`\n${i === 0 ? 'The evidence leaves several causes open. ' : ''}${q.ask}\n`);
      q.options.forEach((o, n) => io.output.write(`  ${n + 1}) ${o.answer}\n`));
      const reply = (await rl.question(`Answer 1-${q.options.length} (Enter to skip): `)).trim();
      const n = Number(reply);
      if (!Number.isInteger(n) || n < 1 || n > q.options.length) continue;
      ev = withAnswer(ev, q, q.options[n - 1]!);
    }
  } finally {
    rl.close();
  }
  return ev;
}
