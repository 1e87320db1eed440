"""Typed, compact ``callback_data``: one frozen dataclass per kind of button.

``pack()`` gives ``prefix:field:field`` (at most 64 bytes, Telegram's limit); ``unpack()`` parses it back and
raises ``BadCallback`` for anything malformed. Decoded data is only a request: handlers re-check who is pressing
and what they may do. Field types: numbers (``int`` annotated with its ``NumberRange``: the field types below),
``str`` (no ``:``), ``date`` (YYYYMMDD), ``datetime`` (UTC minutes since the epoch, base 36) and ``StrEnum``
members.

Numbers and dates are bounded, because the data may be forged: a number outside its field's range reads as the
range's ``outside`` value (an id no record has, a page past the end ...), so it is answered like any unknown
one instead of failing in the database; a date or time outside ``FIRST_DAY`` .. ``LAST_DAY`` reads as the nearest
of the two, far outside any booking window or date step, instead of overflowing ``datetime`` arithmetic.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, TypeVar

from domain.discovery import CATEGORIES, PriceBand, SortOrder
from domain.ids import (
    BOOKING_IDS,
    CALENDAR_IDS,
    INT32_MAX,
    OFFERING_IDS,
    PAYMENT_IDS,
    USER_IDS,
    WAITLIST_IDS,
    NumberRange,
)
from domain.inbox import InboxTab
from domain.mentee import MyTab
from domain.model import OfferingStatus, PaymentMode
from domain.offerings import OfferingField
from domain.payments import STARS_MAX, STARS_MIN
from domain.profiles import ProfileField

MAX_BYTES = 64
_SEP = ":"
_REGISTRY: dict[str, type[CallbackData]] = {}

# --- field types ----------------------------------------------------------------------------------------------

OfferingId = Annotated[int, OFFERING_IDS]
BookingId = Annotated[int, BOOKING_IDS]
UserId = Annotated[int, USER_IDS]
CalendarId = Annotated[int, CALENDAR_IDS]
WaitlistId = Annotated[int, WAITLIST_IDS]
PaymentId = Annotated[int, PAYMENT_IDS]  # a row of the ledger
# 0 for the mentor's own weekly hours, otherwise the id of the offering whose own hours are edited
Scope = Annotated[int, NumberRange(0, OFFERING_IDS.high, outside=-1)]
# 0-based; any number beyond reads as a page past the end, which shows the last page
Page = Annotated[int, NumberRange(0, INT32_MAX, outside=INT32_MAX)]
Weekday = Annotated[int, NumberRange(0, 6, outside=-1)]  # 0 = Monday
Weekdays = Annotated[int, NumberRange(0, 2**7 - 1, outside=-1)]  # a bit mask, bit 0 = Monday
Hour = Annotated[int, NumberRange(0, 23, outside=-1)]
Minutes = Annotated[int, NumberRange(0, 24 * 60, outside=-1)]
Stars = Annotated[int, NumberRange(1, 5, outside=0)]
StarsPrice = Annotated[int, NumberRange(STARS_MIN, STARS_MAX, outside=0)]  # a price in Telegram Stars
CategoryCode = Annotated[int, NumberRange(0, len(CATEGORIES), outside=-1)]  # 0 all, else position + 1
SeriesLength = Annotated[int, NumberRange(0, 99, outside=-1)]  # weeks of a weekly series (the rules allow 2-12)

# Dates and times a button is read as: what ``date`` holds less a year at each end, room for the arithmetic the
# flows do with them (a week, a booking window of up to a year, time zones); the database holds more. (A button
# drawn from such a date, a week earlier say, may carry one beyond: it reads back as the bound.)
FIRST_DAY, LAST_DAY = date(date.min.year + 1, 1, 1), date(date.max.year - 1, 12, 31)
_FIRST_MINUTE = int(datetime.combine(FIRST_DAY, time(0), UTC).timestamp()) // 60
_LAST_MINUTE = int(datetime.combine(LAST_DAY, time(23, 59), UTC).timestamp()) // 60


class BadCallback(ValueError):
    """The button's data does not decode; the press is answered with a refusal and nothing changes."""


