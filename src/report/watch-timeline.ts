// The watch timeline drawn: heartbeat round trips (or the wrapped session's traffic), client
// network changes, sleep, and the connection with its drops, over the watch's wall time; then
// the events in order and the server's log lines around each drop. Plain ASCII (it survives any
// terminal, log or ticket), or the same drawing in a Markdown code block.
import type { DropKind, WatchDrop, WatchMeasurement } from '../evidence/types.js';

export interface WatchTimelineOptions {
  width: number;
  markdown?: boolean;
}

const LABEL = 7;
const MARK: Record<DropKind, string> = { silent: 'x', reset: 'R', 'closed-by-server': 'C', 'channel-closed': 'c' };
const KIND_WORDS: Record<DropKind, string> = {
  silent: 'the path went silent',
  reset: 'reset',
  'closed-by-server': 'closed by the server',
  'channel-closed': 'the session channel was closed',
};
const MAX_EVENT_LINES = 40;
const MAX_LOG_LINES = 12;

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n < 10 ? n.toFixed(1) : String(Math.round(n)));

function human(s: number): string {
  if (s < 90) return `${fmt(Math.round(s * 10) / 10)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${fmt(Math.round((s / 3600) * 10) / 10)} h`;
  return `${Math.round(s / 86400)} days`;
}

function clock(iso: string): string {
  return iso.length >= 19 ? `${iso.slice(11, 19)}${iso.endsWith('Z') ? 'Z' : ''}` : iso;
}

function niceStep(span: number, slots: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
  return steps.find((s) => span / s <= slots) ?? steps[steps.length - 1]!;
}

function axis(span: number, plotW: number): string {
  const cells = Array.from({ length: plotW }, () => ' ');
  const step = niceStep(span, Math.max(1, Math.floor(plotW / 8)));
  let free = 0;
  for (let v = 0; v <= span + 1e-9; v += step) {
    const label = v >= 3600 && v % 3600 === 0 ? `${v / 3600}h` : v >= 120 && v % 60 === 0 ? `${v / 60}m` : `${fmt(v)}`;
    const col = Math.round((v / span) * (plotW - 1));
    const at = Math.min(col, plotW - label.length);
    if (at < free) continue;
    for (let i = 0; i < label.length; i++) cells[at + i] = label[i]!;
    free = at + label.length + 1;
  }
  return `${'time'.padEnd(LABEL)}${cells.join('').trimEnd()}`;
}

/** One line saying what happened at a drop, in words. */
export function dropSentence(d: WatchDrop): string {
  const parts: string[] = [KIND_WORDS[d.kind]];
  if (d.silentSeconds) parts.push(`after ${human(d.silentSeconds)} without an answer`);
  if (d.idleBeforeSeconds !== null && d.onTraffic) {
    parts.push(`${human(d.idleBeforeSeconds)} after the last traffic${d.responseSeconds !== null && d.responseSeconds !== undefined ? `, ${fmt(d.responseSeconds)} s after the ${d.source === 'ssh' ? 'keystroke' : 'heartbeat'} that met it` : ''}`);
  } else if (d.idleBeforeSeconds !== null && !d.silentSeconds) parts.push(`${human(d.idleBeforeSeconds)} after the last traffic`);
  if (d.secondsAfterResume !== null) parts.push(`${human(d.secondsAfterResume)} after resume from a ${d.sleptSeconds !== undefined ? human(d.sleptSeconds) : ''} sleep`.replace('a  sleep', 'sleep'));
  if (d.addressChanged) parts.push(`the client's network changed${d.networkChanges?.length ? ` (${d.networkChanges[0]}${d.networkChanges.length > 1 ? `, +${d.networkChanges.length - 1} more` : ''})` : ''}`);
  if (d.matchedDefault) parts.push(`matches ${d.matchedDefault.name}`);
  const s = d.server;
  if (s) {
    if (s.reconnectedAfterSeconds === null) parts.push('the path did not come back in time to ask the server');
    if (s.rebooted) parts.push(`the server rebooted (booted ${s.bootedAt ? clock(s.bootedAt) : '?'})`);
    else if (s.listenerRestarted) parts.push(`sshd was restarted (listener started ${s.listenerStartedAt ? clock(s.listenerStartedAt) : '?'})`);
    if (s.heldOldConnection === true) parts.push('the server still held the old connection');
  }
  return parts.join('; ');
}

