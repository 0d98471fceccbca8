// `ssh -G host` output (readconf.c dump_client_config): one `keyword value` per line, keywords
// always lowercase, times already in seconds, every option present (defaults included).

import type { ConfigEvidence } from '../evidence/types.js';
import { scrubOption } from '../evidence/secrets.js';
import { parseDump, toRecord, type ParseStats } from './config-syntax.js';

export type { ParseStats } from './config-syntax.js';

/**
 * Parses saved `ssh -G` output. Repeated keywords (identityfile, localforward, sendenv...) are
 * joined by one space in order; `host` is taken from the `host` line (ssh 8.x+ prints it).
 * Lines that are not `keyword value` (prompts, warnings, junk) are counted as unparsed.
 */
export function parseSshG(text: string): { config: ConfigEvidence; stats: ParseStats } {
  const { options, stats } = parseDump(text, scrubOption);
  const config: ConfigEvidence = { source: 'ssh -G', options: toRecord(options), conditional: [] };
  const host = options.get('host');
  if (host !== undefined) config.host = host;
  return { config, stats };
}
