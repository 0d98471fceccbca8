// sshd_config(5) / ssh_config(5) TIME FORMATS, as OpenSSH's misc.c convtime() reads them:
// a sequence of `<number>[qualifier]` with qualifiers s (or none), m, h, d, w, case-insensitive,
// e.g. `300`, `5m`, `1h30m`, `1.5s`. Fractions are allowed for seconds only and truncated.

const SECONDS_PER: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** convtime() refuses anything that does not fit a C int. */
export const TIME_MAX_SECONDS = 2147483647;

const CHUNK = /(\d+(?:\.\d+)?|\.\d+)([smhdw]?)/iy;

/**
 * Seconds for an OpenSSH time value; `null` for `none` (any case); `undefined` when the text is
 * not a valid time (OpenSSH would refuse the line).
 */
export function parseTimeFormat(text: string): number | null | undefined {
  const s = text.trim();
  if (s.length === 0) return undefined;
  if (s.toLowerCase() === 'none') return null;
  let total = 0;
  let seenSeconds = false;
  CHUNK.lastIndex = 0;
  while (CHUNK.lastIndex < s.length) {
    const m = CHUNK.exec(s);
    if (m === null) return undefined;
    const [, num, unitRaw] = m;
    const unit = unitRaw.toLowerCase();
    if (unit === '' && CHUNK.lastIndex !== s.length) return undefined;
    if (unit === '' || unit === 's') {
      if (seenSeconds) return undefined;
      seenSeconds = true;
    } else if (num.includes('.')) {
      return undefined; // no fractional minutes, hours...
    }
    total += Number(num) * SECONDS_PER[unit];
    if (total > TIME_MAX_SECONDS) return undefined;
  }
  return Math.trunc(total);
}

/**
 * A configured time value as `sshd -T` / `ssh -G` would print it: seconds, `none` for `none`,
 * and the text unchanged when it is not a valid time (so the evidence shows what was written).
 */
export function timeAsPrinted(text: string): string {
  const v = parseTimeFormat(text);
  if (v === undefined) return text;
  return v === null ? 'none' : String(v);
}
