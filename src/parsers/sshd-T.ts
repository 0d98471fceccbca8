// `sshd -T` output (servconf.c dump_config): one `keyword value` per line, times in seconds.
// Keywords are lowercase up to OpenSSH 10.3; 10.4 prints the table-driven ones in mixed case
// (`ClientAliveInterval 0`) and 10.5 all of them (`MaxStartups 10:30:100`): keys are lowercased.
// Note: without `-C user=,host=,addr=` sshd -T ignores Match blocks, so there are no conditionals.

import type { ConfigEvidence } from '../evidence/types.js';
import { scrubOption } from '../evidence/secrets.js';
import { parseDump, toRecord, type ParseStats } from './config-syntax.js';

export type { ParseStats } from './config-syntax.js';

/** Parses saved `sshd -T` output; repeated keywords (port, hostkey, listenaddress...) are joined by a space. */
export function parseSshdT(text: string): { config: ConfigEvidence; stats: ParseStats } {
  const { options, stats } = parseDump(text, scrubOption);
  return { config: { source: 'sshd -T', options: toRecord(options), conditional: [] }, stats };
}
