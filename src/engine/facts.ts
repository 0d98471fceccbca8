import type { ConfigEvidence, Evidence, WatchMeasurement } from '../evidence/types.js';
import type { Scalar } from './rule.js';
import { keepaliveFix, matchMiddleboxDefault, channelTimeoutFor, opensshVersionNumber, MIDDLEBOX_DEFAULTS } from './values.js';

/**
 * The flat namespace rules read. Probes and parsers fill the evidence bundle; this turns it into
 * named scalar facts, and computes the named values that fixes substitute (rules never compute).
 *
 *   target.host|port|user                      the diagnosed target (or the host named in a client log)
 *   client.<keyword>  server.<keyword>         effective ssh -G / sshd -T options, lowercase keywords
 *   client.config / server.config              true when that side's config is known
 *   server.match.<keyword>                     a value set inside an sshd_config Match block (conditional)
 *   client.openssh / server.openssh            version as reported; *.version: the number (9.2)
 *   client.kernel.* / server.kernel.*          tcpKeepaliveTime, tcpKeepaliveIntvl, tcpKeepaliveProbes, conntrackEstablishedTimeout
 *   server.tmout, server.tmoutReadonly, server.autologout, server.shell, server.tmoutOrigin
 *   server.logind.stopIdleSessionSec|idleAction|systemdVersion
 *   server.uptimeSeconds, server.bootedAt
 *   event.<type>.count|at|lastAt|text|lastText|where|fields.<name>   aggregated log events
 *   last.client / last.server                  the last recognised event of each side's log
 *   idle.* shellIdle.* verify.* network.*      measurements (see evidence/types.ts)
 *   watch.*                                    a watch timeline: watch.mode, watch.drops, watch.dropped,
 *                                              watch.rtt.medianMs|lossPercent, and the drop it explains
 *                                              (the first, or measurements.watch.focus) as watch.drop.*:
 *                                              kind, source, reason, at, idleBeforeSeconds, survivedIdleSeconds,
 *                                              onTraffic, responseSeconds, silentSeconds, secondsAfterResume,
 *                                              sleptSeconds, sleep (in words), addressChanged, networkChange,
 *                                              matchedDefault, matchedDefaultSeconds, and watch.drop.server.*
 *                                              (reconnectedAfterSeconds, listenerRestarted, listenerStartedAt,
 *                                              rebooted, bootedAt, heldOldConnection, uptimeSeconds); it also
 *                                              sets network.addressChanged and network.resumedAfterSleep
 *   handshake.*                                handshake facts (hostKey.status, authenticated, ...)
 *   derived.*                                  computed values, listed in deriveValues below
 *   fix.keepalive, fix.keepaliveBasis          the catalogue's keepalive fix value and why
 *   symptom.* env.*                            what the user's words say (symptoms/*.yaml): symptom.idle,
 *                                              symptom.dropAfterSeconds, env.vmware...; answers to questions too
 */
export class Facts {
  private readonly map = new Map<string, Scalar>();

  get(name: string): Scalar | undefined {
    return this.map.get(name);
  }

  set(name: string, value: Scalar | undefined): void {
    if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return;
    this.map.set(name, value);
  }

  entries(): Array<[string, Scalar]> {
    return [...this.map.entries()];
  }
}

/** Known fact prefixes: a rule naming anything else is rejected at load (a typo would never fire). */
export const FACT_PREFIXES = [
  'target.',
  'client.',
  'server.',
  'event.',
  'last.',
  'idle.',
  'shellIdle.',
  'verify.',
  'network.',
  'watch.',
  'handshake.',
  'derived.',
  'fix.',
  'symptom.',
  'env.',
];

