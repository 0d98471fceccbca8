import type { Facts } from './facts.js';

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_.-]*)(?:\|([^}]*))?\}/g;

function format(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(1);
  // ISO timestamps read better with a space
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value) ? value.replace('T', ' ') : value;
}

/**
 * Substitutes `{fact.name}` and `{fact.name|default}` with fact values. Returns null when a
 * placeholder without a default names an unknown fact: an evidence line with a hole in it is
 * worse than none.
 */
export function render(template: string, facts: Facts): string | null {
  let missing = false;
  const out = template.replace(PLACEHOLDER, (_m, name: string, dflt: string | undefined) => {
    const v = facts.get(name);
    if (v === undefined || v === null) {
      if (dflt === undefined) missing = true;
      return dflt ?? '';
    }
    return format(v);
  });
  return missing ? null : out;
}

export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}
