"""The .ics file: valid RFC 5545 (parsed back with the icalendar library), UTC times, stable UID, folding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from domain.calendar import booking_ics, booking_uid, escape_text, fold
from domain.model import BookingStatus
from tests.domain.factories import NOW, booking

START = datetime(2026, 3, 5, 10, 30, tzinfo=UTC)


def saved(**changes: object):
    return booking(START, 45).with_changes(id=42, **changes)


def parse(data: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return event


def test_times_are_utc_and_the_event_round_trips() -> None:
    data = booking_ics(saved(meeting_link="https://meet.example/x?a=1&b=2"), "Resume review", "With Asha", NOW)
    event = parse(data)
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["UID"]) == "booking-42@mentor-desk.bot" == booking_uid(42)
    assert str(event["SUMMARY"]) == "Resume review" and str(event["DESCRIPTION"]) == "With Asha"
    assert str(event["URL"]) == "https://meet.example/x?a=1&b=2"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert b"DTSTART:20260305T103000Z\r\n" in data


def test_every_line_ends_with_crlf_and_fits_75_octets() -> None:
    long_title = "मेंटरशिप सत्र, résumé; review \\ " * 10
    data = booking_ics(saved(), long_title, "line one\nline two", NOW)
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    data.decode()  # folding never splits a UTF-8 character
    event = parse(data)
    assert str(event["SUMMARY"]) == long_title
    assert str(event["DESCRIPTION"]) == "line one\nline two"


def test_the_uid_is_stable_and_the_status_follows_the_booking() -> None:
    first = parse(booking_ics(saved(), "A", "", NOW))
    later = parse(booking_ics(saved(status=BookingStatus.CANCELLED), "A", "", NOW + timedelta(days=1), sequence=3))
    assert first["UID"] == later["UID"]
    assert (str(later["STATUS"]), int(later["SEQUENCE"])) == ("CANCELLED", 3)
    assert str(parse(booking_ics(saved(status=BookingStatus.PENDING), "A", "", NOW))["STATUS"]) == "TENTATIVE"


@pytest.mark.parametrize(
    ("raw", "escaped"), [("a,b;c\\d", "a\\,b\\;c\\\\d"), ("x\r\ny\nz", "x\\ny\\nz"), ("plain", "plain")]
)
def test_text_escaping(raw: str, escaped: str) -> None:
    assert escape_text(raw) == escaped


def test_fold_keeps_short_lines_and_splits_long_ones() -> None:
    assert fold("SUMMARY:short") == "SUMMARY:short"
    folded = fold("X:" + "a" * 200)
    assert [len(part) for part in folded.split("\r\n")] == [75, 75, 54]  # 202 = 75 + 74 + 53, plus the spaces
