// `ssh-doctor watch <host>`: one monitored connection, made exactly as the live diagnosis makes
// it (ssh -G resolution, the user's identities and agent, strict host key checks), with a
// heartbeat; a timeline of round trips, client network changes and sleeps; and, after each drop,
// a bounded wait for the path, a new connection and the server's side of the story.
import type { Client } from 'ssh2';
import { emptyEvidence, type Evidence, type EventSummary, type WatchDrop, type WatchServerSide } from '../evidence/types.js';
import { readClientKernel } from '../probes/client-host.js';
import { ConnectError, connector, type ConnectOptions, type Connection } from '../probes/connect.js';
import { COMMANDS } from '../probes/server/commands.js';
import { applyServerReads, runner } from '../probes/server/read.js';
import { resolveTarget, type ResolveDeps, type TargetSpec } from '../probes/target.js';
import { clientContext, matchDefault } from './analyse.js';
import { systemClocks, Timebase, type Clocks } from './clock.js';
import { ClientWatchers, DEFAULT_SILENCE_SECONDS, humanSeconds, Stopper, type WatchSettings } from './common.js';
import { heartbeat, type HeartbeatEnd } from './heartbeat.js';
import { WatchRecorder } from './recorder.js';
import { parseWatchProbe, readServerSide, type Endpoint, type WatchProbe } from './server-side.js';

export interface MonitorOptions {
  knownHostsFile?: string;
  acceptHostKey?: string;
  resolve?: ResolveDeps;
  connect?: Partial<ConnectOptions>;
  clocks?: Clocks;
  /** Install SIGINT/SIGTERM/SIGHUP handlers (the CLI does; tests need not). */
  signals?: boolean;
}

export interface WatchResult {
  ev: Evidence;
  /** Events every drop shares (the wrapped ssh transcript); the server's are per drop. */
  shared: EventSummary[];
  /** The target could not be reached at all (exit 3). */
  unreachable: boolean;
}

const CONNECT_KINDS = new Set(['refused', 'timeout', 'unreachable', 'dns', 'proxy']);
const FINAL_KINDS = new Set(['auth', 'host-key-mismatch', 'host-key-unknown', 'host-key-revoked', 'unsupported']);

function recordConnectError(ev: Evidence, err: ConnectError): void {
  ev.handshake = { ...ev.handshake, ...err.handshake };
  if (CONNECT_KINDS.has(err.kind)) ev.handshake.connectError = `${err.kind}: ${err.message}`;
  else if (err.kind === 'auth') ev.handshake.authError = err.message;
  for (const n of err.notes ?? []) ev.errors.push(`authentication: ${n}`);
}

/** The TCP endpoints of an ssh2 client's socket (undefined through a proxy). ssh2 1.17 internals, as pinned in ping.ts. */
function socketEndpoints(client: Client): { local?: Endpoint; remote?: Endpoint } {
  const s = (client as unknown as { _sock?: { localAddress?: string; localPort?: number; remoteAddress?: string; remotePort?: number } })._sock;
  const out: { local?: Endpoint; remote?: Endpoint } = {};
  if (s?.localAddress && s.localPort) out.local = { addr: s.localAddress.replace(/^::ffff:/i, ''), port: s.localPort };
  if (s?.remoteAddress && s.remotePort) out.remote = { addr: s.remoteAddress.replace(/^::ffff:/i, ''), port: s.remotePort };
  return out;
}

