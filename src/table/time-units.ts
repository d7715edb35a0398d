/**
 * The time units of automatic partitions and their partition values, as in
 * Fluss: HOUR `yyyyMMddHH`, DAY `yyyyMMdd`, MONTH `yyyyMM`, QUARTER `yyyyQ`
 * (`20264` is the fourth quarter of 2026), YEAR `yyyy`; and which value a
 * wall clock in a time zone shows at an instant.
 *
 * A value stands for a unit of wall-clock time, counted as an ordinal
 * (hours, days, months, quarters or years since the epoch's wall clock), so
 * "n units before" is ordinal arithmetic on the calendar, as Fluss's
 * `ZonedDateTime.minus` is.
 *
 * Invariants: a value parses back to exactly the ordinal it was formatted
 * from, and only fixed-width text naming a real calendar unit parses
 * (`2026023100` does not); `valueAt` reads the wall clock through
 * `Intl.DateTimeFormat`, the zone data the runtime carries (Workers have no
 * system zone, so a zone is always named).
 */

export const timeUnits = ["HOUR", "DAY", "MONTH", "QUARTER", "YEAR"] as const;
export type TimeUnit = (typeof timeUnits)[number];

/** A time unit named in any case (`day`, `Day`), as Fluss accepts it; undefined when it names none. */
export function parseTimeUnit(text: string): TimeUnit | undefined {
  return timeUnits.find((unit) => unit === text.toUpperCase());
}

/** Whether the runtime knows the IANA time zone `name` (or an offset such as `+05:30`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  /** 0..23 */
  hour: number;
}

const dayMs = 86_400_000;
const epochDay = (year: number, month: number, day: number) => Date.UTC(year, month - 1, day) / dayMs;

/** The unit a wall-clock reading falls in, as an ordinal. */
function ordinalOf(clock: WallClock, unit: TimeUnit): number {
  switch (unit) {
    case "HOUR": return epochDay(clock.year, clock.month, clock.day) * 24 + clock.hour;
    case "DAY": return epochDay(clock.year, clock.month, clock.day);
    case "MONTH": return clock.year * 12 + clock.month - 1;
    case "QUARTER": return clock.year * 4 + Math.floor((clock.month - 1) / 3);
    case "YEAR": return clock.year;
  }
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The partition value of a unit's ordinal. */
export function formatValue(ordinal: number, unit: TimeUnit): string {
  switch (unit) {
    case "HOUR": return formatValue(Math.floor(ordinal / 24), "DAY") + pad(ordinal - Math.floor(ordinal / 24) * 24, 2);
    case "DAY": {
      const date = new Date(ordinal * dayMs);
      return pad(date.getUTCFullYear(), 4) + pad(date.getUTCMonth() + 1, 2) + pad(date.getUTCDate(), 2);
    }
    case "MONTH": return pad(Math.floor(ordinal / 12), 4) + pad((ordinal % 12) + 1, 2);
    case "QUARTER": return pad(Math.floor(ordinal / 4), 4) + String((ordinal % 4) + 1);
    case "YEAR": return pad(ordinal, 4);
  }
}

const valuePatterns: Record<TimeUnit, RegExp> = {
  HOUR: /^(\d{4})(\d{2})(\d{2})(\d{2})$/,
  DAY: /^(\d{4})(\d{2})(\d{2})$/,
  MONTH: /^(\d{4})(\d{2})$/,
  QUARTER: /^(\d{4})([1-4])$/,
  YEAR: /^(\d{4})$/,
};

/** The ordinal of a partition value in the unit's format; undefined when it is not one (other text, or a day or hour that no calendar has). */
export function parseValue(text: string, unit: TimeUnit): number | undefined {
  const match = valuePatterns[unit].exec(text);
  if (!match) return undefined;
  const [year, second = 1, day = 1, hour = 0] = match.slice(1).map(Number) as [number, number?, number?, number?];
  if (unit === "QUARTER") return year * 4 + second - 1;
  const month = second;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23) return undefined;
  return ordinalOf({ year, month, day, hour }, unit);
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `timeZone` at an instant. */
function wallClockAt(ms: number, timeZone: string): WallClock {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric" });
    formats.set(timeZone, format);
  }
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of format.formatToParts(ms)) parts[part.type] = Number(part.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! };
}

/** The ordinal of the unit the wall clock of `timeZone` shows at an instant. */
export function ordinalAt(ms: number, unit: TimeUnit, timeZone: string): number {
  return ordinalOf(wallClockAt(ms, timeZone), unit);
}

const minuteMs = 60_000;

/**
 * The first instant after `ms` at which the wall clock of `timeZone` shows
 * a later unit: the next partition's start. Found by bisection over whole
 * minutes (zone offsets change only on minute boundaries), between `ms` and
 * the next unit's wall-clock start read as UTC plus 14 hours, which no
 * zone's offset exceeds. So a skipped hour (clocks forward) is no boundary
 * of its own, and a repeated hour (clocks back) ends only once.
 */
export function nextBoundaryMs(ms: number, unit: TimeUnit, timeZone: string): number {
  const current = ordinalAt(ms, unit, timeZone);
  const clock = wallClockAt(ms, timeZone);
  const quarterEndMonth = (Math.floor((clock.month - 1) / 3) + 1) * 3;
  const nextStartAsUtc = {
    HOUR: Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour + 1),
    DAY: Date.UTC(clock.year, clock.month - 1, clock.day + 1),
    MONTH: Date.UTC(clock.year, clock.month, 1),
    QUARTER: Date.UTC(clock.year, quarterEndMonth, 1),
    YEAR: Date.UTC(clock.year + 1, 0, 1),
  }[unit];
  let low = Math.floor(ms / minuteMs);
  let high = Math.ceil((nextStartAsUtc + 14 * 3_600_000) / minuteMs);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (ordinalAt(middle * minuteMs, unit, timeZone) > current) high = middle;
    else low = middle;
  }
  return high * minuteMs;
}
