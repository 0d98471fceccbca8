// The watch's timeline as it is recorded: heartbeat samples, session activity, client-side
// events and drops, kept in the evidence bundle's `measurements.watch` and written to
// --save-evidence as it goes (atomically: a temp file renamed over the old one), so nothing is
// lost if the watcher itself dies. Memory stays bounded on long watches: samples are thinned to
// at most MAX_SAMPLES (pairs merged, a loss kept), activity spans and events are capped.
import { renameSync, writeFileSync } from 'node:fs';
import { Redactor } from '../evidence/redact.js';
import type { Evidence, WatchDrop, WatchEvent, WatchMeasurement } from '../evidence/types.js';
import type { Timebase } from './clock.js';

export const MAX_SAMPLES = 2000;
const MAX_RTTS = 20_000;
const MAX_EVENTS = 2000;
const MAX_SPANS = 1000;
/** Session traffic closer together than this is one activity span. */
const SPAN_JOIN_SECONDS = 1;

export interface RecorderOptions {
  mode: WatchMeasurement['mode'];
  heartbeatSeconds: number | null;
  silenceLimitSeconds: number | null;
  saveEvidence?: string;
  redact?: boolean;
  /** Told about every event as it is recorded (progress lines). */
  onEvent?: (e: WatchEvent, iso: string) => void;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export class WatchRecorder {
  readonly m: WatchMeasurement;
  private readonly rtts: number[] = [];
  private lastWrite = 0;
  private pending: NodeJS.Timeout | null = null;
  private writeFailed = false;

  constructor(
    readonly ev: Evidence,
    readonly time: Timebase,
    private readonly opts: RecorderOptions,
  ) {
    this.m = {
      mode: opts.mode,
      startedAt: time.iso(0),
      endedAt: null,
      wallSeconds: 0,
      endedBy: 'running',
      heartbeatSeconds: opts.heartbeatSeconds,
      silenceLimitSeconds: opts.silenceLimitSeconds,
      drops: [],
      rtt: { samples: 0, lost: 0, minMs: null, medianMs: null, p95Ms: null, maxMs: null },
      samples: [],
      events: [],
    };
    if (opts.mode === 'wrap') this.m.activity = [];
    ev.measurements.watch = this.m;
  }

  now(): number {
    return this.time.now();
  }

  event(kind: WatchEvent['kind'], text: string, t = this.now()): WatchEvent {
    const e: WatchEvent = { t: round3(t), kind, text };
    if (this.m.events.length < MAX_EVENTS) this.m.events.push(e);
    else if (this.m.events.length === MAX_EVENTS) this.m.events.push({ t: e.t, kind: 'end', text: `more than ${MAX_EVENTS} events: the rest were not kept` });
    this.opts.onEvent?.(e, this.time.iso(e.t));
    this.persistSoon();
    return e;
  }

  /** A heartbeat round trip (null: no answer in time). */
  sample(t: number, rttMs: number | null): void {
    this.m.samples.push({ t: round3(t), rttMs: rttMs === null ? null : Math.round(rttMs * 10) / 10 });
    if (this.m.samples.length > MAX_SAMPLES) this.thin();
    const r = this.m.rtt;
    r.samples++;
    if (rttMs === null) r.lost++;
    else {
      this.rtts.push(rttMs);
      if (this.rtts.length > MAX_RTTS) this.rtts.splice(0, this.rtts.length - MAX_RTTS);
      const sorted = [...this.rtts].sort((a, b) => a - b);
      r.minMs = Math.round(sorted[0]! * 10) / 10;
      r.maxMs = Math.round(sorted[sorted.length - 1]! * 10) / 10;
      r.medianMs = Math.round(percentile(sorted, 50)! * 10) / 10;
      r.p95Ms = Math.round(percentile(sorted, 95)! * 10) / 10;
    }
    this.persistSoon();
  }

  /** A late answer to a heartbeat already counted as lost: the round trip, for the statistics only. */
  lateReply(rttMs: number): void {
    this.rtts.push(rttMs);
    const r = this.m.rtt;
    r.maxMs = Math.max(r.maxMs ?? 0, Math.round(rttMs * 10) / 10);
  }

  /** When the client last resumed from sleep or the watcher from a stall (seconds), or null. */
  lastResume(): number | null {
    for (let i = this.m.events.length - 1; i >= 0; i--) {
      const e = this.m.events[i]!;
      if (e.kind === 'sleep' || e.kind === 'stall') return e.t;
    }
    return null;
  }

  /** Median round trip so far, in ms. */
  medianRtt(): number | null {
    return this.m.rtt.medianMs;
  }

  private thin(): void {
    const s = this.m.samples;
    const out: WatchMeasurement['samples'] = [];
    for (let i = 0; i < s.length; i += 2) {
      const a = s[i]!;
      const b = s[i + 1];
      if (!b) out.push(a);
      else out.push({ t: a.t, rttMs: a.rttMs === null || b.rttMs === null ? null : Math.max(a.rttMs, b.rttMs) });
    }
    this.m.samples = out;
  }

  /** Session traffic at `t` (wrap mode). */
  activity(t: number): void {
    const spans = this.m.activity;
    if (!spans) return;
    const last = spans[spans.length - 1];
    if (last && t - last.to <= SPAN_JOIN_SECONDS) last.to = round3(Math.max(last.to, t));
    else {
      spans.push({ from: round3(t), to: round3(t) });
      if (spans.length > MAX_SPANS) {
        // merge the two spans with the smallest gap between them
        let best = 0;
        for (let i = 1; i < spans.length - 1; i++) if (spans[i + 1]!.from - spans[i]!.to < spans[best + 1]!.from - spans[best]!.to) best = i;
        spans[best]!.to = spans[best + 1]!.to;
        spans.splice(best + 1, 1);
      }
    }
  }

  addDrop(drop: WatchDrop): void {
    this.m.drops.push(drop);
    this.persistNow();
  }

  finish(endedBy: WatchMeasurement['endedBy']): void {
    const t = this.now();
    this.m.endedBy = endedBy;
    this.m.endedAt = this.time.iso(t);
    this.m.wallSeconds = round3(t);
    this.persistNow();
  }

  /** Writes the bundle now (and cancels a pending write). Write errors are reported once, never fatal. */
  persistNow(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    const file = this.opts.saveEvidence;
    if (!file) return;
    this.m.wallSeconds = round3(this.now());
    const bundle = this.opts.redact ? new Redactor(this.ev).deep(this.ev) : this.ev;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, file);
      this.lastWrite = Date.now();
    } catch (e) {
      if (!this.writeFailed) process.stderr.write(`ssh-doctor: cannot write the evidence bundle ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      this.writeFailed = true;
    }
  }

  /** Writes within two seconds (several events in a burst make one write). */
  persistSoon(): void {
    if (!this.opts.saveEvidence || this.pending) return;
    const wait = Math.max(0, 2000 - (Date.now() - this.lastWrite));
    this.pending = setTimeout(() => this.persistNow(), wait);
    this.pending.unref();
  }
}
