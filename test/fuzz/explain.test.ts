// Fuzzing `explain` as a whole: any combination of damaged evidence files (client transcript,
// server log, ssh -G, ssh_config, sshd -T, sshd_config) goes through evidenceFromFiles, the rules
// and every report format. Either it is refused as bad input (a binary or empty file: exit 2),
// or the report lists each file with its lines counted (recognised + not understood <= lines)
// and renders in JSON, table and Markdown, redacted or not.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/evaluate.js';
import { loadRules } from '../../src/engine/load.js';
import { UsageError } from '../../src/errors.js';
import { evidenceFromFiles, type EvidenceFiles } from '../../src/evidence/assemble.js';
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
  { key: 'clientLogs', name: 'client.log', kind: 'client-log' },
  { key: 'serverLogs', name: 'server.log', kind: 'server-log' },
  { key: 'sshG', name: 'ssh-G.txt', kind: 'ssh-G' },
  { key: 'sshConfig', name: 'ssh_config', kind: 'ssh-config' },
  { key: 'sshdT', name: 'sshd-T.txt', kind: 'sshd-T' },
  { key: 'sshdConfig', name: 'sshd_config', kind: 'sshd-config' },
] as const;

const fileArb = (name: string) => fc.option(textBytes(fixtures(name), fixtureLines(name), { maxMutations: 3 }), { freq: 2 });

let n = 0;

describe('explain, whole', () => {
  it('any combination of damaged files: refused as bad input, or every file counted and the report rendered', async () => {
    await check(
      fc.asyncProperty(fc.tuple(...KINDS.map((k) => fileArb(k.name))), fc.boolean(), async (contents, redact) => {
        counted('explain (file combinations)');
        const dir = join(tmp, String(n++));
        const files: EvidenceFiles = { host: 'db1' };
        const given: Array<{ kind: string; text: string }> = [];
        contents.forEach((bytes, i) => {
          if (bytes === null) return;
          const k = KINDS[i]!;
          const p = `${dir}-${k.name}`;
          writeFileSync(p, bytes);
          if (k.key === 'clientLogs' || k.key === 'serverLogs') files[k.key] = [p];
          else files[k.key] = p;
          given.push({ kind: k.kind, text: bytes.toString('utf8') });
        });
        if (given.length === 0) return;
        let ev;
        try {
          ev = await evidenceFromFiles(files, new Date('2026-11-25T00:00:00Z'));
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          expect(e.message).toMatch(/empty|binary|cannot read|larger than|needs a target/);
          return;
        }
        // ssh -G wins over ssh_config, sshd -T over sshd_config: one input each
        const expected = given.filter((g) => !(g.kind === 'ssh-config' && files.sshG) && !(g.kind === 'sshd-config' && files.sshdT));
        expect(ev.inputs.map((i) => i.kind).sort()).toEqual(expected.map((g) => g.kind).sort());
        for (const input of ev.inputs) {
          expect(input.recognised + input.unparsed).toBeLessThanOrEqual(input.lines);
          const g = expected.find((x) => x.kind === input.kind)!;
          if (input.kind === 'client-log' || input.kind === 'server-log' || input.kind === 'ssh-G' || input.kind === 'sshd-T') expect(input.lines).toBe(countLines(g.text));
        }
        const report = buildReport(ev, diagnose(ev, RULES), { startedAt: new Date(0), finishedAt: new Date(1), redact });
        expect(JSON.parse(renderJson(report)).inputs).toHaveLength(expected.length);
        renderTable(report, { color: false, width: 100 });
        renderMarkdown(report);
      }),
      300,
    );
  });
});
