// Secrets must never reach a report or a saved bundle, redacted or not. Everything that enters
// evidence as free text (log lines, config values, probe output) passes through here first.

const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
// key=value or key: value where the key names a secret
const SECRET_ASSIGNMENT =
  /\b((?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?token|client[_-]?secret|credentials?)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi;
// command-line flags that take a secret: sshpass -p X, --password X, -pX for mysql-like tools
const SECRET_FLAG = /((?:^|\s)(?:sshpass\s+-p|--password|--passphrase|--token)\s+)(\S+)/gi;
const BEARER = /\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{12,}/g;
// scheme://user:password@host
// (a scheme starts a token: without the lookbehind every letter of a long word would start a
// scan to its end, quadratic on a crafted line)
const URL_CREDENTIALS = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi;
// well-known token shapes
const TOKEN_SHAPES = /\b(gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{16,})\b/g;

export const SECRET = '[secret]';

export function scrubSecrets(text: string): string {
  if (text.length === 0) return text;
  return text
    .replace(PRIVATE_KEY_BLOCK, '[private key removed]')
    .replace(SECRET_ASSIGNMENT, (_m, k: string) => `${k}${SECRET}`)
    .replace(SECRET_FLAG, (_m, k: string) => `${k}${SECRET}`)
    .replace(BEARER, (_m, k: string) => `${k} ${SECRET}`)
    .replace(URL_CREDENTIALS, (_m, k: string) => `${k}:${SECRET}@`)
    .replace(TOKEN_SHAPES, SECRET);
}

/** Config options whose values are secrets or may carry them, by lowercase keyword. */
export function scrubOption(key: string, value: string): string {
  switch (key) {
    case 'setenv':
    case 'sendenv':
      // SetEnv NAME=VALUE: keep the names (they explain behaviour), never the values
      return key === 'setenv' ? value.replace(/(\S+?)=(\S+)/g, `$1=${SECRET}`) : value;
    case 'proxycommand':
    case 'localcommand':
    case 'remotecommand':
    case 'knownhostscommand':
      return scrubSecrets(value);
    default:
      return value;
  }
}

// C0 and C1 control characters other than tab and newline: a target's banner, disconnect
// message, stderr or log lines may carry terminal escape sequences; printed raw, they would
// drive the user's terminal (retitle it, hide or overwrite text, worse on buggy terminals).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text that is safe to print on a terminal: control characters other than tab and newline are
 * shown as `\xNN` (a carriage return is dropped: it only ever serves to overwrite what came before).
 */
export function printable(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROLS, (c) => (c === '\r' ? '' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** A deep copy with every string made printable (objects and arrays rebuilt, other values kept). */
export function printableDeep<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return printable(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
