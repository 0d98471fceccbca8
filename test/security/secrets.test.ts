// No secret in a report, a saved bundle or the debug log (-v), on the live path: a target that
// takes only a password (given through a stubbed prompt, as a user types it), an identity file
// the target refuses, an encrypted key whose passphrase ssh-doctor never asks for, and an agent
// holding another private key. The run authenticates with the password; then the JSON and
// Markdown reports (redacted or not), the bundle and every debug line are searched for the
// password, the passphrase and any line of the private keys.
// (test/cli/explain.test.ts covers secrets in pasted logs and configs.)

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runDiagnose } from '../../src/cli/diagnose.js';
import type { IdleArgs, TargetArgs } from '../../src/cli/options.js';
import { FakeAgent, keyPair, tempDir, type KeyPair } from '../probes/server.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

const PASSWORD = 'hunter2-Secr3t-pw';
const PASSPHRASE = 'correct horse battery staple';

const tmp = tempDir();
let host: KeyPair;
let refused: KeyPair;
let encrypted: KeyPair;
let agentKey: KeyPair;
let server: HostileServer;

beforeAll(async () => {
  host = keyPair('ed25519');
  refused = keyPair('ed25519');
  encrypted = keyPair('ed25519', { passphrase: PASSPHRASE });
  agentKey = keyPair('ed25519');
  server = await startHostileServer({ hostKey: host.private, password: PASSWORD, exec: () => ({ stdout: '' }) });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

/** Lines of key material (base64 bodies), each long enough to be unmistakable. */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 20 && !l.startsWith('-----'));
}

async function diagnoseCapturingStderr(args: Partial<TargetArgs & IdleArgs>, prompt: () => Promise<string | null>): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return typeof rest[rest.length - 1] === 'function' ? write('', rest[rest.length - 1] as () => void) : true;
  }) as typeof process.stderr.write);
  try {
    const full: TargetArgs & IdleArgs = {
      host: 'alice@127.0.0.1',
      port: server.port,
      identity: [tmp.write('id_refused', refused.private), tmp.write('id_encrypted', encrypted.private)],
      config: tmp.write('ssh_config', '# nothing\n'),
      knownHosts: tmp.write('known_hosts', `[127.0.0.1]:${server.port} ${host.public}\n`),
      sudo: false,
      idleMax: 0,
      verify: false,
      input: false,
      format: 'json',
      json: false,
      redact: false,
      verbose: true,
      ...args,
    };
    const code = await runDiagnose(full, { connect: { passwordPrompt: prompt, agent: new FakeAgent([agentKey.private]), interactive: false } });
    return { code, stderr: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('secrets on the live path', () => {
  it('the password, passphrase and key material reach no report, bundle or debug line', async () => {
    const prompt = vi.fn(async () => PASSWORD);
    const report = tmp.dir + '/report.json';
    const bundle = tmp.dir + '/bundle.json';
    const a = await diagnoseCapturingStderr({ output: report, saveEvidence: bundle }, prompt);
    const md = tmp.dir + '/report.md';
    const redactedBundle = tmp.dir + '/bundle-redacted.json';
    const b = await diagnoseCapturingStderr({ output: md, format: 'markdown', redact: true, saveEvidence: redactedBundle }, prompt);

    // the password path really ran, with the debug log on
    expect(prompt).toHaveBeenCalledTimes(2); // once per run
    expect(server.users.length).toBeGreaterThan(0);
    const json = JSON.parse(readFileSync(report, 'utf8')) as { probes: Array<{ id: string; status: string }> };
    expect(json.probes.find((p) => p.id === 'handshake')?.status).toBe('ok');
    expect([a.code, b.code].every((c) => c === 0 || c === 1)).toBe(true);
    expect(a.stderr).toMatch(/debug: auth: trying password/);
    expect(a.stderr).toMatch(/debug: ssh2: /);

    const secrets = [PASSWORD, PASSPHRASE, ...keyLines(refused.private), ...keyLines(encrypted.private), ...keyLines(agentKey.private)];
    const outputs: Record<string, string> = {
      'debug log (-v), JSON run': a.stderr,
      'debug log (-v), Markdown run': b.stderr,
      'JSON report': readFileSync(report, 'utf8'),
      'Markdown report (--redact)': readFileSync(md, 'utf8'),
      bundle: readFileSync(bundle, 'utf8'),
      'bundle (--redact)': readFileSync(redactedBundle, 'utf8'),
    };
    for (const [what, text] of Object.entries(outputs)) {
      expect(text.length, what).toBeGreaterThan(0);
      for (const s of secrets) expect(text.includes(s), `${what} holds a secret (${s.slice(0, 6)}...)`).toBe(false);
    }
  });
});