function numeric(value: string): Scalar {
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

function setConfig(facts: Facts, side: 'client' | 'server', config: ConfigEvidence | undefined): void {
  if (!config) return;
  facts.set(`${side}.config`, true);
  facts.set(`${side}.configSource`, config.source);
  for (const [k, v] of Object.entries(config.options)) {
    facts.set(`${side}.${k}`, v === 'none' ? null : numeric(v));
  }
  if (side === 'server') {
    for (const block of config.conditional) {
      for (const [k, v] of Object.entries(block.options)) {
        if (facts.get(`server.match.${k}`) === undefined) facts.set(`server.match.${k}`, numeric(v));
      }
    }
  }
}

function setObject(facts: Facts, prefix: string, obj: object | undefined): void {
  if (!obj) return;
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      facts.set(`${prefix}.${k}`, v);
    } else if (!Array.isArray(v) && typeof v === 'object') {
      setObject(facts, `${prefix}.${k}`, v);
    }
  }
}

function where(s: { source: string; line: number; at?: string }): string {
  return s.at ? `at ${s.at.replace('T', ' ')}` : `${s.source}:${s.line}`;
}

export function factsFrom(ev: Evidence): Facts {
  const facts = new Facts();
  const host = ev.target?.host ?? ev.client.config?.host ?? stringField(ev, 'client-connecting', 'host');
  facts.set('target.host', host);
  facts.set('target.port', ev.target?.port);
  for (const s of ev.symptoms ?? []) if (facts.get(s.fact) === undefined) facts.set(s.fact, s.value);
  facts.set('target.user', ev.target?.user);

  setConfig(facts, 'client', ev.client.config);
  setConfig(facts, 'server', ev.server.config);
  facts.set('client.openssh', ev.client.openssh);
  facts.set('client.version', opensshVersionNumber(ev.client.openssh));
  const serverOpenssh = ev.server.openssh ?? ev.server.host?.openssh ?? ev.handshake?.serverSoftware;
  facts.set('server.openssh', serverOpenssh);
  facts.set('server.version', opensshVersionNumber(serverOpenssh));
  setObject(facts, 'client.kernel', ev.client.kernel);
  setObject(facts, 'server.kernel', ev.server.host?.kernel);
  setObject(facts, 'server', ev.server.shell);
  if (ev.server.shell?.origin) facts.set('server.tmoutOrigin', ev.server.shell.origin);
  setObject(facts, 'server.logind', ev.server.logind);
  facts.set('server.uptimeSeconds', ev.server.host?.uptimeSeconds);
  facts.set('server.bootedAt', ev.server.host?.bootedAt);

  for (const e of ev.events) {
    const p = `event.${e.type}`;
    facts.set(`${p}.count`, e.count);
    facts.set(`${p}.text`, e.sample.text);
    facts.set(`${p}.lastText`, e.last.text);
    facts.set(`${p}.where`, where(e.sample));
    facts.set(`${p}.at`, e.firstAt);
    facts.set(`${p}.lastAt`, e.lastAt);
    for (const [k, v] of Object.entries(e.fields)) facts.set(`${p}.fields.${k}`, v);
  }
  facts.set('last.client', ev.lastEvent?.client);
  facts.set('last.server', ev.lastEvent?.server);

  const { idle, shellIdle, verify, network } = ev.measurements;
  if (idle) {
    facts.set('idle.verdict', idle.verdict);
    facts.set('idle.low', idle.dropAfterSeconds?.low);
    facts.set('idle.high', idle.dropAfterSeconds?.high);
    facts.set('idle.dropKind', idle.dropKind);
    facts.set('idle.keepaliveSurvived', idle.keepaliveSurvived);
    facts.set('idle.controlDiedAfter', idle.controlDiedAfterSeconds ?? undefined);
    facts.set('idle.connections', idle.connections);
    facts.set('idle.testedUpTo', idle.testedUpToSeconds);
    facts.set('idle.disconnectReason', idle.disconnectReason);
    const matched = idle.matchedDefault ?? (idle.dropAfterSeconds ? matchMiddleboxDefault(idle.dropAfterSeconds) : undefined);
    if (matched) {
      facts.set('idle.matchedDefault', matched.name);
      facts.set('idle.matchedDefaultSeconds', matched.seconds);
    }
  }
  setObject(facts, 'shellIdle', shellIdle);
  setObject(facts, 'verify', verify);
  setObject(facts, 'network', network);
  if (ev.measurements.watch) setWatch(facts, ev.measurements.watch);
  setObject(facts, 'handshake', ev.handshake);
  if (ev.handshake?.hostKey?.expected) facts.set('handshake.hostKey.expected', ev.handshake.hostKey.expected.join(', '));

  deriveValues(facts);
  return facts;
}

