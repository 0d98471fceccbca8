// Static promises, checked on the source itself (src/**/*.ts), so that a change that breaks one
// fails here even before any behaviour test notices:
// - host keys are always verified: no ssh2 connection without a hostVerifier, no verifier that
//   returns true unconditionally, no ssh option that turns checking off;
// - no code is built at run time: no eval, new Function, vm, computed import() or require();
// - local commands never go through a shell: child_process only as spawn/execFile with argv
//   arrays, never exec/execSync, never `shell: true`; the one exception is ProxyCommand, which is
//   the user's own config and runs exactly as ssh(1) runs it ($SHELL -c "exec ...");
// - remote commands: only remote-exec.ts (the bounded runner) and network.ts (the documented
//   `head -c BYTES /dev/zero`) call exec on an SSH connection, and every caller of the bounded
//   runner passes the fixed commands of src/probes/server/commands.ts.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

const SRC = join(PACKAGE_ROOT, 'src');

function sources(dir = SRC): Array<{ file: string; text: string; code: string }> {
  const out: Array<{ file: string; text: string; code: string }> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) {
      const text = readFileSync(p, 'utf8');
      out.push({ file: relative(PACKAGE_ROOT, p), text, code: stripComments(text) });
    }
  }
  return out;
}

/** The source without comments (strings are kept: commands and options live there). */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let quote: string | null = null;
  while (i < text.length) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === quote) quote = null;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    out += c;
    i++;
  }
  return out;
}

/** Every match of `re` in the code, as "file:line: text". */
function hits(files: ReturnType<typeof sources>, re: RegExp): string[] {
  const out: string[] = [];
  for (const f of files) {
    const lines = f.code.split('\n');
    lines.forEach((l, i) => {
      if (new RegExp(re.source, re.flags.replace('g', '')).test(l)) out.push(`${f.file}:${i + 1}: ${l.trim()}`);
    });
  }
  return out;
}

/** The text of the balanced {...} block that starts at or after `from`. */
function block(text: string, from: number): string {
  const start = text.indexOf('{', from);
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return text.slice(start);
}

const FILES = sources();

describe('host keys are always verified', () => {
  it('every file that makes an ssh2 client connection gives it a hostVerifier', () => {
    const connecting = FILES.filter((f) => /new\s+(?:ssh2\.)?Client\s*\(/.test(f.code));
    expect(connecting.length).toBeGreaterThan(0);
    for (const f of connecting) expect(f.code, `${f.file} creates an ssh2 Client`).toMatch(/hostVerifier/);
  });

  it('no hostVerifier returns true unconditionally', () => {
    const constant = [
      /hostVerifier\s*[:=]\s*(?:async\s*)?\([^)]*\)\s*(?::\s*\w+\s*)?=>\s*(?:true|!0|1)\s*[,;}\n]/,
      /hostVerifier\s*[:=]\s*(?:async\s*)?function\s*\w*\([^)]*\)\s*(?::\s*\w+\s*)?\{\s*return\s+(?:true|!0|1)\s*;?\s*\}/,
      /hostVerifier\s*[:=]\s*(?:true|\(\)\s*=>\s*\{\s*return\s+true)/,
    ];
    for (const re of constant) expect(hits(FILES, re)).toEqual([]);
    // the live path's verifier: `true` only for a key known_hosts lists, or the one --accept-host-key fingerprint
    const connect = FILES.find((f) => f.file === join('src', 'probes', 'connect.ts'))!;
    const body = block(connect.code, connect.code.indexOf('const hostVerifier'));
    const trues = body.split('\n').flatMap((l, i, all) => (/return\s+true\b/.test(l) ? [all.slice(Math.max(0, i - 3), i).join('\n')] : []));
    expect(trues).toHaveLength(2);
    expect(trues[0]).toMatch(/case 'verified'/);
    expect(trues[1]).toMatch(/case 'accepted'/);
    // and the demo's verifier compares with its own host key's fingerprint
    const demo = FILES.find((f) => f.file === join('src', 'demo', 'start.ts'))!;
    expect(demo.code).toMatch(/hostVerifier:\s*\(key: Buffer\)\s*=>\s*fingerprintOf\(key\)\s*===\s*hostKeyFingerprint/);
  });

  it("the user's own ssh (user-ssh probe) checks host keys strictly and never writes known_hosts, whatever the user's config", () => {
    const user = FILES.find((f) => f.file === join('src', 'probes', 'user-ssh.ts'))!;
    expect(user.code).toMatch(/'-o', 'StrictHostKeyChecking=yes'/);
    expect(user.code).toMatch(/'-o', 'UpdateHostKeys=no'/);
    expect(user.code).toMatch(/'-o', 'BatchMode=yes'/);
  });

  it('no ssh option or library setting that turns host key checking off', () => {
    expect(hits(FILES, /StrictHostKeyChecking\s*[= ]\s*(?:no|off|accept-new|false)/i)).toEqual([]);
    expect(hits(FILES, /UserKnownHostsFile\s*[= ]\s*\/dev\/null/i)).toEqual([]);
    expect(hits(FILES, /CheckHostIP\s*[= ]\s*no|VerifyHostKeyDNS\s*[= ]\s*yes/i)).toEqual([]);
    // --accept-host-key takes one fingerprint: there is no "accept any key" option
    expect(hits(FILES, /accept-any|insecure|no-host-key|skip-host-key|--no-verify/i)).toEqual([]);
  });
});

