import { describe, expect, it } from 'vitest';
import { parseKernelProbe, parseLogindProbe, parseShellProbe, sshdConfigPath } from '../../src/probes/server/read.js';

describe('server read parsers', () => {
  it('finds the -f config of the sshd that accepted the session', () => {
    expect(sshdConfigPath('__sshd=sshd: alice [priv] \n__sshd=/usr/sbin/sshd -D -f /tmp/lab/sshd_config -E /tmp/lab/log \n')).toBe('/tmp/lab/sshd_config');
    expect(sshdConfigPath('__sshd=sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\n')).toBe('/etc/ssh/sshd_config');
  });

  it('reads TMOUT, readonly and the files that set it, ignoring login noise', () => {
    const out = 'Welcome to Ubuntu\n__shell=/bin/bash\n__tmout=900\n__tmout_readonly=yes\n__tmout_file=/etc/profile.d/tmout.sh\n';
    expect(parseShellProbe(out)).toEqual({ tmout: 900, tmoutReadonly: true, shell: '/bin/bash', origin: '/etc/profile.d/tmout.sh' });
    expect(parseShellProbe('__shell=/bin/bash\n__tmout=\n').tmout).toBeNull();
    expect(parseShellProbe('__shell=/bin/tcsh\n__autologout=60\n')).toMatchObject({ tmout: null, autologout: 60 });
  });

  it('reads logind idle settings, drop-ins overriding', () => {
    const out = 'systemd 252 (252.22-1~deb12u1)\nStopIdleSessionSec=infinity\nStopIdleSessionSec=15min\nIdleAction=lock\n';
    expect(parseLogindProbe(out)).toEqual({ systemdVersion: 252, stopIdleSessionSec: 900, idleAction: 'lock' });
  });

  it('reads the kernel keepalive settings, unknown ones left out', () => {
    const out = 'ipv4/tcp_keepalive_time=7200\nipv4/tcp_keepalive_intvl=75\nipv4/tcp_keepalive_probes=9\nnetfilter/nf_conntrack_tcp_timeout_established=\n';
    expect(parseKernelProbe(out)).toEqual({ tcpKeepaliveTime: 7200, tcpKeepaliveIntvl: 75, tcpKeepaliveProbes: 9 });
  });
});
