// A rule as loaded from rules/<id>.yaml (shape checked by schema/rule.schema.json at load).

export type Scalar = string | number | boolean | null;
export type Operand = Scalar | { fact: string };

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | ({ fact: string } & Partial<{
      eq: Operand;
      ne: Operand;
      gt: Operand;
      gte: Operand;
      lt: Operand;
      lte: Operand;
      in: Scalar[];
      matches: string;
      exists: boolean;
    }>);

export interface Signal {
  when: Condition;
  weight: number;
  evidence?: string;
}

export interface Against {
  when: Condition;
  weight?: number;
  veto?: boolean;
  evidence?: string;
}

export interface FixTemplate {
  where: 'client' | 'server' | 'network';
  file?: string;
  snippet: string;
  why: string;
  when?: Condition;
}

/** The next test that would confirm or rule the cause out: an exact command or check. */
export interface ConfirmTemplate {
  command: string;
  why: string;
  when?: Condition;
}

export interface Rule {
  id: string;
  kind: 'cause' | 'advisory';
  title: string;
  summary: string;
  when: Condition;
  base?: number;
  signals?: Signal[];
  against?: Against[];
  ranksBelow?: string[];
  suppressedBy?: string[];
  fixes: FixTemplate[];
  confirm?: ConfirmTemplate[];
  /** Fits the evidence without being singled out: listed as a candidate (see evaluate.ts). */
  candidate?: { when: Condition; evidence: string };
  docs?: string;
  /** Path the rule was loaded from, relative to the working directory where possible. */
  file: string;
}

export interface Fix {
  where: 'client' | 'server' | 'network';
  file?: string;
  snippet: string;
  why: string;
}

export interface Cause {
  id: string;
  rule: string;
  title: string;
  confidence: number;
  evidence: string[];
  fixes: Fix[];
  /** What would confirm it or rule it out (contract addition). */
  confirmWith?: Array<{ command: string; why: string }>;
  /** True when the evidence fits the cause without singling it out (a differential's candidate). */
  candidate?: boolean;
}

/** A cause the evidence rules out, and why. */
export interface RuledOut {
  id: string;
  title: string;
  why: string;
}

export interface Advisory {
  id: string;
  title: string;
  why: string;
  fixes: Fix[];
}

export interface Diagnosis {
  causes: Cause[];
  advisories: Advisory[];
  ruledOut: RuledOut[];
}
