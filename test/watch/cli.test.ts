// `ssh-doctor watch` usage: bad usage is exit 2 with one line, before anything connects.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { wrappedWords } from '../../src/cli/watch.js';
import { CLI as WATCH_CLI } from '../cli/run-cli.js';

function watch(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WATCH_CLI, 'watch', ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8', input: '', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('watch usage', () => {
  it.each([
    [[], /needs a host .* or your ssh command after --/],
    [['db1', '--', 'ssh', 'db1'], /either a host .* not both/],
    [['--', 'scp', 'a', 'b:'], /"scp" is not ssh/],
    [['--', 'ssh'], /no destination/],
    [['--', 'ssh', '-f', '-N', 'db1'], /-f goes to the background/],
    [['-p', '2222', '--', 'ssh', 'db1'], /give ssh's own options after --: --port/],
    [['db1', '--count', '0'], /invalid --count: 0/],
    [['db1', '--duration', 'soon'], /invalid --duration: soon/],
    [['db1', '--interval', '0'], /invalid --interval/],
    [['db1', '--interval', '10', '--silence', '15'], /--silence 15 must be at least twice --interval/],
    [['--count', '2', '--', 'ssh', 'db1'], /--count and --duration are for watch <host>/],
    [['db1', '--transcript', 'x.log'], /--transcript is for watch -- ssh/],
    [['db1', 'extra'], /(unexpected|Unknown) argument:? "?extra/i],
  ] as Array<[string[], RegExp]>)('%j: exit 2', (args, message) => {
    const r = watch(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('nothing listens on the port: exit 3 with the cause, no stack trace', async () => {
    // a loopback port that was free a moment ago: the connection is refused, nothing leaves the host
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const r = watch(['nobody@127.0.0.1', '-p', String(port), '-F', '/dev/null', '--json', '--duration', '20']);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as { causes: Array<{ id: string }> };
    expect(report.causes[0]?.id).toBe('connect-refused-or-filtered');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('takes the ssh command exactly as typed, numbers included', () => {
    expect(wrappedWords({ _: ['watch', 'ssh', '-p', 22, 'db1'] }, ['node', 'cli', 'watch', '--', 'ssh', '-p', '0022', 'db1'])).toEqual(['ssh', '-p', '0022', 'db1']);
    expect(wrappedWords({ _: ['watch'] }, ['node', 'cli', 'watch', 'db1'])).toBeNull();
  });
});
