"""The .ics file and the personal feed: valid RFC 5545 read back with the icalendar library (every required
property present), UTC times, stable UIDs, the booking's SEQUENCE, statuses, folding, the feed's tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from domain import calendar as ics
from domain.calendar import FeedEvent, booking_ics, booking_uid, feed_ics
from domain.model import Booking, BookingStatus
from tests.domain.factories import NOW, booking

START = datetime(2026, 3, 5, 10, 30, tzinfo=UTC)


def saved(**changes: object) -> Booking:
    return booking(START, 45).with_changes(id=42, **changes)


def strictly_valid(data: bytes) -> icalendar.Calendar:
    """What a strict parser requires (RFC 5545 3.4, 3.6, 3.6.1, 3.1): CRLF lines of at most 75 octets, VERSION 2.0
    and PRODID once, at least one component, and in each VEVENT UID, DTSTAMP and DTSTART once, with DTEND or
    DURATION (not both). Returns the calendar the icalendar library reads back."""
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    data.decode()  # folding never splits a UTF-8 character
    calendar = icalendar.Calendar.from_ical(data)
    calendar.validate()  # PRODID, VERSION, at least one component
    assert str(calendar["VERSION"]) == "2.0" and data.count(b"\r\nPRODID:") == 1
    for event in calendar.walk("VEVENT"):
        for name in ("UID", "DTSTAMP", "DTSTART"):
            assert name in event and not isinstance(event[name], list), name
        assert ("DTEND" in event) != ("DURATION" in event)
        assert event.decoded("DTSTART").tzinfo is not None and event.decoded("DTSTART").utcoffset() == timedelta(0)
    return calendar


def the_event(data: bytes) -> icalendar.Event:
    [event] = strictly_valid(data).walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    return event


def test_times_are_utc_and_the_event_round_trips() -> None:
    data = booking_ics(saved(meeting_link="https://meet.example/x?a=1&b=2"), "Resume review", "With Asha", NOW)
    event = the_event(data)
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["UID"]) == "booking-42@mentor-desk.bot" == booking_uid(42)
    assert str(event["SUMMARY"]) == "Resume review" and str(event["DESCRIPTION"]) == "With Asha"
    assert str(event["URL"]) == str(event["LOCATION"]) == "https://meet.example/x?a=1&b=2"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert b"DTSTART:20260305T103000Z\r\n" in data
    assert str(icalendar.Calendar.from_ical(data)["METHOD"]) == "PUBLISH"


def test_every_line_ends_with_crlf_and_fits_75_octets() -> None:
    long_title = "मेंटरशिप सत्र, résumé; review \\ " * 10
    event = the_event(booking_ics(saved(), long_title, "line one\nline two", NOW))
    assert str(event["SUMMARY"]) == long_title
    assert str(event["DESCRIPTION"]) == "line one\nline two"


def test_the_uid_is_stable_and_sequence_and_status_follow_the_booking() -> None:
    first = the_event(booking_ics(saved(), "A", "", NOW))
    later = the_event(booking_ics(saved(status=BookingStatus.CANCELLED, sequence=3), "A", "", NOW + timedelta(1)))
    assert first["UID"] == later["UID"]
    assert (first.decoded("SEQUENCE"), str(first["STATUS"])) == (0, "CONFIRMED")
    assert (later.decoded("SEQUENCE"), str(later["STATUS"])) == (3, "CANCELLED")
    assert str(the_event(booking_ics(saved(status=BookingStatus.PENDING), "A", "", NOW))["STATUS"]) == "TENTATIVE"


def test_every_booking_status_has_an_event_status() -> None:
    assert set(ics.EVENT_STATUS) == set(BookingStatus)
    assert set(ics.EVENT_STATUS.values()) == {"TENTATIVE", "CONFIRMED", "CANCELLED"}
    assert {s for s, e in ics.EVENT_STATUS.items() if e == "TENTATIVE"} == {
        BookingStatus.AWAITING_PAYMENT,
        BookingStatus.PENDING,
    }


def test_a_feed_holds_every_booking_with_the_same_uid_and_sequence_as_the_download() -> None:
    one = saved(sequence=2, updated_at=NOW + timedelta(hours=1))
    two = booking(START + timedelta(days=1), 60, status=BookingStatus.PENDING).with_changes(id=43)
    data = feed_ics("Mentor Desk: Asha", [FeedEvent(one, "Mock interview with Ravi", ""), FeedEvent(two, "B", "")])
    feed = strictly_valid(data)
    assert str(feed["X-WR-CALNAME"]) == "Mentor Desk: Asha" and "METHOD" not in feed
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in data
    first, second = feed.walk("VEVENT")
    download = the_event(booking_ics(one, "Mock interview with Ravi", "", NOW))
    assert (
        (first["UID"], first.decoded("SEQUENCE"))
        == (download["UID"], download.decoded("SEQUENCE"))
        == ("booking-42@mentor-desk.bot", 2)
    )
    assert first.decoded("DTSTAMP") == NOW + timedelta(hours=1)  # the booking's last change
    assert second.decoded("DTSTAMP") == NOW and str(second["STATUS"]) == "TENTATIVE"


def test_an_unchanged_feed_is_the_same_bytes() -> None:
    events = [FeedEvent(saved(), "A", "B")]
    assert feed_ics("x", events) == feed_ics("x", events)
    assert ics.content_digest(feed_ics("x", events)) != ics.content_digest(feed_ics("y", events))


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    feed = strictly_valid(feed_ics("Nothing yet", []))
    assert list(feed.walk("VEVENT")) == [] and [c.name for c in feed.subcomponents] == ["VTIMEZONE"]


def test_feed_tokens_are_long_random_and_compared_by_digest() -> None:
    link, other = ics.new_feed(7), ics.new_feed(7)
    assert link.token != other.token and len(link.token) == 43 and ics.looks_like_token(link.token)
    assert link.token_digest == ics.token_digest(link.token) != link.token
    assert ics.token_matches(link.token, link) and not ics.token_matches(other.token, link)
    assert not ics.token_matches("", link) and not ics.token_matches(link.token[:-1], link)


@pytest.mark.parametrize("text", ["", "short", "a" * 42, "a" * 44, "a" * 42 + "=", "../" + "a" * 40, "é" * 43])
def test_what_cannot_be_a_token_is_not_looked_up(text: str) -> None:
    assert not ics.looks_like_token(text)
