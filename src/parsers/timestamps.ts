// Dating of log timestamps that carry no year (classic syslog "Nov 24 10:07:01").

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Month number (1-12) of a three-letter English month name at `pos` in `text`, any case; 0 when
 * the letters are not a month name.
 */
export function monthAt(text: string, pos = 0): number {
  const a = text.charCodeAt(pos) | 0x20;
  const b = text.charCodeAt(pos + 1) | 0x20;
  const c = text.charCodeAt(pos + 2) | 0x20;
  for (let i = 0; i < 12; i++) {
    const m = MONTHS[i]!;
    if (m.charCodeAt(0) === a && m.charCodeAt(1) === b && m.charCodeAt(2) === c) return i + 1;
  }
  return 0;
}

/** How far past the reference the first line may lie before it is taken to be from the year before. */
const FIRST_LINE_SLACK_MS = 36 * 3600 * 1000;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * Gives syslog timestamps ("Nov 24 10:07:01", no year) a year, deterministically.
 *
 * Rule:
 * 1. The first line gets the reference's year (the caller passes the file's modification time,
 *    else the current time), or the year before when that would put the line more than about a
 *    day (36 h, for time zones) after the reference: a log is not written after its file was.
 * 2. Each later line is dated in the year that puts it nearest the line before it. In practice:
 *    when the month goes backwards by more than six months (Dec -> Jan) the year goes up by one;
 *    when it goes forwards by more than six (Jan -> Dec, files concatenated in the wrong order)
 *    it goes down by one; smaller jumps (lines slightly out of order, a skipped month) keep it.
 *
 * Times are the log's local time; they are rendered as ISO-8601 without a zone and without any
 * conversion (`2026-11-24T10:07:01`). The reference is read in UTC.
 */
export class SyslogDater {
  private year = 0;
  private month = 0;
  private firstYear = 0;
  private wraps = 0;
  private readonly referenceLabel: string;

  constructor(
    private readonly reference: Date,
    referenceLabel = 'reference date',
  ) {
    this.referenceLabel = referenceLabel;
  }

  /** Year of a line dated month (1-12)/day h:m:s; advances the walk. */
  yearOf(month: number, day: number, h: number, m: number, s: number): number {
    if (this.month === 0) {
      let y = this.reference.getUTCFullYear();
      if (Date.UTC(y, month - 1, day, h, m, s) - this.reference.getTime() > FIRST_LINE_SLACK_MS) y--;
      this.year = y;
      this.firstYear = y;
    } else if (month !== this.month) {
      const diff = month - this.month;
      if (diff < -6) {
        this.year++;
        this.wraps++;
      } else if (diff > 6) {
        this.year--;
        this.wraps++;
      }
    }
    this.month = month;
    return this.year;
  }

  /** ISO-8601 local time without zone, e.g. `2026-11-24T10:07:01`; advances the walk. */
  date(month: number, day: number, h: number, m: number, s: number): string {
    const y = this.yearOf(month, day, h, m, s);
    return `${y}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(s)}`;
  }

  /** One sentence for the report: how the year was chosen. */
  describe(): string {
    const ref = this.reference.toISOString().slice(0, 10);
    const rule =
      'syslog timestamps carry no year: the first line takes the year of the ' +
      `${this.referenceLabel} (${ref}), or the year before if that would put it after the reference; ` +
      'each later line takes the year nearest the line before it (Dec -> Jan moves to the next year)';
    if (this.month === 0) return `${rule}; no such timestamps were seen.`;
    if (this.wraps === 0) return `${rule}; all lines were dated ${this.firstYear}.`;
    return `${rule}; lines were dated from ${this.firstYear} to ${this.year} (${this.wraps} year change${this.wraps === 1 ? '' : 's'}).`;
  }
}
