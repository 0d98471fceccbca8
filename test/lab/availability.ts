// Can the lab run here? Root, `ip` (with netns), `nft`, /usr/sbin/sshd and `ssh`.
// SSH_DOCTOR_LAB=require turns "cannot run" into a failure instead of a skip.

import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SSHD } from './sshd.js';

export type Availability = { ok: true } | { ok: false; why: string };

function onPath(cmd: string): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Effective capabilities (CapEff in /proc/self/status), or null when unreadable. */
function effectiveCaps(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

export function labAvailability(): Availability {
  if (process.platform !== 'linux') return { ok: false, why: `needs Linux network namespaces (this is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, why: 'needs root (network namespaces, nftables, sshd)' };
  const caps = effectiveCaps();
  if (caps !== null && (((caps >> CAP_NET_ADMIN) & 1n) === 0n || ((caps >> CAP_SYS_ADMIN) & 1n) === 0n)) {
    return { ok: false, why: 'root without CAP_NET_ADMIN/CAP_SYS_ADMIN (a container?): no network namespaces' };
  }
  const missing = ['ip', 'nft', 'ssh', 'useradd'].filter((c) => !onPath(c));
  try {
    accessSync(SSHD, constants.X_OK);
  } catch {
    missing.push(SSHD);
  }
  if (missing.length) return { ok: false, why: `missing ${missing.join(', ')} (apt-get install iproute2 nftables openssh-server openssh-client)` };
  return { ok: true };
}

/** True when SSH_DOCTOR_LAB=require: an unavailable lab must fail the tests, not skip them. */
export function labRequired(): boolean {
  return process.env.SSH_DOCTOR_LAB === 'require';
}
