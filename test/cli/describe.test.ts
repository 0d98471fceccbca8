// Thin evidence, read like an expert: the user's own words are symptom facts, a bare log line
// gives a ranked differential with the next test for each candidate (never "no cause", exit 0),
// the words change the ranking, and what the evidence rules out is listed with why.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from './run-cli.js';

interface Report {
  causes: Array<{ id: string; confidence: number; candidate?: boolean; confirmWith?: Array<{ command: string; why: string }> }>;
  symptoms: Array<{ fact: string; value: unknown; from: string }>;
  ruledOut: Array<{ id: string; why: string }>;
  answers: unknown[];
}
const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Report;
const BROKEN_PIPE = 'client_loop: send disconnect: Broken pipe\n';

describe('the user\'s words, a differential, the next test', () => {
  it('one Broken pipe line and nothing else: a ranked differential with next tests, exit 1', () => {
    const r = runCli(['explain', '--json'], { input: BROKEN_PIPE });
    expect(r.code).toBe(1);
    const report = json(r);
    expect(report.causes.length).toBeGreaterThanOrEqual(3);
    expect(report.causes[0]!.id).toBe('middlebox-idle-timeout');
    const confidences = report.causes.map((c) => c.confidence);
    expect([...confidences].sort((a, b) => b - a)).toEqual(confidences);
    for (const c of report.causes.slice(0, 3)) expect(c.confirmWith?.length, c.id).toBeGreaterThan(0);
    expect(report.causes.some((c) => c.candidate)).toBe(true);
    const table = runCli(['explain'], { input: BROKEN_PIPE });
    expect(table.stdout).toMatch(/No cause stands out|Most likely/);
    expect(table.stdout).toMatch(/Next tests/);
  });

  it('--describe: the words become symptom facts, said in the report', () => {
    const r = runCli(['explain', '--describe', 'my tmux sessions end after about 10 minutes without activity', '--json']);
    const report = json(r);
    const facts = Object.fromEntries(report.symptoms.map((s) => [s.fact, s.value]));
    expect(facts['symptom.idle']).toBe(true);
    expect(facts['symptom.dropAfterSeconds']).toBe(600);
    expect(report.symptoms.every((s) => s.from.length > 0)).toBe(true);
    expect(report.causes[0]!.id).toBe('middlebox-idle-timeout');
    const md = runCli(['explain', '--describe', 'my tmux sessions end after about 10 minutes without activity', '--format', 'markdown']);
    expect(md.stdout).toMatch(/### Read from your words/);
  });

  it('the same log line, with words about sleep, ranks a network change first', () => {
    const r = runCli(['explain', '--describe', 'it dies every time the laptop wakes up from sleep', '--json'], { input: BROKEN_PIPE });
    expect(json(r).causes[0]!.id).toBe('network-change');
  });

  it('words about parallel jobs and failing connections point to MaxStartups', () => {
    const r = runCli(['explain', '--describe', 'the CI runs 20 jobs at once and some cannot connect', '--json']);
    expect(json(r).causes.slice(0, 3).map((c) => c.id)).toContain('maxstartups-throttle');
  });

  it('what the evidence rules out is listed, with why', () => {
    // an idle test where the kept-alive control died too: not an idle timeout
    const bundle = join(FIXTURES, 'session-lifetime-limit', 'idle-test-control-dies-1800', 'bundle.json');
    const report = json(runCli(['explain', bundle, '--json']));
    const out = report.ruledOut.find((x) => x.id === 'middlebox-idle-timeout');
    expect(out?.why).toMatch(/control died/);
    const table = runCli(['explain', bundle]);
    expect(table.stdout).toMatch(/Ruled out\n- middlebox-idle-timeout: /);
  });

  it('no question is asked without a terminal, or with --json', () => {
    const r = runCli(['explain'], { input: BROKEN_PIPE });
    expect(r.stderr).not.toMatch(/Answer 1-/);
    expect(json(runCli(['explain', '--json'], { input: BROKEN_PIPE })).answers).toEqual([]);
  });
});