/** A resume from sleep this long before a drop counts as its cause's context. */
const RESUME_WINDOW_SECONDS = 120;

function words(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}-second`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}-minute`;
  return `${Math.round((seconds / 3600) * 10) / 10}-hour`;
}

/** The watch timeline's facts: the drop in focus (the first by default) and the timeline's totals. */
function setWatch(facts: Facts, w: WatchMeasurement): void {
  facts.set('watch.mode', w.mode);
  facts.set('watch.drops', w.drops.length);
  facts.set('watch.endedBy', w.endedBy);
  facts.set('watch.heartbeatSeconds', w.heartbeatSeconds ?? undefined);
  facts.set('watch.rtt.medianMs', w.rtt.medianMs ?? undefined);
  if (w.rtt.samples > 0) facts.set('watch.rtt.lossPercent', Math.round((1000 * w.rtt.lost) / w.rtt.samples) / 10);
  const d = w.drops[w.focus ?? 0];
  facts.set('watch.dropped', d !== undefined);
  if (!d) return;
  facts.set('watch.drop.at', d.at);
  facts.set('watch.drop.kind', d.kind);
  facts.set('watch.drop.source', d.source);
  facts.set('watch.drop.reason', d.reason);
  facts.set('watch.drop.idleBeforeSeconds', d.idleBeforeSeconds);
  facts.set('watch.drop.survivedIdleSeconds', d.survivedIdleSeconds ?? undefined);
  facts.set('watch.drop.onTraffic', d.onTraffic);
  facts.set('watch.drop.responseSeconds', d.responseSeconds ?? undefined);
  facts.set('watch.drop.silentSeconds', d.silentSeconds ?? 0);
  facts.set('watch.drop.secondsAfterResume', d.secondsAfterResume);
  facts.set('watch.drop.sleptSeconds', d.sleptSeconds);
  if (d.sleptSeconds !== undefined) facts.set('watch.drop.sleep', words(d.sleptSeconds));
  facts.set('watch.drop.addressChanged', d.addressChanged);
  facts.set('watch.drop.networkChange', d.networkChanges?.join('; '));
  facts.set('watch.drop.matchedDefault', d.matchedDefault?.name);
  facts.set('watch.drop.matchedDefaultSeconds', d.matchedDefault?.seconds);
  const s = d.server;
  if (s) {
    facts.set('watch.drop.server.reconnectedAfterSeconds', s.reconnectedAfterSeconds);
    facts.set('watch.drop.server.listenerRestarted', s.listenerRestarted);
    facts.set('watch.drop.server.listenerStartedAt', s.listenerStartedAt);
    facts.set('watch.drop.server.rebooted', s.rebooted);
    facts.set('watch.drop.server.bootedAt', s.bootedAt);
    facts.set('watch.drop.server.heldOldConnection', s.heldOldConnection);
    facts.set('watch.drop.server.uptimeSeconds', s.uptimeSeconds);
  }
  // what rules/network-change.yaml reads; a measured value in measurements.network wins
  if (facts.get('network.addressChanged') === undefined) facts.set('network.addressChanged', d.addressChanged);
  if (facts.get('network.resumedAfterSleep') === undefined) {
    facts.set('network.resumedAfterSleep', d.secondsAfterResume !== null && d.secondsAfterResume <= RESUME_WINDOW_SECONDS);
  }
}

function stringField(ev: Evidence, type: string, field: string): string | undefined {
  const v = ev.events.find((e) => e.type === type)?.fields[field];
  return typeof v === 'string' ? v : undefined;
}

function num(facts: Facts, name: string): number | undefined {
  const v = facts.get(name);
  return typeof v === 'number' ? v : undefined;
}

