"""One week of a weekly series moved on its own (``domain.reschedule``, rule 6): by every rescheduling rule, and
keeping its place in the series."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import reschedule
from domain.model import Actor
from tests.domain.factories import NOW, booking, offering

WEEK_3 = booking(NOW + timedelta(days=15)).with_changes(id=13, series_id=11, series_week=3, series_weeks=6)


@pytest.mark.parametrize("actor", [Actor.MENTEE, Actor.MENTOR])
def test_a_moved_week_keeps_its_place_wherever_it_goes(actor: Actor) -> None:
    for new_start in (NOW + timedelta(days=2), NOW + timedelta(days=30)):  # before week 1, after the last week
        moved = reschedule.moved(WEEK_3, new_start, actor, NOW)
        assert (moved.series_id, moved.series_week, moved.series_weeks) == (11, 3, 6)
        assert (moved.scheduled_at, moved.moved_from, moved.reschedules) == (new_start, WEEK_3.scheduled_at, 1)


def test_a_week_follows_every_rescheduling_rule_like_any_booking() -> None:
    cut_off = offering(cancellation_cutoff_hours=24)
    assert reschedule.may_reschedule(WEEK_3, cut_off, NOW, max_moves=2)
    late = WEEK_3.scheduled_at - timedelta(hours=23)
    with pytest.raises(reschedule.RescheduleClosed):
        reschedule.check_may_reschedule(WEEK_3, cut_off, late, max_moves=2)
    with pytest.raises(reschedule.TooManyMoves):
        reschedule.check_may_reschedule(WEEK_3.with_changes(reschedules=2), cut_off, NOW, max_moves=2)
    assert reschedule.may_propose(WEEK_3, NOW, max_moves=2)
    asked = reschedule.requested(WEEK_3, NOW + timedelta(days=16), NOW)
    assert (asked.series_week, asked.scheduled_at) == (3, WEEK_3.scheduled_at)  # held, not moved yet
