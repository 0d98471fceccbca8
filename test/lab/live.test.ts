// The live diagnosis (`ssh-doctor user@host`) against real sshd targets in the lab: what it reads
// from the server, and how it fails when the target cannot be diagnosed (exit 3, with the cause).

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { labAvailability, labRequired } from './availability.js';
import { stopAllLabs, withLab, type Lab } from './lab.js';
import { SERVER_IDLE } from './scenarios.js';

const availability = labAvailability();
const required = labRequired();
if (!availability.ok && !required) console.log(`live lab tests skipped: ${availability.why}`);

interface Live {
  code: number | null;
  report: {
    probes: Array<{ id: string; status: string; detail?: string }>;
    causes: Array<{ id: string; evidence: string[] }>;
    errors: string[];
  };
  stderr: string;
}

async function diagnoseIn(lab: Lab, args: string[]): Promise<Live> {
  const r = await lab.exec([process.execPath, CLI, ...args, '--json'], { timeoutMs: 150_000 });
  let report: Live['report'];
  try {
    report = JSON.parse(r.stdout) as Live['report'];
  } catch {
    throw new Error(`no JSON report (exit ${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

function targetArgs(lab: Lab, overrides: { key?: string; knownHosts?: string; host?: string; port?: number } = {}): string[] {
  return [
    `${lab.target.user}@${overrides.host ?? lab.target.addr}`,
    '-p', String(overrides.port ?? lab.target.port),
    '-i', overrides.key ?? lab.keyFile,
    '--known-hosts', overrides.knownHosts ?? lab.knownHostsFile,
    '--idle-max', '0',
  ];
}

describe.skipIf(!availability.ok && !required)('live diagnosis against the lab', () => {
  if (!availability.ok) {
    it('needs the lab', () => {
      throw new Error(`SSH_DOCTOR_LAB=require, but the lab cannot run: ${availability.why}`);
    });
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-live-'));
  afterAll(async () => {
    await stopAllLabs();
    rmSync(tmp, { recursive: true, force: true });
  });

  it.concurrent('reads the server ChannelTimeout and names server-channel-timeout', () =>
    withLab('channel-timeout', async (lab) => {
      const r = await diagnoseIn(lab, targetArgs(lab));
      expect(r.code).toBe(1);
      const cause = r.report.causes.find((c) => c.id === 'server-channel-timeout');
      expect(cause?.evidence.join('\n')).toContain(`ChannelTimeout session:*=${SERVER_IDLE}`);
      expect(r.report.causes[0]?.id).toBe('server-channel-timeout');
    }));

  it.concurrent('reads TMOUT as the login shell sees it and names shell-tmout', () =>
    withLab('shell-tmout', async (lab) => {
      const r = await diagnoseIn(lab, targetArgs(lab));
      expect(r.code).toBe(1);
      expect(r.report.causes[0]?.id).toBe('shell-tmout');
      expect(r.report.causes[0]?.evidence.join('\n')).toContain(`TMOUT=${SERVER_IDLE} s`);
    }));

  it.concurrent('a healthy target: exit 0, no cause, every probe ran', () =>
    withLab('healthy', async (lab) => {
      const r = await diagnoseIn(lab, targetArgs(lab));
      expect(r.report.causes).toEqual([]);
      expect(r.code).toBe(0);
      for (const id of ['client-config', 'user-ssh', 'handshake', 'server', 'large-transfer']) {
        expect(r.report.probes.find((p) => p.id === id)?.status).toBe('ok');
      }
    }));

  it.concurrent('a wrong host key: exit 3 before authentication, and the report says which keys', () =>
    withLab('healthy', async (lab) => {
      const keyFile = join(tmp, 'other_host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
      const wrong = join(tmp, 'wrong_known_hosts');
      writeFileSync(wrong, `${lab.target.addr} ${readFileSync(`${keyFile}.pub`, 'utf8').trim()}\n`);
      const before = (await lab.sshdLog()).split('\n').filter((l) => l.startsWith('Accepted ')).length;
      const r = await diagnoseIn(lab, targetArgs(lab, { knownHosts: wrong }));
      expect(r.code).toBe(3);
      expect(r.report.causes[0]?.id).toBe('host-key-mismatch');
      expect(r.report.causes[0]?.evidence.join('\n')).toMatch(/offered SHA256:\S+, known_hosts expects SHA256:/);
      // the user's own ssh (BatchMode) and ssh-doctor's connection both stopped before authenticating
      const after = (await lab.sshdLog()).split('\n').filter((l) => l.startsWith('Accepted ')).length;
      expect(after).toBe(before);
    }));

  it.concurrent('refused, filtered and a failed authentication: exit 3 with the right cause', () =>
    withLab('healthy', async (lab) => {
      // nothing listens on the middlebox's own address: the kernel answers with a reset
      const refused = await diagnoseIn(lab, targetArgs(lab, { host: lab.topology.middleboxClientAddr }));
      expect(refused.code).toBe(3);
      expect(refused.report.causes[0]?.id).toBe('connect-refused-or-filtered');
      expect(refused.report.errors.join('\n')).toMatch(/refused/i);

      // the middlebox forwards new connections to port 22 only: others are dropped silently
      const filtered = await diagnoseIn(lab, targetArgs(lab, { port: 2222 }));
      expect(filtered.code).toBe(3);
      expect(filtered.report.causes[0]?.id).toBe('connect-refused-or-filtered');
      expect(filtered.report.errors.join('\n')).toMatch(/timed out|timeout/i);

      const badKey = join(tmp, 'not_authorized');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', badKey]);
      const auth = await diagnoseIn(lab, targetArgs(lab, { key: badKey }));
      expect(auth.code).toBe(3);
      expect(auth.report.causes[0]?.id).toBe('auth-failed');
      expect(auth.stderr).not.toMatch(/\n\s+at /);
    }));

  it.concurrent('a name that does not resolve: exit 3, and no DNS query leaves the namespace', () =>
    withLab('healthy', async (lab) => {
      // ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf: the only resolver is the client
      // namespace's own loopback, where nothing listens.
      const dir = join('/etc/netns', lab.clientNs);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      try {
        const r = await diagnoseIn(lab, targetArgs(lab, { host: 'no-such-host.lab.invalid' }));
        expect(r.code).toBe(3);
        expect(r.report.causes[0]?.id).toBe('connect-refused-or-filtered');
        expect(r.report.causes[0]?.evidence.join('\n')).toMatch(/resolve|ENOTFOUND|EAI_AGAIN/i);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));
});