/**
 * Computed values rules compare against and fixes substitute:
 *   derived.clientKeepalive       client sends SSH-level keepalives (serveraliveinterval > 0)
 *   derived.serverKeepalive       server sends SSH-level keepalives (clientaliveinterval > 0)
 *   derived.sshKeepalive          either side does
 *   derived.serverAliveTotal      ServerAliveInterval x ServerAliveCountMax (s)
 *   derived.clientAliveTotal      ClientAliveInterval x ClientAliveCountMax (s), when it ends sessions
 *   derived.kernelKeepaliveMin    the smallest known tcp_keepalive_time of either end (s)
 *   derived.channelTimeoutSession ChannelTimeout for session channels that takes effect on this server (s)
 *   derived.channelTimeoutIgnored the configured ChannelTimeout text that this server version ignores
 *   derived.channelTimeoutType    the session type spelling this server version understands
 *   derived.unusedConnectionTimeout  UnusedConnectionTimeout (s)
 *   derived.idleGap               T as known: the measured low end, or the matched default
 *   derived.ipqosMarks            the client's IPQoS marks are set (not none) and include af21/lowdelay/ef
 *   derived.sessionDropped        a session dropped or froze, by any account (a log line of any client, or the user's words)
 *   derived.sessionHung           a session froze (or stopped at the key exchange reply), or large transfers stall
 *   derived.cannotConnect         connections do not come up (refused, timed out, closed before the banner, or the user's words)
 *   derived.authTrouble           authentication was refused (a log line, or the user's words)
 *   derived.saidDefault           the known middlebox default the user's "drops after N" matches (within 15%)
 *   derived.suggestIdleMax        an --idle-max that would see the drop the user describes (s)
 */
/** Events that say a session ended or froze, from any producer. */
const DROP_EVENTS = [
  'client-broken-pipe', 'client-connection-reset', 'client-connection-timed-out', 'client-connection-aborted',
  'client-closed-by-remote', 'client-network-lost', 'client-keepalive-timeout', 'client-serveralive-timeout',
  'client-wrapper-lost', 'client-multiplexer-exited', 'client-channel-closed', 'client-shell-timeout',
  'server-connection-reset', 'server-read-error', 'server-clientalive-timeout', 'server-idle-timeout',
  'server-channel-inactivity', 'server-unused-connection-timeout', 'server-logind-idle-stop',
] as const;
/** Events that say a connection never came up. */
const CONNECT_EVENTS = ['client-connect-failed', 'client-dns-failed', 'client-kex-closed', 'client-kex-reset', 'client-banner-timeout', 'server-firewall-drop'] as const;
/** Events that say authentication was refused. */
const AUTH_EVENTS = ['client-permission-denied', 'client-too-many-auth-failures', 'client-agent-refused', 'server-auth-refused'] as const;