def _encode(value: Any, numbers: NumberRange | None) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if numbers is None or value not in numbers:
            raise ValueError(f"{value} is not a number this field carries ({numbers})")
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in callback data")
        minutes, rest = divmod(int(value.timestamp()), 60)
        if rest:
            raise ValueError("callback datetimes are whole minutes")
        return ("-" if minutes < 0 else "") + _base36(abs(minutes))
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


def _read_moment(text: str) -> datetime:
    if not re.fullmatch(r"-?[0-9a-z]+", text):
        raise ValueError(text)
    if len(text.lstrip("-")) > 12:  # far beyond either bound: not even converted
        minutes = _FIRST_MINUTE if text.startswith("-") else _LAST_MINUTE
    else:
        minutes = min(max(int(text, 36), _FIRST_MINUTE), _LAST_MINUTE)
    return datetime.fromtimestamp(minutes * 60, tz=UTC)


def _read_day(text: str) -> date:
    if not re.fullmatch(r"[0-9]{8}", text):
        raise ValueError(text)
    return min(max(date(int(text[:4]), int(text[4:6]), int(text[6:])), FIRST_DAY), LAST_DAY)


def _reader(kind: Any) -> Callable[[str], Any]:
    """How one field type is read from its text (a ``ValueError`` for anything malformed)."""
    if kind is bool:
        return _read_bool
    if typing.get_origin(kind) is Annotated:
        number, numbers = typing.get_args(kind)
        if number is int and isinstance(numbers, NumberRange):
            return numbers.read
    if kind is datetime:
        return _read_moment
    if kind is date:
        return _read_day
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind
    if kind is str:
        return str
    raise TypeError(f"unsupported callback field type {kind!r} (a number needs its range: Annotated[int, ...])")