interface Row {
  label: string;
  cells: string[];
}

function draw(m: WatchMeasurement, plotW: number): string[] {
  const span = Math.max(1, m.wallSeconds, ...m.events.map((e) => e.t), ...m.drops.map((d) => d.t)) * 1.01;
  const col = (t: number) => Math.max(0, Math.min(plotW - 1, Math.round((t / span) * (plotW - 1))));
  const blank = () => Array.from({ length: plotW }, () => ' ');
  const rows: Row[] = [];

  if (m.mode === 'monitor') {
    const cells = blank();
    const median = m.rtt.medianMs ?? 0;
    const level = new Array<number>(plotW).fill(-1);
    for (const s of m.samples) {
      const c = col(s.t);
      const v = s.rttMs === null ? 3 : median > 0 && s.rttMs > 4 * median ? 2 : median > 0 && s.rttMs > 2 * median ? 1 : 0;
      level[c] = Math.max(level[c]!, v);
    }
    level.forEach((v, i) => {
      if (v >= 0) cells[i] = ['.', ':', '^', 'x'][v]!;
    });
    rows.push({ label: 'rtt', cells });
  } else {
    const cells = blank();
    const up = m.events.find((e) => e.kind === 'connected')?.t;
    const end = m.drops[0]?.t ?? m.wallSeconds;
    if (up !== undefined) for (let i = col(up); i <= col(end); i++) cells[i] = '-';
    for (const a of m.activity ?? []) for (let i = col(a.from); i <= col(a.to); i++) cells[i] = '=';
    rows.push({ label: 'ssh', cells });
  }

  const net = blank();
  let anyNet = false;
  for (const e of m.events) {
    const mark = e.kind === 'address' ? 'A' : e.kind === 'route' ? 'r' : e.kind === 'link' ? 'L' : null;
    if (!mark) continue;
    anyNet = true;
    const c = col(e.t);
    net[c] = net[c] === ' ' || net[c] === mark ? mark : '*';
  }
  if (anyNet) rows.push({ label: 'net', cells: net });

  const sleep = blank();
  let anySleep = false;
  for (const e of m.events) {
    if (e.kind !== 'sleep' && e.kind !== 'stall') continue;
    const secs = Number(/([\d.]+) s\b/.exec(e.text)?.[1] ?? 0);
    anySleep = true;
    for (let i = col(Math.max(0, e.t - secs)); i <= col(e.t); i++) sleep[i] = e.kind === 'sleep' ? 'z' : 's';
  }
  if (anySleep) rows.push({ label: 'sleep', cells: sleep });

  const conn = blank();
  let from: number | null = null;
  const drops = [...m.drops].sort((a, b) => a.t - b.t);
  let di = 0;
  const events = [...m.events].sort((a, b) => a.t - b.t);
  for (const e of events) {
    if (e.kind === 'connected') {
      from = e.t;
      conn[col(e.t)] = '|';
    } else if (e.kind === 'drop' && from !== null) {
      const d = drops[di++];
      for (let i = col(from) + 1; i < col(e.t); i++) conn[i] = '-';
      conn[col(e.t)] = d ? MARK[d.kind] : '?';
      from = null;
    } else if (e.kind === 'reconnect' && /^reconnected/.test(e.text)) {
      if (conn[col(e.t)] === ' ') conn[col(e.t)] = 'o';
    }
  }
  if (from !== null) for (let i = col(from) + 1; i <= col(m.wallSeconds); i++) conn[i] = '-';
  rows.push({ label: 'conn', cells: conn });

  return [axis(span, plotW), ...rows.map((r) => `${r.label.padEnd(LABEL)}${r.cells.join('').trimEnd()}`)];
}

