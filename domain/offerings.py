"""A mentor's offerings workspace: edit any field, duplicate, delete only what was never booked.

The rules: reading what the mentor typed or tapped for one field, the limits, a copy's title, the shareable
links. The use cases that load and save offerings are ``domain.usecases.offerings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError, InvalidInput
from domain.ids import OFFERING_IDS, USER_IDS
from domain.model import (
    CAPACITY_MAX,
    DESCRIPTION_MAX,
    MAX_BUFFER_MINUTES,
    TITLE_MAX,
    Availability,
    Category,
    Offering,
    OfferingStatus,
    WeeklyRule,
)
from domain.payments import STARS_MAX, STARS_MIN
from domain.series import parse_package
from domain.validation import NOT_A_NUMBER, clean_text, parse_price, validate_duration, validate_title

POLICY_MAX = 1000
PREPARATION_MAX = 1000
CLEAR = "-"  # typed instead of a text: empty the field

OUT_OF_RANGE = "out_of_range"
ARCHIVED = "archived"


class OfferingField(StrEnum):
    """What one edit changes; the values travel in ``callback_data`` and the dialog, so they never change."""

    TITLE = "t"
    DESCRIPTION = "d"
    CATEGORY = "c"
    PRICE = "p"
    DURATION = "m"
    BUFFER_BEFORE = "bb"
    BUFFER_AFTER = "ba"
    DAILY_LIMIT = "dl"
    ADVANCE_DAYS = "ad"
    MIN_NOTICE = "mn"
    CANCELLATION_POLICY = "cp"
    CANCELLATION_CUTOFF = "cc"
    RESCHEDULE_CUTOFF = "rc"  # until when a mentee may move a session (``domain.reschedule``)
    PREPARATION_NOTES = "pn"
    PROFILE_HOURS = "ph"  # "1": the mentor's profile hours, "0": the offering's own weekly rules
    PRICE_STARS = "ps"  # the price in Telegram Stars; "-": the suggestion from the rupee price
    AUTO_CONFIRM = "ac"  # "1": a booking paid in the bot is confirmed at once, "0": it waits for the mentor
    CAPACITY = "sc"  # seats of one session (1: 1:1); lowering it never drops anyone already booked
    PACKAGE = "pk"  # booked only as N weekly sessions (``domain.series``); "0": one session at a time


@dataclass(frozen=True, slots=True)
class Bounds:
    """A whole number the mentor types: ``low``..``high`` inclusive; ``error`` is the ``InvalidInput`` field."""

    low: int
    high: int
    error: str


# The whole-number fields: the attribute of ``Offering`` and its bounds (stated in the error message).
NUMBERS: dict[OfferingField, tuple[str, Bounds]] = {
    OfferingField.BUFFER_BEFORE: ("buffer_before_minutes", Bounds(0, MAX_BUFFER_MINUTES, "buffer")),
    OfferingField.BUFFER_AFTER: ("buffer_after_minutes", Bounds(0, MAX_BUFFER_MINUTES, "buffer")),
    OfferingField.DAILY_LIMIT: ("max_bookings_per_day", Bounds(1, 50, "daily_limit")),
    OfferingField.ADVANCE_DAYS: ("advance_booking_days", Bounds(1, 365, "advance_days")),
    OfferingField.MIN_NOTICE: ("min_notice_hours", Bounds(0, 720, "min_notice")),
    OfferingField.CANCELLATION_CUTOFF: ("cancellation_cutoff_hours", Bounds(0, 720, "cutoff_hours")),
    OfferingField.CAPACITY: ("capacity", Bounds(1, CAPACITY_MAX, "capacity")),
    OfferingField.RESCHEDULE_CUTOFF: ("reschedule_cutoff_hours", Bounds(0, 720, "cutoff_hours")),
}

# The free-text fields: the attribute, the limit in characters, the ``InvalidInput`` field.
TEXTS: dict[OfferingField, tuple[str, int, str]] = {
    OfferingField.DESCRIPTION: ("description", DESCRIPTION_MAX, "description"),
    OfferingField.CANCELLATION_POLICY: ("cancellation_policy", POLICY_MAX, "policy"),
    OfferingField.PREPARATION_NOTES: ("preparation_notes", PREPARATION_MAX, "preparation"),
}


class HasBookings(DomainError):
    """An offering that was ever booked keeps its history: it can be archived, not deleted."""


class NoAvailability(InvalidInput):
    """An offering cannot go live while the mentor has no weekly hours."""

    def __init__(self) -> None:
        super().__init__("availability", "empty")


# --- pure rules ---------------------------------------------------------------------------------------------


def parse_whole(text: str, bounds: Bounds) -> int:
    """A whole number within ``bounds`` (``15`` or ``15 min`` style units are not guessed: digits only)."""
    typed = text.strip()
    if not re.fullmatch(r"\d{1,7}", typed):
        raise InvalidInput(bounds.error, NOT_A_NUMBER)
    number = int(typed)
    if not bounds.low <= number <= bounds.high:
        raise InvalidInput(bounds.error, OUT_OF_RANGE)
    return number


def parse_category(text: str) -> Category:
    try:
        return Category(text.strip())
    except ValueError:
        raise InvalidInput("category", "unknown") from None


def parse_duration(text: str) -> int:
    typed = text.strip()
    if not re.fullmatch(r"\d{1,3}", typed):
        raise InvalidInput("duration", "not_allowed")
    return validate_duration(int(typed))


def parse_text(text: str, limit: int, field: str) -> str:
    """Free text up to ``limit`` characters; ``-`` alone clears it. Shown escaped, so any markup stays literal."""
    if text.strip() == CLEAR:
        return ""
    return clean_text(text, limit, field=field)


def parse_switch(text: str, field: str = "profile_hours") -> bool:
    if text not in ("0", "1"):
        raise InvalidInput(field, "unknown")
    return text == "1"


STARS_PRICE = Bounds(STARS_MIN, STARS_MAX, "price_stars")


def parse_stars(text: str) -> int | None:
    """A price in whole Telegram Stars; ``-`` (or nothing) goes back to the price suggested from the rupees."""
    if text.strip() in (CLEAR, ""):
        return None
    return parse_whole(text, STARS_PRICE)


def check_editable(offering: Offering) -> None:
    if offering.status == OfferingStatus.ARCHIVED:
        raise InvalidInput("status", ARCHIVED)


def edit(
    offering: Offering, field: OfferingField, value: str, profile_weekly: tuple[WeeklyRule, ...] = ()
) -> Offering:
    """``offering`` with ``field`` set from ``value`` (typed, or a button's value); ``InvalidInput`` when it is not
    acceptable. Switching to the offering's own hours while it has none starts them as a copy of the mentor's
    ``profile_weekly``, so a live offering is never left with nothing bookable by the switch itself."""
    check_editable(offering)
    if field in NUMBERS:
        attribute, bounds = NUMBERS[field]
        return offering.with_changes(**{attribute: parse_whole(value, bounds)})
    if field in TEXTS:
        attribute, limit, error = TEXTS[field]
        return offering.with_changes(**{attribute: parse_text(value, limit, error)})
    match field:
        case OfferingField.TITLE:
            return offering.with_changes(title=validate_title(value))
        case OfferingField.PRICE:
            return offering.with_changes(price=parse_price(value))
        case OfferingField.DURATION:
            return offering.with_changes(duration_minutes=parse_duration(value))
        case OfferingField.CATEGORY:
            return offering.with_changes(category=parse_category(value))
        case OfferingField.PRICE_STARS:
            return offering.with_changes(price_stars=parse_stars(value))
        case OfferingField.PACKAGE:
            return offering.with_changes(package_weeks=parse_package(value))
        case OfferingField.AUTO_CONFIRM:
            return offering.with_changes(auto_confirm_paid=parse_switch(value, "auto_confirm"))
        case OfferingField.PROFILE_HOURS:
            use_profile = parse_switch(value)
            rules = offering.weekly_rules
            if not use_profile and not rules:
                rules = profile_weekly
            return offering.with_changes(use_profile_availability=use_profile, weekly_rules=rules)
    raise InvalidInput("field", "unknown")  # pragma: no cover - every field is handled above


def copy_title(title: str, mark: str) -> str:
    """``title`` followed by `` (copy)`` (``mark`` in the mentor's language), shortened to fit ``TITLE_MAX``."""
    suffix = " " + mark
    room = TITLE_MAX - len(suffix)
    return title[:room].rstrip() + suffix if len(title) > room else title + suffix


def duplicate(offering: Offering, mark: str) -> Offering:
    """A new draft with every setting (own weekly rules included) and no history: counters start at zero."""
    return Offering(
        mentor_id=offering.mentor_id,
        title=copy_title(offering.title, mark),
        price=offering.price,
        duration_minutes=offering.duration_minutes,
        description=offering.description,
        category=offering.category,
        use_profile_availability=offering.use_profile_availability,
        weekly_rules=offering.weekly_rules,
        buffer_before_minutes=offering.buffer_before_minutes,
        buffer_after_minutes=offering.buffer_after_minutes,
        max_bookings_per_day=offering.max_bookings_per_day,
        advance_booking_days=offering.advance_booking_days,
        min_notice_hours=offering.min_notice_hours,
        cancellation_policy=offering.cancellation_policy,
        cancellation_cutoff_hours=offering.cancellation_cutoff_hours,
        reschedule_cutoff_hours=offering.reschedule_cutoff_hours,
        preparation_notes=offering.preparation_notes,
        price_stars=offering.price_stars,
        auto_confirm_paid=offering.auto_confirm_paid,
        capacity=offering.capacity,
        package_weeks=offering.package_weeks,
        status=OfferingStatus.DRAFT,
    )


def start_payload(kind: str, number: int) -> str:
    """The ``/start`` parameter of a shareable link: ``o<id>`` for an offering, ``m<id>`` for a mentor."""
    return f"{kind}{number}"


def read_payload(payload: str) -> tuple[str, int] | None:
    """``o12`` → ``("o", 12)``, ``m101`` → ``("m", 101)``; anything else → None. A number no offering or user
    can have (``domain.ids``) reads as an id none has: the link points to an offering or mentor not there."""
    match = re.fullmatch(r"([om])([1-9][0-9]*)", payload.strip())
    if match is None:
        return None
    kind, number = match.groups()
    return kind, (OFFERING_IDS if kind == "o" else USER_IDS).read(number)


# --- what the mentor manages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferingScreen:
    """One offering as its mentor manages it, with the profile hours it may fall back on."""

    offering: Offering
    profile: Availability | None

    @property
    def weekly(self) -> tuple[WeeklyRule, ...]:
        """The weekly hours mentees can book against."""
        if self.offering.use_profile_availability:
            return self.profile.weekly if self.profile else ()
        return self.offering.weekly_rules

    @property
    def hours_missing(self) -> bool:
        """True when nothing could be booked: no weekly hours where this offering takes them from."""
        return not self.weekly
