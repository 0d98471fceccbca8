import { spawn } from 'node:child_process';
import type { EventCollector } from '../evidence/collector.js';
import { ClientLogParser, type ClientLogResult } from '../parsers/client-log.js';
import { textLines } from '../parsers/lines.js';
import type { TargetSpec } from './target.js';

const MAX_TRANSCRIPT = 512 * 1024;

/** The options the user gave ssh-doctor, passed on to their own ssh exactly as ssh(1) takes them. */
export function userSshArgs(spec: TargetSpec, knownHostsFile?: string): string[] {
  const args: string[] = [];
  if (spec.configFile !== undefined) args.push('-F', spec.configFile);
  if (spec.port !== undefined) args.push('-p', String(spec.port));
  if (spec.user !== undefined) args.push('-l', spec.user);
  for (const id of spec.identity ?? []) args.push('-i', id);
  if (spec.jump !== undefined) args.push('-J', spec.jump);
  if (knownHostsFile !== undefined) args.push('-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null');
  return args;
}

export interface SshRun {
  code: number | null;
  transcript: string;
  timedOut: boolean;
  /** The output passed MAX_TRANSCRIPT (a target that floods it): ssh was stopped there. */
  truncated?: boolean;
}

/**
 * Runs the user's own ssh with a fixed argv (no shell), bounded in time and output: once the
 * transcript is full, ssh is stopped (a target that floods output costs neither memory nor time).
 */
export function runSsh(args: string[], timeoutMs: number, maxBytes = MAX_TRANSCRIPT): Promise<SshRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    let transcript = '';
    let timedOut = false;
    let truncated = false;
    const keep = (d: string) => {
      if (transcript.length < maxBytes) transcript += d.slice(0, maxBytes - transcript.length);
      if (transcript.length >= maxBytes && !truncated) {
        truncated = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, transcript, timedOut, ...(truncated ? { truncated } : {}) });
    });
  });
}

/**
 * The user's real client: `ssh -vvv` with BatchMode (never prompts), no RemoteCommand and no
 * ControlMaster (so the handshake really happens), strict host key checking (so it never logs in
 * to an unverified host, and never adds or updates a known_hosts entry), running `exit`. Its transcript is parsed like
 * a pasted one: whatever the user's own ssh hits (a KEX hang, a refused key) becomes evidence.
 */
export async function probeUserSsh(
  spec: TargetSpec,
  collector: EventCollector,
  opts: { knownHostsFile?: string; timeoutMs: number },
): Promise<{ run: SshRun; parsed: ClientLogResult }> {
  const args = [
    '-vvv',
    '-o', 'BatchMode=yes',
    '-o', 'RemoteCommand=none',
    '-o', 'ControlPath=none',
    '-o', 'ConnectTimeout=10',
    // never authenticate to a host whose key is not known, whatever the user's config says
    // (StrictHostKeyChecking no / accept-new), and never write to the user's known_hosts
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UpdateHostKeys=no',
    ...userSshArgs(spec, opts.knownHostsFile),
    '--', spec.target, 'exit',
  ];
  const run = await runSsh(args, opts.timeoutMs);
  const parser = new ClientLogParser('ssh -vvv (probe)', collector);
  textLines(run.transcript, parser);
  return { run, parsed: parser.result() };
}
