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
 * long lines so memory stays flat in file size.
 */
export async function streamLines(source: string | Readable, sink: LineSink): Promise<number> {
  const stream =
    typeof source === 'string'
      ? source === '-'
        ? process.stdin
        : createReadStream(source, { highWaterMark: 1 << 20 })
      : source;
  let carry = '';
  let lineNo = 0;
  let overlong = false;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of stream) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true }));
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      if (overlong) overlong = false;
      else emit(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    carry = text.slice(start);
    if (carry.length > MAX_LINE) {
      if (!overlong) emit(carry, 0, MAX_LINE);
      overlong = true;
      carry = '';
    }
  }
  carry += decoder.decode();
  if (carry.length > 0 && !overlong) emit(carry, 0, carry.length);
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
