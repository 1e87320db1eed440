"""The mentee's side: tabs of "My bookings", what a card offers, the limit's count, week pages and time groups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import mentee
from domain.errors import TooManyBookings
from domain.mentee import (
    DayPart,
    MyTab,
    counts_towards_limit,
    group_times,
    mentee_actions,
    my_tab_of,
    week_page,
    window_days,
)
from domain.model import BookingStatus
from tests.domain.factories import NOW, booking, offering

S = BookingStatus
H = timedelta(hours=1)
LATER = NOW + 48 * H  # a session two days ahead
EARLIER = NOW - 48 * H


@pytest.mark.parametrize(
    ("status", "start", "tab"),
    [
        (S.PENDING, LATER, MyTab.UPCOMING),
        (S.CONFIRMED, LATER, MyTab.UPCOMING),
        (S.CONFIRMED, NOW - 30 * timedelta(minutes=1), MyTab.UPCOMING),  # under way: ends in 30 minutes
        (S.CONFIRMED, NOW - H, MyTab.PAST),  # ended exactly now
        (S.COMPLETED, EARLIER, MyTab.PAST),
        (S.NO_SHOW, EARLIER, MyTab.PAST),
        (S.CANCELLED, LATER, MyTab.CANCELLED),
        (S.DECLINED, LATER, MyTab.CANCELLED),
        (S.EXPIRED, EARLIER, MyTab.CANCELLED),
    ],
)
def test_each_booking_is_listed_under_one_tab(status: S, start: datetime, tab: MyTab) -> None:
    assert my_tab_of(booking(start, status=status), NOW) == tab


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("start", [EARLIER, NOW - H, NOW - 30 * timedelta(minutes=1), LATER])
def test_the_declared_tabs_hold_every_booking_exactly_once(status: S, start: datetime) -> None:
    """``mentee.TABS`` is what storage's queries are built from: no booking may fall in two tabs, or in none."""
    entry = booking(start, status=status)
    assert [tab for tab, rule in mentee.TABS.items() if rule.holds(entry, NOW)] == [my_tab_of(entry, NOW)]


@pytest.mark.parametrize(
    ("status", "start", "counts"),
    [
        (S.PENDING, LATER, True),
        (S.CONFIRMED, LATER, True),
        (S.CONFIRMED, NOW - H, False),  # the session has ended
        (S.COMPLETED, EARLIER, False),
        (S.CANCELLED, LATER, False),
        (S.DECLINED, LATER, False),
    ],
)
def test_the_limit_counts_pending_and_upcoming_only(status: S, start: datetime, counts: bool) -> None:
    assert counts_towards_limit(booking(start, status=status), NOW) is counts


def test_the_limit_error_carries_the_limit() -> None:
    assert TooManyBookings(3).limit == 3


def test_card_actions_follow_status_time_link_and_rating() -> None:
    terms = offering()  # the default cut-off: 24 hours before the start
    confirmed = booking(LATER).with_changes(meeting_link="https://meet.example/x")
    actions = mentee_actions(confirmed, terms, NOW)
    assert (actions.join, actions.calendar, actions.cancel, actions.rate) == (True, True, True, False)

    pending = booking(LATER, status=S.PENDING).with_changes(meeting_link="https://meet.example/x")
    actions = mentee_actions(pending, terms, NOW)
    assert (actions.join, actions.calendar, actions.cancel, actions.rate) == (False, True, True, False)

    under_way = booking(NOW - 10 * timedelta(minutes=1))
    actions = mentee_actions(under_way, terms, NOW)
    assert (actions.join, actions.calendar, actions.cancel, actions.rate) == (False, True, False, False)

    completed = booking(EARLIER, status=S.COMPLETED)
    actions = mentee_actions(completed, terms, NOW)
    assert (actions.join, actions.calendar, actions.cancel, actions.rate) == (False, False, False, True)
    assert not mentee_actions(completed.with_changes(mentee_rating=4), terms, NOW).rate

    cancelled = booking(LATER, status=S.CANCELLED)
    assert mentee_actions(cancelled, terms, NOW) == mentee_actions(booking(LATER, status=S.DECLINED), terms, NOW)
    gone = mentee_actions(cancelled, terms, NOW)
    assert not any((gone.join, gone.calendar, gone.cancel, gone.rate, gone.cancel_closed))


