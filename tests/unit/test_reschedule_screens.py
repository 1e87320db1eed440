"""The booking cards' move buttons follow ``MAX_RESCHEDULES`` (the setting, passed in), not the default: the
mentor's 🔁 Propose new times and the mentee's 🔁 Reschedule are gone once a booking used its moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.mentee import MyTab
from domain.model import BookingView, User
from domain.reschedule import DEFAULT_MAX_RESCHEDULES
from handlers.callbacks import OpenMyBookings
from handlers.my_bookings import card_screen
from handlers.render import booking_card_for_mentor, mentor_booking_buttons
from tests.domain.factories import NOW, booking, offering

PROPOSE, RESCHEDULE = "🔁 Propose new times", "🔁 Reschedule"


def labels(markup: object) -> list[str]:
    return [b.text for row in getattr(markup, "inline_keyboard", ()) for b in row]


CASES = [(0, 1, True), (1, 1, False), (1, 3, True), (2, 3, True), (3, 3, False), (0, 0, False)]


@pytest.mark.parametrize(("moved", "max_moves", "offered"), CASES)
def test_the_cards_offer_moves_while_max_reschedules_allows(moved: int, max_moves: int, offered: bool) -> None:
    item = booking(NOW + timedelta(days=3)).with_changes(id=1, reschedules=moved)
    assert (PROPOSE in labels(mentor_booking_buttons(item, NOW, max_moves=max_moves))) is offered
    _text, markup = booking_card_for_mentor(item, offering(), User(500, "Ravi"), "UTC", NOW, max_moves=max_moves)
    assert (PROPOSE in labels(markup)) is offered
    view = BookingView(item, offering(), User(1, "Asha", is_mentor=True), User(500, "Ravi"))
    _text, mentee_markup = card_screen(view, "UTC", NOW, OpenMyBookings(MyTab.UPCOMING, 0), max_moves)
    assert (RESCHEDULE in labels(mentee_markup)) is offered


def test_a_limit_above_the_default_is_honoured() -> None:
    item = booking(NOW + timedelta(days=3)).with_changes(id=1, reschedules=DEFAULT_MAX_RESCHEDULES)
    assert PROPOSE not in labels(mentor_booking_buttons(item, NOW, max_moves=DEFAULT_MAX_RESCHEDULES))
    assert PROPOSE in labels(mentor_booking_buttons(item, NOW, max_moves=DEFAULT_MAX_RESCHEDULES + 1))
