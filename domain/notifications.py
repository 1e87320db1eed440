"""What the bot tells people, and when: pure planning of the outbox.

Every message the bot sends on its own is a ``Notification`` row, written in the same transaction as the booking
change that causes it (or withdrawn in it). Two families:

* **events** - "you have a new request", "your booking is confirmed", ... - due at once;
* **timed** - reminders, the after-session question, the rating follow-up, the daily agenda, and the expiry of
  an unanswered request or of a hold awaiting payment (actions, not messages) - due at a computed moment.

Reminders: each attendee has their own (``REMINDER``, per booking); the mentor has one per *session* and lead
(``SESSION_REMINDER``: their time at that start, however many attendees it has - a group session of five is one
reminder listing them). A session's reminder rows are keyed by the mentor, the start and the lead, so however many
bookings (and processes) plan it, it is stored and sent once; the first attendee confirmed at that time creates it
(``joined_session``) and the last one leaving removes it (``left_session``; ``domain.usecases.notifications``).
The mentor's after-session question ("completed or no-show?") is the session's in the same way (``SESSION_AFTER``,
keyed by the mentor and the start): a group session asks once, with every attendee on it.

A weekly series answered, cancelled or run out as a whole tells each person once for the whole series
(``SERIES_CONFIRMED``, ``SERIES_DECLINED``, ``SERIES_CANCELLED``, ``SERIES_EXPIRED``: one event each, about the
first week it changed; the weeks' own moves are made with ``tell=False``), not once per week.

Payments add events written by the ledger's use cases (``domain.usecases.ledger``): the receipt, a refund owed by
hand (to the mentor, and a copy for the operator's chat), a refund done, a payment that came too late - and one
action, ``REFUND``: a Stars refund, whose "sending" is the refund call, keyed by the charge it refunds. The weeks
of a series refunded by one action (all future weeks cancelled, the series declined or run out, Mark all
refunded, a Stars payment refunded whole) are one message per person: ``SERIES_REFUND_DUE`` (and its operator
copy) and ``SERIES_REFUNDED``, keyed by the action's last ledger row, so it is stored and sent once.

``timed_for`` says which timed notifications a booking should have *in its current state*; storage replaces the
pending ones with that set on every change, so a cancelled or moved booking never gets a stale reminder. The
dispatcher re-checks the booking when it sends (``still_relevant``), so nothing stale goes out even if a change
races the send. ``key`` identifies a notification for de-duplication: the same key is never stored twice.
``domain.usecases.notifications.record_change`` writes what a change causes, in the change's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.model import Actor, Booking, BookingStatus, PaymentStatus
from domain.reschedule import request_expiry


class NotificationKind(StrEnum):
    # events
    NEW_BOOKING = "new_booking"  # to the mentor: a request to answer, or a free booking confirmed at once
    CONFIRMED = "confirmed"  # to the mentee
    DECLINED = "declined"  # to the mentee
    CANCELLED = "cancelled"  # to the other person
    EXPIRED = "expired"  # to both
    LINK = "link"  # to the mentee: the meeting link was added or changed
    RATE = "rate"  # to the mentee: the session is marked completed, please rate it
    PAID = "paid"  # to the mentee: the receipt (paid in the bot, or marked paid by the mentor)
    HOLD_EXPIRED = "hold_expired"  # to both: the slot held for a payment is free again
    LATE_PAYMENT = "late_payment"  # to the payer: the booking no longer waited for this payment; it is refunded
    REFUND_DUE = "refund_due"  # to the mentor: refund a payment by hand (provider, or paid outside the bot)
    REFUND_DUE_OPERATOR = "refund_due_operator"  # the same for the operator's chat (recipient: the mentor)
    REFUNDED = "refunded"  # to the payer: the refund is done
    REFUND = "refund"  # not a message: refund a Stars payment (``payment_id``), once
    UPI_CLAIM = "upi_claim"  # to the mentor: the mentee says they paid by UPI; received or not?
    UPI_NOT_RECEIVED = "upi_not_received"  # to the mentee: the mentor did not receive their UPI payment
    CALENDAR_FAILING = "calendar_failing"  # to a mentor: a busy calendar failed for a day and stopped blocking
    MOVED = "moved"  # to the other person: the booking moved to a new time (``domain.reschedule``)
    MOVE_REQUESTED = "move_requested"  # to the mentor: the mentee asks for a new time (approve or decline)
    MOVE_DECLINED = "move_declined"  # to the mentee: the mentor kept the original time
    MOVE_EXPIRED = "move_expired"  # to both: the request for a new time was not answered in time
    PROPOSED = "proposed"  # to the mentee: the mentor proposes new times (buttons)
    PROPOSALS_DECLINED = "proposals_declined"  # to the mentor: none of the proposed times works for the mentee
    WAITLIST = "waitlist"  # to a mentee on the waitlist: a time freed up (``waitlist_id``, ``slot``); Book it
    SERIES_DECLINED = "series_declined"  # to the mentee, once: the mentor declined every waiting week of a series
    SERIES_CONFIRMED = "series_confirmed"  # to the mentee, once: the mentor confirmed every waiting week at once
    SERIES_CANCELLED = "series_cancelled"  # to the other person, once: every future week of a series cancelled
    SERIES_EXPIRED = "series_expired"  # to both, once each: a series request ran out unanswered, as one
    # Refunds of several weeks of a series at once (``booking_id``: the first week, ``payment_id``: the ledger's
    # last row of the action, ``domain.payments.recorded_together``), one message per person and action:
    SERIES_REFUND_DUE = "series_refund_due"  # to the mentor: the weeks' refunds to make by hand, Mark all refunded
    SERIES_REFUND_DUE_OPERATOR = "series_refund_due_operator"  # the same for the operator's chat (the mentor's id)
    SERIES_REFUNDED = "series_refunded"  # to the payer: the weeks' refunds done, recorded together
    # timed
    REMINDER = "reminder"  # to the mentee (each attendee), ``lead_minutes`` before the start
    SESSION_REMINDER = "session_reminder"  # to the mentor, once per session (``slot``: its start) and lead
    AFTER_SESSION = "after_session"  # to the mentor at the end: completed or no-show? (rows of earlier versions,
    # one per booking; the question is now the session's, ``SESSION_AFTER``, and 0016 turned pending ones into it)
    SESSION_AFTER = "session_after"  # to the mentor at a session's end, once per session (``slot``: its start)
    RATE_AGAIN = "rate_again"  # to the mentee, once, if the rating is still missing
    AGENDA = "agenda"  # to the mentor at the agenda hour on a day with sessions
    EXPIRE = "expire"  # not a message: expire an unanswered request
    HOLD_EXPIRE = "hold_expire"  # not a message: free the slot of a booking whose hold ran out unpaid
    MOVE_EXPIRE = "move_expire"  # not a message: expire an unanswered request for a new time

    @property
    def is_timed(self) -> bool:
        return self in _TIMED

    @property
    def is_per_booking(self) -> bool:
        """A timed notification one booking's changes re-plan alone (``timed_for``); not a session's reminder,
        which every attendee's booking shares."""
        return self.is_timed and self not in _PER_SESSION


