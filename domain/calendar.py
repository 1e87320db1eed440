"""An iCalendar (RFC 5545) file for one booking, so a mentee can add the session to any calendar app.

Written by hand because it is one event with a handful of properties: UTC times (``...Z``), text escaped
(backslash, semicolon, comma, newline), lines folded at 75 octets without splitting a UTF-8 character, CRLF
line ends. The UID is stable per booking, so importing the file again updates the same event; ``SEQUENCE``
grows with each change (cancelled bookings carry ``STATUS:CANCELLED``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.model import Booking, BookingStatus

PRODID = "-//Mentor Desk//Mentor Desk bot//EN"
UID_DOMAIN = "mentor-desk.bot"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces joined by CRLF + space, never inside a UTF-8 sequence."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def booking_uid(booking_id: int) -> str:
    return f"booking-{booking_id}@{UID_DOMAIN}"


def booking_ics(
    booking: Booking, title: str, description: str, now: datetime, sequence: int = 0
) -> bytes:
    """The ``.ics`` file (UTF-8 bytes) for ``booking``; ``title``/``description`` are already in the reader's
    language."""
    assert booking.id is not None
    status = {
        BookingStatus.CONFIRMED: "CONFIRMED",
        BookingStatus.PENDING: "TENTATIVE",
        BookingStatus.COMPLETED: "CONFIRMED",
    }.get(booking.status, "CANCELLED")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{booking_uid(booking.id)}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(booking.scheduled_at)}",
        f"DTEND:{_utc(booking.ends_at)}",
        f"SEQUENCE:{sequence}",
        f"STATUS:{status}",
        f"SUMMARY:{escape_text(title)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if booking.meeting_link:
        lines.append(f"URL:{booking.meeting_link}")
        lines.append(f"LOCATION:{escape_text(booking.meeting_link)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
