// Questions on a real terminal (tmux, not mocked stdin): with thin evidence, ssh-doctor asks at
// most three multiple-choice questions, each answer moves the ranking, and the answers go into
// the evidence bundle, so `explain bundle.json` gives the same result again without asking.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './run-cli.js';
import { TmuxScreen, tmuxAvailable } from './tmux.js';

const available = tmuxAvailable();
if (!available) console.log('terminal tests skipped: tmux is not installed');

const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-pty-'));
const screens: TmuxScreen[] = [];
afterAll(() => {
  for (const s of screens) s.kill();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!available)('questions on a terminal', () => {
  it('asks, takes the answer, re-ranks; the bundle re-runs to the same without asking', async () => {
    const log = join(tmp, 'pipe.txt');
    writeFileSync(log, 'client_loop: send disconnect: Broken pipe\n');
    const bundle = join(tmp, 'answered.json');
    const done = join(tmp, 'done');
    const screen = TmuxScreen.start(`sshd-q-${process.pid}`, `${process.execPath} ${CLI} explain ${log} --save-evidence ${bundle}; echo EXIT=$? > ${done}`, {
      width: 100,
      height: 40,
      env: { NO_COLOR: '1' },
    });
    screens.push(screen);
    const first = await screen.waitFor((t) => /Answer 1-\d/.test(t));
    expect(first).toMatch(/The evidence leaves several causes open\./);
    // the question that separates the candidates: idle or in use, or when in the session
    const options = [...first.matchAll(/^\s+(\d)\) (.+)$/gm)].map((m) => ({ n: m[1]!, text: m[2]! }));
    const sleep = options.find((o) => /slept|network changed/i.test(o.text));
    const idle = options.find((o) => /idle/i.test(o.text));
    const pick = sleep ?? idle;
    expect(pick, `options: ${options.map((o) => o.text).join(' | ')}`).toBeDefined();
    screen.keys(pick!.n, 'Enter');
    // answer no more questions: Enter skips
    for (let i = 0; i < 2; i++) {
      const text = await screen.waitFor((t) => (t.match(/Answer 1-\d/g) ?? []).length > i + 1 || /Causes, most likely first|No likely cause/.test(t));
      if (/Causes, most likely first|No likely cause/.test(text)) break;
      screen.keys('Enter');
    }
    const report = await screen.waitFor((t) => /Causes, most likely first/.test(t) && /EXIT=/.test(readFileSafe(done)));
    expect(readFileSafe(done)).toMatch(/EXIT=1/);
    expect(report).toMatch(/Read from your words/);
    const expectTop = pick === sleep ? 'network-change' : 'middlebox-idle-timeout';
    // re-run the saved bundle: the same top cause, the answer kept, no question
    const again = runCli(['explain', bundle, '--json']);
    const rerun = JSON.parse(again.stdout) as { causes: Array<{ id: string }>; answers: Array<{ answer: string }> };
    expect(rerun.causes[0]!.id).toBe(expectTop);
    expect(rerun.answers.map((a) => a.answer)).toContain(pick!.text);
    expect(again.stderr).not.toMatch(/Answer 1-/);
  });

  it('--no-input never asks, even on a terminal', async () => {
    const log = join(tmp, 'pipe2.txt');
    writeFileSync(log, 'client_loop: send disconnect: Broken pipe\n');
    const done = join(tmp, 'done2');
    const screen = TmuxScreen.start(`sshd-nq-${process.pid}`, `${process.execPath} ${CLI} explain ${log} --no-input; echo EXIT=$? > ${done}`, { width: 100, height: 40, env: { NO_COLOR: '1' } });
    screens.push(screen);
    const text = await screen.waitFor(() => /EXIT=/.test(readFileSafe(done)));
    expect(text).not.toMatch(/Answer 1-/);
    expect(text).toMatch(/No cause stands out|Most likely/);
  });
});

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