_TIMED = frozenset(
    {
        NotificationKind.REMINDER,
        NotificationKind.SESSION_REMINDER,
        NotificationKind.AFTER_SESSION,
        NotificationKind.SESSION_AFTER,
        NotificationKind.RATE_AGAIN,
        NotificationKind.AGENDA,
        NotificationKind.EXPIRE,
        NotificationKind.HOLD_EXPIRE,
        NotificationKind.MOVE_EXPIRE,
    }
)
# Refund messages about several weeks of a series at once, keyed by the action's last ledger row
_PER_ACTION = frozenset(
    {
        NotificationKind.SERIES_REFUND_DUE,
        NotificationKind.SERIES_REFUND_DUE_OPERATOR,
        NotificationKind.SERIES_REFUNDED,
    }
)
# The mentor's timed messages about a whole session (every attendee's booking plans the same rows)
_PER_SESSION = frozenset({NotificationKind.SESSION_REMINDER, NotificationKind.SESSION_AFTER})


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    reminder_leads: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    expire_after: timedelta = timedelta(hours=48)  # or at the session start, whichever is earlier
    rate_again_after: timedelta = timedelta(hours=24)
    agenda_at: time = time(8, 0)  # mentor's local time


@dataclass(frozen=True, slots=True)
class Notification:
    kind: NotificationKind
    recipient_id: int  # the mentor for EXPIRE (the action's owner)
    due_at: datetime  # UTC
    booking_id: int | None = None  # None only for AGENDA and CALENDAR_FAILING
    lead_minutes: int = 0  # REMINDER: how long before the start
    key: str = field(default="")
    payment_id: int | None = None  # the ledger's charge a payment message or a refund is about
    waitlist_id: int | None = None  # WAITLIST: the entry told
    slot: datetime | None = None  # WAITLIST: the start time that freed up; SESSION_REMINDER: the session's start

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", _key(self))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification a dispatcher has taken from the outbox until ``locked_until`` (its lease)."""

    outbox_id: int
    notification: Notification
    attempts: int  # including this one
    locked_until: datetime


