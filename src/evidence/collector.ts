import type { EventSummary, EventType, FieldValue, RawEvent, Side } from './types.js';
import { scrubSecrets } from './secrets.js';

function scrubFields(fields: RawEvent['fields']): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(fields ?? {})) out[k] = typeof v === 'string' ? scrubSecrets(v) : v;
  return out;
}

/**
 * Aggregates recognised log lines into one summary per event type, so evidence from a log of
 * millions of lines stays small: counts, first and last time, first and last line verbatim.
 */
export class EventCollector {
  private readonly byType = new Map<EventType, EventSummary>();
  private readonly lastBySide = new Map<Side, EventType>();

  add(ev: RawEvent): void {
    const ref = { text: scrubSecrets(ev.text), source: ev.source, line: ev.line, ...(ev.at ? { at: ev.at } : {}) };
    const cur = this.byType.get(ev.type);
    if (!cur) {
      this.byType.set(ev.type, {
        type: ev.type,
        side: ev.side,
        count: 1,
        ...(ev.at ? { firstAt: ev.at, lastAt: ev.at } : {}),
        sample: ref,
        last: ref,
        fields: scrubFields(ev.fields),
      });
    } else {
      cur.count++;
      cur.last = ref;
      // a later line may say what the first did not (a seconds value, an exit code)
      for (const [k, v] of Object.entries(ev.fields ?? {})) if (!(k in cur.fields)) cur.fields[k] = typeof v === 'string' ? scrubSecrets(v) : v;
      if (ev.at) {
        if (!cur.firstAt || ev.at < cur.firstAt) cur.firstAt = ev.at;
        if (!cur.lastAt || ev.at > cur.lastAt) cur.lastAt = ev.at;
      }
    }
    this.lastBySide.set(ev.side, ev.type);
  }

  /** Merges summaries from a saved bundle or another collector. */
  merge(summaries: EventSummary[]): void {
    for (const s of summaries) {
      const cur = this.byType.get(s.type);
      if (!cur) {
        this.byType.set(s.type, structuredClone(s));
        continue;
      }
      cur.count += s.count;
      if (s.firstAt && (!cur.firstAt || s.firstAt < cur.firstAt)) cur.firstAt = s.firstAt;
      if (s.lastAt && (!cur.lastAt || s.lastAt > cur.lastAt)) {
        cur.lastAt = s.lastAt;
        cur.last = s.last;
      }
    }
  }

  summaries(): EventSummary[] {
    return [...this.byType.values()];
  }

  lastEvent(): Partial<Record<Side, EventType>> {
    return Object.fromEntries(this.lastBySide) as Partial<Record<Side, EventType>>;
  }
}
