import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

// A realistic mix for an internet-facing host: scanner noise dominates, real sessions are rare,
// and one drop is buried in it. Texts are OpenSSH's (MESSAGES.md) with documentation addresses.
const TEMPLATES = [
  (i: number) => `sshd[${1000 + (i % 50000)}]: Invalid user admin from 203.0.113.${i % 250} port ${20000 + (i % 40000)}`,
  (i: number) => `sshd[${1000 + (i % 50000)}]: Connection closed by invalid user admin 203.0.113.${i % 250} port ${20000 + (i % 40000)} [preauth]`,
  (i: number) => `sshd[${1000 + (i % 50000)}]: Failed password for root from 198.51.100.${i % 250} port ${20000 + (i % 40000)} ssh2`,
  (i: number) => `CRON[${2000 + (i % 9000)}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
  (i: number) => `sshd[${1000 + (i % 50000)}]: Accepted publickey for alice from 192.0.2.${i % 250} port ${20000 + (i % 40000)} ssh2: ED25519 SHA256:q0ZqUJ7vV1p5yQ`,
  (i: number) => `sshd[${1000 + (i % 50000)}]: Received disconnect from 192.0.2.${i % 250} port ${20000 + (i % 40000)}:11: disconnected by user`,
  (i: number) => `systemd-logind[612]: New session ${i} of user alice.`,
  () => `sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`,
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov'];

/** Writes `lines` syslog lines to `path`, streaming (the generator itself stays small). */
export async function writeAuthLog(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < lines; i++) {
    const month = MONTHS[Math.floor((i / lines) * MONTHS.length)];
    const sec = i % 86400;
    const time = `${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    const msg = i === Math.floor(lines / 2) ? `sshd[4242]: Timeout, client not responding from user alice 192.0.2.7 port 51234` : TEMPLATES[i % TEMPLATES.length]!(i);
    buf += `${month} ${String(1 + (i % 28)).padStart(2, ' ')} ${time} web1 ${msg}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}
