// Fuzzing the two loaders of whole documents: evidence bundles (`explain bundle.json`, JSON,
// checked against schema/evidence.schema.json) and rule files (`--rules DIR`, YAML, checked
// against schema/rule.schema.json). Bytes damaged, and documents edited structurally (a field set
// to another type, a huge array, deep nesting, `__proto__` keys, YAML aliases and tags). A loader
// either returns something the engine and every renderer can use, or refuses it with a usage
// error naming the problem (exit 2); never another exception, never a hang, never a polluted
// prototype.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { diagnose } from '../../src/engine/evaluate.js';
import { loadRuleFile, loadRules, ruleFilesIn } from '../../src/engine/load.js';
import type { Rule } from '../../src/engine/rule.js';
import { UsageError } from '../../src/errors.js';
import { loadBundle } from '../../src/evidence/assemble.js';
import type { Evidence } from '../../src/evidence/types.js';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport } from '../../src/report/model.js';
import { renderTable } from '../../src/report/table.js';
import { BUILTIN_RULES } from '../../src/paths.js';
import { readFileSync } from 'node:fs';
import { check, counted, fixtures, reportCounts, textBytes } from './gen.js';

reportCounts('bundles-rules');

const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

const RULES = loadRules();

/** Everything downstream of a loaded bundle: facts, rules, the report in every format. */
function useEvidence(ev: Evidence, rules: Rule[] = RULES): void {
  const d = diagnose(ev, rules);
  for (const redact of [false, true]) {
    const report = buildReport(ev, d, { startedAt: new Date(0), finishedAt: new Date(1000), redact });
    JSON.parse(renderJson(report));
    renderTable(report, { color: false, width: 100 });
    renderMarkdown(report);
  }
}

// ---- structural edits of a JSON document ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, '', '\u0000\u001b[2J', 'x'.repeat(5000), [], {}, ['x'], { __proto__: { polluted: 'yes' } } as unknown as Json),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.integer({ min: 60, max: 300 }).map((d) => {
    // deep nesting: [[[[...]]]]
    let v: Json = 1;
    for (let i = 0; i < d; i++) v = [v];
    return v;
  }),
  fc.integer({ min: 1000, max: 20000 }).map((k) => Array.from({ length: k }, (_, i) => i) as Json),
);

interface Edit {
  path: number[];
  op: 'set' | 'delete' | 'proto';
  value: Json;
}
const editArb: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 1 }),
  op: fc.constantFrom<Edit['op']>('set', 'set', 'set', 'delete', 'proto'),
  value: hostileValue,
});

/** Every path into a document (objects and arrays, leaves included), in document order. */
function pathsOf(doc: Json): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const walk = (v: Json, p: Array<string | number>) => {
    out.push(p);
    if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, Array.isArray(v) ? Number(k) : k]);
  };
  walk(doc, []);
  return out.slice(1);
}
const PATHS = new WeakMap<object, Array<Array<string | number>>>();

/**
 * Sets (or deletes, or shadows with `__proto__`) the value at one path of the document, the path
 * picked uniformly among all its paths (`e.path[0]`): every field, leaf or not, gets its turn.
 */
function applyEdit(doc: Json, e: Edit): Json {
  const root = structuredClone(doc);
  if (root === null || typeof root !== 'object') return root;
  let paths = PATHS.get(doc as object);
  if (!paths) PATHS.set(doc as object, (paths = pathsOf(doc)));
  const path = paths[e.path[0]! % paths.length];
  if (!path) return root;
  let node: Json = root;
  for (const k of path.slice(0, -1)) {
    const next: Json | undefined = (node as Record<string | number, Json>)[k];
    if (next === null || next === undefined || typeof next !== 'object') return root;
    node = next;
  }
  const key = path[path.length - 1]!;
  const container = node as Record<string | number, Json>;
  if (e.op === 'delete' && !Array.isArray(node)) delete container[key];
  else if (e.op === 'proto' && !Array.isArray(node)) Object.defineProperty(container, '__proto__', { value: e.value, enumerable: true, writable: true, configurable: true });
  else container[key] = e.value;
  return root;
}

const BUNDLES = fixtures('bundle.json');
const BUNDLE_DOCS = BUNDLES.map((t) => JSON.parse(t) as Json);

function expectUsable(load: () => Promise<Evidence>): Promise<void> {
  return load().then(
    (ev) => useEvidence(ev),
    (e: unknown) => {
      if (!(e instanceof UsageError)) throw e;
      expect(e.message).not.toMatch(/\n\s+at /);
    },
  );
}