@pytest.mark.parametrize(
    ("status", "hours_ahead", "cutoff", "cancel", "closed"),
    [
        (S.CONFIRMED, 48, 24, True, False),
        (S.CONFIRMED, 24, 24, True, False),  # exactly at the cut-off: still open
        (S.CONFIRMED, 23, 24, False, True),  # past the cut-off: no button, the card says it closed
        (S.CONFIRMED, 1, 0, True, False),  # no cut-off: until the start
        (S.PENDING, 1, 24, True, False),  # a request can always be withdrawn
        (S.CONFIRMED, -1, 24, False, False),  # started: nothing to cancel or to explain
        (S.CANCELLED, 48, 24, False, False),
    ],
)
def test_cancel_is_offered_only_until_the_cut_off(
    status: S, hours_ahead: int, cutoff: int, cancel: bool, closed: bool
) -> None:
    terms = offering(cancellation_cutoff_hours=cutoff)
    actions = mentee_actions(booking(NOW + hours_ahead * H, status=status), terms, NOW)
    assert (actions.cancel, actions.cancel_closed) == (cancel, closed)


# --- the booking flow ---------------------------------------------------------------------------------------


def test_the_window_in_the_viewers_zone() -> None:
    # NOW is Monday 2 March 08:00 UTC; 24 h notice, 30 days ahead
    assert window_days(offering(), NOW, "UTC") == (date(2026, 3, 3), date(2026, 4, 1))
    late = NOW.replace(hour=23)
    assert window_days(offering(), late, "Asia/Kolkata") == (date(2026, 3, 4), date(2026, 4, 2))


def test_week_pages_start_at_the_first_free_date_and_stay_inside_the_window() -> None:
    window = (date(2026, 3, 3), date(2026, 4, 1))  # Tue 3 March to Wed 1 April
    free = [date(2026, 3, 12), date(2026, 3, 13), date(2026, 3, 17), date(2026, 3, 31)]

    first = week_page(free, window)
    assert first.monday == date(2026, 3, 9) and first.sunday == date(2026, 3, 15)
    assert first.days == [date(2026, 3, 12), date(2026, 3, 13)]
    assert first.has_previous and first.has_next  # the week of 2 March is inside the window, though empty

    empty = week_page(free, window, date(2026, 3, 2))
    assert empty.days == [] and not empty.has_previous and empty.has_next

    last = week_page(free, window, date(2026, 3, 30))
    assert last.days == [date(2026, 3, 31)] and last.has_previous and not last.has_next

    # a forged or stale week outside the window is clamped to it; any day of a week means that week
    assert week_page(free, window, date(2027, 1, 1)).monday == date(2026, 3, 30)
    assert week_page(free, window, date(2020, 1, 1)).monday == date(2026, 3, 2)
    assert week_page(free, window, date(2026, 3, 19)).monday == date(2026, 3, 16)
    assert week_page([], window).monday == date(2026, 3, 2)


def test_times_are_grouped_by_part_of_the_day_on_the_readers_clock() -> None:
    day = datetime(2026, 3, 3, tzinfo=UTC)
    times = [day + timedelta(hours=h) for h in (17, 6, 11.5, 12, 16.5, 21)]
    groups = group_times(times, "UTC")
    assert [part for part, _ in groups] == [DayPart.MORNING, DayPart.AFTERNOON, DayPart.EVENING]
    assert [[t.hour for t in moments] for _, moments in groups] == [[6, 11], [12, 16], [17, 21]]

    # the same instants in Kolkata (UTC+5:30): 11:30 | 17:00, 17:30, 22:00, 22:30 | (next day) 02:30
    kolkata = group_times(times, "Asia/Kolkata")
    assert [(part, len(moments)) for part, moments in kolkata] == [(DayPart.MORNING, 2), (DayPart.EVENING, 4)]
    assert group_times([], "UTC") == []
