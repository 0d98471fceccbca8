import type { Client, ClientChannel } from 'ssh2';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  truncated: boolean;
  timedOut: boolean;
}

/** Output a remote command may send before it is cut off: a flooding target cannot exhaust memory. */
export const MAX_REMOTE_BYTES = 256 * 1024;

/** After ssh-doctor closed the channel (cut or timed out), how long the target may take to confirm. */
const CLOSE_GRACE_MS = 2000;

/**
 * Runs one fixed command on the target over an open session, bounded in time and bytes. The
 * command text never contains user input: every command ssh-doctor runs is listed in
 * src/probes/server/commands.ts (and in the README).
 */
export function execBounded(client: Client, command: string, opts: { timeoutMs: number; maxBytes?: number }): Promise<ExecResult> {
  const maxBytes = opts.maxBytes ?? MAX_REMOTE_BYTES;
  return new Promise((resolve, reject) => {
    // a target that never answers the channel request: the same time limit
    let opened = false;
    const openTimer = setTimeout(() => {
      if (!opened) reject(new Error(`no answer to the command's channel request within ${Math.round(opts.timeoutMs / 1000)} s`));
    }, opts.timeoutMs);
    const onOpen = (err: Error | undefined, stream: ClientChannel): void => {
      opened = true;
      clearTimeout(openTimer);
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let truncated = false;
      let timedOut = false;
      let code: number | null = null;
      let done = false;
      let grace: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(grace);
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8'), code, truncated, timedOut });
      };
      // A target that never confirms the close (or keeps sending) cannot hold the probe: the
      // result is taken as it is a moment later.
      const stop = (): void => {
        try {
          stream.close();
        } catch {
          // the connection is gone already
        }
        grace ??= setTimeout(finish, CLOSE_GRACE_MS);
      };
      const take = (chunks: Buffer[], used: number, d: Buffer): number => {
        const room = maxBytes - used;
        if (room <= 0) {
          truncated = true;
          stop();
          return used;
        }
        chunks.push(room >= d.length ? d : d.subarray(0, room));
        if (room < d.length) {
          truncated = true;
          stop();
        }
        return used + Math.min(room, d.length);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, opts.timeoutMs);
      stream.on('data', (d: Buffer) => (outBytes = take(out, outBytes, d)));
      stream.stderr.on('data', (d: Buffer) => (errBytes = take(errs, errBytes, d)));
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('error', () => undefined);
      stream.on('close', finish);
    };
    try {
      client.exec(command, onOpen);
    } catch (e) {
      clearTimeout(openTimer);
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

/** Single-quotes a value for the remote POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
