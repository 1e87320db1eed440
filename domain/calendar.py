"""Sessions as iCalendar (RFC 5545), written with the ``icalendar`` library: the ``.ics`` file of one booking
(My bookings → 📅 Add to calendar) and each person's private feed (``/settings`` → 📆 Calendar feed).

Both describe a booking alike (``booking_event``):

* ``UID`` is stable per booking (``booking-<id>@mentor-desk.bot``): importing the file again, or the next refresh
  of the feed, updates the same event;
* ``SEQUENCE`` is the booking's own (``Booking.sequence``: it rises with every change);
* ``STATUS`` is TENTATIVE while the mentor has not answered, CONFIRMED for a session that is or was on, CANCELLED
  for one that is not (``EVENT_STATUS``);
* times are UTC; the meeting link goes in ``URL`` and ``LOCATION``; the summary and description come in the
  reader's language from the caller.

The feed (``feed_ics``) holds the person's sessions as a mentor and as a mentee that start ``FEED_PAST_DAYS`` ago
or later (every later one lies inside some booking window). Its ``DTSTAMP``s are the bookings' last changes, so an
unchanged feed is the same bytes and its digest (the HTTP ``ETag``) holds. A feed's address carries a token of
``FEED_TOKEN_BYTES`` random bytes; it is looked up by its SHA-256 and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

from domain.model import Booking, BookingStatus

PRODID = "-//Mentor Desk//Mentor Desk bot//EN"
UID_DOMAIN = "mentor-desk.bot"
FEED_PAST_DAYS = 30
FEED_LIMIT = 2000  # bookings in one feed at most (a busy mentor has a few hundred in the span)
FEED_REFRESH = timedelta(hours=1)  # what the feed asks calendar apps for (most poll less often anyway)
FEED_TOKEN_BYTES = 32

# Every status, so that a new one is a decision here rather than a silent default.
EVENT_STATUS: dict[BookingStatus, str] = {
    BookingStatus.AWAITING_PAYMENT: "TENTATIVE",  # held for a payment: the time is taken until the hold ends
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",  # the time was held; only the mentee did not come
    BookingStatus.DECLINED: "CANCELLED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes in URL-safe base64 without padding


def booking_uid(booking_id: int) -> str:
    return f"booking-{booking_id}@{UID_DOMAIN}"


def booking_event(booking: Booking, summary: str, description: str, stamp: datetime) -> icalendar.Event:
    """The booking as one ``VEVENT``; ``stamp`` is its ``DTSTAMP``."""
    assert booking.id is not None
    event = icalendar.Event()
    event.add("uid", booking_uid(booking.id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", booking.scheduled_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add("sequence", booking.sequence)
    event.add("status", EVENT_STATUS[booking.status])
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if booking.meeting_link:
        event.add("url", booking.meeting_link)
        event.add("location", booking.meeting_link)
    return event


def _calendar() -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def booking_ics(booking: Booking, title: str, description: str, now: datetime) -> bytes:
    """The ``.ics`` file for ``booking`` (a published copy made ``now``); ``title`` and ``description`` are in the
    reader's language."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add_component(booking_event(booking, title, description, now))
    return _ical(calendar)


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One booking of a feed with its texts in the feed owner's language."""

    booking: Booking
    summary: str
    description: str

    @property
    def stamp(self) -> datetime:
        """The booking's last change (its ``DTSTAMP``: RFC 5545 3.8.7.2 for a calendar without ``METHOD``)."""
        return self.booking.updated_at or self.booking.created_at


def feed_ics(name: str, events: Sequence[FeedEvent]) -> bytes:
    """A person's feed: ``name`` (``X-WR-CALNAME``) and their events. Without events it holds the UTC time zone
    alone, since a calendar must contain at least one component."""
    calendar = _calendar()
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    for event in events:
        calendar.add_component(booking_event(event.booking, event.summary, event.description, event.stamp))
    if not events:
        calendar.add_component(_utc_zone())
    return _ical(calendar)


def _utc_zone() -> icalendar.Timezone:
    zone = icalendar.Timezone()
    zone.add("tzid", "UTC")
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))  # noqa: DTZ001 - RFC 5545: a VTIMEZONE's DTSTART is local time
    standard.add("tzoffsetfrom", timedelta(0))
    standard.add("tzoffsetto", timedelta(0))
    standard.add("tzname", "UTC")
    zone.add_component(standard)
    return zone


def feed_since(now: datetime) -> datetime:
    """The first start time a feed shows."""
    return now - timedelta(days=FEED_PAST_DAYS)


def content_digest(body: bytes) -> str:
    """The feed's version (its ``ETag``): the SHA-256 of what is served."""
    return hashlib.sha256(body).hexdigest()


# --- the feed's address ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A person's feed: the token in its address (kept so /settings can show the address again), the token's
    digest it is found by, and the version last served (digest and when it first was)."""

    user_id: int
    token: str
    token_digest: str
    content_digest: str | None = None
    changed_at: datetime | None = None


def new_feed(user_id: int) -> FeedLink:
    """A feed with a fresh random token (the old one, if any, stops working once this is saved)."""
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    return FeedLink(user_id, token, token_digest(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    """Whether ``text`` could be a token at all (anything else is not looked up)."""
    return bool(_TOKEN.match(text))


def token_matches(given: str, feed: FeedLink) -> bool:
    """The token of a request against the feed found by its digest, in constant time."""
    return hmac.compare_digest(given.encode(), feed.token.encode())


def _ical(calendar: icalendar.Calendar) -> bytes:
    data: bytes = calendar.to_ical()  # icalendar leaves ``to_ical`` unannotated; it returns the file's bytes
    return data