const KIND_TEXT: Record<WatchDrop['kind'], string> = {
  silent: 'the path went silent',
  reset: 'the connection was reset',
  'closed-by-server': 'the connection was closed by the server',
  'channel-closed': 'the session channel was closed',
};

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The drop as the rules read it, from how the heartbeat ended. */
export function heartbeatDrop(end: HeartbeatEnd, o: { connectedAt: number; intervalSeconds: number; medianRttMs: number | null; iso: (t: number) => string }): WatchDrop {
  const lastTraffic = Math.max(end.lastReplyAt ?? o.connectedAt, o.connectedAt);
  const sent = end.lastSendAt;
  const answerWithin = Math.max(1, (4 * (o.medianRttMs ?? 0)) / 1000);
  const onTraffic = end.kind === 'reset' && sent !== null && sent >= lastTraffic && end.at - sent <= answerWithin && end.silentSince === null;
  const drop: WatchDrop = {
    at: o.iso(end.at),
    t: round(end.at),
    source: 'heartbeat',
    kind: end.kind,
    ...(end.reason ? { reason: end.reason } : {}),
    idleBeforeSeconds: round((onTraffic && sent !== null ? sent : end.silentSince ?? end.at) - lastTraffic),
    survivedIdleSeconds: o.intervalSeconds,
    onTraffic,
    responseSeconds: onTraffic && sent !== null ? round(end.at - sent) : null,
    secondsAfterResume: null,
    addressChanged: false,
  };
  if (end.silentSince !== null) drop.silentSeconds = round(end.at - end.silentSince);
  const m = onTraffic ? matchDefault(o.intervalSeconds, drop.idleBeforeSeconds) : undefined;
  if (m) drop.matchedDefault = m;
  return drop;
}

function dropText(d: WatchDrop): string {
  const parts = [KIND_TEXT[d.kind]];
  if (d.silentSeconds) parts.push(`after ${humanSeconds(d.silentSeconds)} of unanswered heartbeats`);
  else if (d.onTraffic && d.responseSeconds !== null && d.responseSeconds !== undefined) parts.push(`${d.responseSeconds} s after a heartbeat`);
  if (d.idleBeforeSeconds !== null && !d.silentSeconds) parts.push(`the last answer ${humanSeconds(d.idleBeforeSeconds)} before`);
  return `${parts.join(', ')}${d.reason ? ` (${d.reason})` : ''}`;
}

export function serverSummary(s: WatchServerSide): string[] {
  const out: string[] = [];
  if (s.rebooted) out.push(`the server rebooted (booted ${s.bootedAt ?? '?'})`);
  if (s.listenerRestarted === true) out.push(`sshd's listener was restarted (started ${s.listenerStartedAt ?? '?'})`);
  else if (s.listenerRestarted === false) out.push('sshd\'s listener is the same process as before');
  if (s.heldOldConnection === true) out.push('sshd still holds the old connection: it never saw the drop');
  else if (s.heldOldConnection === false) out.push('sshd no longer holds the old connection');
  if (s.uptimeSeconds !== undefined) out.push(`up ${humanSeconds(s.uptimeSeconds)}`);
  for (const e of s.events ?? []) {
    if (e.type === 'server-accepted') continue;
    out.push(`sshd log: ${e.sample.text}${e.count > 1 ? ` (${e.count} times)` : ''}`);
  }
  return out;
}

async function probeOn(conn: Connection): Promise<WatchProbe | null> {
  try {
    const r = await runner(conn.client)(COMMANDS.watchProbe.command);
    return parseWatchProbe(r.stdout, Date.now());
  } catch {
    return null;
  }
}

/** Opens connections until one works, the wait is over, or the watch is stopped. */
async function reconnect(open: () => Promise<Connection>, waitMs: number, stopper: Stopper): Promise<{ conn?: Connection; error?: string }> {
  const until = Date.now() + waitMs;
  let last = '';
  const stopped = new Promise<{ stopped: true }>((r) => {
    if (stopper.signal.aborted) r({ stopped: true });
    else stopper.signal.addEventListener('abort', () => r({ stopped: true }), { once: true });
  });
  while (!stopper.signal.aborted && Date.now() < until) {
    const attempt = open();
    let timer: NodeJS.Timeout | undefined;
    const raced = await Promise.race([
      attempt.then((c) => ({ c }), (e: unknown) => ({ e })),
      new Promise<{ timeout: true }>((r) => (timer = setTimeout(() => r({ timeout: true }), Math.max(0, until - Date.now())))),
      stopped,
    ]);
    clearTimeout(timer);
    if ('c' in raced) return { conn: raced.c };
    if (!('e' in raced)) {
      attempt.then((c) => c.end(), () => undefined);
      break;
    }
    const e = raced.e;
    last = e instanceof Error ? e.message : String(e);
    if (e instanceof ConnectError && FINAL_KINDS.has(e.kind)) return { error: last };
    if (await stopper.wait(Math.min(2000, Math.max(0, until - Date.now())))) break;
  }
  return { error: last || 'the watch was stopped' };
}

