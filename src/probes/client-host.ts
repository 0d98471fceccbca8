import { readFile } from 'node:fs/promises';
import type { KernelKeepalive } from '../evidence/types.js';

const FILES: Array<[keyof KernelKeepalive, string]> = [
  ['tcpKeepaliveTime', '/proc/sys/net/ipv4/tcp_keepalive_time'],
  ['tcpKeepaliveIntvl', '/proc/sys/net/ipv4/tcp_keepalive_intvl'],
  ['tcpKeepaliveProbes', '/proc/sys/net/ipv4/tcp_keepalive_probes'],
  ['conntrackEstablishedTimeout', '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established'],
];

/** The client's own kernel keepalive and conntrack settings (Linux; elsewhere nothing is known). */
export async function readClientKernel(): Promise<KernelKeepalive> {
  const out: KernelKeepalive = {};
  for (const [key, file] of FILES) {
    try {
      const v = Number((await readFile(file, 'utf8')).trim());
      if (Number.isFinite(v)) out[key] = v;
    } catch {
      // not Linux, or conntrack not loaded: unknown, not an error
    }
  }
  return out;
}
