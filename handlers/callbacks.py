"""Typed, compact ``callback_data``: one frozen dataclass per kind of button.

``pack()`` gives ``prefix:field:field`` (at most 64 bytes, Telegram's limit); ``unpack()`` parses it back and
raises ``BadCallback`` for anything malformed. Decoded data is only a request: handlers re-check who is pressing
and what they may do. Field types: ``int``, ``str`` (no ``:``), ``date`` (YYYYMMDD), ``datetime`` (UTC minutes
since the epoch, base 36) and ``StrEnum`` members.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from domain.discovery import PriceBand, SortOrder
from domain.inbox import InboxTab
from domain.mentee import MyTab
from domain.model import OfferingStatus
from domain.offerings import OfferingField
from domain.profiles import ProfileField

MAX_BYTES = 64
_SEP = ":"
_REGISTRY: dict[str, type[CallbackData]] = {}


class BadCallback(ValueError):
    """The button's data does not decode; the press is answered with a refusal and nothing changes."""


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in callback data")
        minutes, rest = divmod(int(value.timestamp()), 60)
        if rest:
            raise ValueError("callback datetimes are whole minutes")
        return _base36(minutes)
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    text = str(value.value if isinstance(value, StrEnum) else value)
    if _SEP in text:
        raise ValueError(f"{_SEP!r} in callback field {text!r}")
    return text


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _decode(kind: Any, text: str) -> Any:
    try:
        if kind is bool:
            if text not in ("0", "1"):
                raise ValueError(text)
            return text == "1"
        if kind is int:
            if not re.fullmatch(r"-?\d{1,19}", text):
                raise ValueError(text)
            return int(text)
        if kind is datetime:
            return datetime.fromtimestamp(int(text, 36) * 60, tz=UTC)
        if kind is date:
            if not re.fullmatch(r"\d{8}", text):
                raise ValueError(text)
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            return kind(text)
        if kind is str:
            return text
    except (ValueError, OverflowError) as error:
        raise BadCallback(f"bad field {text!r}") from error
    raise TypeError(f"unsupported callback field type {kind!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackData:
    prefix: ClassVar[str] = ""

    def pack(self) -> str:
        values = [_encode(getattr(self, name)) for name, _kind in _layout(type(self))]
        data = _SEP.join([self.prefix, *values])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: str) -> Self:
        parts = data.split(_SEP)
        layout = _layout(cls)
        if parts[0] != cls.prefix or len(parts) != len(layout) + 1:
            raise BadCallback(f"not a {cls.__name__}: {data!r}")
        return cls(**{name: _decode(kind, raw) for (name, kind), raw in zip(layout, parts[1:])})

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        """For ``CallbackQueryHandler(pattern=...)``: matches this kind's prefix only."""
        return re.compile(rf"^{re.escape(cls.prefix)}(:|$)")


