// Every command ssh-doctor runs on a target, in one place, so users can audit them (the README
// lists them and a test keeps that list true). All are read-only; none takes user input: the
// only values they use are the target's own ($SSH_CONNECTION, id -un, its own config paths).

export interface RemoteCommand {
  id: string;
  why: string;
  /** Commands ending in a space take one argument: a path, shell-quoted, found on the target itself. */
  command: string;
  /** Only run with --sudo (root-only reads, through `sudo -n`, never prompting). */
  sudo?: boolean;
}

// sshd lives in sbin, which a non-root PATH often lacks.
const SBIN = 'PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin"';
// Matches for sshd -T: the connection as sshd sees it, so Match blocks apply as they do to us.
const MATCH_SPEC = 'set -- $SSH_CONNECTION; spec="user=$(id -un),host=$1,addr=$1,laddr=$3,lport=$4"';

export const COMMANDS = {
  sshdProcess: {
    id: 'which sshd config',
    why: 'the command line of the sshd that accepted this session (walking up from the session), for its -f config file',
    command:
      'p=$$; while [ "${p:-1}" -gt 1 ]; do c=$(tr "\\0" " " < /proc/$p/cmdline 2>/dev/null); case "$c" in *sshd*) echo "__sshd=$c";; esac; p=$(sed -n "s/^PPid:[[:space:]]*//p" /proc/$p/status 2>/dev/null); done',
  },
  sshdT: {
    id: 'sshd -T',
    why: 'effective sshd settings for this connection (Match blocks applied); needs root, so it usually fails without --sudo',
    command: `${SBIN}; ${MATCH_SPEC}; sshd -T -C "$spec" -f `,
  },
  sshdTSudo: {
    id: 'sudo -n sshd -T',
    why: 'the same through sudo, only with --sudo (a failed sudo is logged and often mailed to root)',
    command: `${SBIN}; ${MATCH_SPEC}; sudo -n sshd -T -C "$spec" -f `,
    sudo: true,
  },
  readConfig: {
    id: 'cat sshd_config',
    why: 'sshd_config and its Includes when sshd -T is not readable (one cat per file, paths from the config itself)',
    command: 'cat -- ',
  },
  listDir: {
    id: 'ls (Include globs)',
    why: 'expands an Include glob of sshd_config',
    command: 'ls -1a -- ',
  },
  shell: {
    id: 'login shell timeouts',
    why: 'TMOUT as an interactive login shell sees it (and whether it is readonly), tcsh autologout, and the startup file that sets it',
    command: [
      'sh=$(getent passwd "$(id -un)" | cut -d: -f7); sh=${sh:-/bin/sh}; echo "__shell=$sh"',
      'case "${sh##*/}" in',
      '  tcsh|csh) "$sh" -l -c \'if ($?autologout) echo "__autologout=$autologout"\' </dev/null 2>/dev/null ;;',
      '  *) "$sh" -l -i -c \'echo "__tmout=${TMOUT-}"; readonly -p 2>/dev/null | grep -q "TMOUT" && echo "__tmout_readonly=yes"\' </dev/null 2>/dev/null ;;',
      'esac',
      'grep -ls "TMOUT" /etc/profile /etc/profile.d/*.sh /etc/bash.bashrc /etc/bashrc /etc/zshenv /etc/zsh/zshenv /etc/zprofile ~/.bash_profile ~/.bashrc ~/.profile ~/.zshrc 2>/dev/null | sed "s/^/__tmout_file=/"',
    ].join('\n'),
  },
  logind: {
    id: 'systemd-logind settings',
    why: 'systemd version and logind idle settings (StopIdleSessionSec, IdleAction)',
    command:
      'systemctl --version 2>/dev/null | head -n 1; cat /etc/systemd/logind.conf /etc/systemd/logind.conf.d/*.conf /run/systemd/logind.conf.d/*.conf /usr/lib/systemd/logind.conf.d/*.conf 2>/dev/null | grep -E "^[[:space:]]*(StopIdleSessionSec|IdleAction|IdleActionSec)="',
  },
  kernel: {
    id: 'kernel keepalive and conntrack',
    why: 'TCP keepalive timers and the conntrack established timeout of the server',
    command:
      'for f in ipv4/tcp_keepalive_time ipv4/tcp_keepalive_intvl ipv4/tcp_keepalive_probes netfilter/nf_conntrack_tcp_timeout_established; do echo "$f=$(cat /proc/sys/net/$f 2>/dev/null)"; done',
  },
  uptime: {
    id: 'uptime',
    why: 'seconds since boot, for restarts and reboots',
    command: 'cut -d" " -f1 /proc/uptime; date -u +%s',
  },
  watchProbe: {
    id: 'watch: sshd listener and connections',
    why: "this connection as sshd sees it, the server's clock and boot time, the sshd listener above this session (pid, start time, command line) and the established connections to this sshd port: tells a restart, a reboot, or a path that dropped the flow while sshd still holds it",
    command: [
      'set -- $SSH_CONNECTION; echo "__conn=$*"; echo "__now=$(date +%s)"; echo "__btime=$(sed -n "s/^btime //p" /proc/stat 2>/dev/null)"; echo "__clk=$(getconf CLK_TCK 2>/dev/null)"',
      'p=$PPID; l=; while [ "${p:-1}" -gt 1 ]; do case "$(tr "\\0" " " < /proc/$p/cmdline 2>/dev/null)" in sshd*|/*/sshd*) l=$p;; esac; p=$(sed -n "s/^PPid:[[:space:]]*//p" /proc/$p/status 2>/dev/null); done',
      '[ -n "$l" ] && echo "__listener=$l $(sed "s/.*) //" /proc/$l/stat | cut -d" " -f20) $(tr "\\0" " " < /proc/$l/cmdline)"',
      '[ -n "$4" ] && grep -h ":$(printf %04X "$4") [0-9A-F]*:[0-9A-F]* 01 " /proc/net/tcp /proc/net/tcp6 2>/dev/null | sed "s/^/__tcp=/"',
    ].join('\n'),
  },
  sshdLogFile: {
    id: 'watch: sshd -E log',
    why: 'when neither the journal nor auth.log/secure had lines: the end of the file the sshd listener logs to with -E (the path from its own command line)',
    command: 'tail -n 5000 -- ',
  },
  logs: {
    id: 'recent sshd log lines',
    why: 'the last two days of sshd and logind lines about this user or address, plus sshd restarts and OOM kills (at most 2000 lines); the journal if readable, else auth.log or secure',
    command: [
      'set -- $SSH_CONNECTION; addr=$1; user=$(id -un)',
      'pat="($addr|user $user|for $user|of user \\"$user\\"|Received signal|Server listening|Out of memory|oom-kill|MaxStartups|Maxstartups|Timeout before authentication)"',
      'j=$( { journalctl -u ssh -u sshd -u systemd-logind --since "-2d" --no-pager -o short-iso; journalctl -k --since "-2d" --no-pager -o short-iso; } 2>/dev/null | grep -E "$pat" | tail -n 2000)',
      'if [ -n "$j" ]; then printf "%s\\n" "$j"; else for f in /var/log/auth.log /var/log/secure; do [ -r "$f" ] && tail -n 50000 "$f"; done | grep -E "$pat" | tail -n 2000; fi',
    ].join('\n'),
  },
} satisfies Record<string, RemoteCommand>;