def _key(n: Notification) -> str:
    """Unique per thing said: the kind, who, which booking (and which start time, so a moved booking is reminded
    again), or for the agenda which local day."""
    if n.kind == NotificationKind.AGENDA:
        return f"agenda:{n.recipient_id}:{n.due_at:%Y%m%d%H%M}"
    if n.kind == NotificationKind.REMINDER:
        return f"reminder:{n.recipient_id}:{n.booking_id}:{n.lead_minutes}:{n.due_at:%Y%m%d%H%M}"
    if n.kind == NotificationKind.SESSION_REMINDER:
        assert n.slot is not None, "a session's reminder names its start"
        return session_key(n.recipient_id, n.slot, n.lead_minutes)
    if n.kind == NotificationKind.SESSION_AFTER:
        assert n.slot is not None, "a session's after-session question names its start"
        return session_after_key(n.recipient_id, n.slot)
    if n.kind == NotificationKind.MOVE_EXPIRE:  # a booking may ask for a new time again after one expired
        return f"move_expire:{n.booking_id}:{n.due_at:%Y%m%d%H%M%S}"
    if n.kind == NotificationKind.REFUND:
        return f"refund:{n.payment_id}"  # one refund per charge, however often it is asked for
    if n.kind in _PER_ACTION:  # one message per series action: its last ledger row names it
        assert n.payment_id is not None, "a series' refund message names the action's last ledger row"
        return f"{n.kind.value}:{n.payment_id}"
    if n.kind.is_timed:
        return f"{n.kind.value}:{n.recipient_id}:{n.booking_id}"
    # Events need no de-duplication: each is written once, in the transaction of the change it reports (a
    # repeated change - a link edited twice - is a second message). Storage gives each a unique key.
    return ""


def session_key(mentor_id: int, start: datetime, lead_minutes: int) -> str:
    """The one key of the mentor's reminder ``lead_minutes`` before their session at ``start``."""
    return f"session_reminder:{mentor_id}:{start:%Y%m%d%H%M}:{lead_minutes}"


def session_after_key(mentor_id: int, start: datetime) -> str:
    """The one key of the mentor's after-session question of their session at ``start``."""
    return f"session_after:{mentor_id}:{start:%Y%m%d%H%M}"


