// From what was recorded to a drop the rules can read: idle gaps, the kind of failure, the
// client-side context (sleep, network changes) and the known middlebox default it matches; and
// the diagnosis of a watch with several drops, one drop at a time.
import { diagnose } from '../engine/evaluate.js';
import type { Advisory, Cause, Diagnosis, Rule, RuledOut } from '../engine/rule.js';
import { MIDDLEBOX_DEFAULTS } from '../engine/values.js';
import { EventCollector } from '../evidence/collector.js';
import type { DropKind, EventSummary, EventType, Evidence, WatchDrop, WatchEvent } from '../evidence/types.js';

/** A failure this soon after the traffic that met it was an answer (a reset), not TCP giving up. */
export const RESET_RESPONSE_SECONDS = 2;

/**
 * The known middlebox idle timeout inside (survived, idle] (widened by 10% for timer slack), when
 * exactly one fits: several would be a guess.
 */
export function matchDefault(survived: number | null | undefined, idle: number | null | undefined): { name: string; seconds: number } | undefined {
  if (idle === null || idle === undefined || idle <= 0) return undefined;
  const low = (survived ?? 0) * 0.9;
  const high = idle * 1.1;
  const fits = MIDDLEBOX_DEFAULTS.filter((d) => d.seconds > low && d.seconds <= high);
  return fits.length === 1 ? { ...fits[0]! } : undefined;
}

/** Client-side context of a drop at `t`: sleeps and network changes since the connection opened. */
export function clientContext(
  events: WatchEvent[],
  o: { since: number; t: number; localAddressGone?: boolean },
): Pick<WatchDrop, 'secondsAfterResume' | 'sleptSeconds' | 'addressChanged' | 'networkChanges'> {
  // network polls lag by up to two seconds: a change seen just after the drop belongs to it
  const window = events.filter((e) => e.t >= o.since && e.t <= o.t + 3);
  const sleeps = window.filter((e) => e.kind === 'sleep' && e.t <= o.t + 1);
  const last = sleeps[sleeps.length - 1];
  const changes = window.filter((e) => e.kind === 'address' || e.kind === 'route' || e.kind === 'link');
  const out: ReturnType<typeof clientContext> = {
    secondsAfterResume: last ? Math.max(0, Math.round((o.t - last.t) * 10) / 10) : null,
    addressChanged: Boolean(o.localAddressGone) || changes.some((e) => e.kind !== 'link'),
  };
  if (last) {
    const m = /([\d.]+) s\b/.exec(last.text);
    if (m) out.sleptSeconds = Number(m[1]);
  }
  if (changes.length) out.networkChanges = changes.map((e) => e.text).slice(0, 20);
  return out;
}

/** How the user's ssh ended, from the transcript's events and the timing around the failure. */
export function wrappedKind(types: Set<EventType>, onTraffic: boolean, responseSeconds: number | null): DropKind {
  if (types.has('client-connection-reset')) return 'reset';
  if (types.has('client-closed-by-remote') || types.has('client-received-disconnect')) return 'closed-by-server';
  if (types.has('client-shell-timeout') || types.has('client-channel-closed')) return 'channel-closed';
  if (types.has('client-serveralive-timeout') || types.has('client-keepalive-timeout')) return 'silent';
  // OpenSSH 8+ prints `send disconnect: Broken pipe` after a reset as after TCP gave up on a
  // silent path: the time it took tells them apart.
  if (onTraffic && responseSeconds !== null && responseSeconds < RESET_RESPONSE_SECONDS) return 'reset';
  return 'silent';
}

/** Session traffic seen by the wrapper, reduced to what the idle analysis needs. */
export class ActivityTracker {
  lastInput: number | null = null;
  lastOutput: number | null = null;
  /** The longest idle gap the session came back from (output followed it). */
  survived = 0;
  /** Input that came after a gap and has had no output since: [gap, input time]. */
  private unanswered: { gap: number; at: number } | null = null;
  private lastAny: number | null = null;

  input(t: number): void {
    const gap = this.lastAny === null ? 0 : t - this.lastAny;
    if (this.unanswered === null) this.unanswered = { gap, at: t };
    this.lastInput = t;
    this.lastAny = t;
  }

  /** The quiet time before the last output (a shell's logout message comes after its idle wait). */
  gapBeforeLastOutput = 0;
  /** `survived` as it was before the last output. */
  survivedBeforeLastOutput = 0;

