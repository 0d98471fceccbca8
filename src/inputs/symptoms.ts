// The user's own words as evidence: a ticket's prose and `--describe` text, read as symptom
// facts the rules can use (symptom.idle, symptom.dropAfterSeconds, env.vmware...). The phrases
// are data, one file per group in symptoms/, each fact with real example sentences and near
// misses beside it (test/inputs/symptoms.test.ts), like the rules and the vocabulary.
//
// A duration (`value: duration`) is read from the pattern's groups `n` and `unit` ("after about
// 10 minutes", "every 5 min", "nach 10 Minuten", "10分钟"). The first mention of a fact wins, and
// each fact says which words gave it, for the report.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readYamlData } from '../data-file.js';
import { DataFileError, UsageError } from '../errors.js';
import { unsafePattern } from '../engine/load.js';
import type { SymptomFact } from '../evidence/types.js';
import { BUILTIN_SYMPTOMS } from '../paths.js';

class SymptomFileError extends DataFileError {
  constructor(file: string, field: string, problem: string) {
    super('symptom file', file, field, problem);
  }
}

export interface SymptomSentence {
  text: string;
  from: string;
  value?: string | number | boolean;
}

export interface SymptomDef {
  fact: string;
  means: string;
  match: string;
  value?: 'duration' | string | number | boolean;
  examples: SymptomSentence[];
  near?: SymptomSentence[];
}

export interface SymptomFile {
  group: string;
  about: string;
  facts: SymptomDef[];
  file: string;
}

interface Compiled {
  def: SymptomDef;
  re: RegExp;
}

const MAX_BYTES = 256 * 1024;

/** Seconds per unit word (English, German, Spanish, French, Chinese as users write them). */
const UNIT_SECONDS: Array<[RegExp, number]> = [
  [/^(?:s|secs?|seconds?|sekunden?|segundos?|secondes?|秒)$/i, 1],
  [/^(?:m|mins?|minutes?|minuten?|minutos?|分钟|分)$/i, 60],
  [/^(?:h|hrs?|hours?|stunden?|horas?|heures?|小时|時間)$/i, 3600],
  [/^(?:d|days?|tage?n?|d[ií]as?|jours?|天)$/i, 86400],
];

export function durationSeconds(n: string, unit: string): number | undefined {
  const value = Number(n.replace(',', '.'));
  if (!Number.isFinite(value)) return undefined;
  const u = UNIT_SECONDS.find(([re]) => re.test(unit.trim()));
  return u ? Math.round(value * u[1]) : undefined;
}

export function loadSymptomFiles(dir: string = BUILTIN_SYMPTOMS): SymptomFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new UsageError(`cannot read symptom folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return names.map((name) => {
    const { file, data } = readYamlData(join(dir, name), { schema: 'symptom.schema.json', maxBytes: MAX_BYTES, fail: (f, field, problem) => new SymptomFileError(f, field, problem) });
    const s = { ...(data as Omit<SymptomFile, 'file'>), file };
    if (name.replace(/\.ya?ml$/, '') !== s.group) throw new SymptomFileError(file, 'group', `must match the file name (${name})`);
    return s;
  });
}

export class SymptomReader {
  private readonly compiled: Compiled[];

  constructor(readonly files: SymptomFile[]) {
    this.compiled = files.flatMap((f) =>
      f.facts.map((def, i) => {
        const field = `facts[${i}].match`;
        const unsafe = unsafePattern(def.match);
        if (unsafe !== null) throw new SymptomFileError(f.file, field, `${def.match}: ${unsafe}`);
        let re: RegExp;
        try {
          re = new RegExp(def.match, 'iu');
        } catch (e) {
          throw new SymptomFileError(f.file, field, `not a valid regular expression: ${(e as Error).message}`);
        }
        if (def.value === 'duration' && !/\(\?<n>/.test(def.match) && !/\(\?<unit>/.test(def.match)) {
          throw new SymptomFileError(f.file, field, 'a duration needs the groups (?<n>...) and (?<unit>...)');
        }
        return { def, re };
      }),
    );
  }

  /** The facts one sentence gives (the first value of each). */
  read(sentence: string): SymptomFact[] {
    const out: SymptomFact[] = [];
    for (const { def, re } of this.compiled) {
      const m = re.exec(sentence);
      if (!m) continue;
      let value: string | number | boolean = true;
      if (def.value === 'duration') {
        const seconds = m.groups?.n && m.groups.unit ? durationSeconds(m.groups.n, m.groups.unit) : undefined;
        if (seconds === undefined) continue;
        value = seconds;
      } else if (def.value !== undefined) value = def.value;
      out.push({ fact: def.fact, value, from: m[0].trim().slice(0, 200), means: def.means });
    }
    return out;
  }
}

let builtin: SymptomReader | undefined;

export function builtinSymptoms(): SymptomReader {
  builtin ??= new SymptomReader(loadSymptomFiles());
  return builtin;
}