def _lead_minutes(lead: timedelta) -> int:
    return int(lead.total_seconds() // 60)


def session_keys(mentor_id: int, start: datetime, policy: NotificationPolicy) -> list[str]:
    """Every key the mentor's messages of the session at ``start`` may have: a reminder per lead and the
    after-session question."""
    reminders = [session_key(mentor_id, start, _lead_minutes(lead)) for lead in policy.reminder_leads]
    return [*reminders, session_after_key(mentor_id, start)]


def session_reminders(booking: Booking, now: datetime, policy: NotificationPolicy) -> list[Notification]:
    """The mentor's reminders of the session ``booking`` attends (still in the future), one per lead, keyed by the
    session alone: every attendee's booking plans the same rows. ``booking_id``: the booking that planned them."""
    out = []
    for lead in policy.reminder_leads:
        due = booking.scheduled_at - lead
        if due > now:
            out.append(
                Notification(
                    NotificationKind.SESSION_REMINDER,
                    booking.mentor_id,
                    due,
                    booking.id,
                    _lead_minutes(lead),
                    slot=booking.scheduled_at,
                )
            )
    return out


def session_after(booking: Booking) -> Notification:
    """The mentor's after-session question of the session ``booking`` attends, at its end (also when that has
    passed: it must still be asked), keyed by the session alone: one for all its attendees. A 1:1 session's is its
    booking's card; a group session's lists its attendees with a pair of buttons each."""
    return Notification(
        NotificationKind.SESSION_AFTER, booking.mentor_id, booking.ends_at, booking.id, slot=booking.scheduled_at
    )


def joined_session(before: Booking | None, after: Booking) -> bool:
    """``after`` is now a confirmed attendee of its session and was not one of that session before (booked,
    confirmed, paid, or moved there): the mentor's reminders of that session must exist."""
    if after.status != BookingStatus.CONFIRMED:
        return False
    return before is None or before.status != BookingStatus.CONFIRMED or before.scheduled_at != after.scheduled_at


def left_session(before: Booking | None, after: Booking, now: datetime) -> datetime | None:
    """The start of the session, not begun yet, that ``before`` attended and ``after`` no longer does (cancelled,
    or moved away); None when it stays. If nobody else attends it, the mentor's reminders of it go."""
    if before is None or before.status != BookingStatus.CONFIRMED or before.scheduled_at <= now:
        return None
    if after.status == BookingStatus.CONFIRMED and after.scheduled_at == before.scheduled_at:
        return None
    return before.scheduled_at


def expiry_time(booking: Booking, policy: NotificationPolicy) -> datetime:
    return min(booking.created_at + policy.expire_after, booking.scheduled_at)


def agenda_time(day: date, mentor_zone: str, policy: NotificationPolicy) -> datetime:
    """The agenda hour on ``day`` in the mentor's zone, as UTC (a DST gap moves it forward, fold 0 in overlaps)."""
    zone = ZoneInfo(mentor_zone)
    local = datetime.combine(day, policy.agenda_at, tzinfo=zone)
    # a wall time in a DST gap does not exist; round-tripping through UTC moves it past the gap
    return local.astimezone(ZoneInfo("UTC")).astimezone(zone).astimezone(ZoneInfo("UTC"))


def timed_for(
    booking: Booking, mentor_zone: str, now: datetime, policy: NotificationPolicy = NotificationPolicy()
) -> list[Notification]:
    """The timed notifications ``booking`` should have in its current state, only those still in the future
    (the expiry ones also when already due: they must still happen). The mentor's reminders and after-session
    question are not among them: they belong to the session (``session_reminders``, ``session_after``)."""
    assert booking.id is not None
    out: list[Notification] = []
    held_until = booking.held_until
    if booking.status == BookingStatus.AWAITING_PAYMENT and held_until is not None:
        out.append(Notification(NotificationKind.HOLD_EXPIRE, booking.mentee_id, held_until, booking.id))
    elif booking.status == BookingStatus.PENDING:
        expires = expiry_time(booking, policy)
        out.append(Notification(NotificationKind.EXPIRE, booking.mentor_id, expires, booking.id))
    elif booking.status == BookingStatus.CONFIRMED:
        if booking.requested_start is not None:
            due = request_expiry(booking, policy.expire_after)
            out.append(Notification(NotificationKind.MOVE_EXPIRE, booking.mentor_id, due, booking.id))
        for lead in policy.reminder_leads:  # the mentee's; the mentor's are the session's (``session_reminders``)
            due = booking.scheduled_at - lead
            if due > now:
                minutes = _lead_minutes(lead)
                out.append(Notification(NotificationKind.REMINDER, booking.mentee_id, due, booking.id, minutes))
        local_day = booking.scheduled_at.astimezone(ZoneInfo(mentor_zone)).date()
        agenda = agenda_time(local_day, mentor_zone, policy)
        if now < agenda <= booking.scheduled_at:
            out.append(Notification(NotificationKind.AGENDA, booking.mentor_id, agenda))
    elif booking.status == BookingStatus.COMPLETED and booking.mentee_rating is None:
        completed_at = booking.updated_at or now
        due = completed_at + policy.rate_again_after
        out.append(Notification(NotificationKind.RATE_AGAIN, booking.mentee_id, due, booking.id))
    return out


def events_for(before: Booking | None, after: Booking, actor: Actor, now: datetime) -> list[Notification]:
    """The messages a change of ``before`` into ``after`` (made by ``actor``) sends at once."""
    assert after.id is not None
    K = NotificationKind
    said: list[tuple[NotificationKind, int]] = []
    if before is None:
        if after.status != BookingStatus.AWAITING_PAYMENT:  # the mentor hears of a held slot once it is paid
            said = [(K.NEW_BOOKING, after.mentor_id)]
    elif before.status == BookingStatus.AWAITING_PAYMENT and before.status != after.status:
        match after.status:
            case BookingStatus.PENDING | BookingStatus.CONFIRMED:  # paid: the receipt says which
                said = [(K.NEW_BOOKING, after.mentor_id), (K.PAID, after.mentee_id)]
            case BookingStatus.EXPIRED:
                said = [(K.HOLD_EXPIRED, after.mentee_id), (K.HOLD_EXPIRED, after.mentor_id)]
            # cancelled: the mentee withdrew before paying; the mentor never had it to answer
    elif before.status != after.status:
        match after.status:
            case BookingStatus.CONFIRMED:
                said = [(K.CONFIRMED, after.mentee_id)]
            case BookingStatus.DECLINED:
                said = [(K.DECLINED, after.mentee_id)]
            case BookingStatus.CANCELLED:
                if actor == Actor.MENTOR:
                    said = [(K.CANCELLED, after.mentee_id)]
                elif actor == Actor.MENTEE:
                    said = [(K.CANCELLED, after.mentor_id)]
                else:
                    said = [(K.CANCELLED, after.mentee_id), (K.CANCELLED, after.mentor_id)]
            case BookingStatus.EXPIRED:
                said = [(K.EXPIRED, after.mentee_id), (K.EXPIRED, after.mentor_id)]
            case BookingStatus.COMPLETED:
                said = [(K.RATE, after.mentee_id)]
    elif before.payment_claimed_at is None and after.payment_claimed_at is not None:
        said = [(K.UPI_CLAIM, after.mentor_id)]  # the mentee says they paid by UPI
    elif (
        before.payment_claimed_at is not None
        and after.payment_claimed_at is None
        and (after.payment_status == PaymentStatus.PENDING)
    ):
        said = [(K.UPI_NOT_RECEIVED, after.mentee_id)]  # the mentor did not find the money
    elif before.scheduled_at != after.scheduled_at:  # moved: the other person hears of it
        said = [(K.MOVED, after.mentee_id if actor == Actor.MENTOR else after.mentor_id)]
    elif before.requested_start != after.requested_start:
        if after.requested_start is not None:
            said = [(K.MOVE_REQUESTED, after.mentor_id)]
        elif actor == Actor.MENTOR:
            said = [(K.MOVE_DECLINED, after.mentee_id)]
        elif actor == Actor.SYSTEM:
            said = [(K.MOVE_EXPIRED, after.mentee_id), (K.MOVE_EXPIRED, after.mentor_id)]
    elif before.proposals != after.proposals:
        if after.proposals:
            said = [(K.PROPOSED, after.mentee_id)]
        elif actor == Actor.MENTEE:
            said = [(K.PROPOSALS_DECLINED, after.mentor_id)]
    elif before.meeting_link != after.meeting_link and after.meeting_link:
        said = [(K.LINK, after.mentee_id)]
    elif before.payment_status != after.payment_status and after.payment_status == PaymentStatus.PAID:
        said = [(K.PAID, after.mentee_id)]  # the mentor marked a booking paid outside the bot
    return [Notification(kind, person, now, after.id) for kind, person in said]


def still_relevant(n: Notification, booking: Booking | None) -> bool:
    """Checked at send time: does this notification still describe the booking as it is now?"""
    if n.kind in (NotificationKind.AGENDA, NotificationKind.CALENDAR_FAILING, NotificationKind.WAITLIST):
        return True  # built when sent from what holds then (and skipped if nothing does)
    if booking is None:
        return False
    match n.kind:
        case NotificationKind.REMINDER:
            starts = n.due_at + timedelta(minutes=n.lead_minutes)
            return booking.status == BookingStatus.CONFIRMED and starts == booking.scheduled_at
        case NotificationKind.AFTER_SESSION:
            return booking.status == BookingStatus.CONFIRMED
        case NotificationKind.RATE | NotificationKind.RATE_AGAIN:
            return booking.status == BookingStatus.COMPLETED and booking.mentee_rating is None
        case NotificationKind.EXPIRE:
            return booking.status == BookingStatus.PENDING
        case NotificationKind.HOLD_EXPIRE:
            return booking.status == BookingStatus.AWAITING_PAYMENT
        case NotificationKind.MOVE_EXPIRE | NotificationKind.MOVE_REQUESTED:
            return booking.status == BookingStatus.CONFIRMED and booking.requested_start is not None
        case NotificationKind.PROPOSED:
            return booking.status.is_active and bool(booking.proposals)
        case NotificationKind.CONFIRMED:
            return booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
        case NotificationKind.LINK:
            return booking.status.is_active and bool(booking.meeting_link)
        case NotificationKind.UPI_CLAIM:  # still waiting for the mentor's check
            return booking.payment_claimed_at is not None and booking.payment_status == PaymentStatus.PENDING
    # a new booking, declined, cancelled, expired, a payment or a refund: always worth telling, whatever happened
    # since (a refund's own checks are the ledger's, when it is prepared)
    return True
