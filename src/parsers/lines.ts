import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** Lines longer than this are cut: a flood of output cannot grow memory without bound. */
export const MAX_LINE = 16 * 1024;

export interface LineSink {
  line(text: string, lineNo: number): void;
}

/**
 * Streams a file (or stdin for "-") line by line. Splits on LF, drops a trailing CR, decodes as
 * UTF-8 with replacement characters (binary junk stays junk, it does not throw), and cuts very
 * long lines so memory stays flat in file size. Chunks are decoded up to their last newline, so a
 * character is never split between two chunks.
 */
export async function streamLines(source: string | Readable, sink: LineSink): Promise<number> {
  const stream =
    typeof source === 'string'
      ? source === '-'
        ? process.stdin
        : createReadStream(source, { highWaterMark: 1 << 20 })
      : source;
  let carry: Buffer | null = null;
  let lineNo = 0;
  // The rest of an overlong line is skipped up to its newline.
  let skipping = false;
  for await (const chunk of stream) {
    let buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (carry) buf = Buffer.concat([carry, buf]);
    carry = null;
    const lastNl = buf.lastIndexOf(10);
    if (lastNl < 0) {
      if (!skipping && buf.length > MAX_LINE * 4) {
        emit(buf.toString('utf8', 0, MAX_LINE * 4), 0, MAX_LINE);
        skipping = true;
      } else if (!skipping) carry = buf;
      continue;
    }
    const text = buf.toString('utf8', 0, lastNl + 1);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      if (skipping) skipping = false;
      else emit(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (lastNl + 1 < buf.length) carry = buf.subarray(lastNl + 1);
  }
  if (carry && carry.length > 0 && !skipping) {
    const rest = carry.toString('utf8');
    emit(rest, 0, rest.length);
  }
  return lineNo;

  function emit(text: string, from: number, to: number): void {
    let end = Math.min(to, from + MAX_LINE);
    if (end > from && text.charCodeAt(end - 1) === 13) end--;
    lineNo++;
    sink.line(text.slice(from, end), lineNo);
  }
}

/** Same as streamLines, for text already in memory (tests, probe output). */
export function textLines(text: string, sink: LineSink): number {
  // no text is no line (as streamLines counts it), not one empty line
  if (text.length === 0) return 0;
  let n = 0;
  const parts = text.split('\n');
  if (text.endsWith('\n')) parts.pop();
  for (const raw of parts) {
    n++;
    const cut = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
    sink.line(cut.endsWith('\r') ? cut.slice(0, -1) : cut, n);
  }
  return n;
}