@functools.cache
def _layout(cls: type[CallbackData]) -> tuple[tuple[str, Any], ...]:
    """The kind's fields in order with their types (resolved once: every button built or pressed needs them)."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def callback(prefix: str):
    """Class decorator: a frozen dataclass button kind with a unique ``prefix``."""

    def wrap(cls: type) -> type:
        if prefix in _REGISTRY or _SEP in prefix:
            raise ValueError(f"duplicate or invalid callback prefix {prefix!r}")
        cls = dataclasses.dataclass(frozen=True, slots=True)(cls)
        cls.prefix = prefix
        _REGISTRY[prefix] = cls
        return cls

    return wrap


def decode(data: str | None) -> CallbackData:
    """Decode any registered kind (used by the catch-all handler to say an unknown button is stale)."""
    if not data:
        raise BadCallback("empty")
    kind = _REGISTRY.get(data.split(_SEP, 1)[0])
    if kind is None:
        raise BadCallback(f"unknown prefix in {data!r}")
    return kind.unpack(data)


# --- the buttons --------------------------------------------------------------------------------------------


class MenuItem(StrEnum):
    BECOME_MENTOR = "mentor"
    AVAILABILITY = "avail"
    NEW_OFFERING = "new"
    MY_OFFERINGS = "offers"
    BOOK = "book"
    SETTINGS = "set"
    LANGUAGE = "lang"
    HELP = "help"
    PROFILE = "prof"
    BOOKINGS = "inbox"
    MY_BOOKINGS = "mine"


class BookingAction(StrEnum):
    CONFIRM = "c"
    DECLINE = "d"
    LINK = "l"
    REFRESH = "r"
    COMPLETE = "k"
    NO_SHOW = "n"
    CANCEL = "x"
    NOTE = "p"


@callback("m")
class Menu(CallbackData):
    item: MenuItem


@callback("tz")
class PickZone(CallbackData):
    zone: str


@callback("tzr")
class BrowseZones(CallbackData):
    region: str
    page: int


@callback("lg")
class PickLanguage(CallbackData):
    locale: str


@callback("avd")
class ToggleDay(CallbackData):
    weekday: int


@callback("avh")
class ToggleHour(CallbackData):
    hour: int


class AvailabilityStep(StrEnum):
    DAYS = "days"
    HOURS = "hours"
    SAVE = "save"
    TYPE = "type"


@callback("avs")
class AvailabilityGo(CallbackData):
    step: AvailabilityStep


@callback("nd")
class NewDuration(CallbackData):
    minutes: int


@callback("nf")
class NewFree(CallbackData):
    pass


@callback("os")
class SetOfferingStatus(CallbackData):
    offering_id: int
    status: OfferingStatus


@callback("br")
class Browse(CallbackData):
    page: int


@callback("bo")
class BookOffering(CallbackData):
    offering_id: int


@callback("bd")
class BookDate(CallbackData):
    offering_id: int
    day: date


@callback("bt")
class BookTime(CallbackData):
    offering_id: int
    start: datetime


@callback("bn")
class SkipNotes(CallbackData):
    offering_id: int
    start: datetime


@callback("bc")
class ConfirmBooking(CallbackData):
    offering_id: int
    start: datetime


@callback("ba")
class ActOnBooking(CallbackData):
    booking_id: int
    action: BookingAction


@callback("eh")
class EditHours(CallbackData):
    """Open the weekly-hours editor: ``offering_id`` 0 for the mentor's profile hours, else that offering's own."""

    offering_id: int


@callback("pf")
class EditProfile(CallbackData):
    field: ProfileField


@callback("pp")
class PreviewProfile(CallbackData):
    pass


@callback("rt")
class RateSession(CallbackData):
    booking_id: int
    stars: int


@callback("rs")
class SkipFeedback(CallbackData):
    booking_id: int


@callback("at")
class Attendance(CallbackData):
    """The mentee's answer to a reminder: coming, or can't make it (which starts a cancellation)."""

    booking_id: int
    coming: bool


@callback("cx")
class CancelMine(CallbackData):
    """The mentee cancels their booking (asks for a reason first)."""

    booking_id: int


# --- availability workspace: the week day by day, date exceptions, free time ahead ---------------------------
# ``scope`` is 0 for the mentor's own weekly hours, otherwise the id of the offering whose own hours are edited.


class SchedulePage(StrEnum):
    DAYS = "days"  # the "Step 1 of 2" editor of several days at once
    WEEK = "week"  # pick one day to edit
    EXCEPTIONS = "exc"
    PREVIEW = "free"
    DAY_OFF = "off"  # the first step of adding an exception
    DATE_HOURS = "hrs"
    VACATION = "vac"


class DayAction(StrEnum):
    GRID = "g"
    TYPE = "t"
    CLEAR = "c"


class DateStep(StrEnum):
    DAY_OFF = "off"
    DATE_HOURS = "hrs"
    VACATION_FROM = "from"
    VACATION_TO = "to"


@callback("awg")
class OpenSchedule(CallbackData):
    scope: int
    page: SchedulePage


@callback("awd")
class EditDay(CallbackData):
    scope: int
    weekday: int


@callback("awa")
class ActOnDay(CallbackData):
    scope: int
    weekday: int
    action: DayAction


@callback("awc")
class CopyDay(CallbackData):
    """The copy screen of ``source`` with the target days in the bit mask ``targets`` (bit 0 = Monday) ticked."""

    scope: int
    source: int
    targets: int


@callback("awx")
class ApplyCopy(CallbackData):
    scope: int
    source: int
    targets: int


@callback("awt")
class PickDate(CallbackData):
    """A date button of an exception step; ``first`` is the vacation's first day (else the same as ``day``)."""

    step: DateStep
    day: date
    first: date


