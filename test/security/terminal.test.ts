// The target's own text never drives the user's terminal: a server whose identification line,
// command output and errors carry escape sequences (retitle the window, clear the screen, move
// the cursor, a bare CR that overwrites a line) is diagnosed; the table report, the Markdown
// report and the -v debug lines show those bytes as `\xNN` and hold no raw control character
// but newline and tab. (JSON escapes them by itself.)

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { keyPair, tempDir, type KeyPair } from '../probes/server.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

const ESC = '\u001b]0;owned\u0007\u001b[2J\u001b[1A';
const tmp = tempDir();
let host: KeyPair;
let user: KeyPair;
let server: HostileServer;

beforeAll(async () => {
  host = keyPair('ed25519');
  user = keyPair('ed25519');
  server = await startHostileServer({
    hostKey: host.private,
    allowKeys: [user.parsed],
    ident: `OpenSSH_9.6${ESC}`,
    exec: (command) => (command.startsWith('PATH=') ? { stdout: `fake\r${ESC}sshd: not root\n`, code: 1 } : { stdout: '' }),
  });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: tmp.dir, NO_COLOR: '1', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('terminal safety', () => {
  it("the target's escape sequences reach no report or debug line raw", async () => {
    const base = [
      'alice@127.0.0.1', '-p', String(server.port), '-i', tmp.write('id', user.private), '-F', tmp.write('cfg', '# nothing\n'),
      '--known-hosts', tmp.write('kh', `[127.0.0.1]:${server.port} ${host.public}\n`), '--idle-max', '0',
    ];
    for (const format of ['table', 'markdown']) {
      const r = await cli([...base, '--format', format, '-v']);
      expect([0, 1]).toContain(r.code);
      // the ident and the command's error are in the report, made visible
      expect(r.stdout).toMatch(/OpenSSH_9\.6\\x1b\]0;owned\\x07/i);
      expect(r.stdout).toMatch(/fake\\x1b\]0;owned/);
      // (and a target where `head -c` prints nothing is not an MTU black hole: the probe fails instead)
      expect(r.stdout).not.toMatch(/mtu-blackhole/);
      expect(r.stdout).toMatch(/large-transfer.*ended after 0 bytes/);
      expect(r.stdout, `${format} report`).not.toMatch(RAW_CONTROL);
      expect(r.stderr, `${format} -v debug`).toMatch(/debug: /);
      expect(r.stderr, `${format} -v debug`).not.toMatch(RAW_CONTROL);
    }
    // JSON keeps the target's text as it came (escaped by JSON itself)
    const j = await cli([...base, '--json']);
    expect(JSON.parse(j.stdout).errors.join('\n')).toContain(`fake\r${ESC}sshd: not root`);
  });
});
