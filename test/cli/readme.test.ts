import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LARGE_TRANSFER_COMMAND } from '../../src/probes/network.js';
import { COMMANDS } from '../../src/probes/server/commands.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

// Users audit what ssh-doctor runs on their hosts from the README: it must list every command.
describe('README lists every command run on a target', () => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  it.each(Object.values(COMMANDS).map((c) => [c.id, c.command]))('%s', (_id, command) => {
    expect(readme).toContain(command.trimEnd());
  });
  it('large transfer', () => expect(readme).toContain(`${LARGE_TRANSFER_COMMAND}BYTES /dev/zero`));
});