function deriveValues(facts: Facts): void {
  const sai = num(facts, 'client.serveraliveinterval');
  const sac = num(facts, 'client.serveralivecountmax');
  const cai = num(facts, 'server.clientaliveinterval');
  const cac = num(facts, 'server.clientalivecountmax');
  if (sai !== undefined) facts.set('derived.clientKeepalive', sai > 0);
  if (cai !== undefined) facts.set('derived.serverKeepalive', cai > 0);
  if (sai !== undefined || cai !== undefined) facts.set('derived.sshKeepalive', (sai ?? 0) > 0 || (cai ?? 0) > 0);
  if (sai && sai > 0) facts.set('derived.serverAliveTotal', sai * (sac ?? 3));
  // Since 8.2 ClientAliveCountMax 0 disables termination; before that it cut at the first probe.
  if (cai && cai > 0 && cac !== undefined && cac > 0) facts.set('derived.clientAliveTotal', cai * cac);

  const kernelTimes = [num(facts, 'client.kernel.tcpKeepaliveTime'), num(facts, 'server.kernel.tcpKeepaliveTime')].filter(
    (v): v is number => v !== undefined,
  );
  if (kernelTimes.length > 0) facts.set('derived.kernelKeepaliveMin', Math.min(...kernelTimes));

  const ct = facts.get('server.channeltimeout');
  if (typeof ct === 'string' || typeof ct === 'number') {
    const r = channelTimeoutFor(String(ct), num(facts, 'server.version'));
    facts.set('derived.channelTimeoutSession', r.seconds);
    facts.set('derived.channelTimeoutIgnored', r.ignored);
    facts.set('derived.channelTimeoutType', r.sessionType);
  } else {
    facts.set('derived.channelTimeoutType', channelTimeoutFor('', num(facts, 'server.version')).sessionType);
  }
  facts.set('derived.unusedConnectionTimeout', num(facts, 'server.unusedconnectiontimeout'));

  const low = num(facts, 'idle.low');
  const matched = num(facts, 'idle.matchedDefaultSeconds') ?? num(facts, 'watch.drop.matchedDefaultSeconds');
  const gap = low ?? matched;
  facts.set('derived.idleGap', gap);
  let fix = keepaliveFix(low, matched);
  // A watched idle drop: the session died on the first traffic after this gap, so T is no longer.
  const watchIdle = num(facts, 'watch.drop.idleBeforeSeconds');
  const watchKind = facts.get('watch.drop.kind');
  if (low === undefined && matched === undefined && watchIdle !== undefined && watchIdle > 0 && facts.get('watch.drop.onTraffic') === true && (watchKind === 'silent' || watchKind === 'reset')) {
    const f = keepaliveFix(undefined, watchIdle);
    const idle = Number.isInteger(watchIdle) ? String(watchIdle) : watchIdle.toFixed(1);
    fix = { value: f.value, basis: `the session died on the first traffic after ${idle} s idle; ${f.value} s is the largest friendly interval not above a third of it` };
  }
  facts.set('fix.keepalive', fix.value);
  facts.set('fix.keepaliveBasis', fix.basis);

  // what kind of trouble this is, whoever reported it: the candidates of a thin report follow it
  const any = (types: readonly string[], words: readonly string[]) =>
    types.some((t) => (num(facts, `event.${t}.count`) ?? 0) > 0) || words.some((w) => facts.get(`symptom.${w}`) === true);
  if (any(DROP_EVENTS, ['disconnect', 'hang', 'idle', 'tmuxExited', 'oom', 'serviceRestarted', 'ipChanged', 'corruption', 'mentionsTmout', 'sleep', 'networkSwitch']) || facts.get('idle.verdict') === 'drops' || facts.get('watch.dropped') === true) {
    facts.set('derived.sessionDropped', true);
  }
  if (facts.get('last.client') === 'client-kex-ecdh-wait' || any([], ['hang', 'transfer', 'largePacketsOnly'])) facts.set('derived.sessionHung', true);
  if (any(CONNECT_EVENTS, ['connectFails', 'banned', 'dnsSlow']) || facts.get('handshake.connectError') !== undefined) facts.set('derived.cannotConnect', true);
  if (any(AUTH_EVENTS, ['authProblem', 'hostChanged']) || facts.get('handshake.authError') !== undefined) facts.set('derived.authTrouble', true);

  // the user's own number: which default it matches, and how long a live idle test must wait
  const said = num(facts, 'symptom.dropAfterSeconds');
  if (said !== undefined && said > 0) {
    const d = MIDDLEBOX_DEFAULTS.find((x) => Math.abs(x.seconds - said) <= x.seconds * 0.15);
    if (d) facts.set('derived.saidDefault', d.name);
    facts.set('derived.suggestIdleMax', Math.min(7200, Math.max(360, Math.ceil((said * 1.3) / 60) * 60)));
  } else facts.set('derived.suggestIdleMax', 360);

  const ipqos = facts.get('client.ipqos');
  if (typeof ipqos === 'string') facts.set('derived.ipqosMarks', /\b(af\d\d|lowdelay|ef|cs[1-7])\b/i.test(ipqos));
}
