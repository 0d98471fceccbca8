import type { Client } from 'ssh2';

const SIZES = [4 * 1024, 64 * 1024, 1024 * 1024];

/** The one remote command of this probe (listed with the others in the README). */
export const LARGE_TRANSFER_COMMAND = 'head -c ';

/**
 * Receives `bytes` zero bytes from the target; resolves how many arrived before `stallMs` of
 * silence. A command that ends before sending them all (no `head` there, a ForceCommand, a
 * restricted shell) is not a stall: that rejects, so it is never read as an MTU black hole.
 */
function receive(client: Client, bytes: number, stallMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const command = `${LARGE_TRANSFER_COMMAND}${bytes} /dev/zero`;
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let got = 0;
      let finished = false;
      let exit: number | null = null;
      let timer = setTimeout(done, stallMs);
      function done() {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        stream.removeAllListeners('data');
        stream.close();
        resolve(got);
      }
      stream.on('data', (d: Buffer) => {
        got += d.length;
        clearTimeout(timer);
        if (got >= bytes) return done();
        timer = setTimeout(done, stallMs);
      });
      stream.stderr.resume();
      stream.on('exit', (code: number | null) => (exit = code));
      stream.on('close', () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (got >= bytes) resolve(got);
        else reject(new Error(`\`${command}\` ended after ${got} bytes${exit !== null ? ` (exit status ${exit})` : ''}: the target did not run it as a shell would, so nothing is concluded about large transfers`));
      });
    });
  });
}

/**
 * Small exchanges work but large ones vanish: the MTU black hole's signature. Asks for growing
 * amounts of output; the first size that stalls (no byte for `stallMs`) while a smaller one
 * arrived whole is reported.
 */
export async function largeTransfer(client: Client, stallMs = 5000): Promise<{ okBytes: number; stalledBytes: number | null }> {
  let okBytes = 0;
  for (const size of SIZES) {
    const got = await receive(client, size, stallMs);
    if (got < size) return { okBytes, stalledBytes: size };
    okBytes = size;
  }
  return { okBytes, stalledBytes: null };
}