describe('evidence bundles', () => {
  it('damaged bytes: loaded and usable, or refused as bad input', async () => {
    await check(
      fc.asyncProperty(textBytes(BUNDLES, BUNDLES.flatMap((b) => b.split('\n')).slice(0, 400), { maxMutations: 3 }), async (bytes) => {
        counted('bundles (damaged bytes)');
        const file = join(tmp, `b${n++}.json`);
        writeFileSync(file, bytes);
        await expectUsable(() => loadBundle(file));
      }),
      250,
    );
  });

  it('structurally edited documents (types, sizes, nesting, __proto__): loaded and usable, or refused as bad input', async () => {
    const before = Object.keys(Object.prototype);
    await check(
      fc.asyncProperty(fc.nat({ max: BUNDLE_DOCS.length - 1 }), fc.array(editArb, { minLength: 1, maxLength: 4 }), async (i, edits) => {
        counted('bundles (structural edits)');
        const doc = edits.reduce(applyEdit, BUNDLE_DOCS[i]!);
        const file = join(tmp, `s${n++}.json`);
        writeFileSync(file, JSON.stringify(doc));
        await expectUsable(() => loadBundle(file));
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      500,
    );
    expect(Object.keys(Object.prototype)).toEqual(before);
  });

  it('a 100 000-deep JSON nesting is refused, not a crash', async () => {
    counted('bundles (structural edits)');
    const file = join(tmp, 'deep.json');
    writeFileSync(file, `{"format":"ssh-doctor/evidence","version":1,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await expectUsable(() => loadBundle(file));
  });
});

// ---- rule files ----

const RULE_FILES = ruleFilesIn(BUILTIN_RULES);
const RULE_TEXTS = RULE_FILES.map((f) => ({ id: basename(f).replace(/\.ya?ml$/, ''), text: readFileSync(f, 'utf8') }));
const SAMPLE_EVIDENCE: Evidence[] = BUNDLES.slice(0, 6).map((t) => JSON.parse(t) as Evidence);

function expectRule(file: string): void {
  let rule: Rule;
  try {
    rule = loadRuleFile(file);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    expect(e.message).toMatch(/^invalid rule file /);
    return;
  }
  // a rule that loads is data the engine can run on any evidence
  for (const ev of SAMPLE_EVIDENCE) diagnose(ev, [rule]);
}

const HOSTILE_YAML = [
  // billion laughs
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
  'id: !!js/function "function () { require(\'fs\').writeFileSync(\'/tmp/ssh-doctor-pwned\', \'x\') }"\n',
  "id: !!python/object/apply:os.system ['touch /tmp/ssh-doctor-pwned']\n",
  'id: !<tag:yaml.org,2002:js/undefined> ""\n',
  '__proto__: { polluted: yes }\nid: x\n',
  '<<: { polluted: yes }\nid: x\n',
  `${'['.repeat(5000)}${']'.repeat(5000)}\n`,
  `${'- '.repeat(3000)}x\n`,
  'id: x\nwhen: { fact: event.x.text, matches: "(a+)+$" }\nfixes: []\nkind: cause\ntitle: t\nsummary: s\n',
  '\u0000\u0001\u0002',
  '%YAML 9.9\n---\nid: x\n',
  'id: x\n...\n---\nid: y\n',
];

describe('rule files', () => {
  it('damaged built-in rules: loaded and runnable, or refused naming the file', () => {
    check(
      fc.property(fc.nat({ max: RULE_TEXTS.length - 1 }), fc.array(fc.nat(), { maxLength: 3 }), textBytes(RULE_TEXTS.map((r) => r.text), RULE_TEXTS.flatMap((r) => r.text.split('\n'))), (i, _, bytes) => {
        counted('rule files (damaged bytes)');
        const file = join(tmp, `${RULE_TEXTS[i]!.id}.yaml`);
        writeFileSync(file, bytes);
        expectRule(file);
      }),
      300,
    );
  });

  it('structurally edited rules: loaded and runnable, or refused naming the file and field', () => {
    const docs = RULE_TEXTS.map((r) => ({ id: r.id, doc: parseYaml(r.text) as Json }));
    check(
      fc.property(fc.nat({ max: docs.length - 1 }), fc.array(editArb, { minLength: 1, maxLength: 3 }), (i, edits) => {
        counted('rule files (structural edits)');
        const { id, doc } = docs[i]!;
        const edited = edits.map((e) => ({ ...e, value: JSON.stringify(e.value).length > 20000 ? 'x' : e.value })).reduce(applyEdit, doc);
        const file = join(tmp, `${id}.yaml`);
        writeFileSync(file, stringifyYaml(edited, { aliasDuplicateObjects: false }));
        expectRule(file);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      400,
    );
  });

  it('a matches pattern that could backtrack for ever on a crafted log line is refused at load', () => {
    const base = parseYaml(RULE_TEXTS.find((r) => r.id === 'connect-refused-or-filtered')!.text) as Record<string, unknown>;
    for (const pattern of ['(a+)+$', '(a|aa)*b', '^(\\w+\\s?)*$', '(.*a){12}', '(x+x+)+y', 'a.*b.*c.*d', '(\\d)\\1']) {
      counted('rule files (hostile YAML)');
      const file = join(tmp, 'connect-refused-or-filtered.yaml');
      writeFileSync(file, stringifyYaml({ ...base, when: { fact: 'handshake.connectError', matches: pattern } }));
      expect(() => loadRuleFile(file), pattern).toThrow(/"matches" .*(exponential|backreferences|polynomial)/);
    }
    // the built-in patterns are fine
    expect(() => loadRules()).not.toThrow();
  });

  it.each(HOSTILE_YAML.map((y, i) => [i, y]))('hostile YAML #%i: refused or inert, nothing executed, no prototype polluted', (_i, yaml) => {
    counted('rule files (hostile YAML)');
    const file = join(tmp, 'x.yaml');
    writeFileSync(file, yaml as string);
    expectRule(file);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(() => readFileSync('/tmp/ssh-doctor-pwned')).toThrow();
  });
});