  output(t: number): void {
    this.gapBeforeLastOutput = this.lastAny === null ? 0 : t - this.lastAny;
    this.survivedBeforeLastOutput = this.survived;
    if (this.unanswered) this.survived = Math.max(this.survived, this.unanswered.gap);
    else if (this.lastAny !== null) this.survived = Math.max(this.survived, t - this.lastAny);
    this.unanswered = null;
    this.lastOutput = t;
    this.lastAny = t;
  }

  /** The idle gap before a failure at `t`, and whether the failure answered traffic after it. */
  beforeFailure(t: number): { idleBeforeSeconds: number | null; onTraffic: boolean; responseSeconds: number | null; survivedIdleSeconds: number } {
    const r = (n: number) => Math.round(n * 100) / 100;
    if (this.unanswered) {
      return { idleBeforeSeconds: r(this.unanswered.gap), onTraffic: true, responseSeconds: r(t - this.unanswered.at), survivedIdleSeconds: r(this.survived) };
    }
    return { idleBeforeSeconds: this.lastAny === null ? null : r(t - this.lastAny), onTraffic: false, responseSeconds: null, survivedIdleSeconds: r(this.survived) };
  }
}

function mergeCauses(per: Array<{ drop: number; at: string; d: Diagnosis }>): Diagnosis {
  const causes = new Map<string, Cause & { drops: number[] }>();
  const advisories = new Map<string, Advisory>();
  for (const { drop, at, d } of per) {
    for (const c of d.causes) {
      const label = `drop ${drop + 1} (${at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')})`;
      const cur = causes.get(c.id);
      if (!cur) causes.set(c.id, { ...c, evidence: c.evidence.map((e) => `${label}: ${e}`), drops: [drop] });
      else {
        cur.drops.push(drop);
        if (c.confidence > cur.confidence) {
          cur.confidence = c.confidence;
          cur.fixes = c.fixes;
        }
        cur.evidence.push(...c.evidence.map((e) => `${label}: ${e}`));
      }
    }
    for (const a of d.advisories) if (!advisories.has(a.id)) advisories.set(a.id, a);
  }
  const list = [...causes.values()].map(({ drops, ...c }) => ({
    ...c,
    evidence: drops.length > 1 ? [`explains ${drops.length} of the drops (${drops.map((i) => i + 1).join(', ')})`, ...c.evidence] : c.evidence,
  }));
  list.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
  const fired = new Set(list.map((c) => c.id));
  const ruledOut = new Map<string, RuledOut>();
  for (const { d } of per) for (const r of d.ruledOut) if (!fired.has(r.id) && !ruledOut.has(r.id)) ruledOut.set(r.id, r);
  return { causes: list, advisories: [...advisories.values()].filter((a) => !fired.has(a.id)), ruledOut: [...ruledOut.values()] };
}

/** The evidence as it was for drop `i`: its own server-side reads, the rest shared. */
export function evidenceForDrop(ev: Evidence, i: number, shared: EventSummary[]): Evidence {
  const w = ev.measurements.watch!;
  const drop = w.drops[i]!;
  const collector = new EventCollector();
  collector.merge(shared);
  collector.merge(drop.server?.events ?? []);
  const host = { ...ev.server.host };
  if (drop.server?.uptimeSeconds !== undefined) host.uptimeSeconds = drop.server.uptimeSeconds;
  if (drop.server?.bootedAt !== undefined) host.bootedAt = drop.server.bootedAt;
  return {
    ...ev,
    server: { ...ev.server, host },
    events: collector.summaries(),
    measurements: { ...ev.measurements, watch: { ...w, focus: i } },
  };
}

/**
 * The diagnosis of a watch: with one drop (or none) the plain diagnosis; with several, each drop
 * is diagnosed with its own server-side reads and the causes are merged (highest confidence
 * wins, evidence lines say which drop). Each drop gets the ids of the causes that explained it.
 */
export function diagnoseWatch(ev: Evidence, rules: Rule[], shared: EventSummary[]): Diagnosis {
  const w = ev.measurements.watch;
  if (!w || w.drops.length <= 1) {
    const d = diagnose(ev, rules);
    if (w?.drops[0]) w.drops[0].causes = d.causes.map((c) => c.id);
    return d;
  }
  const per = w.drops.map((drop, i) => {
    const d = diagnose(evidenceForDrop(ev, i, shared), rules);
    drop.causes = d.causes.map((c) => c.id);
    return { drop: i, at: drop.at, d };
  });
  return mergeCauses(per);
}
