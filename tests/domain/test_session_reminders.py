"""The mentor's reminders belong to the session, not to each attendee's booking (``domain.notifications``): the
same keys from every attendee, which changes join a session and which leave one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model import BookingStatus
from domain.notifications import (
    NotificationKind,
    NotificationPolicy,
    joined_session,
    left_session,
    session_after,
    session_keys,
    session_reminders,
    timed_for,
)
from tests.domain.factories import MENTOR_ID, NOW, booking

S = BookingStatus
START = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
ATTENDEES = [booking(START, mentee_id=500 + n).with_changes(id=40 + n) for n in range(5)]


def test_every_attendee_plans_the_same_two_reminders_for_the_mentor() -> None:
    planned = [session_reminders(b, NOW, NotificationPolicy()) for b in ATTENDEES]
    keys = {n.key for notes in planned for n in notes}
    asked = {session_after(b).key for b in ATTENDEES}
    assert keys | asked == set(session_keys(MENTOR_ID, START, NotificationPolicy()))
    assert len(keys) == 2 and len(asked) == 1  # one per lead and one question, five attendees or one
    for notes in planned:
        assert [(n.kind, n.recipient_id, n.slot, START - n.due_at) for n in notes] == [
            (NotificationKind.SESSION_REMINDER, MENTOR_ID, START, timedelta(hours=24)),
            (NotificationKind.SESSION_REMINDER, MENTOR_ID, START, timedelta(hours=1)),
        ]
    # each attendee still has their own reminders, and only they
    own = [n for b in ATTENDEES for n in timed_for(b, "UTC", NOW) if n.kind == NotificationKind.REMINDER]
    assert sorted(n.recipient_id for n in own) == sorted([b.mentee_id for b in ATTENDEES] * 2)


def test_another_start_is_another_session_and_past_leads_are_not_planned() -> None:
    other = session_reminders(
        ATTENDEES[0].with_changes(scheduled_at=START + timedelta(hours=1)), NOW, NotificationPolicy()
    )
    assert not {n.key for n in other} & set(session_keys(MENTOR_ID, START, NotificationPolicy()))
    late = session_reminders(ATTENDEES[0], START - timedelta(hours=2), NotificationPolicy())
    assert [n.lead_minutes for n in late] == [60]
    assert session_reminders(ATTENDEES[0], START, NotificationPolicy()) == []


CONFIRMED = ATTENDEES[0]
PENDING = CONFIRMED.with_changes(status=S.PENDING)
MOVED = CONFIRMED.with_changes(scheduled_at=START + timedelta(days=1))


@pytest.mark.parametrize(
    ("before", "after", "joins", "leaves"),
    [
        (None, CONFIRMED, True, None),  # booked, confirmed at once
        (None, PENDING, False, None),  # a request: no reminders yet
        (PENDING, CONFIRMED, True, None),  # the mentor confirmed it
        (CONFIRMED, CONFIRMED.with_changes(meeting_link="https://x"), False, None),  # stays
        (CONFIRMED, CONFIRMED.with_changes(status=S.CANCELLED), False, START),  # left
        (CONFIRMED, MOVED, True, START),  # moved: joins the new session, leaves the old
        (PENDING, PENDING.with_changes(status=S.DECLINED), False, None),  # never attended
    ],
)
def test_which_changes_join_and_leave_a_session(before, after, joins, leaves) -> None:
    assert joined_session(before, after) is joins
    assert left_session(before, after, NOW) == leaves


def test_a_session_that_has_begun_is_not_left_any_more() -> None:
    assert left_session(CONFIRMED, CONFIRMED.with_changes(status=S.COMPLETED), START) is None
