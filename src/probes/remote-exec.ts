import type { Client } from 'ssh2';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  truncated: boolean;
  timedOut: boolean;
}

/** Output a remote command may send before it is cut off: a flooding target cannot exhaust memory. */
export const MAX_REMOTE_BYTES = 256 * 1024;

/**
 * Runs one fixed command on the target over an open session, bounded in time and bytes. The
 * command text never contains user input: every command ssh-doctor runs is listed in
 * src/probes/server/commands.ts (and in the README).
 */
export function execBounded(client: Client, command: string, opts: { timeoutMs: number; maxBytes?: number }): Promise<ExecResult> {
  const maxBytes = opts.maxBytes ?? MAX_REMOTE_BYTES;
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let truncated = false;
      let timedOut = false;
      let code: number | null = null;
      const take = (chunks: Buffer[], used: number, d: Buffer): number => {
        const room = maxBytes - used;
        if (room <= 0) {
          truncated = true;
          stream.close();
          return used;
        }
        chunks.push(room >= d.length ? d : d.subarray(0, room));
        if (room < d.length) {
          truncated = true;
          stream.close();
        }
        return used + Math.min(room, d.length);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stream.close();
      }, opts.timeoutMs);
      stream.on('data', (d: Buffer) => (outBytes = take(out, outBytes, d)));
      stream.stderr.on('data', (d: Buffer) => (errBytes = take(errs, errBytes, d)));
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8'), code, truncated, timedOut });
      });
    });
  });
}

/** Single-quotes a value for the remote POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
