import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RuleFileError } from '../../src/errors.js';
import { loadRuleFile, loadRules } from '../../src/engine/load.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-doctor-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `id: my-cause
kind: cause
title: A cause
summary: Why.
when: { fact: event.server-clientalive-timeout.count, gt: 0 }
fixes:
  - where: server
    snippet: ClientAliveCountMax 10
    why: because
`;

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function loadError(name: string, text: string): RuleFileError {
  try {
    loadRuleFile(write(name, text));
  } catch (e) {
    expect(e).toBeInstanceOf(RuleFileError);
    return e as RuleFileError;
  }
  throw new Error('expected the rule to be refused');
}

describe('rule loading', () => {
  it('loads every built-in rule', () => {
    const rules = loadRules();
    expect(rules.length).toBeGreaterThanOrEqual(20);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it('accepts a well-formed rule', () => {
    expect(loadRuleFile(write('my-cause.yaml', GOOD)).id).toBe('my-cause');
  });

  it('names the file and the line of a YAML syntax error', () => {
    const e = loadError('broken.yaml', 'id: broken\nkind: [cause\n');
    expect(e.message).toContain('broken.yaml');
    expect(e.field).toMatch(/line \d+/);
  });

  it('names the field that breaks the schema', () => {
    expect(loadError('my-cause.yaml', GOOD.replace('kind: cause', 'kind: maybe')).field).toBe('kind');
    expect(loadError('my-cause.yaml', GOOD.replace('    why: because\n', '')).field).toBe('fixes[0]');
    expect(loadError('my-cause.yaml', `${GOOD}signals:\n  - when: { fact: idle.low, gt: 1 }\n    weight: 7\n`).field).toBe('signals[0].weight');
    expect(loadError('my-cause.yaml', GOOD.replace('gt: 0', 'greater: 0')).field).toMatch(/^when/);
  });

  it('refuses unknown facts, bad regular expressions and an id that is not the file name', () => {
    expect(loadError('my-cause.yaml', GOOD.replace('event.server-clientalive-timeout.count', 'evnt.x')).message).toContain('unknown fact "evnt.x"');
    expect(loadError('my-cause.yaml', GOOD.replace('gt: 0', 'matches: "(unclosed"')).message).toContain('not a valid regular expression');
    expect(loadError('other-name.yaml', GOOD).field).toBe('id');
  });

  it('refuses a user rule that redefines a built-in cause', () => {
    const pack = join(dir, 'pack');
    mkdirSync(join(pack, 'rules'), { recursive: true });
    writeFileSync(join(pack, 'rules', 'shell-tmout.yaml'), GOOD.replace('my-cause', 'shell-tmout'));
    expect(() => loadRules([pack])).toThrow(/already defined/);
  });
});
