import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../demo/start.js';
import { runDiagnose } from './diagnose.js';
import type { DemoArgs } from './options.js';

/**
 * `ssh-doctor demo`: an ssh2 server on 127.0.0.1 behind an embedded NAT-like middlebox that
 * forgets idle flows, diagnosed by exactly the path a real host takes (`ssh-doctor <host>`).
 * No root, no network, no config: throwaway keys in a temp dir that is removed afterwards.
 */
export async function runDemo(args: DemoArgs): Promise<number> {
  const demo = await startDemo({ idleTimeoutSeconds: args.demoTimeout, mode: args.reset ? 'reset' : 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'ssh-doctor-demo-'));
  try {
    const key = join(dir, 'id_ed25519');
    writeFileSync(key, demo.privateKey, { mode: 0o600 });
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${demo.knownHostsLine}\n`);
    // An empty ssh_config: the user's own ~/.ssh/config has no say over the demo target.
    const config = join(dir, 'ssh_config');
    writeFileSync(config, '# ssh-doctor demo: no settings\n');
    if (process.stderr.isTTY && args.format !== 'json' && !args.json) {
      process.stderr.write(
        `Demo: an SSH server on 127.0.0.1:${demo.serverPort} behind a NAT-like middlebox on 127.0.0.1:${demo.port} that silently ` +
          `forgets flows idle for ${args.demoTimeout} s${args.reset ? ' (and answers late packets with a reset)' : ''}. Diagnosing it as a real host:\n`,
      );
    }
    return await runDiagnose({
      ...args,
      host: `${demo.user}@${demo.host}`,
      port: demo.port,
      identity: [key],
      config,
      knownHosts,
      sudo: false,
    }, { serverProbes: false });
  } finally {
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
