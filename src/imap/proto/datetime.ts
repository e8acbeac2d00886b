/**
 * IMAP dates: `date` (`d-Mon-yyyy`, SEARCH, RFC 3501 §9) and `date-time`
 * (`"dd-Mon-yyyy hh:mm:ss +zzzz"`, APPEND and INTERNALDATE).
 */
import { ProtocolSyntaxError } from './errors.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MINUTE_MS = 60_000;

function monthIndex(text: string): number {
  const index = MONTHS.findIndex((month) => month.toLowerCase() === text.toLowerCase());
  if (index === -1) throw new ProtocolSyntaxError(`invalid month "${text}"`);
  return index;
}

function checkDay(year: number, month: number, day: number, text: string): void {
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) throw new ProtocolSyntaxError(`invalid date "${text}"`);
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * SEARCH `date` (`1-Feb-1994`, `01-Feb-1994`) → `1994-02-01`. RFC 3501 §6.4.4 compares dates
 * "disregarding time and timezone": the server formats each message's date in its timezone the same
 * way and compares the strings.
 */
export function parseSearchDate(text: string): string {
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!match) throw new ProtocolSyntaxError(`invalid date "${text}" (expected d-Mon-yyyy)`);
  const day = Number(match[1]);
  const month = monthIndex(match[2]!);
  const year = Number(match[3]);
  checkDay(year, month, day, text);
  return `${year}-${pad(month + 1)}-${pad(day)}`;
}

/** `date-time` (`17-Jul-1996 02:44:25 -0700`, day may be space-padded) → epoch milliseconds. */
export function parseDateTime(text: string): number {
  const match = /^([ \d]?\d)-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match) throw new ProtocolSyntaxError(`invalid date-time "${text}" (expected "dd-Mon-yyyy hh:mm:ss +zzzz")`);
  const [, dayText, monthText, yearText, hourText, minuteText, secondText, sign, zoneHours, zoneMinutes] = match;
  const day = Number(dayText!.trim());
  const month = monthIndex(monthText!);
  const year = Number(yearText);
  checkDay(year, month, day, text);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText);
  // Seconds up to 60: RFC 5322 allows a leap second.
  if (hour > 23 || minute > 59 || second > 60 || Number(zoneMinutes) > 59) throw new ProtocolSyntaxError(`invalid date-time "${text}"`);
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  return Date.UTC(year, month, day, hour, minute, second) - offsetMinutes * MINUTE_MS;
}

/** Epoch milliseconds → `date-time` for INTERNALDATE, in the zone `offsetMinutes` east of UTC (default UTC). */
export function formatDateTime(epochMs: number, offsetMinutes = 0): string {
  const local = new Date(epochMs + offsetMinutes * MINUTE_MS);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const zone = Math.abs(offsetMinutes);
  const date = `${pad(local.getUTCDate())}-${MONTHS[local.getUTCMonth()]}-${pad(local.getUTCFullYear(), 4)}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  return `${date} ${time} ${sign}${pad(Math.floor(zone / 60))}${pad(zone % 60)}`;
}
