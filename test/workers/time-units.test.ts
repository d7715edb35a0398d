/**
 * The time units of automatic partitions in the Workers runtime's zone
 * data: every value format, round trips, values no calendar has, and the
 * wall clock across clock changes (America/New_York), a half-hour offset
 * (Asia/Kolkata) and a half-hour clock change (Australia/Lord_Howe).
 */
import { describe, expect, it } from "vitest";
import type { TimeUnit } from "../../src/table/time-units.ts";
import { formatValue, isTimeZone, nextBoundaryMs, ordinalAt, parseTimeUnit, parseValue, timeUnits } from "../../src/table/time-units.ts";

const at = (iso: string) => Date.parse(iso);
const valueAt = (iso: string, unit: TimeUnit, zone: string) => formatValue(ordinalAt(at(iso), unit, zone), unit);
const boundaryAfter = (iso: string, unit: TimeUnit, zone: string) => new Date(nextBoundaryMs(at(iso), unit, zone)).toISOString();

describe("partition values", () => {
  it.each([
    ["HOUR", "2026113007"],
    ["DAY", "20261130"],
    ["MONTH", "202611"],
    ["QUARTER", "20264"],
    ["YEAR", "2026"],
  ] as const)("formats %s as Fluss does (%s at 2026-11-30T07:41Z in UTC), and parses it back", (unit, value) => {
    expect(valueAt("2026-11-30T07:41:00Z", unit, "UTC")).toBe(value);
    expect(formatValue(parseValue(value, unit)!, unit)).toBe(value);
  });

  it("counts units on the calendar: month, quarter and year ends, leap days", () => {
    const next = (value: string, unit: TimeUnit, n = 1) => formatValue(parseValue(value, unit)! + n, unit);
    expect(next("2026123123", "HOUR")).toBe("2027010100");
    expect(next("20280228", "DAY")).toBe("20280229");
    expect(next("20270228", "DAY")).toBe("20270301");
    expect(next("202612", "MONTH")).toBe("202701");
    expect(next("20264", "QUARTER")).toBe("20271");
    expect(next("20271", "QUARTER", -1)).toBe("20264");
    expect(next("2026", "YEAR", -7)).toBe("2019");
  });

  it("parses only fixed-width values naming a real unit", () => {
    for (const [text, unit] of [
      ["2026113024", "HOUR"], ["202611300", "HOUR"], ["20270229", "DAY"], ["20261131", "DAY"], ["2026-11-30", "DAY"],
      ["202613", "MONTH"], ["202600", "MONTH"], ["20265", "QUARTER"], ["20260", "QUARTER"], ["26", "YEAR"], ["manual", "DAY"],
    ] as const) {
      expect(parseValue(text, unit), `${text} as ${unit}`).toBeUndefined();
    }
  });

  it("reads units in any case, and knows IANA zones", () => {
    expect(timeUnits.map((unit) => parseTimeUnit(unit.toLowerCase()))).toEqual([...timeUnits]);
    expect(parseTimeUnit("Week")).toBeUndefined();
    expect(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"].every(isTimeZone)).toBe(true);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
  });
});

describe("the wall clock of a time zone", () => {
  it("names the day and the year by the zone's date, not UTC's", () => {
    expect(valueAt("2026-11-30T18:29:00Z", "DAY", "Asia/Kolkata")).toBe("20261130");
    expect(valueAt("2026-11-30T18:30:00Z", "DAY", "Asia/Kolkata")).toBe("20261201");
    expect(boundaryAfter("2026-11-30T10:00:00Z", "HOUR", "Asia/Kolkata")).toBe("2026-11-30T10:30:00.000Z");
    expect(valueAt("2026-12-31T14:59:00Z", "YEAR", "Asia/Tokyo")).toBe("2026");
    expect(boundaryAfter("2026-12-31T14:59:00Z", "YEAR", "Asia/Tokyo")).toBe("2026-12-31T15:00:00.000Z");
    expect(boundaryAfter("2026-11-30T07:41:00Z", "QUARTER", "UTC")).toBe("2027-01-01T00:00:00.000Z");
    expect(boundaryAfter("2026-11-30T07:41:00Z", "MONTH", "America/New_York")).toBe("2026-12-01T05:00:00.000Z");
  });

  it("skips the hour clocks jump over, and ends the hour they repeat once (America/New_York)", () => {
    // 2026-03-08: 01:59 EST is followed by 03:00 EDT.
    expect(valueAt("2026-03-08T06:30:00Z", "HOUR", "America/New_York")).toBe("2026030801");
    expect(boundaryAfter("2026-03-08T06:30:00Z", "HOUR", "America/New_York")).toBe("2026-03-08T07:00:00.000Z");
    expect(valueAt("2026-03-08T07:00:00Z", "HOUR", "America/New_York")).toBe("2026030803");
    // 2026-11-01: 01:59 EDT is followed by 01:00 EST; hour 01 lasts two hours, and day 20261101 twenty-five.
    expect(boundaryAfter("2026-11-01T05:30:00Z", "HOUR", "America/New_York")).toBe("2026-11-01T07:00:00.000Z");
    expect(boundaryAfter("2026-11-01T04:00:00Z", "DAY", "America/New_York")).toBe("2026-11-02T05:00:00.000Z");
  });

  it("follows a half-hour clock change (Australia/Lord_Howe)", () => {
    // 2026-04-05: 01:59 at +11:00 is followed by 01:30 at +10:30, so hour 01 lasts ninety minutes.
    expect(valueAt("2026-04-04T14:45:00Z", "HOUR", "Australia/Lord_Howe")).toBe("2026040501");
    expect(boundaryAfter("2026-04-04T14:45:00Z", "HOUR", "Australia/Lord_Howe")).toBe("2026-04-04T15:30:00.000Z");
    // 2026-10-04: 01:59 at +10:30 is followed by 02:30 at +11:00: hour 02 lasts thirty minutes.
    expect(boundaryAfter("2026-10-03T15:00:00Z", "HOUR", "Australia/Lord_Howe")).toBe("2026-10-03T15:30:00.000Z");
    expect(valueAt("2026-10-03T15:30:00Z", "HOUR", "Australia/Lord_Howe")).toBe("2026100402");
    expect(boundaryAfter("2026-10-03T15:30:00Z", "HOUR", "Australia/Lord_Howe")).toBe("2026-10-03T16:00:00.000Z");
  });
});
