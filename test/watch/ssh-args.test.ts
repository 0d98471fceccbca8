// The user's ssh command line, read as ssh(1) reads it.
import { describe, expect, it } from 'vitest';
import { connectionOptions, parseSshCommand, sessionArgs } from '../../src/watch/ssh-args.js';

describe('watch -- ssh ARGS', () => {
  it('finds options (bundled, attached, after the destination), the destination and the command', () => {
    const c = parseSshCommand(['ssh', '-At', '-p2222', '-i', '/k', 'alice@db1', '-o', 'ServerAliveInterval=0', 'tail', '-f', '/var/log/x']);
    expect(c.destination).toBe('alice@db1');
    expect(c.command).toEqual(['tail', '-f', '/var/log/x']);
    expect(c.options).toEqual([{ flag: 'A' }, { flag: 't' }, { flag: 'p', value: '2222' }, { flag: 'i', value: '/k' }, { flag: 'o', value: 'ServerAliveInterval=0' }]);
    expect(c.verbose).toBe(0);
  });

  it('reconnects with the connection options only: no forwardings, no tty, no agent', () => {
    const c = parseSshCommand(['/usr/bin/ssh', '-L', '8080:localhost:80', '-A', '-tt', '-J', 'bastion', '-F', 'cfg', '-4', 'db1']);
    expect(connectionOptions(c)).toEqual(['-J', 'bastion', '-F', 'cfg', '-4']);
  });

  it('adds -v and -E FILE in front, unless the user logs with -v or -E already', () => {
    expect(sessionArgs(parseSshCommand(['ssh', 'db1']), '/tmp/x.log')).toEqual(['-v', '-E', '/tmp/x.log', 'db1']);
    expect(sessionArgs(parseSshCommand(['ssh', '-vv', 'db1']), '/tmp/x.log')).toEqual(['-E', '/tmp/x.log', '-vv', 'db1']);
    const own = parseSshCommand(['ssh', '-E', 'mine.log', 'db1']);
    expect(own.logFile).toBe('mine.log');
    expect(sessionArgs(own, '/tmp/x.log')).toEqual(['-v', '-E', 'mine.log', 'db1']);
  });

  it('refuses what is not a session to watch, with one clear line', () => {
    expect(() => parseSshCommand([])).toThrow(/give the ssh command/);
    expect(() => parseSshCommand(['scp', 'a', 'b'])).toThrow(/is not ssh/);
    expect(() => parseSshCommand(['ssh', '-p'])).toThrow(/-p needs an argument/);
    expect(() => parseSshCommand(['ssh', '-v'])).toThrow(/no destination/);
    expect(() => parseSshCommand(['ssh', '-f', '-N', 'db1'])).toThrow(/-f goes to the background/);
    expect(() => parseSshCommand(['ssh', '-G', 'db1'])).toThrow(/-G only prints/);
    expect(() => parseSshCommand(['ssh', '-Z', 'db1'])).toThrow(/unknown ssh option -Z/);
  });
});
