"""The ids records can have, and reading numbers from text nobody vouches for (button data, links).

Ids are bounded by what their database columns hold (``storage.models``; a storage test keeps the two in step):
offerings and bookings have ``Integer`` ids, users ``BigInteger`` ones (Telegram's user ids). A number outside
that range cannot name a record; sent to the database it would fail ("value out of int32 range", SQLite's
``OverflowError``) instead of finding nothing. So a number read from a button or a link is checked first, and
anything out of range reads as an id no record has: it is looked up, not found, and answered like any other
unknown id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

_NUMBER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True, slots=True)
class NumberRange:
    """The numbers one field can carry, ``low`` to ``high``; any other number reads as ``outside``, a value the
    field's reader answers as unknown (an id no record has, a page past the end, a weekday that is none)."""

    low: int
    high: int
    outside: int

    def __post_init__(self) -> None:
        inside = self.low < self.outside < self.high  # an edge may stand for everything beyond it (pages)
        if self.low > self.high or inside:
            raise ValueError(f"bad number range {self}")

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.low <= number <= self.high

    def read(self, text: str) -> int:
        """The number written in ``text`` (digits, maybe a minus sign; ``ValueError`` for anything else), or
        ``outside`` when it is out of range, however many digits it has."""
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"not a number: {text!r}")
        digits = len(text.lstrip("-").lstrip("0"))
        if digits > max(len(str(abs(self.low))), len(str(abs(self.high)))):
            return self.outside  # too long to be in range: not even converted
        number = int(text)
        return number if self.low <= number <= self.high else self.outside


def ids(high: int) -> NumberRange:
    """Ids of records whose ids count up from 1 in a column holding at most ``high``; 0 names no record."""
    return NumberRange(1, high, outside=0)


OFFERING_IDS = ids(INT32_MAX)  # offerings.id: Integer
BOOKING_IDS = ids(INT32_MAX)  # bookings.id: Integer
USER_IDS = ids(INT64_MAX)  # users.id: BigInteger, Telegram's user ids
CALENDAR_IDS = ids(INT32_MAX)  # busy_calendars.id: Integer
WAITLIST_IDS = ids(INT32_MAX)  # waitlist.id: Integer
PAYMENT_IDS = ids(INT32_MAX)  # payments.id: Integer (the ledger)
