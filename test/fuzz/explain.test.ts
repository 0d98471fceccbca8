// Fuzzing `explain` as a whole: any combination of damaged evidence files (client transcript,
// server log, ssh -G, ssh_config, sshd -T, sshd_config), each given with its flag or as a bare
// positional file, goes through the input reader, the rules and every report format. Either it
// is refused as bad input (a binary or empty file: exit 2), or the report lists each file once
// with its lines counted (recognised + not understood <= lines) and renders in JSON, table and
// Markdown, redacted or not.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/evaluate.js';
import { loadRules } from '../../src/engine/load.js';
import { UsageError } from '../../src/errors.js';
import { evidenceFromInputs, type InputSpec } from '../../src/inputs/read.js';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReport } from '../../src/report/model.js';
import { renderTable } from '../../src/report/table.js';
import { check, counted, countLines, fixtureLines, fixtures, reportCounts, textBytes } from './gen.js';

reportCounts('explain');

const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-fuzz-explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const RULES = loadRules();

const KINDS = [
  { name: 'client.log', kind: 'client-log' },
  { name: 'server.log', kind: 'server-log' },
  { name: 'ssh-G.txt', kind: 'ssh-G' },
  { name: 'ssh_config', kind: 'ssh-config' },
  { name: 'sshd-T.txt', kind: 'sshd-T' },
  { name: 'sshd_config', kind: 'sshd-config' },
] as const;

const fileArb = (name: string) => fc.option(textBytes(fixtures(name), fixtureLines(name), { maxMutations: 3 }), { freq: 2 });

let n = 0;

describe('explain, whole', () => {
  it('any combination of damaged files: refused as bad input, or every file counted and the report rendered', async () => {
    await check(
      fc.asyncProperty(fc.tuple(...KINDS.map((k) => fileArb(k.name))), fc.boolean(), fc.boolean(), async (contents, redact, flagged) => {
        counted('explain (file combinations)');
        const dir = join(tmp, String(n++));
        const specs: InputSpec[] = [];
        const given: string[] = [];
        contents.forEach((bytes, i) => {
          if (bytes === null) return;
          const k = KINDS[i]!;
          const p = `${dir}-${k.name}`;
          writeFileSync(p, bytes);
          specs.push(flagged ? { path: p, hint: k.kind } : { path: p });
          given.push(bytes.toString('utf8'));
        });
        if (specs.length === 0) return;
        let ev;
        try {
          ev = await evidenceFromInputs(specs, { host: 'db1', now: new Date('2026-11-25T00:00:00Z') });
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          expect(e.message).toMatch(/empty|binary|cannot read|larger than|bundle/);
          return;
        }
        // each file is one input, its lines all counted
        expect(ev.inputs).toHaveLength(specs.length);
        ev.inputs.forEach((input, i) => {
          expect(input.recognised + input.unparsed).toBeLessThanOrEqual(input.lines);
          expect(input.lines).toBe(countLines(given[i]!));
        });
        const report = buildReport(ev, diagnose(ev, RULES), { startedAt: new Date(0), finishedAt: new Date(1), redact });
        expect(JSON.parse(renderJson(report)).inputs).toHaveLength(specs.length);
        renderTable(report, { color: false, width: 100 });
        renderMarkdown(report);
      }),
      300,
    );
  });
});
