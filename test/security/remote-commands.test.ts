// What ssh-doctor runs on a target, observed from the target's side: a recording SSH server
// answers the read-only probes (with hostile paths in its answers: quotes, `;`, `$(...)`), and
// every command it receives must be one of src/probes/server/commands.ts (the README's list, kept
// true by test/cli/readme.test.ts), with any path from the target single-quoted so that a real
// shell reads it back unchanged; or the documented `head -c BYTES /dev/zero`; or `exit`, run by
// the user's own ssh (the user-ssh probe). Nothing the user typed reaches a remote command, and
// sudo is never used without --sudo.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_TRANSFER_COMMAND } from '../../src/probes/network.js';
import { shellQuote } from '../../src/probes/remote-exec.js';
import { COMMANDS } from '../../src/probes/server/commands.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { CLI } from '../cli/run-cli.js';
import { keyPair, tempDir, type KeyPair } from '../probes/server.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

const PWNED = '/tmp/ssh-doctor-pwned-remote';
const CONFIG = `/srv/ssh/x';touch\${IFS}${PWNED};'y`;
const INCLUDE_DIR = '/srv/ssh/conf.d';
// file names (no '/') a hostile target could list: command substitution, separators, backquotes, quotes
const INCLUDED = [`${INCLUDE_DIR}/$(reboot).conf`, `${INCLUDE_DIR}/b;rm -rf ~.conf`, `${INCLUDE_DIR}/c\`reboot\`.conf`, `${INCLUDE_DIR}/d'$IFS'.conf`];

const tmp = tempDir();
let host: KeyPair;
let user: KeyPair;
let server: HostileServer;

/** The path a path-taking command was given, read back by a real shell. */
function shellWord(quoted: string): string {
  const r = spawnSync('sh', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });
  return r.stdout;
}

beforeAll(async () => {
  rmSync(PWNED, { force: true });
  host = keyPair('ed25519');
  user = keyPair('ed25519');
  server = await startHostileServer({
    hostKey: host.private,
    allowKeys: [user.parsed],
    exec: (command) => {
      if (command === COMMANDS.sshdProcess.command) return { stdout: `__sshd=/usr/sbin/sshd -D -f ${CONFIG}\n` };
      if (command.startsWith(COMMANDS.sshdT.command)) return { stdout: 'sshd: no hostkeys available -- exiting.\n', code: 1 };
      if (command.startsWith(COMMANDS.readConfig.command)) {
        const path = shellWord(command.slice(COMMANDS.readConfig.command.length));
        return { stdout: path === CONFIG ? `Include ${INCLUDE_DIR}/*.conf\nClientAliveInterval 0\n` : 'ClientAliveInterval 5\n' };
      }
      if (command.startsWith(COMMANDS.listDir.command)) return { stdout: ['.', '..', ...INCLUDED.map((p) => p.slice(INCLUDE_DIR.length + 1))].join('\n') };
      const head = /^head -c (\d+) \/dev\/zero$/.exec(command);
      if (head) return { stdout: Buffer.alloc(Number(head[1])) };
      return { stdout: '' };
    },
  });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
  rmSync(PWNED, { force: true });
});

/** The CLI, asynchronously: the target runs in this process and must keep answering. */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: tmp.dir, NO_COLOR: '1', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('commands run on a target', () => {
  it('are the documented ones, with target paths quoted for a real shell, and nothing of the user in them', async () => {
    const key = tmp.write('id_ed25519', user.private);
    const knownHosts = tmp.write('known_hosts', `[127.0.0.1]:${server.port} ${host.public}\n`);
    const config = tmp.write('ssh_config', '# nothing\n');
    const r = await cli(['alice@127.0.0.1', '-p', String(server.port), '-i', key, '-F', config, '--known-hosts', knownHosts, '--idle-max', '0', '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect([0, 1]).toContain(r.status);

    const fixed = new Set(Object.values(COMMANDS).map((c) => c.command));
    const pathTaking = (Object.values(COMMANDS) as Array<{ command: string; sudo?: boolean }>).filter((c) => c.command.endsWith(' ') && !c.sudo);
    const paths: string[] = [];
    const unexpected: string[] = [];
    for (const command of server.commands) {
      if (command === 'exit') continue; // the user-ssh probe: your own `ssh ... HOST exit`
      if (new RegExp(`^${LARGE_TRANSFER_COMMAND}(4096|65536|1048576) /dev/zero$`).test(command)) continue;
      if (fixed.has(command)) continue;
      const c = pathTaking.find((p) => command.startsWith(p.command));
      if (c) {
        const quoted = command.slice(c.command.length);
        const path = shellWord(quoted);
        expect(quoted, command).toBe(shellQuote(path));
        paths.push(path);
        continue;
      }
      unexpected.push(command);
    }
    expect(unexpected).toEqual([]);
    // the hostile paths came back verbatim, as single words, and ran nothing
    expect(paths).toContain(CONFIG);
    expect(paths).toContain(INCLUDE_DIR);
    for (const p of INCLUDED) expect(paths).toContain(p);
    expect(existsSync(PWNED)).toBe(false);
    // no sudo without --sudo; nothing the user typed (user name, key path) in any command
    expect(server.commands.filter((c) => c.includes('sudo'))).toEqual([]);
    for (const c of server.commands) {
      expect(c).not.toContain('alice');
      expect(c).not.toContain(tmp.dir);
    }
    // every kind of read ran: the list above is not vacuous
    for (const c of [COMMANDS.sshdProcess, COMMANDS.shell, COMMANDS.logind, COMMANDS.kernel, COMMANDS.uptime, COMMANDS.logs]) expect(server.commands).toContain(c.command);
    // the README documents the user-ssh probe's `exit`
    expect(readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')).toMatch(/`ssh -vvv[^`]*\sHOST\s+exit`/);
  });

  it('a user name with shell syntax never reaches the target: refused before any connection', async () => {
    const before = { commands: server.commands.length, users: server.users.length };
    const r = await cli([`alice;touch$(echo ${PWNED})@127.0.0.1`, '-p', String(server.port), '--idle-max', '0', '--json']);
    expect([2, 3]).toContain(r.status);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(server.commands.length).toBe(before.commands);
    expect(server.users.filter((u) => u.includes('touch'))).toEqual([]);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('shellQuote: a real POSIX shell reads any quoted text back unchanged', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'binary' }).filter((s) => !s.includes('\0')), (s) => {
        expect(shellWord(shellQuote(s))).toBe(s);
      }),
      { seed: 20261124, numRuns: 150 },
    );
  });
});