def _read_bool(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    read: Callable[[str], Any]
    numbers: NumberRange | None  # the range of a number field

    def decode(self, text: str) -> Any:
        try:
            return self.read(text)
        except (ValueError, OverflowError) as error:
            raise BadCallback(f"bad field {text!r}") from error


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackData:
    prefix: ClassVar[str] = ""

    def pack(self) -> str:
        values = [_encode(getattr(self, field.name), field.numbers) for field in _layout(type(self))]
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
        return cls(**{field.name: field.decode(raw) for field, raw in zip(layout, parts[1:], strict=True)})

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        """For ``CallbackQueryHandler(pattern=...)``: matches this kind's prefix only."""
        return re.compile(rf"^{re.escape(cls.prefix)}(:|$)")


Kind = TypeVar("Kind", bound=CallbackData)


_LAYOUTS: dict[type[CallbackData], tuple[_Field, ...]] = {}


def _layout(cls: type[CallbackData]) -> tuple[_Field, ...]:
    """The kind's fields in order with their readers (resolved once: every button built or pressed needs them)."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = _resolve_layout(cls)
    return layout


def _resolve_layout(cls: type[CallbackData]) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    layout = []
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        numbers = typing.get_args(kind)[1] if typing.get_origin(kind) is Annotated else None
        layout.append(_Field(field.name, _reader(kind), numbers))
    return tuple(layout)


@typing.dataclass_transform(frozen_default=True)
def callback(prefix: str) -> Callable[[type[Kind]], type[Kind]]:
    """Class decorator: a frozen dataclass button kind with a unique ``prefix`` (type checkers see the fields)."""

    def wrap(cls: type[Kind]) -> type[Kind]:
        if prefix in _REGISTRY or _SEP in prefix:
            raise ValueError(f"duplicate or invalid callback prefix {prefix!r}")
        cls = dataclasses.dataclass(frozen=True, slots=True)(cls)
        cls.prefix = prefix
        _REGISTRY[prefix] = cls
        return cls

    return wrap


def kinds() -> list[type[CallbackData]]:
    """Every registered button kind."""
    return list(_REGISTRY.values())


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
    page: Page


@callback("lg")
class PickLanguage(CallbackData):
    locale: str


@callback("avd")
class ToggleDay(CallbackData):
    weekday: Weekday


@callback("avh")
class ToggleHour(CallbackData):
    hour: Hour


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
    minutes: Minutes


@callback("nf")
class NewFree(CallbackData):
    pass


@callback("os")
class SetOfferingStatus(CallbackData):
    offering_id: OfferingId
    status: OfferingStatus


@callback("br")
class Browse(CallbackData):
    page: Page


@callback("bo")
class BookOffering(CallbackData):
    offering_id: OfferingId


@callback("bd")
class BookDate(CallbackData):
    offering_id: OfferingId
    day: date


@callback("bt")
class BookTime(CallbackData):
    offering_id: OfferingId
    start: datetime


@callback("bn")
class SkipNotes(CallbackData):
    offering_id: OfferingId
    start: datetime


@callback("bc")
class ConfirmBooking(CallbackData):
    offering_id: OfferingId
    start: datetime


@callback("ba")
class ActOnBooking(CallbackData):
    booking_id: BookingId
    action: BookingAction


@callback("eh")
class EditHours(CallbackData):
    """Open the weekly-hours editor: ``offering_id`` 0 for the mentor's profile hours, else that offering's own."""

    offering_id: Scope


@callback("pf")
class EditProfile(CallbackData):
    field: ProfileField


@callback("pp")
class PreviewProfile(CallbackData):
    pass


@callback("rt")
class RateSession(CallbackData):
    booking_id: BookingId
    stars: Stars


@callback("rs")
class SkipFeedback(CallbackData):
    booking_id: BookingId


@callback("at")
class Attendance(CallbackData):
    """The mentee's answer to a reminder: coming, or can't make it (which starts a cancellation)."""

    booking_id: BookingId
    coming: bool


@callback("cx")
class CancelMine(CallbackData):
    """The mentee cancels their booking (asks for a reason first)."""

    booking_id: BookingId


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
    CALENDARS = "cal"  # busy calendars (``handlers.busy_calendars``)
    ADD_CALENDAR = "cala"  # asks for a calendar's address


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
    scope: Scope
    page: SchedulePage


@callback("awd")
class EditDay(CallbackData):
    scope: Scope
    weekday: Weekday


@callback("awa")
class ActOnDay(CallbackData):
    scope: Scope
    weekday: Weekday
    action: DayAction


@callback("awc")
class CopyDay(CallbackData):
    """The copy screen of ``source`` with the target days in the bit mask ``targets`` (bit 0 = Monday) ticked."""

    scope: Scope
    source: Weekday
    targets: Weekdays


@callback("awx")
class ApplyCopy(CallbackData):
    scope: Scope
    source: Weekday
    targets: Weekdays


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


@callback("awk")
class RemoveCalendar(CallbackData):
    """Remove one of the mentor's busy calendars (``handlers.busy_calendars``)."""

    calendar_id: CalendarId


# --- the mentor's bookings inbox (``handlers.mentor_inbox``) ---------------------------------------------------


@callback("ib")
class OpenInbox(CallbackData):
    """One page (0-based) of one tab of the mentor's bookings inbox."""

    tab: InboxTab
    page: Page


@callback("ic")
class OpenBookingCard(CallbackData):
    """A booking's card opened from the inbox; ``tab`` and ``page`` are where "Back to list" returns."""

    booking_id: BookingId
    tab: InboxTab
    page: Page


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

    offering_id: OfferingId


@callback("ofa")
class ActOnOffering(CallbackData):
    offering_id: OfferingId
    action: OfferingAction


@callback("ofe")
class EditOfferingField(CallbackData):
    """Ask for a new value of one field (typed, or one of the buttons that come with the question)."""

    offering_id: OfferingId
    field: OfferingField


@callback("ofv")
class SetOfferingField(CallbackData):
    """A value chosen on a button; ``value`` is what the mentor could also have typed (e.g. ``30``, ``0``)."""

    offering_id: OfferingId
    field: OfferingField
    value: str


class FeedAction(StrEnum):
    SHOW = "s"
    ASK_RESET = "a"  # asks first: the old address stops working
    RESET = "r"


@callback("fd")
class CalendarFeed(CallbackData):
    """``/settings`` → 📆 Calendar feed: show the address, or make a new one (``handlers.calendar_feed``)."""

    action: FeedAction


@callback("ag")
class ToggleAgenda(CallbackData):
    """Mentors: the 08:00 message listing the day's sessions, on or off."""

    on: bool


# --- the mentee's "My bookings" (``handlers.my_bookings``) and the booking flow's week pages --------------------


@callback("myl")
class OpenMyBookings(CallbackData):
    """One page (0-based) of one tab of the mentee's "My bookings"."""

    tab: MyTab
    page: Page


@callback("myc")
class OpenMyBooking(CallbackData):
    """A booking's card opened from "My bookings"; ``tab`` and ``page`` are where "Back" returns."""

    booking_id: BookingId
    tab: MyTab
    page: Page


@callback("myi")
class AddToCalendar(CallbackData):
    """Send the booking as an ``.ics`` file."""

    booking_id: BookingId


@callback("myr")
class AskRating(CallbackData):
    """Show the 1-5 stars for a completed, unrated session."""

    booking_id: BookingId


@callback("bkw")
class BookWeek(CallbackData):
    """The booking flow's date picker, the week starting on ``monday`` (in the mentee's zone)."""

    offering_id: OfferingId
    monday: date


# --- discover (``handlers.discover``): the filtered list, its panels, the offering card, the mentor page -------
# The list's whole state travels in the data: ``category`` is 0 for all, else ``domain.discovery.CATEGORIES``
# position + 1; ``minutes`` 0 for any duration; ``text`` the normalized search ("" for none, at most 40 bytes).


class DiscoverPanel(StrEnum):
    FILTERS = "f"
    SORT = "s"


@callback("dsl")
class DiscoverList(CallbackData):
    category: CategoryCode
    price: PriceBand
    minutes: Minutes
    soon: bool
    sort: SortOrder
    page: Page
    text: str


@callback("dsp")
class DiscoverOptions(CallbackData):
    """A panel of choices (filters, sort, categories) for the list described by the other fields."""

    panel: DiscoverPanel
    category: CategoryCode
    price: PriceBand
    minutes: Minutes
    soon: bool
    sort: SortOrder
    text: str


@callback("dsq")
class DiscoverSearch(CallbackData):
    """Ask for words to search, keeping the list's category, filters and sort."""

    category: CategoryCode
    price: PriceBand
    minutes: Minutes
    soon: bool
    sort: SortOrder


@callback("dsc")
class ShowOffering(CallbackData):
    offering_id: OfferingId


@callback("dsm")
class ShowMentor(CallbackData):
    mentor_id: UserId


# --- payments (``handlers.payments``) ------------------------------------------------------------------------


@callback("bp")
class ConfirmPaid(CallbackData):
    """Confirm a paid booking and pay it this way (the summary shows one button per way the offering offers)."""

    offering_id: OfferingId
    start: datetime
    mode: PaymentMode


class PaymentAction(StrEnum):
    """Values travel in button data: new letters only, never a reused one."""

    PAY = "p"  # the mentee: send the invoice (again), while the hold lasts
    RELEASE = "r"  # the mentee: give the held time back without paying
    MARK_PAID = "m"  # the mentor: received outside the bot
    MARK_REFUNDED = "f"  # the mentor: refunded by hand
    CLAIM_UPI = "c"  # the mentee: "I have paid" by UPI
    NOT_RECEIVED = "n"  # the mentor: the UPI payment the mentee reported has not arrived


@callback("pa")
class ActOnPayment(CallbackData):
    booking_id: BookingId
    action: PaymentAction


@callback("psr")
class MarkSeriesRefunded(CallbackData):
    """The mentor's Mark all refunded on the message of refunds one action on a weekly series made due: its first
    week and its last ledger row (``domain.payments.recorded_together``); the amounts are the ledger's."""

    booking_id: BookingId
    last_id: PaymentId


@callback("ns")
class NewStarsPrice(CallbackData):
    """The new-offering flow's Stars price step: the suggested price, accepted with a tap."""

    stars: StarsPrice


@callback("ecsv")
class DownloadLedger(CallbackData):
    """``/earnings``: the mentor's ledger as a CSV file."""


class SessionAction(StrEnum):
    """A group session's roster (``handlers.roster``). Values travel in button data: new letters only."""

    OPEN = "o"  # show the roster
    LINK = "l"  # one meeting link for every attendee
    CANCEL = "x"  # cancel the whole session (a reason follows)
    COMPLETE = "k"  # this attendee (the button's booking) attended
    NO_SHOW = "n"  # this attendee did not come


@callback("gs")
class ActOnSession(CallbackData):
    """``booking_id``: an attendee's booking; the session is every booking of its offering at its start."""

    booking_id: BookingId
    action: SessionAction


# --- rescheduling (``handlers.reschedule``) ---------------------------------------------------------------------


@callback("rsb")
class Reschedule(CallbackData):
    """The mentee starts moving their booking: the date picker of its offering."""

    booking_id: BookingId


@callback("rsw")
class MoveWeek(CallbackData):
    """Moving a booking: the date picker's week starting on ``monday`` (in the mentee's zone)."""

    booking_id: BookingId
    monday: date


@callback("rsd")
class MoveDate(CallbackData):
    booking_id: BookingId
    day: date


@callback("rst")
class MoveTime(CallbackData):
    """Moving a booking: the summary of the move to ``start`` (old and new time)."""

    booking_id: BookingId
    start: datetime


@callback("rsc")
class ConfirmMove(CallbackData):
    booking_id: BookingId
    start: datetime


@callback("rsa")
class AnswerMove(CallbackData):
    """The mentor approves (or declines) the mentee's request to move the booking to ``start``."""

    booking_id: BookingId
    start: datetime
    approve: bool


@callback("rpo")
class ProposeTimes(CallbackData):
    """The mentor starts proposing new times for a booking (none ticked yet)."""

    booking_id: BookingId


@callback("rpw")
class ProposeWeek(CallbackData):
    booking_id: BookingId
    monday: date


@callback("rpd")
class ProposeDate(CallbackData):
    booking_id: BookingId
    day: date


@callback("rpt")
class ToggleProposal(CallbackData):
    """Tick or untick one time to propose (at most three)."""

    booking_id: BookingId
    start: datetime


@callback("rps")
class SendProposals(CallbackData):
    """Send the ticked times: ``with_message`` asks for a message first."""

    booking_id: BookingId
    with_message: bool


@callback("rpk")
class PickProposal(CallbackData):
    """The mentee takes one of the proposed times."""

    booking_id: BookingId
    start: datetime


@callback("rpx")
class DeclineProposals(CallbackData):
    """The mentee: none of the proposed times works."""

    booking_id: BookingId


# --- the waitlist (``handlers.waitlist``) ------------------------------------------------------------------------


@callback("wlj")
class JoinWaitlist(CallbackData):
    """Wait for a time of the offering to free up: on ``day`` (the mentee's zone), or any date (``any_day``)."""

    offering_id: OfferingId
    day: date
    any_day: bool


@callback("wll")
class OpenWaitlist(CallbackData):
    """My bookings → Waitlist: the mentee's entries, each with Leave."""


@callback("wlx")
class LeaveWaitlist(CallbackData):
    entry_id: WaitlistId


@callback("sr")
class RepeatWeekly(CallbackData):
    """After choosing ``start``: how many weeks should the same time repeat (``handlers.series``)."""

    offering_id: OfferingId
    start: datetime


@callback("sp")
class PlanSeries(CallbackData):
    """The weeks of a series from ``start``: which are free."""

    offering_id: OfferingId
    start: datetime
    weeks: SeriesLength


@callback("sb")
class BookSeries(CallbackData):
    """Book the free weeks of the series."""

    offering_id: OfferingId
    start: datetime
    weeks: SeriesLength


@callback("sq")
class BookPaidSeries(CallbackData):
    """Book the free weeks of the series and pay them with one payment, this way (``handlers.series``)."""

    offering_id: OfferingId
    start: datetime
    weeks: SeriesLength
    mode: PaymentMode


class SeriesAction(StrEnum):
    """A booked series (``handlers.series``). Values travel in button data: new letters only."""

    CONFIRM_ALL = "c"  # the mentor: confirm every pending occurrence
    CANCEL_FUTURE = "x"  # either person: cancel every future occurrence (a reason follows)
    DECLINE_ALL = "d"  # the mentor: decline every pending occurrence (a reason follows)


@callback("sa")
class ActOnSeries(CallbackData):
    """``booking_id``: one occurrence; the series is every booking with its series id."""

    booking_id: BookingId
    action: SeriesAction
