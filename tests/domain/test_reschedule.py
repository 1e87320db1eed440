"""The reschedule rules (``domain.reschedule``): who may move a booking until when and how often, what moves at
once, what a move and a request do to the booking, what they tell people and which timed messages follow, and the
booking's own time not counting as a conflict (a DST day included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain import slots
from domain.booking import transition
from domain.errors import InvalidInput, InvalidTransition
from domain.model import Actor, BookingStatus
from domain.notifications import NotificationKind as K
from domain.notifications import NotificationPolicy, events_for, session_after, still_relevant, timed_for
from domain.reschedule import (
    DEFAULT_MAX_RESCHEDULES,
    MoveAwaitsAnswer,
    NoMoveRequest,
    NoProposal,
    RescheduleClosed,
    SameTime,
    TooManyMoves,
    check_may_propose,
    check_may_reschedule,
    check_proposal,
    check_request,
    held_times,
    moved,
    moves_at_once,
    proposed,
    request_expiry,
    requested,
    reschedule_cutoff_hours,
    reschedule_deadline,
    without_proposals,
    without_request,
)
from tests.domain.factories import NOW, booking, every_day, offering

S = BookingStatus
H = timedelta(hours=1)
START = NOW + 48 * H
LATER = NOW + 72 * H


def one(**changes: object):
    return booking(START).with_changes(**{"id": 1, **changes})


@pytest.mark.parametrize(
    ("status", "hours_before", "moves", "asked", "error"),
    [
        (S.CONFIRMED, 48, 0, False, None),
        (S.PENDING, 48, 1, False, None),
        (S.CONFIRMED, 24, 0, False, None),  # exactly at the cut-off: still open
        (S.CONFIRMED, 23, 0, False, RescheduleClosed),
        (
            S.PENDING,
            23,
            0,
            False,
            RescheduleClosed,
        ),  # unlike cancelling, a pending request moves until the cut-off too
        (S.CONFIRMED, 48, 2, False, TooManyMoves),
        (S.CONFIRMED, 48, 0, True, MoveAwaitsAnswer),
        (S.AWAITING_PAYMENT, 48, 0, False, InvalidTransition),
        (S.CANCELLED, 48, 0, False, InvalidTransition),
        (S.COMPLETED, 48, 0, False, InvalidTransition),
    ],
)
def test_who_may_reschedule_until_when_and_how_often(
    status: S, hours_before: int, moves: int, asked: bool, error: type[Exception] | None
) -> None:
    item = one(status=status, reschedules=moves, requested_start=LATER if asked else None)
    now = START - hours_before * H
    if error is None:
        check_may_reschedule(item, offering(), now, DEFAULT_MAX_RESCHEDULES)
    else:
        with pytest.raises(error):
            check_may_reschedule(item, offering(), now, DEFAULT_MAX_RESCHEDULES)


def test_the_cut_off_defaults_to_the_cancellation_cut_off_and_may_differ() -> None:
    assert reschedule_cutoff_hours(offering(cancellation_cutoff_hours=12)) == 12
    own = offering(cancellation_cutoff_hours=12, reschedule_cutoff_hours=2)
    assert reschedule_cutoff_hours(own) == 2
    assert reschedule_deadline(one(), own) == START - 2 * H
    check_may_reschedule(one(), own, START - 3 * H, 2)
    with pytest.raises(RescheduleClosed) as closed:
        check_may_reschedule(one(), own, START - H, 2)
    assert closed.value.hours == 2


def test_a_limit_of_zero_turns_rescheduling_off() -> None:
    with pytest.raises(TooManyMoves):
        check_may_reschedule(one(), offering(), NOW, 0)


@pytest.mark.parametrize(
    ("status", "price", "auto_confirm", "at_once"),
    [
        (S.CONFIRMED, 0, False, True),  # free: confirms on its own
        (S.CONFIRMED, 500, True, True),  # confirmed automatically once paid
        (S.CONFIRMED, 500, False, False),  # the mentor confirms: the mentor approves the new time
        (S.PENDING, 500, False, True),  # not confirmed yet: the mentor answers the request at its new time
    ],
)
def test_what_moves_at_once(status: S, price: int, auto_confirm: bool, at_once: bool) -> None:
    item = one(status=status)
    assert moves_at_once(item, offering(price=Decimal(price), auto_confirm_paid=auto_confirm)) is at_once


def test_a_move_keeps_the_booking_and_records_its_history() -> None:
    first = moved(one(), LATER, Actor.MENTEE, NOW)
    assert (first.id, first.status, first.scheduled_at) == (1, S.CONFIRMED, LATER)
    assert (first.reschedules, first.moved_from, first.moved_by) == (1, START, Actor.MENTEE)
    assert first.ends_at == LATER + timedelta(minutes=60)
    second = moved(first, LATER + H, Actor.MENTOR, NOW + H)
    assert (second.reschedules, second.moved_from, second.moved_by) == (2, LATER, Actor.MENTOR)
    with pytest.raises(SameTime):
        moved(second, second.scheduled_at, Actor.MENTEE, NOW)


def test_a_request_holds_the_new_time_until_answered() -> None:
    asked = requested(one(), LATER, NOW)
    assert (asked.scheduled_at, asked.requested_start, asked.requested_at) == (START, LATER, NOW)
    [held] = held_times([asked, one(id=2)])
    assert (held.id, held.scheduled_at, held.duration_minutes) == (1, LATER, 60)
    assert held_times([transition(asked, S.CANCELLED, Actor.MENTEE, NOW, "ill")[0]]) == []
    check_request(asked, LATER)
    with pytest.raises(NoMoveRequest):
        check_request(asked, LATER + H)  # another time than the one asked for: a stale or forged answer
    kept = without_request(asked, NOW + H)
    assert (kept.scheduled_at, kept.requested_start, kept.reschedules) == (START, None, 0)
    with pytest.raises(NoMoveRequest):
        check_request(kept, LATER)
    with pytest.raises(SameTime):
        requested(one(), START, NOW)


def test_leaving_the_active_statuses_drops_a_request() -> None:
    asked = requested(one(), LATER, NOW)
    cancelled, _delta = transition(asked, S.CANCELLED, Actor.MENTOR, NOW, "away")
    assert cancelled.requested_start is None and cancelled.requested_at is None


def test_a_request_expires_like_a_booking_request_and_at_the_latest_when_a_time_starts() -> None:
    policy = NotificationPolicy()
    far = one(scheduled_at=NOW + 200 * H)
    assert request_expiry(requested(far, NOW + 100 * H, NOW), policy.expire_after) == NOW + 48 * H
    assert request_expiry(requested(one(), LATER, NOW), policy.expire_after) == START  # the original time first
    soon = requested(far, NOW + 10 * H, NOW)
    assert request_expiry(soon, policy.expire_after) == NOW + 10 * H  # the new time first


def test_timed_messages_follow_the_move_and_a_request_expires() -> None:
    before = {(n.kind, n.due_at) for n in timed_for(one(), "UTC", NOW)}
    after = {(n.kind, n.due_at) for n in timed_for(moved(one(), LATER, Actor.MENTEE, NOW), "UTC", NOW)}
    assert (K.REMINDER, START - H) in before and (K.REMINDER, LATER - H) in after
    assert session_after(moved(one(), LATER, Actor.MENTEE, NOW)).due_at == LATER + timedelta(minutes=60)
    assert not any(kind == K.REMINDER and due == START - H for kind, due in after)
    asked = timed_for(requested(one(), LATER, NOW), "UTC", NOW)
    [expiry] = [n for n in asked if n.kind == K.MOVE_EXPIRE]
    assert (expiry.due_at, expiry.recipient_id) == (START, one().mentor_id)
    far = one(scheduled_at=NOW + 200 * H)
    first = [n for n in timed_for(requested(far, LATER, NOW), "UTC", NOW) if n.kind == K.MOVE_EXPIRE]
    again = [n for n in timed_for(requested(far, LATER, NOW + 50 * H), "UTC", NOW) if n.kind == K.MOVE_EXPIRE]
    assert first[0].key != again[0].key  # a request after an expired one is a new row, not the sent one
    assert not any(n.kind == K.MOVE_EXPIRE for n in timed_for(one(), "UTC", NOW))


def test_who_is_told_of_a_move() -> None:
    base = one()
    by_mentee = moved(base, LATER, Actor.MENTEE, NOW)
    assert [(n.kind, n.recipient_id) for n in events_for(base, by_mentee, Actor.MENTEE, NOW)] == [
        (K.MOVED, base.mentor_id)
    ]
    assert [(n.kind, n.recipient_id) for n in events_for(base, by_mentee, Actor.MENTOR, NOW)] == [
        (K.MOVED, base.mentee_id)  # approved by the mentor
    ]
    asked = requested(base, LATER, NOW)
    assert [(n.kind, n.recipient_id) for n in events_for(base, asked, Actor.MENTEE, NOW)] == [
        (K.MOVE_REQUESTED, base.mentor_id)
    ]
    kept = without_request(asked, NOW)
    assert [(n.kind, n.recipient_id) for n in events_for(asked, kept, Actor.MENTOR, NOW)] == [
        (K.MOVE_DECLINED, base.mentee_id)
    ]
    assert [(n.kind, n.recipient_id) for n in events_for(asked, kept, Actor.SYSTEM, NOW)] == [
        (K.MOVE_EXPIRED, base.mentee_id), (K.MOVE_EXPIRED, base.mentor_id)
    ]  # fmt: skip
    [request] = events_for(base, asked, Actor.MENTEE, NOW)
    assert still_relevant(request, asked) and not still_relevant(request, kept)


def test_the_own_time_is_free_to_move_within_a_dst_day() -> None:
    """London leaves summer time on Sun 25 Oct 2026 (01:00 happens twice). A booking at 09:00 that day blocks
    09:00 for everyone else; left out (as the use case leaves out the booking being moved), the same day offers it,
    and every other time stays the same."""
    day = date(2026, 10, 25)
    zone = ZoneInfo("Europe/London")
    now = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    rules = offering(duration_minutes=60, max_bookings_per_day=1)
    availability = every_day("Europe/London", "00:00", "12:00")
    own = booking(datetime(2026, 10, 25, 9, 0, tzinfo=UTC)).with_changes(id=1)  # 09:00 GMT
    blocked = slots.slots_on(rules, availability, [own], now, day, zone)
    assert blocked == []  # the daily limit of one is used by the booking itself
    free = slots.slots_on(rules, availability, [b for b in [own] if b.id != 1], now, day, zone)
    assert own.scheduled_at in free
    local = [moment.astimezone(zone).strftime("%H:%M %Z") for moment in free]
    assert local.count("01:00 BST") == 1 and "01:00 GMT" not in local  # an ambiguous time is offered once
    assert len(free) == len(set(free))


def test_the_mentor_proposes_one_to_three_times_and_the_mentee_picks_one_or_none() -> None:
    with pytest.raises(InvalidInput):
        proposed(one(), [], None, NOW)
    with pytest.raises(InvalidInput):
        proposed(one(), [LATER + n * H for n in range(4)], None, NOW)
    with pytest.raises(SameTime):
        proposed(one(), [START, LATER], None, NOW)
    offer = proposed(one(), [LATER + H, LATER, LATER], "  sorry  ", NOW)
    assert (offer.proposals, offer.proposal_message, offer.scheduled_at) == ((LATER, LATER + H), "sorry", START)
    check_proposal(offer, LATER)
    with pytest.raises(NoProposal):
        check_proposal(offer, LATER + 2 * H)
    taken = moved(offer, LATER + H, Actor.MENTOR, NOW)
    assert (taken.scheduled_at, taken.moved_by, taken.proposals, taken.proposal_message) == (
        LATER + H,
        Actor.MENTOR,
        (),
        None,
    )
    with pytest.raises(NoProposal):
        check_proposal(taken, LATER)  # the other time, pressed afterwards
    none = without_proposals(offer, NOW)
    assert (none.scheduled_at, none.proposals) == (START, ())
    with pytest.raises(NoProposal):
        without_proposals(none, NOW)
    assert [(n.kind, n.recipient_id) for n in events_for(one(), offer, Actor.MENTOR, NOW)] == [
        (K.PROPOSED, one().mentee_id)
    ]
    assert [(n.kind, n.recipient_id) for n in events_for(offer, none, Actor.MENTEE, NOW)] == [
        (K.PROPOSALS_DECLINED, one().mentor_id)
    ]
    assert [(n.kind, n.recipient_id) for n in events_for(offer, taken, Actor.MENTEE, NOW)] == [
        (K.MOVED, one().mentor_id)
    ]


@pytest.mark.parametrize(
    ("changes", "hours_before", "error"),
    [
        ({}, 48, None),
        ({}, 1, None),  # the mentor may propose until the start
        ({}, 0, InvalidTransition),  # started
        ({"status": S.CANCELLED}, 48, InvalidTransition),
        ({"status": S.PENDING}, 48, InvalidTransition),  # a request is answered, not moved by its mentor
        ({"reschedules": 2}, 48, TooManyMoves),
        ({"requested_start": LATER}, 48, MoveAwaitsAnswer),
    ],
)
def test_when_the_mentor_may_propose(changes: dict, hours_before: int, error: type[Exception] | None) -> None:
    item = one(**changes)
    if error is None:
        check_may_propose(item, START - hours_before * H, DEFAULT_MAX_RESCHEDULES)
    else:
        with pytest.raises(error):
            check_may_propose(item, START - hours_before * H, DEFAULT_MAX_RESCHEDULES)