describe('no code is built or loaded at run time', () => {
  it('no eval, new Function, vm or setTimeout with a string', () => {
    expect(hits(FILES, /(?<![\w.])eval\s*\(|new\s+Function\s*\(|\bFunction\s*\(\s*['"`]|from\s+['"](?:node:)?vm['"]|setTimeout\s*\(\s*['"`]/)).toEqual([]);
  });
  it('import() and require() only with literal paths (a rule folder cannot name code to load)', () => {
    expect(hits(FILES, /\bimport\s*\(\s*(?!['"][^'"]+['"]\s*\))/)).toEqual([]);
    expect(hits(FILES, /(?<!createRequire\(import\.meta\.url\))\brequire\s*\(/)).toEqual([]);
    // createRequire only to read a package's own package.json, by a literal name
    for (const l of hits(FILES, /createRequire\s*\(/)) expect(l, l).toMatch(/createRequire\(import\.meta\.url\)\('[\w@/.-]+\/package\.json'\)|import \{ createRequire \}/);
  });
});

describe('local commands never go through a shell', () => {
  it('child_process only as spawn/execFile (argv arrays), never exec/execSync, never shell: true', () => {
    expect(hits(FILES, /\bshell\s*:\s*true\b/)).toEqual([]);
    for (const l of hits(FILES, /\b(?:spawn|execFile|spawnSync|execFileSync)\s*\(.*\bshell\s*:/)) expect(l, l).toMatch(/\bshell\s*:\s*false\b/);
    const imports = hits(FILES, /from\s+['"](?:node:)?child_process['"]/);
    for (const line of imports) {
      const names = /import\s*\{([^}]*)\}/.exec(line)?.[1] ?? '';
      for (const n of names.split(',').map((s) => s.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!)) {
        if (n === '') continue;
        expect(['spawn', 'execFile', 'spawnSync', 'execFileSync', 'ChildProcess', 'SpawnOptions'], `${line}`).toContain(n);
      }
    }
    expect(hits(FILES, /import\s+\*\s+as\s+\w+\s+from\s+['"](?:node:)?child_process['"]|import\s+\w+\s+from\s+['"](?:node:)?child_process['"]/)).toEqual([]);
  });

  it('what is spawned: ssh, or (ProxyCommand only, as ssh itself does) the user\'s shell running the user\'s own command', () => {
    const spawns = hits(FILES, /\b(?:spawn|execFile|spawnSync|execFileSync)\s*\(/).filter((l) => !/import|function /.test(l));
    expect(spawns.length).toBeGreaterThan(0);
    for (const s of spawns) {
      const ok =
        /\(\s*'ssh'\s*,/.test(s) || // the user's own ssh, ssh -G
        /proxy\.ts:.*spawn\(spec\.file, spec\.args/.test(s) || // ProxyJump: 'ssh'; ProxyCommand: $SHELL -c "exec <the user's ProxyCommand>"
        /src[\\/]watch[\\/]wrap\.ts:/.test(s); // watch -- ssh ARGS: the user's own ssh command line, as typed (argv)
      expect(ok, s).toBe(true);
    }
    const proxy = FILES.find((f) => f.file === join('src', 'probes', 'proxy.ts'))!;
    expect(proxy.code).toMatch(/kind: 'jump', file: 'ssh'/);
    expect(proxy.code).toMatch(/kind: 'command', file: shell, args: \['-c', `exec \$\{command\}`\]/);
  });

  it('ssh is always given `--` before the host, so a host can never be read as an option', () => {
    const target = FILES.find((f) => f.file === join('src', 'probes', 'target.ts'))!;
    expect(target.code).toMatch(/args\.push\('--', host\)/);
    const user = FILES.find((f) => f.file === join('src', 'probes', 'user-ssh.ts'))!;
    expect(user.code).toMatch(/'--', spec\.target, 'exit'/);
    const proxy = FILES.find((f) => f.file === join('src', 'probes', 'proxy.ts'))!;
    expect(proxy.code).toMatch(/'-W', forwardTarget\(t\.hostname, t\.port\), '--', last\.host/);
  });
});

describe('remote commands', () => {
  it('only the bounded runner and the documented large-transfer probe exec anything on a target', () => {
    const execs = hits(FILES, /\b(?:client|conn|connection|ssh|c)\s*\.\s*exec\s*\(/);
    expect(execs.map((l) => l.split(':')[0])).toEqual([join('src', 'probes', 'network.ts'), join('src', 'probes', 'remote-exec.ts')].sort().filter((f) => execs.some((l) => l.startsWith(f))));
    expect(execs.length).toBe(2);
    // the large-transfer probe runs exactly the documented command, with a number in it
    const network = FILES.find((f) => f.file === join('src', 'probes', 'network.ts'))!;
    expect(network.code).toMatch(/const command = `\$\{LARGE_TRANSFER_COMMAND\}\$\{bytes\} \/dev\/zero`;\s*client\.exec\(command,/);
    // nothing else opens a shell or a subsystem on the target but the shell-idle check (pty, no input sent)
    const shells = hits(FILES, /\.\s*(?:shell|subsys|sftp)\s*\(/);
    for (const s of shells) expect(s, s).toMatch(/src[\\/]probes[\\/]idle[\\/]connection\.ts/);
  });

  it('every file that runs commands on a target takes them from commands.ts', () => {
    const runners = FILES.filter((f) => /\bexecBounded\s*\(|\brunner\s*\(\s*\w+(?:\.client)?\s*\)/.test(f.code) && !f.file.endsWith('remote-exec.ts'));
    expect(runners.length).toBeGreaterThan(0);
    for (const f of runners) expect(f.code, `${f.file} runs commands on the target`).toMatch(/\bCOMMANDS\.\w+\.command\b|\bCOMMANDS\b/);
    // the commands that take a path end in a space and get it shell-quoted, never pasted in
    const read = FILES.find((f) => f.file === join('src', 'probes', 'server', 'read.ts'))!;
    for (const m of read.code.matchAll(/run\((`[^`]*`)\)/g)) expect(m[1], m[1]).toMatch(/^`\$\{(?:COMMANDS\.\w+\.command|cmd)\}\$\{shellQuote\(\w+\)\}`$/);
  });
});
