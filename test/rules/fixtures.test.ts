import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/engine/load.js';
import { diagnose } from '../../src/engine/evaluate.js';
import { filesOf, findCases, runCase, type Expectation } from '../../src/engine/rule-tests.js';
import { evidenceFromInputs } from '../../src/inputs/read.js';
import { parse } from 'yaml';
import { BUILTIN_FIXTURES, PACKAGE_ROOT } from '../../src/paths.js';

// The catalogue's stable ids (../shared/CAUSES.md). Kept here so the suite runs from a clone
// alone; when the catalogue is beside the clone, the two lists must agree.
const CATALOGUE = [
  'middlebox-idle-timeout', 'middlebox-idle-reset', 'tcp-keepalive-too-slow', 'session-lifetime-limit',
  'shell-tmout', 'server-channel-timeout', 'logind-idle-stop', 'server-clientalive-timeout',
  'client-serveralive-timeout', 'network-change', 'ipqos-dscp-drop', 'mtu-blackhole', 'login-grace-timeout',
  'maxstartups-throttle', 'intrusion-ban', 'server-restart-or-kill', 'packet-corruption',
  'connect-refused-or-filtered', 'auth-failed', 'host-key-mismatch',
];

const rules = loadRules();
const cases = findCases(BUILTIN_FIXTURES);

describe('the catalogue', () => {
  const shared = join(PACKAGE_ROOT, '..', 'shared', 'CAUSES.md');
  it.runIf(existsSync(shared))('matches ../shared/CAUSES.md', () => {
    const ids = [...readFileSync(shared, 'utf8').matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(ids.sort()).toEqual([...CATALOGUE].sort());
  });

  it.each(CATALOGUE)('%s has a rule, a firing fixture and a near miss', (id) => {
    expect(rules.find((r) => r.id === id)?.kind).toBe('cause');
    const expectations = cases.map((dir) => parse(readFileSync(join(dir, 'expect.yaml'), 'utf8')) as Expectation);
    expect(expectations.some((x) => x.fires === id)).toBe(true);
    expect(expectations.some((x) => x.not?.includes(id))).toBe(true);
  });
});

describe('rule fixtures', () => {
  it('exist', () => expect(cases.length).toBeGreaterThan(40));
  it.each(cases.map((dir) => [dir.slice(BUILTIN_FIXTURES.length + 1), dir]))('%s', async (_name, dir) => {
    const result = await runCase(dir, rules, BUILTIN_FIXTURES);
    expect(result.problems).toEqual([]);
  });
});

describe('the same fixtures given as bare files, with no flag: read for what they are, the same causes', () => {
  it.each(cases.map((dir) => [dir.slice(BUILTIN_FIXTURES.length + 1), dir]))('%s', async (_name, dir) => {
    const x = parse(readFileSync(join(dir, 'expect.yaml'), 'utf8')) as Expectation;
    const now = new Date('2026-11-24T12:00:00Z');
    const host = x.host ? { host: x.host } : {};
    const flagged = diagnose(await evidenceFromInputs(filesOf(dir), { now, ...host }), rules);
    const bare = diagnose(await evidenceFromInputs(filesOf(dir, { positional: true }), { now, ...host }), rules);
    expect(bare.causes.map((c) => c.id)).toEqual(flagged.causes.map((c) => c.id));
  });
});
