"""Ids and dates beyond what the database or ``datetime`` can hold, in buttons and in links, are answered like any
unknown id or date: every registered button kind, every number and date field, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import functools
import typing
from datetime import UTC, date, datetime
from enum import Enum

import pytest

from handlers import callbacks
from handlers.callbacks import CallbackData, ConfirmBooking
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.flows import become_mentor_with_offering, onboard

INT32, INT64 = 2**31 - 1, 2**63 - 1
FIRST_START = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # the first free time of the mentor's offering

# Numbers beyond int32, int64 and 19 digits, and negative ones.
HUGE = [str(INT32 + 1), str(INT64 + 1), "9" * 30, "-1", "-" + "9" * 19]
# A number of each field that is in range and names nothing (or is refused by its handler): the answer every
# number in HUGE must get too.
UNKNOWN = {
    "offering_id": str(INT32),  # no offering has it (ids are Integer)
    "booking_id": str(INT32),
    "calendar_id": str(INT32),  # busy calendars (Integer ids)
    "entry_id": str(INT32),  # waitlist entries (Integer ids)
    "last_id": str(INT32),  # ledger rows (Integer ids)
    "scope": str(INT32),
    "mentor_id": str(INT64),  # users' ids are Telegram's (BigInteger)
    "page": "99999",  # a page past the end
    "weekday": "7",
    "source": "7",
    "hour": "24",
    "targets": "128",
    "stars": "6",
    "minutes": "7",
    "category": "99",
    "weeks": "99",  # a series of 99 weeks: more than the rules allow
}
# Values of the fields that are not varied: what the bot's own buttons would carry.
PLAIN: dict[str, object] = {
    "offering_id": 1, "booking_id": 1, "calendar_id": 1, "entry_id": 1, "last_id": 1, "scope": 0, "mentor_id": 101,
    "page": 0, "weekday": 0, "source": 0,
    "hour": 9, "targets": 0, "stars": 5, "minutes": 30, "category": 0, "weeks": 2, "zone": "Asia/Kolkata",
    "region": "Asia",
    "locale": "en", "value": "30", "text": "",
}  # fmt: skip


def minutes(moment: datetime) -> str:
    """A time as a button writes it."""
    return ConfirmBooking(1, moment).pack().rsplit(":", 1)[1]


# For dates and times: (a far date or time any flow refuses, dates or times beyond what the codec reads).
DATES = [
    ("30000101", ["99991231", "99990101"]),
    ("19000101", ["00010101", "00010102"]),
]
MOMENTS = [
    (minutes(datetime(3000, 1, 1, tzinfo=UTC)), [minutes(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)), "z" * 13]),
    (minutes(datetime(1900, 1, 1, tzinfo=UTC)), [minutes(datetime(1, 1, 1, tzinfo=UTC)), "-" + "z" * 13]),
]


# The enum fields that choose what a press does: the presses are tried with each of their members.
CHOOSING = {"action", "step", "page", "field", "status", "tab", "panel"}


def plain_values(name: str, kind: object) -> list[object]:
    """What the field carries when another one is varied: each member of a choosing enum, else a usual value."""
    if isinstance(kind, type) and issubclass(kind, Enum):
        return list(kind) if name in CHOOSING else [next(iter(kind))]
    if kind is bool:
        return [False]
    if kind is datetime:
        return [FIRST_START]
    if kind is date:
        return [FIRST_START.date()]
    return [PLAIN.get(name, "x")]


def with_field(parts: list[str], index: int, raw: str) -> str:
    """A button's data (``parts``, split at ``:``) with the field at ``index`` replaced by ``raw``."""
    return ":".join([*parts[:index], raw, *parts[index + 1 :]])


def plain_buttons(kind: type[CallbackData]) -> list[list[str]]:
    """The kind's button with usual values, once per member of each choosing enum (the rest at their first)."""
    hints = typing.get_type_hints(kind)
    choices = {field.name: plain_values(field.name, hints[field.name]) for field in dataclasses.fields(kind)}
    first = {name: values[0] for name, values in choices.items()}
    variants = [first] + [{**first, name: value} for name, values in choices.items() for value in values[1:]]
    return [kind(**values).pack().split(":") for values in variants]


def cases() -> list[tuple[str, str, list[str]]]:
    """(the button kind and field, data with a value that names nothing, data with values beyond its range)."""
    found = []
    for kind in callbacks.kinds():
        hints = typing.get_type_hints(kind)
        for parts in plain_buttons(kind):
            for index, field in enumerate(dataclasses.fields(kind), start=1):
                data = functools.partial(with_field, parts, index)
                where = f"{kind.prefix}.{field.name}"
                match hints[field.name]:
                    case x if x is int:
                        found.append((where, data(UNKNOWN[field.name]), [data(raw) for raw in HUGE]))
                    case x if x is date:
                        found += [(where, data(far), [data(raw) for raw in beyond]) for far, beyond in DATES]
                    case x if x is datetime:
                        found += [(where, data(far), [data(raw) for raw in beyond]) for far, beyond in MOMENTS]
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


async def answers(api: FakeBotApi, user: FakeUser, presses: list[str]) -> list[tuple[str | None, bool]]:
    """Press each of ``presses`` (on the latest message) in turn; each press's answer."""
    replies = []
    for data in presses:
        query = await user.press_data(None, data)
        await api.wait_idle(quiet=0)
        replies.append(api.callback_queries[query].answers)
    assert all(len(reply) == 1 for reply in replies)
    return [(reply.text, reply.show_alert) for [reply] in replies]


async def test_every_button_answers_out_of_range_numbers_and_dates_like_unknown_ones(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    all_cases = cases()
    assert len({case[0].split(".")[0] for case in all_cases}) >= 30  # every kind with a number or a date

    wrong = []
    for user in (mentee, mentor):
        presses = [data for _field, reference, beyond in all_cases for data in (reference, *beyond)]
        replies = iter(await answers(api, user, presses))
        for field, reference, beyond in all_cases:
            expected = next(replies)
            if expected[0] == "Something went wrong. Please try again.":
                wrong.append(f"{user.first_name} {reference}: {expected}")
            for data in beyond:
                got = next(replies)
                if got != expected:
                    wrong.append(f"{user.first_name} {field} {data}: {got}, like {reference}: {expected}")
    assert wrong == []


async def test_links_to_ids_beyond_the_database_are_unknown(api: FakeBotApi, bot) -> None:
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    cases = [
        ("o2147483648", "This link points to an offering that no longer exists."),
        ("o" + "9" * 30, "This link points to an offering that no longer exists."),
        ("m9223372036854775808", "This link points to a mentor who is not on Mentor Desk."),
        ("m9999999999999999999", "This link points to a mentor who is not on Mentor Desk."),
        ("m" + "9" * 60, "This link points to a mentor who is not on Mentor Desk."),
    ]
    for payload, explanation in cases:
        await mentee.send(f"/start {payload}")
        await mentee.wait_for(explanation)
        await mentee.wait_for("What would you like to do?")
        await api.wait_idle()