function legend(m: WatchMeasurement): string {
  const parts =
    m.mode === 'monitor'
      ? ['rtt: . answered  : over 2x median  ^ over 4x  x no answer']
      : ['ssh: = traffic  - open, idle'];
  parts.push('net: A address  r default route  L link');
  parts.push('sleep: z asleep  s watcher stalled');
  parts.push('conn: | connected  o reconnected  x silent  R reset  C closed by server  c channel closed');
  return parts.join('\n');
}

function header(m: WatchMeasurement): string {
  const how = m.mode === 'monitor' ? `heartbeat every ${m.heartbeatSeconds ?? '?'} s, a path silent ${m.silenceLimitSeconds ?? '?'} s counts as a drop` : 'your own ssh, its -v log timestamped';
  const end = m.endedAt ? clock(m.endedAt) : 'still running';
  const n = m.drops.length;
  const rtt = m.rtt.samples > 0 ? `; round trip median ${m.rtt.medianMs ?? '?'} ms, p95 ${m.rtt.p95Ms ?? '?'} ms, ${m.rtt.lost} of ${m.rtt.samples} heartbeats unanswered in time` : '';
  return `Watch (${how}): ${clock(m.startedAt)} to ${end} (${human(m.wallSeconds)}), ${n === 0 ? 'no drop' : n === 1 ? '1 drop' : `${n} drops`}${rtt}.`;
}

function eventLines(m: WatchMeasurement): string[] {
  const start = Date.parse(m.startedAt);
  const lines = [...m.events]
    .sort((a, b) => a.t - b.t)
    .map((e) => `${clock(new Date(start + e.t * 1000).toISOString())}  +${human(e.t).padEnd(7)} ${e.text}`);
  if (lines.length <= MAX_EVENT_LINES) return lines;
  const half = MAX_EVENT_LINES / 2;
  return [...lines.slice(0, half), `... ${lines.length - MAX_EVENT_LINES} more events ...`, ...lines.slice(-half)];
}

function serverLines(m: WatchMeasurement): string[] {
  const out: string[] = [];
  m.drops.forEach((d, i) => {
    const lines = d.server?.logLines ?? [];
    if (!lines.length) return;
    out.push(`sshd log around drop ${i + 1} (${d.server?.logSource ?? 'server'}):`);
    const shown = lines.length > MAX_LOG_LINES ? lines.slice(-MAX_LOG_LINES) : lines;
    if (lines.length > shown.length) out.push(`  ... ${lines.length - shown.length} earlier lines`);
    for (const l of shown) out.push(`  ${l}`);
  });
  return out;
}

function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

export function renderWatchTimeline(m: WatchMeasurement, opts: WatchTimelineOptions): string {
  const width = Math.max(LABEL + 30, Math.floor(opts.width));
  const plotW = width - LABEL - (opts.markdown ? 0 : 1);
  const summary = [header(m)];
  m.drops.forEach((d, i) => {
    summary.push(`Drop ${i + 1} at ${clock(d.at)} (+${human(d.t)}): ${dropSentence(d)}.${d.causes?.length ? ` Explained by: ${d.causes.join(', ')}.` : d.causes ? ' No cause identified.' : ''}`);
  });
  if (m.note) summary.push(`Note: ${m.note}`);
  const drawing = [...draw(m, plotW), '', ...legend(m).split('\n')];
  const events = eventLines(m);
  const server = serverLines(m);
  if (opts.markdown) {
    return [
      `**Watch.** ${summary.join(' ')}`,
      '',
      '```text',
      ...drawing,
      '```',
      '',
      '```text',
      ...events,
      ...(server.length ? ['', ...server] : []),
      '```',
      '',
    ].join('\n');
  }
  return [...summary.flatMap((s) => wrapText(s, width)), '', ...drawing, '', ...events, ...(server.length ? ['', ...server] : []), ''].join('\n');
}
