import { describe, it, expect } from 'vitest';
import { SyslogDater, monthAt } from '../../src/parsers/timestamps.js';

describe('monthAt', () => {
  it.each([
    ['Jan 1', 1],
    ['Feb', 2],
    ['dec 24', 12],
    ['NOV', 11],
    ['Foo', 0],
    ['', 0],
  ])('%s -> %i', (text, month) => {
    expect(monthAt(text)).toBe(month);
  });

  it('reads at an offset', () => {
    expect(monthAt('xx Sep 1', 3)).toBe(9);
  });
});

describe('SyslogDater', () => {
  it('dates the first line in the reference year', () => {
    const d = new SyslogDater(new Date('2026-11-25T08:00:00Z'));
    expect(d.date(11, 24, 10, 7, 1)).toBe('2026-11-24T10:07:01');
  });

  it('renders local time as written, zero-padded, without a zone', () => {
    const d = new SyslogDater(new Date('2026-03-10T00:00:00Z'));
    expect(d.date(3, 4, 0, 5, 9)).toBe('2026-03-04T00:05:09');
  });

  it('takes the year before when the first line would lie after the reference', () => {
    const d = new SyslogDater(new Date('2026-01-05T00:00:00Z'));
    expect(d.date(12, 30, 23, 59, 0)).toBe('2025-12-30T23:59:00');
  });

  it('allows about a day past the reference (time zones, clock skew)', () => {
    const ref = new Date('2026-11-24T00:00:00Z');
    expect(new SyslogDater(ref).date(11, 24, 22, 0, 0)).toBe('2026-11-24T22:00:00');
    expect(new SyslogDater(ref).date(11, 25, 11, 0, 0)).toBe('2026-11-25T11:00:00');
    expect(new SyslogDater(ref).date(11, 26, 0, 0, 0)).toBe('2025-11-26T00:00:00');
  });

  it('moves to the next year when the month wraps from December to January', () => {
    const d = new SyslogDater(new Date('2027-01-02T12:00:00Z'));
    expect(d.date(12, 31, 23, 59, 58)).toBe('2026-12-31T23:59:58');
    expect(d.date(12, 31, 23, 59, 59)).toBe('2026-12-31T23:59:59');
    expect(d.date(1, 1, 0, 0, 1)).toBe('2027-01-01T00:00:01');
    expect(d.date(1, 2, 3, 0, 0)).toBe('2027-01-02T03:00:00');
    expect(d.describe()).toContain('from 2026 to 2027');
  });

  it('keeps the year across several wraps', () => {
    const d = new SyslogDater(new Date('2028-02-01T00:00:00Z'));
    const years = [
      [11, 1],
      [12, 1],
      [1, 1],
      [6, 1],
      [12, 1],
      [1, 1],
    ].map(([m, day]) => d.date(m!, day!, 0, 0, 0).slice(0, 4));
    // Nov 2028 would be after the February 2028 reference: the walk starts in 2027
    expect(years).toEqual(['2027', '2027', '2028', '2028', '2028', '2029']);
  });

  it('keeps the year when lines go back a little (out of order, files in the wrong order)', () => {
    const d = new SyslogDater(new Date('2026-12-01T00:00:00Z'));
    expect(d.date(11, 2, 0, 0, 0)).toBe('2026-11-02T00:00:00');
    expect(d.date(10, 30, 0, 0, 0)).toBe('2026-10-30T00:00:00');
    expect(d.date(11, 3, 0, 0, 0)).toBe('2026-11-03T00:00:00');
  });

  it('goes back a year when the month jumps forward past half a year (Jan -> Dec)', () => {
    const d = new SyslogDater(new Date('2027-01-10T00:00:00Z'));
    expect(d.date(1, 2, 0, 0, 0)).toBe('2027-01-02T00:00:00');
    expect(d.date(12, 30, 0, 0, 0)).toBe('2026-12-30T00:00:00');
  });

  it('describes the rule and the reference for the report', () => {
    const d = new SyslogDater(new Date('2026-11-25T08:00:00Z'), 'file modification time');
    expect(d.describe()).toContain('no such timestamps');
    d.date(11, 24, 10, 7, 1);
    const text = d.describe();
    expect(text).toContain('file modification time (2026-11-25)');
    expect(text).toContain('Dec -> Jan');
    expect(text).toContain('all lines were dated 2026');
  });
});
