"""The waitlist: mentees who found no free time ask to be told when one frees up.

The rules only (the use cases are ``domain.usecases.waitlist``):

1. **Joining.** A mentee waits for an offering (any date: its booking window was full) or for one date of it, in
   their own zone (the date they opened was full). Joining twice changes nothing; a date in the past cannot be
   waited for.
2. **Freed times.** A time frees when a booking stops holding it: cancelled, declined, expired, a held payment let
   go or run out, a booking moved away from it, a new time asked for and declined or expired. The entries that
   match it (any date, or the freed start's date in the entry's zone) are told in the order they joined, at most
   ``WAVE`` per freed time, each once (``notice_key``), through the outbox at the shared send rate, with a button
   that goes straight to the time. The usual booking checks apply: the first to confirm gets it, the others are
   told it was taken and stay on the list.
3. **Told once per time; the next wave goes further.** Whoever was told of a time is never told of it again: when
   the same time frees again (it was booked and freed once more, or the first wave let it pass), the next ``WAVE``
   entries in joining order that were not told of it get the next wave. The outbox's notices are the record of
   who was told (stored: it survives restarts; a notice's key is unique, so two processes never both send one).
4. **Opened times.** An edit opens times: the mentor adding hours (weekly, or on one date) or removing a day off;
   an offering going live again, or a shorter session or buffer, more seats, a higher daily limit, a longer booking
   window or a shorter notice; a busy calendar removed, or read again with less in it. The times opened are those
   free after the edit that were not before it (``opened_starts``; both taken at the same moment), within each
   offering's booking window. Each is handed on as a freed time, in order, except that one edit tells each entry
   of one time at most (its earliest): an edit opening a whole day sends a waiting person one message, not one
   per time.
5. **Leaving.** An entry ends when its mentee books that offering, leaves it, or its date passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput
from domain.model import Booking
from domain.schedule import PAST

WAVE = 5  # the people told of one freed time, at most


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    offering_id: int
    mentee_id: int
    day: date | None  # None: any date of the offering
    zone: str  # the mentee's zone when joining: ``day`` is a date there
    created_at: datetime
    id: int | None = None

    def matches(self, start: datetime) -> bool:
        return self.day is None or start.astimezone(ZoneInfo(self.zone)).date() == self.day

    def ended(self, now: datetime) -> bool:
        """Its date has passed (in the mentee's zone)."""
        return self.day is not None and self.day < now.astimezone(ZoneInfo(self.zone)).date()


def new_entry(offering_id: int, mentee_id: int, day: date | None, zone: str, now: datetime) -> WaitlistEntry:
    entry = WaitlistEntry(offering_id, mentee_id, day, zone, now)
    if entry.ended(now):
        raise InvalidInput("date", PAST)  # said like a past date anywhere else
    return entry


def freed_starts(before: Booking | None, after: Booking, now: datetime) -> list[datetime]:
    """The start times ``before → after`` gives back (rule 2), still ahead of ``now``."""
    if before is None:
        return []
    freed: list[datetime] = []
    if before.status.is_active and (not after.status.is_active or after.scheduled_at != before.scheduled_at):
        freed.append(before.scheduled_at)
    held = before.requested_start
    if (
        held is not None
        and before.status.is_active
        and after.requested_start != held
        and after.scheduled_at != held
    ):
        freed.append(held)
    return [start for start in freed if start > now]


def wave(
    entries: Iterable[WaitlistEntry], start: datetime, now: datetime, size: int = WAVE
) -> list[WaitlistEntry]:
    """The first ``size`` entries (in the order given: the order they joined) waiting for ``start``."""
    found = [entry for entry in entries if entry.matches(start) and not entry.ended(now)]
    return found[:size]


def opened_starts(before: Iterable[datetime], after: Iterable[datetime]) -> list[datetime]:
    """The start times an edit of the mentor's hours opens (rule 4): free after it, not before; in order."""
    return sorted(set(after) - set(before))


def candidate_days(start: datetime) -> tuple[date, date]:
    """The dates ``start`` falls on in any zone (UTC-12 to UTC+14): what storage narrows entries by first."""
    return (start - timedelta(hours=12)).date(), (start + timedelta(hours=14)).date()


def notice_key(entry_id: int, start: datetime) -> str:
    """One message per entry and freed time, however often that time frees."""
    return f"waitlist:{entry_id}:{start:%Y%m%d%H%M}"
