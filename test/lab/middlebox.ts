// The middlebox as data: what a scenario wants from the path, turned into one nftables script
// (loaded with `nft -f -` inside the middlebox namespace) plus the route MTU and sysctls that
// netns.ts applies. The kernel here has no netem, so loss and outages are nftables drops.

export const NFT_TABLE = 'sshdoctor_lab';

export interface MiddleboxSpec {
  /**
   * Conntrack forgets an idle SSH flow after this many seconds (a `ct timeout` object with
   * `policy = { established: T }`, assigned to new SSH flows). With nf_conntrack_tcp_loose=0
   * a later packet of that flow is ct state invalid. Unset: the kernel default (5 days).
   */
  idleTimeout?: number;
  /** What a packet of a forgotten flow gets: silently dropped (policy), or a TCP reset. */
  lateReply?: 'drop' | 'reset';
  /** Forwarded packets with these DSCP marks are dropped, e.g. ['af21'] (VMware NAT). */
  dropDscp?: string[];
  /** Random loss of forwarded packets, in percent (`numgen random mod 100 < N`). */
  lossPercent?: number;
  /** Route MTU toward the client (see netns.ts): larger server segments need fragmenting. */
  clientRouteMtu?: number;
  /** Drop the middlebox's own ICMP "fragmentation needed" (an MTU black hole). */
  blockFragNeeded?: boolean;
}

/**
 * The nftables script for a middlebox. Forward policy is drop: established/related flows pass,
 * new flows only as a SYN to the SSH port. An `outage` set (protocols, with timeouts) drops all
 * forwarded traffic while it has elements: outageCommand() adds them and the kernel expires them.
 */
export function nftScript(spec: MiddleboxSpec, sshPort = 22): string {
  const lines: string[] = [`table inet ${NFT_TABLE} {`];
  lines.push('  set outage {', '    type inet_proto;', '    flags timeout;', '  }');
  if (spec.idleTimeout !== undefined) {
    lines.push(
      '  ct timeout ssh_idle {',
      '    protocol tcp;',
      '    l3proto ip;',
      `    policy = { established: ${spec.idleTimeout} };`,
      '  }',
    );
  }
  lines.push('  chain forward {', '    type filter hook forward priority filter; policy drop;');
  lines.push('    meta l4proto @outage counter drop');
  if (spec.lossPercent) lines.push(`    numgen random mod 100 < ${spec.lossPercent} counter drop`);
  if (spec.dropDscp?.length) lines.push(`    ip dscp { ${spec.dropDscp.join(', ')} } counter drop`);
  lines.push('    ct state established,related accept');
  if (spec.lateReply === 'reset') lines.push('    meta l4proto tcp ct state invalid counter reject with tcp reset');
  const timeout = spec.idleTimeout !== undefined ? ' ct timeout set "ssh_idle"' : '';
  lines.push(`    tcp dport ${sshPort} tcp flags & (fin | syn | rst | ack) == syn ct state new${timeout} accept`);
  lines.push('    counter comment "late or unexpected packets: dropped silently"');
  lines.push('  }');
  lines.push('  chain output {', '    type filter hook output priority filter; policy accept;');
  if (spec.blockFragNeeded) lines.push('    icmp type destination-unreachable icmp code frag-needed counter drop');
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}

/** sysctls for the middlebox namespace: strict conntrack when flows are meant to be forgotten. */
export function middleboxSysctls(spec: MiddleboxSpec): Record<string, number> {
  return spec.idleTimeout !== undefined ? { 'net.netfilter.nf_conntrack_tcp_loose': 0 } : {};
}

/** The nft command that starts an outage: every forwarded packet dropped for `seconds`. */
export function outageCommand(seconds: number): string[] {
  const t = `${Math.max(1, Math.round(seconds * 1000))}ms`;
  return ['nft', 'add', 'element', 'inet', NFT_TABLE, 'outage', `{ tcp timeout ${t}, udp timeout ${t}, icmp timeout ${t} }`];
}
