"""Busy calendars: reading exported calendars (Google with RRULE and EXDATE, Outlook with Windows zone names,
all-day events), the address rules, and when a calendar blocks, is read again, and its mentor is told it
stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain import busy
from domain.busy import BusyCalendar, CalendarFailure, Failure, Problem, read_busy
from domain.errors import InvalidInput
from domain.model import BusyInterval

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "calendars"
START = datetime(2026, 11, 24, tzinfo=UTC)
END = START + timedelta(days=14)


def at(day: int, clock: str, month: int = 11) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, month, day, hours, minutes, tzinfo=UTC)


def spans(intervals: list[BusyInterval]) -> list[tuple[datetime, datetime]]:
    return [(interval.start, interval.end) for interval in intervals]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def calendar(*events: str, header: str = "") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *filter(None, [header])]
    for number, event in enumerate(events):
        lines += ["BEGIN:VEVENT", f"UID:e{number}", "DTSTAMP:20261120T000000Z", *event.split("|"), "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


# --- reading ---------------------------------------------------------------------------------------------------


def test_a_google_export_with_a_weekly_rule_exceptions_and_free_or_cancelled_events() -> None:
    found = spans(read_busy(fixture("google_recurring.ics"), START, END, "UTC"))
    standup = [(at(day, "04:30"), at(day, "05:00")) for day in (24, 25)]  # 10:00 IST, Mon-Fri
    later = [(at(day, "04:30", 12), at(day, "05:00", 12)) for day in (1, 2, 3, 4, 7)]
    assert found == [
        *standup,
        (at(25, "08:30"), at(25, "09:30")),  # a single event in UTC
        # the 26th is an EXDATE; the 27th was moved to 15:00 IST; the 30th was cancelled
        (at(27, "09:30"), at(27, "10:00")),
        *later,
    ]
    # "Focus time" is TRANSP:TRANSPARENT, the lunch STATUS:CANCELLED, and 2020's event long gone: none of them
    assert not any(start <= at(25, "11:00") < end for start, end in found)


def test_an_outlook_export_with_windows_zone_names() -> None:
    found = spans(read_busy(fixture("outlook_windows_zones.ics"), START, END, "UTC"))
    assert found == [
        (at(25, "05:30"), at(25, "06:30")),  # 21:30 "Pacific Standard Time" on the 24th (PST, -08:00)
        (at(25, "08:30"), at(25, "09:30")),  # 14:00 "India Standard Time"
        *[(at(day, "16:00"), at(day, "16:30")) for day in (26, 27, 28)],  # daily, COUNT=3, 08:00 PST
        (at(1, "00:00", 12), at(1, "01:00", 12)),  # "Tokyo Standard Time" without a VTIMEZONE: Asia/Tokyo
    ]


@pytest.mark.parametrize(
    ("zone", "trip", "holiday", "gym"),
    [
        (
            "Asia/Kolkata",
            (at(26, "18:30"), at(28, "18:30")),
            (at(1, "18:30", 12), at(2, "18:30", 12)),
            (at(26, "01:30"), at(26, "03:00")),
        ),
        (
            "Europe/London",
            (at(27, "00:00"), at(29, "00:00")),
            (at(2, "00:00", 12), at(3, "00:00", 12)),
            (at(26, "07:00"), at(26, "08:30")),
        ),
    ],
)
def test_all_day_events_block_whole_local_days_of_the_mentors_zone(
    zone: str, trip: tuple[datetime, datetime], holiday: tuple[datetime, datetime], gym: tuple[datetime, datetime]
) -> None:
    """The iCloud export names no zone: all-day dates and the floating gym time are read on the mentor's clock;
    the free birthday blocks nothing, a date without DTEND lasts one day."""
    assert spans(read_busy(fixture("all_day.ics"), START, END, zone)) == [gym, trip, holiday]


def test_all_day_events_use_the_calendars_own_zone_when_it_names_one() -> None:
    new_york = "X-WR-TIMEZONE:America/New_York"
    data = calendar("DTSTART;VALUE=DATE:20261127|DTEND;VALUE=DATE:20261128", header=new_york)
    assert spans(read_busy(data, START, END, "Asia/Kolkata")) == [(at(27, "05:00"), at(28, "05:00"))]


def test_intervals_are_clipped_to_the_range_and_merged() -> None:
    data = calendar(
        "DTSTART:20261123T220000Z|DTEND:20261124T010000Z",  # starts before the range
        "DTSTART:20261124T003000Z|DTEND:20261124T020000Z",  # overlaps the first
        "DTSTART:20261124T020000Z|DTEND:20261124T030000Z",  # touches it
        "DTSTART:20261124T050000Z|DTEND:20261124T050000Z",  # no length: blocks nothing
        "DTSTART:20261207T230000Z|DTEND:20261208T020000Z",  # ends after the range
    )
    assert spans(read_busy(data, START, END, "UTC")) == [(START, at(24, "03:00")), (at(7, "23:00", 12), END)]


@pytest.mark.parametrize(
    "data",
    [b"", b"<html><body>Sign in</body></html>", b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", b"\xff\xfe\x00"],
)
def test_what_is_not_a_calendar_is_refused(data: bytes) -> None:
    with pytest.raises(CalendarFailure) as refused:
        read_busy(data, START, END, "UTC")
    assert refused.value.failure == Failure(Problem.NOT_CALENDAR)


@pytest.mark.parametrize(
    "event",
    [
        "DTSTART:20261101T000000Z|DTEND:20261101T000100Z|RRULE:FREQ=MINUTELY",
        "DTSTART:20261101T000000Z|DTEND:20261101T000001Z|RRULE:FREQ=SECONDLY",
        "DTSTART:19700101T000000Z|DTEND:19700101T003000Z|RRULE:FREQ=HOURLY",  # 500,000 hours to step through
    ],
)
def test_rules_that_repeat_too_often_are_refused_before_they_are_expanded(event: str) -> None:
    with pytest.raises(CalendarFailure) as refused:
        read_busy(calendar(event), START, END, "UTC")
    assert refused.value.failure.problem == Problem.TOO_MANY_EVENTS


def test_more_occurrences_than_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(busy, "MAX_OCCURRENCES", 10)
    daily = calendar("DTSTART:20261120T090000Z|DTEND:20261120T093000Z|RRULE:FREQ=DAILY")
    with pytest.raises(CalendarFailure) as refused:
        read_busy(daily, START, END, "UTC")
    assert refused.value.failure.problem == Problem.TOO_MANY_EVENTS
    monkeypatch.setattr(busy, "MAX_OCCURRENCES", 14)
    assert len(read_busy(daily, START, END, "UTC")) == 14


# --- the address -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (" https://calendar.google.com/calendar/ical/a%40b/private-x/basic.ics ",
         "https://calendar.google.com/calendar/ical/a%40b/private-x/basic.ics"),
        ("webcal://p01-caldav.icloud.com/published/2/abc", "https://p01-caldav.icloud.com/published/2/abc"),
        ("HTTP://outlook.office365.com/owa/calendar/x/y/calendar.ics",
         "http://outlook.office365.com/owa/calendar/x/y/calendar.ics"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a.ics#fragment", "https://example.com/a.ics"),
    ],
)  # fmt: skip
def test_calendar_addresses_are_http_or_https(typed: str, kept: str) -> None:
    assert busy.check_url(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "ftp://example.com/a.ics",
        "file:///etc/passwd",
        "example.com/a.ics",
        "https://",
        "https://user:secret@example.com/a.ics",
        "https://example.com/a b.ics",
        "https://example.com:99999/a.ics",
        "javascript:alert(1)",
    ],
)
def test_other_addresses_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        busy.check_url(typed)
    assert (refused.value.field, refused.value.detail) == ("calendar_url", busy.NOT_HTTP)


def test_a_very_long_address_and_a_fourth_calendar_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        busy.check_url("https://example.com/" + "a" * busy.URL_MAX)
    assert refused.value.detail == busy.TOO_LONG
    three = [BusyCalendar(1, f"https://example.com/{n}", START) for n in range(busy.MAX_CALENDARS)]
    busy.check_room(three[:2])
    with pytest.raises(InvalidInput) as refused:
        busy.check_room(three)
    assert refused.value.detail == busy.TOO_MANY


# --- freshness -------------------------------------------------------------------------------------------------


def test_a_failing_calendar_keeps_blocking_for_a_day_then_stops_and_the_mentor_is_told_once() -> None:
    added = BusyCalendar(1, "https://example.com/a.ics", START)
    assert not busy.blocks(added, START)  # never read: nothing to block with
    good = busy.read_ok(added, START, '"v1"', None, START + timedelta(days=40))
    assert busy.blocks(good, START + busy.STALE_AFTER)
    failing = busy.read_failed(good, START + timedelta(hours=2), Failure(Problem.HTTP, 404))
    again = busy.read_failed(failing, START + timedelta(hours=3), Failure(Problem.TIMEOUT))
    assert again.failing_since == START + timedelta(hours=2) and again.failure == Failure(Problem.TIMEOUT)
    assert busy.blocks(again, START + busy.STALE_AFTER)
    assert not busy.should_tell_failing(again, START + busy.STALE_AFTER)
    later = START + busy.STALE_AFTER + timedelta(minutes=1)
    assert not busy.blocks(again, later)
    assert busy.should_tell_failing(again, later)
    told = again.with_changes(failure_told=True)
    assert not busy.should_tell_failing(told, later)
    recovered = busy.read_ok(told, later, None, "Tue, 24 Nov 2026 10:00:00 GMT", None)
    assert busy.blocks(recovered, later) and recovered.busy_until == good.busy_until  # not modified: kept
    assert (recovered.failure, recovered.failing_since, recovered.failure_told) == (None, None, False)


def test_a_calendar_that_never_worked_is_reported_a_day_after_it_was_added() -> None:
    failing = busy.read_failed(BusyCalendar(1, "https://example.com/a.ics", START), START, Failure(Problem.DNS))
    assert not busy.should_tell_failing(failing, START + timedelta(hours=23))
    assert busy.should_tell_failing(failing, START + timedelta(hours=25))


def test_a_full_read_when_the_kept_range_no_longer_covers_the_window() -> None:
    never = BusyCalendar(1, "https://example.com/a.ics", START)
    assert busy.needs_full_read(never, START, 30)
    low, high = busy.keep_range(START, 30)
    assert low == START - busy.LOOKBACK and high == START + timedelta(days=32) + busy.KEEP_MARGIN
    kept = busy.read_ok(never, START, None, None, high)
    assert not busy.needs_full_read(kept, START, 30)
    assert not busy.needs_full_read(kept, START + busy.KEEP_MARGIN, 30)
    assert busy.needs_full_read(kept, START + busy.KEEP_MARGIN + timedelta(minutes=1), 30)
    assert busy.needs_full_read(kept, START, 60)  # an offering's window grew


@pytest.mark.parametrize(
    ("failure", "code"),
    [(Failure(Problem.HTTP, 404), "http:404"), (Failure(Problem.TIMEOUT), "timeout")],
)
def test_failures_are_stored_as_short_codes(failure: Failure, code: str) -> None:
    assert failure.code == code and Failure.from_code(code) == failure
    assert Failure.from_code("from-a-later-version").problem == Problem.CONNECT