@callback("awr")
class RemoveException(CallbackData):
    first: date
    last: date


# --- the mentor's bookings inbox (``handlers.mentor_inbox``) ---------------------------------------------------


@callback("ib")
class OpenInbox(CallbackData):
    """One page (0-based) of one tab of the mentor's bookings inbox."""

    tab: InboxTab
    page: int


@callback("ic")
class OpenBookingCard(CallbackData):
    """A booking's card opened from the inbox; ``tab`` and ``page`` are where "Back to list" returns."""

    booking_id: int
    tab: InboxTab
    page: int


# --- the offerings workspace (``handlers.offerings``, ``handlers.offering_edit``) ---------------------------


class OfferingAction(StrEnum):
    EDIT = "e"  # the edit menu (every field)
    ARCHIVE = "a"  # asks first: archiving is final
    DELETE = "d"  # asks first, or explains why it cannot be deleted
    DELETE_YES = "dy"
    DUPLICATE = "c"
    SHARE = "s"


@callback("ofm")
class ManageOffering(CallbackData):
    """The manage screen of one offering: every field and what can be done with it."""

    offering_id: int


@callback("ofa")
class ActOnOffering(CallbackData):
    offering_id: int
    action: OfferingAction


@callback("ofe")
class EditOfferingField(CallbackData):
    """Ask for a new value of one field (typed, or one of the buttons that come with the question)."""

    offering_id: int
    field: OfferingField


@callback("ofv")
class SetOfferingField(CallbackData):
    """A value chosen on a button; ``value`` is what the mentor could also have typed (e.g. ``30``, ``0``)."""

    offering_id: int
    field: OfferingField
    value: str


@callback("ag")
class ToggleAgenda(CallbackData):
    """Mentors: the 08:00 message listing the day's sessions, on or off."""

    on: bool


# --- the mentee's "My bookings" (``handlers.my_bookings``) and the booking flow's week pages --------------------


@callback("myl")
class OpenMyBookings(CallbackData):
    """One page (0-based) of one tab of the mentee's "My bookings"."""

    tab: MyTab
    page: int


@callback("myc")
class OpenMyBooking(CallbackData):
    """A booking's card opened from "My bookings"; ``tab`` and ``page`` are where "Back" returns."""

    booking_id: int
    tab: MyTab
    page: int


@callback("myi")
class AddToCalendar(CallbackData):
    """Send the booking as an ``.ics`` file."""

    booking_id: int


@callback("myr")
class AskRating(CallbackData):
    """Show the 1-5 stars for a completed, unrated session."""

    booking_id: int


@callback("bkw")
class BookWeek(CallbackData):
    """The booking flow's date picker, the week starting on ``monday`` (in the mentee's zone)."""

    offering_id: int
    monday: date


# --- discover (``handlers.discover``): the filtered list, its panels, the offering card, the mentor page -------
# The list's whole state travels in the data: ``category`` is 0 for all, else ``domain.discovery.CATEGORIES``
# position + 1; ``minutes`` 0 for any duration; ``text`` the normalized search ("" for none, at most 40 bytes).


class DiscoverPanel(StrEnum):
    FILTERS = "f"
    SORT = "s"


@callback("dsl")
class DiscoverList(CallbackData):
    category: int
    price: PriceBand
    minutes: int
    soon: bool
    sort: SortOrder
    page: int
    text: str


@callback("dsp")
class DiscoverOptions(CallbackData):
    """A panel of choices (filters, sort, categories) for the list described by the other fields."""

    panel: DiscoverPanel
    category: int
    price: PriceBand
    minutes: int
    soon: bool
    sort: SortOrder
    text: str


@callback("dsq")
class DiscoverSearch(CallbackData):
    """Ask for words to search, keeping the list's category, filters and sort."""

    category: int
    price: PriceBand
    minutes: int
    soon: bool
    sort: SortOrder


@callback("dsc")
class ShowOffering(CallbackData):
    offering_id: int


@callback("dsm")
class ShowMentor(CallbackData):
    mentor_id: int
