"""Which messages a booking should cause, and when: events, reminders, expiry, agenda, rating follow-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.model import Actor, BookingStatus
from domain.notifications import (
    Notification,
    NotificationKind,
    NotificationPolicy,
    agenda_time,
    events_for,
    expiry_time,
    session_after,
    session_keys,
    still_relevant,
    timed_for,
)
from tests.domain.factories import MENTOR_ID, NOW, booking

K = NotificationKind
MENTEE_ID = 500
START = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # Thursday 15:30 in Kolkata, three days after NOW


def saved(status: BookingStatus = BookingStatus.CONFIRMED, start: datetime = START, **changes: object):
    return booking(start, 60, status=status).with_changes(id=42, **changes)


def kinds(notes: list[Notification]) -> list[tuple[NotificationKind, int, datetime]]:
    return sorted((n.kind, n.recipient_id, n.due_at) for n in notes)


def test_a_confirmed_booking_gets_two_reminders_and_the_agenda_and_its_session_the_after_session_question() -> (
    None
):
    notes = timed_for(saved(), "Asia/Kolkata", NOW)  # the mentor's reminders and question are the session's
    assert kinds(notes) == sorted(
        [
            (K.REMINDER, MENTEE_ID, START - timedelta(hours=24)),
            (K.REMINDER, MENTEE_ID, START - timedelta(hours=1)),
            # 08:00 in Kolkata on the session's day
            (K.AGENDA, MENTOR_ID, datetime(2026, 3, 5, 2, 30, tzinfo=UTC)),
        ]
    )
    assert len({n.key for n in notes}) == len(notes)
    question = session_after(saved())
    assert (question.kind, question.recipient_id, question.due_at) == (
        K.SESSION_AFTER,
        MENTOR_ID,
        START + timedelta(minutes=60),
    )
    # keyed by the session alone: another attendee's booking at that start plans the same row
    other = session_after(saved(mentee_id=MENTEE_ID + 1).with_changes(id=43))
    assert question.key == other.key == f"session_after:{MENTOR_ID}:202603051000"
    assert question.key in session_keys(MENTOR_ID, START, NotificationPolicy())
    assert not K.SESSION_AFTER.is_per_booking and K.SESSION_AFTER.is_timed


def test_reminders_already_past_are_not_planned() -> None:
    late = START - timedelta(minutes=90)  # confirmed at 08:30 UTC, 90 minutes before the start
    notes = timed_for(saved(), "UTC", late)
    assert [(n.kind, n.lead_minutes) for n in notes if n.kind == K.REMINDER] == [(K.REMINDER, 60)]
    assert not any(n.kind == K.AGENDA for n in notes)  # 08:00 UTC has passed


def test_the_agenda_is_not_planned_for_a_session_before_the_agenda_hour() -> None:
    early = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 06:30 in Kolkata, before 08:00
    assert not any(n.kind == K.AGENDA for n in timed_for(saved(start=early), "Asia/Kolkata", NOW))


def test_configured_leads_are_used() -> None:
    policy = NotificationPolicy(reminder_leads=(timedelta(hours=2),))
    leads = {n.lead_minutes for n in timed_for(saved(), "UTC", NOW, policy) if n.kind == K.REMINDER}
    assert leads == {120}


def test_a_pending_request_expires_after_48_hours_or_at_the_start_whichever_is_first() -> None:
    far = saved(BookingStatus.PENDING, start=NOW + timedelta(days=10))
    assert kinds(timed_for(far, "UTC", NOW)) == [(K.EXPIRE, MENTOR_ID, NOW + timedelta(hours=48))]
    near = saved(BookingStatus.PENDING, start=NOW + timedelta(hours=30))
    assert expiry_time(near, NotificationPolicy()) == NOW + timedelta(hours=30)


@pytest.mark.parametrize(
    "status", [BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED, BookingStatus.NO_SHOW]
)
def test_finished_bookings_have_nothing_timed(status: BookingStatus) -> None:
    assert timed_for(saved(status), "UTC", NOW) == []


def test_a_completed_unrated_session_gets_one_follow_up_a_day_later() -> None:
    done_at = START + timedelta(hours=2)
    notes = timed_for(saved(BookingStatus.COMPLETED, updated_at=done_at), "UTC", done_at)
    assert kinds(notes) == [(K.RATE_AGAIN, MENTEE_ID, done_at + timedelta(hours=24))]
    assert timed_for(saved(BookingStatus.COMPLETED, updated_at=done_at, mentee_rating=5), "UTC", done_at) == []


def test_moving_a_booking_changes_its_reminder_keys() -> None:
    before = {n.key for n in timed_for(saved(), "UTC", NOW) if n.kind == K.REMINDER}
    after = {n.key for n in timed_for(saved(start=START + timedelta(hours=2)), "UTC", NOW) if n.kind == K.REMINDER}
    assert before and after and not before & after


def test_agenda_time_follows_dst() -> None:
    # London: 08:00 is 08:00 UTC in winter and 07:00 UTC in summer
    assert agenda_time(date(2026, 1, 10), "Europe/London", NotificationPolicy()).hour == 8
    assert agenda_time(date(2026, 7, 10), "Europe/London", NotificationPolicy()).hour == 7


@pytest.mark.parametrize(
    ("before", "after", "actor", "expected"),
    [
        (None, BookingStatus.PENDING, Actor.MENTEE, [(K.NEW_BOOKING, MENTOR_ID)]),
        (None, BookingStatus.CONFIRMED, Actor.MENTEE, [(K.NEW_BOOKING, MENTOR_ID)]),
        (BookingStatus.PENDING, BookingStatus.CONFIRMED, Actor.MENTOR, [(K.CONFIRMED, MENTEE_ID)]),
        (BookingStatus.PENDING, BookingStatus.DECLINED, Actor.MENTOR, [(K.DECLINED, MENTEE_ID)]),
        (BookingStatus.CONFIRMED, BookingStatus.CANCELLED, Actor.MENTOR, [(K.CANCELLED, MENTEE_ID)]),
        (BookingStatus.CONFIRMED, BookingStatus.CANCELLED, Actor.MENTEE, [(K.CANCELLED, MENTOR_ID)]),
        (
            BookingStatus.PENDING,
            BookingStatus.EXPIRED,
            Actor.SYSTEM,
            [(K.EXPIRED, MENTEE_ID), (K.EXPIRED, MENTOR_ID)],
        ),
        (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, Actor.MENTOR, [(K.RATE, MENTEE_ID)]),
        (BookingStatus.CONFIRMED, BookingStatus.NO_SHOW, Actor.MENTOR, []),
    ],
)
def test_events_for_each_change(
    before: BookingStatus | None, after: BookingStatus, actor: Actor, expected: list[tuple[NotificationKind, int]]
) -> None:
    old = saved(before) if before else None
    notes = events_for(old, saved(after), actor, NOW)
    assert sorted((n.kind, n.recipient_id) for n in notes) == sorted(expected)
    assert all(n.due_at == NOW and n.booking_id == 42 and not n.kind.is_timed for n in notes)


def test_a_new_or_changed_link_tells_the_mentee_and_removing_nothing_tells_no_one() -> None:
    old = saved()
    linked = saved(meeting_link="https://meet.example/a")
    assert [(n.kind, n.recipient_id) for n in events_for(old, linked, Actor.MENTOR, NOW)] == [(K.LINK, MENTEE_ID)]
    same = saved(meeting_link="https://meet.example/a")
    assert events_for(linked, same, Actor.MENTOR, NOW) == []


def test_still_relevant_at_send_time() -> None:
    reminder = next(n for n in timed_for(saved(), "UTC", NOW) if n.kind == K.REMINDER)
    assert still_relevant(reminder, saved())
    assert not still_relevant(reminder, saved(BookingStatus.CANCELLED))
    assert not still_relevant(reminder, saved(start=START + timedelta(hours=1)))  # moved
    assert not still_relevant(reminder, None)  # gone
    expire = timed_for(saved(BookingStatus.PENDING), "UTC", NOW)[0]
    assert still_relevant(expire, saved(BookingStatus.PENDING))
    assert not still_relevant(expire, saved(BookingStatus.CONFIRMED))
    rate = events_for(saved(), saved(BookingStatus.COMPLETED), Actor.MENTOR, NOW)[0]
    assert still_relevant(rate, saved(BookingStatus.COMPLETED))
    assert not still_relevant(rate, saved(BookingStatus.COMPLETED, mentee_rating=4))
    cancelled = events_for(saved(), saved(BookingStatus.CANCELLED), Actor.MENTEE, NOW)[0]
    assert still_relevant(cancelled, saved(BookingStatus.CANCELLED))
