import { formatZonedDateTime, parseZonedDateTime } from '../src/upstream/zoned-date-time.js';

const iso = (raw: string) => parseZonedDateTime(raw)?.toISOString();

describe('parseZonedDateTime', () => {
  it('when the value has an offset and a zone, then the offset gives the instant', () => {
    expect(iso('2022-06-15T23:59:59.999+02:00[Europe/Berlin]')).toBe('2022-06-15T21:59:59.999Z');
    expect(iso('2022-01-15T08:00:00-05:00[America/New_York]')).toBe('2022-01-15T13:00:00.000Z');
  });

  it('when the value ends in Z, with or without a zone, then it is UTC', () => {
    expect(iso('2022-06-15T21:59:59Z')).toBe('2022-06-15T21:59:59.000Z');
    expect(iso('2022-06-15T21:59:59.5Z[UTC]')).toBe('2022-06-15T21:59:59.500Z');
  });

  it('when the value has an offset only (also without colon or seconds), then the offset gives the instant', () => {
    expect(iso('2022-06-15T23:59+02:00')).toBe('2022-06-15T21:59:00.000Z');
    expect(iso('2022-06-15T23:59:59+0200')).toBe('2022-06-15T21:59:59.000Z');
  });

  it('when the fraction has more than milliseconds, then it is cut to milliseconds', () => {
    expect(iso('2022-06-15T23:59:59.123456789+02:00[Europe/Berlin]')).toBe('2022-06-15T21:59:59.123Z');
  });

  it('when the value has a zone but no offset, then the local time is resolved in that zone (summer and winter)', () => {
    expect(iso('2022-06-15T12:00:00[Europe/Berlin]')).toBe('2022-06-15T10:00:00.000Z');
    expect(iso('2022-01-15T12:00:00[Europe/Berlin]')).toBe('2022-01-15T11:00:00.000Z');
  });

  it('when a zone-only local time falls into a DST overlap or gap, then it is resolved as java.time does', () => {
    // 2022-10-30 02:30 happens twice in Berlin: the earlier offset (+02:00) wins.
    expect(iso('2022-10-30T02:30:00[Europe/Berlin]')).toBe('2022-10-30T00:30:00.000Z');
    // 2022-03-27 02:30 does not exist in Berlin: moved forward to 03:30+02:00.
    expect(iso('2022-03-27T02:30:00[Europe/Berlin]')).toBe('2022-03-27T01:30:00.000Z');
  });

  it('when the value has neither offset nor zone, then it is taken as UTC', () => {
    expect(iso('2022-06-15T23:59:59.999')).toBe('2022-06-15T23:59:59.999Z');
  });

  it.each([
    ['an empty string', ''],
    ['a calendar date only', '2022-06-15'],
    ['month 13', '2022-13-15T10:00:00Z'],
    ['February 30th', '2022-02-30T10:00:00Z'],
    ['hour 24', '2022-06-15T24:00:00Z'],
    ['an unknown zone', '2022-06-15T10:00:00+02:00[Mars/Olympus]'],
    ['an offset beyond 18 hours', '2022-06-15T10:00:00+19:00'],
    ['text after the zone', '2022-06-15T10:00:00Z[UTC] extra'],
    ['a space instead of T', '2022-06-15 10:00:00Z'],
  ])('when the value is %s, then it is refused', (_case, raw) => {
    expect(parseZonedDateTime(raw)).toBeUndefined();
  });

  it('when an instant is formatted for a zone and parsed back, then it is the same instant', () => {
    const date = new Date('2022-06-15T21:59:59.999Z');
    expect(formatZonedDateTime(date, 'Europe/Berlin')).toBe('2022-06-15T23:59:59.999+02:00[Europe/Berlin]');
    expect(parseZonedDateTime(formatZonedDateTime(date, 'Europe/Berlin'))?.getTime()).toBe(date.getTime());
    expect(formatZonedDateTime(date, 'UTC')).toBe('2022-06-15T21:59:59.999Z[UTC]');
  });
});