export async function watchMonitor(spec: TargetSpec, settings: WatchSettings, opts: MonitorOptions = {}): Promise<WatchResult> {
  const ev = emptyEvidence();
  const started = Date.now();
  const resolved = await resolveTarget(spec, opts.resolve);
  ev.target = resolved.target;
  ev.client.config = resolved.config;
  ev.probes.push({ id: 'client-config', status: 'ok', durationMs: Date.now() - started, detail: `${resolved.user}@${resolved.hostname}:${resolved.port}` });
  const kernel = await readClientKernel().catch(() => undefined);
  if (kernel && Object.keys(kernel).length > 0) ev.client.kernel = kernel;

  const interval = settings.intervalSeconds;
  const userLimit = resolved.serverAliveInterval > 0 ? resolved.serverAliveInterval * resolved.serverAliveCountMax : null;
  const silence = settings.silenceSeconds ?? userLimit ?? DEFAULT_SILENCE_SECONDS;
  const time = new Timebase(opts.clocks ?? systemClocks);
  const progress = settings.progress;
  const rec = new WatchRecorder(ev, time, {
    mode: 'monitor',
    heartbeatSeconds: interval,
    silenceLimitSeconds: silence,
    ...(settings.saveEvidence ? { saveEvidence: settings.saveEvidence } : {}),
    redact: settings.redact,
    ...(progress ? { onEvent: (e, iso) => progress(`${iso.slice(11, 19)}Z  ${e.text}`) } : {}),
  });
  const who = `${resolved.user}@${resolved.hostname}:${resolved.port}`;
  rec.event('start', `watching ${who}: a heartbeat every ${interval} s; a path silent for ${silence} s counts as a drop${userLimit !== null && settings.silenceSeconds === null ? ' (your ServerAliveInterval x ServerAliveCountMax)' : ''}`);

  const open = connector(resolved, {
    ...(opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}),
    ...(opts.acceptHostKey ? { acceptHostKey: opts.acceptHostKey } : {}),
    ...opts.connect,
    keepaliveIntervalMs: 0, // the heartbeat is ours
  });
  const t0 = Date.now();
  let conn: Connection;
  try {
    conn = await open();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof ConnectError) recordConnectError(ev, e);
    ev.probes.push({ id: 'handshake', status: 'failed', durationMs: Date.now() - t0, detail: msg });
    ev.errors.push(`handshake: ${msg}`);
    rec.event('end', `could not connect: ${msg}`);
    rec.finish('error');
    return { ev, shared: [], unreachable: true };
  }
  ev.handshake = conn.handshake;
  ev.server.openssh = conn.handshake.serverSoftware;
  ev.probes.push({ id: 'handshake', status: 'ok', durationMs: Date.now() - t0, detail: `${conn.handshake.serverSoftware ?? 'server'}; host key ${conn.handshake.hostKey?.status ?? '?'}` });

  const watchers = new ClientWatchers(rec, time, settings.netSources);
  watchers.start();
  const stopper = new Stopper(settings.durationSeconds, { signals: opts.signals ?? false });
  let endedBy: NonNullable<Evidence['measurements']['watch']>['endedBy'] = 'running';
  const serverDone = { first: true };
  try {
    for (;;) {
      const connectedAt = rec.now();
      const sessionStartMs = Date.now();
      const ends = socketEndpoints(conn.client);
      rec.event('connected', `connected to ${resolved.hostname}:${resolved.port}${ends.local ? ` from ${ends.local.addr} port ${ends.local.port}` : ''}`, connectedAt);
      // the baseline read runs beside the heartbeat: a path that fails now must not delay it
      const base: { probe: WatchProbe | null } = { probe: null };
      const baselineRead = probeOn(conn).then((p) => (base.probe = p));
      const end = await heartbeat(conn.client, {
        intervalMs: interval * 1000,
        silenceLimitMs: silence * 1000,
        now: () => rec.now(),
        medianRttMs: () => rec.medianRtt(),
        localAddressGone: () => watchers.gone(ends.local?.addr),
        lastResumeAt: () => rec.lastResume(),
        onSample: (t, rtt) => rec.sample(t, rtt),
        onLateReply: (rtt) => rec.lateReply(rtt),
        onOutage: (from, to) => rec.event('outage', `no answer for ${humanSeconds(to - from)}, then the path came back`, from),
        signal: stopper.signal,
      });
      if (end === 'stopped') {
        conn.end();
        endedBy = stopper.reason ?? 'interrupted';
        break;
      }
      conn.end();
      await Promise.race([baselineRead, new Promise((r) => setTimeout(r, 100))]);
      const baseline = base.probe;
      watchers.pollNow();
      const drop = heartbeatDrop(end, { connectedAt, intervalSeconds: interval, medianRttMs: rec.medianRtt(), iso: (t) => time.iso(t) });
      Object.assign(drop, clientContext(rec.m.events, { since: connectedAt, t: drop.t, localAddressGone: watchers.gone(ends.local?.addr) }));
      if (drop.secondsAfterResume !== null && drop.secondsAfterResume > 3600) drop.secondsAfterResume = null;
      rec.event('drop', `dropped: ${dropText(drop)}`, drop.t);
      rec.addDrop(drop);

      progress?.(`             waiting up to ${settings.reconnectWaitSeconds} s for the path, to read the server's side...`);
      const tr = rec.now();
      const again = await reconnect(open, settings.reconnectWaitSeconds * 1000, stopper);
      if (!again.conn) {
        drop.server = { reconnectedAfterSeconds: null, note: `could not reconnect within ${settings.reconnectWaitSeconds} s: ${again.error ?? ''}`.trim() };
        rec.event('reconnect', `could not reconnect: ${again.error ?? 'no answer'}`);
        endedBy = stopper.reason ?? 'path-lost';
        break;
      }
      const next = again.conn;
      const reconnectedAfter = round(rec.now() - drop.t);
      rec.event('reconnect', `reconnected ${humanSeconds(reconnectedAfter)} after the drop (waited ${humanSeconds(rec.now() - tr)}); reading the server's side`);
      const ts = Date.now();
      const side = await readServerSide(runner(next.client), {
        sessionStartMs,
        ...(baseline?.client ? { old: baseline.client, oldFromServer: true } : ends.local ? { old: ends.local, oldFromServer: false } : {}),
        ...(baseline ? { baseline } : {}),
        oldIsOurs: true,
        sudo: settings.sudo,
      });
      drop.server = { reconnectedAfterSeconds: reconnectedAfter, ...side.side };
      for (const f of side.failures) ev.errors.push(`server (after drop ${rec.m.drops.length}): ${f}`);
      ev.probes.push({ id: 'server', status: side.reads ? 'ok' : 'failed', durationMs: Date.now() - ts, detail: side.side.logSource ?? 'no sshd log lines readable' });
      if (serverDone.first && side.reads) {
        serverDone.first = false;
        applyServerReads(ev, side.reads, side.side);
        ev.events = side.side.events ?? [];
      }
      for (const line of serverSummary(drop.server)) rec.event('server', line);
      rec.persistNow();
      if (rec.m.drops.length >= settings.count) {
        next.end();
        endedBy = settings.count > 1 ? 'count' : 'drop';
        break;
      }
      if (stopper.signal.aborted) {
        next.end();
        endedBy = stopper.reason ?? 'interrupted';
        break;
      }
      conn = next;
    }
  } finally {
    watchers.stop();
    stopper.dispose();
  }
  rec.event('end', endedBy === 'duration' ? 'the watch ran its --duration' : endedBy === 'interrupted' ? 'the watch was stopped' : `the watch ended (${endedBy})`);
  ev.probes.push({ id: 'watch', status: 'ok', durationMs: Date.now() - started, detail: `${rec.m.drops.length} drop(s) in ${humanSeconds(rec.now())}` });
  rec.finish(endedBy);
  return { ev, shared: [], unreachable: false };
}
