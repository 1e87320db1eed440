"""Stats stay exact: random sequences of bookings and transitions, through the real use cases and repositories,
leave every offering's counters equal to a recount from the bookings table - after every single step. Payments
walk along: slots held for Stars or a provider, paid (on time, late, twice), let go or run out, refunds made by
the policy and done; every booking's payment status must agree with its ledger after every step.

Each step runs in its own unit of work, like a Telegram update: refused moves (wrong person, wrong status, too
early, slot taken) change nothing, and some successful steps are rolled back instead of committed (a crash after
the change): the counters must roll back with the booking.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.clock import FixedClock
from domain.errors import DomainError
from domain.inbox import week_bounds
from domain.model import BookingStatus, OfferingStatus, PaymentMode, PaymentStatus, TimeRange, User
from domain.payments import LedgerKind, PaymentSettings, invoice_payload, payment_status_of, to_minor
from domain.usecases.aftercare import rate_session
from domain.usecases.availability import set_weekly_availability
from domain.usecases.booking import BookingRequest, book_slot, change_status
from domain.usecases.inbox import cancel_as_mentor, mark_session
from domain.usecases.my_bookings import cancel_as_mentee
from domain.usecases.notifications import expire_request
from domain.usecases.offerings import create_offering, set_offering_status
from domain.usecases.payments import (
    IncomingPayment,
    expire_hold,
    mark_refunded,
    record_payment,
    refund_made,
    release_hold,
)
from storage.models import BookingRow, OfferingRow, PaymentRow
from storage.uow import SqlUnitOfWork

S = BookingStatus
START = datetime(2030, 3, 4, 0, 0, tzinfo=UTC)  # a Monday, midnight UTC (and 05:30 in Kolkata: on the grid)
HALF_HOUR = timedelta(minutes=30)
MENTORS = {11: "Asia/Kolkata", 12: "UTC"}
MENTEES = (21, 22, 23)
STEPS = 300
_SOURCE = {  # the statuses each move starts from
    "confirm": (S.PENDING,),
    "decline": (S.PENDING,),
    "cancel_mentor": (S.PENDING, S.CONFIRMED),
    "cancel_mentee": (S.PENDING, S.CONFIRMED),
    "expire": (S.PENDING,),
    "complete": (S.CONFIRMED,),
    "no_show": (S.CONFIRMED,),
    "rate": (S.COMPLETED,),
    "pay": (S.AWAITING_PAYMENT,),
    "release": (S.AWAITING_PAYMENT,),
    "expire_hold": (S.AWAITING_PAYMENT,),
}
# how a deployment takes payments: outside the bot (the default), or Stars and a provider in the bot
SETTINGS = (PaymentSettings(), PaymentSettings(modes=(PaymentMode.STARS, PaymentMode.PROVIDER)))


async def _setup(uow: SqlUnitOfWork) -> list[int]:
    """Two mentors open all day every day; three offerings (paid and free) with room for many bookings a day."""
    offering_ids = []
    async with uow:
        for mentor_id, zone in MENTORS.items():
            await uow.users.add(User(mentor_id, f"Mentor {mentor_id}", timezone=zone, is_mentor=True))
            await set_weekly_availability(uow, mentor_id, range(7), [TimeRange(0, 24 * 60)])
        for mentee_id in MENTEES:
            await uow.users.add(User(mentee_id, f"Mentee {mentee_id}", timezone="Europe/London"))
        for mentor_id, price, minutes in ((11, "500", 30), (11, "0", 60), (12, "1200", 45)):
            created = await create_offering(uow, mentor_id, f"Session {minutes}", price, minutes)
            await uow.offerings.update(created.with_changes(max_bookings_per_day=48, cancellation_cutoff_hours=2))
            assert created.id is not None
            await set_offering_status(uow, FixedClock(START), mentor_id, created.id, OfferingStatus.ACTIVE)
            offering_ids.append(created.id)
        await uow.commit()
    return offering_ids


async def _check_counters(uow: SqlUnitOfWork, clock: FixedClock, step: str) -> Counter[str]:
    """Compare every offering's counters with a recount of its bookings; returns how many bookings are in each
    status (so the test can see that the walk went everywhere)."""
    async with uow:
        bookings = await uow.db.rows(select(BookingRow.__table__))
        offerings = await uow.db.rows(select(OfferingRow.__table__))
        for row in offerings:
            mine = [b for b in bookings if b.offering_id == row.id]
            ratings = [b.mentee_rating for b in mine if b.mentee_rating is not None]
            recount = (len(mine), sum(b.status == S.COMPLETED for b in mine), sum(ratings), len(ratings))
            stored = (row.total_bookings, row.total_completed, row.rating_sum, row.rating_count)
            assert stored == recount, f"offering {row.id} after {step}: stored {stored}, recount {recount}"
            offering = await uow.offerings.get(row.id)
            assert offering is not None and offering.average_rating == row.average_rating, step
            if ratings:
                exact = Decimal(sum(ratings)) / Decimal(len(ratings))
                assert offering.average_rating is not None, step
                assert abs(offering.average_rating - exact) <= Decimal("0.005"), step
        # the inbox's quick stats agree with the counters, mentor by mentor
        for mentor_id, zone in MENTORS.items():
            stats = await uow.bookings.mentor_stats(mentor_id, *week_bounds(clock.now(), zone))
            own = [o for o in offerings if o.mentor_id == mentor_id]
            assert stats.completed == sum(o.total_completed for o in own), step
            assert (stats.rating_sum, stats.rating_count) == (
                sum(o.rating_sum for o in own),
                sum(o.rating_count for o in own),
            ), step
        # every booking's payment status is what its ledger says; every event of a charge once, in order
        ledger = await uow.db.rows(select(PaymentRow.__table__).order_by(PaymentRow.id))
        kinds = [(p.charge_ref, p.kind) for p in ledger]
        assert len(kinds) == len(set(kinds)), step
        for p in ledger:
            earlier = [k for ref, k in kinds[: ledger.index(p)] if ref == p.charge_ref]
            if p.kind == LedgerKind.REFUND_DUE:
                assert earlier == [LedgerKind.CHARGE], step
            if p.kind == LedgerKind.REFUND:
                assert earlier == [LedgerKind.CHARGE, LedgerKind.REFUND_DUE], step
        for b in bookings:
            entries = await uow.payments.for_booking(b.id)
            if entries:
                assert b.payment_status == payment_status_of(entries, PaymentStatus.PENDING), step
            else:
                assert b.payment_status in (PaymentStatus.PENDING, PaymentStatus.NOT_REQUIRED), step
        return Counter(b.status for b in bookings) + Counter(p.kind for p in ledger)


async def _step(uow: SqlUnitOfWork, clock: FixedClock, rng: random.Random, offering_ids: list[int]) -> str:
    """One random action by a random person; returns what was tried (for failure messages)."""
    async with uow:
        rows = await uow.db.rows(select(BookingRow.id, BookingRow.status).order_by(BookingRow.id))
        statuses: dict[int, str] = {booking_id: status for booking_id, status in rows}
    booking_ids = list(statuses)
    op = rng.choices(
        [
            "book",
            "confirm",
            "decline",
            "cancel_mentor",
            "cancel_mentee",
            "expire",
            "complete",
            "no_show",
            "rate",
            "wait",
            "pay",
            "release",
            "expire_hold",
            "refunds",
            "wait_minutes",
        ],
        weights=[6, 4, 1, 1, 1, 2, 3, 2, 3, 3, 4, 1, 1, 2, 2],
    )[0]
    if op == "wait":
        clock.advance(HALF_HOUR * rng.randint(1, 80))
        return f"wait to {clock.now():%Y-%m-%d %H:%M}"
    if op == "wait_minutes":  # long enough, sometimes, for a hold to run out
        clock.advance(timedelta(minutes=rng.randint(1, 20)))
        return f"wait to {clock.now():%Y-%m-%d %H:%M}"
    if op == "refunds":  # the dispatcher's Stars refunds, and mentors refunding provider payments by hand
        return await _refunds(uow, clock, rng)
    if op == "book" or not booking_ids:
        offering_id, mentee_id = rng.choice(offering_ids), rng.choice(MENTEES)
        on_grid = START + HALF_HOUR * -((START - clock.now()) // HALF_HOUR)  # the next half hour from now
        start = on_grid + timedelta(hours=24) + HALF_HOUR * rng.randint(0, 200)
        settings = rng.choice(SETTINGS)
        mode = rng.choice([None, PaymentMode.STARS, PaymentMode.PROVIDER]) if settings.online else None
        request = BookingRequest(offering_id, mentee_id, start, mode=mode)
        action = book_slot(uow, clock, request, payments=settings)
        label = f"book {offering_id} at {start:%m-%d %H:%M} by {mentee_id} ({mode})"
    else:
        # mostly a booking the move can apply to, sometimes any (which must be refused or change nothing)
        wanted = _SOURCE.get(op, ())
        candidates = [i for i, status in statuses.items() if status in wanted]
        booking_id = rng.choice(candidates if candidates and rng.random() < 0.8 else booking_ids)
        async with uow:
            found = await uow.bookings.get(booking_id)
        assert found is not None
        # mostly the right person, sometimes someone else (who must be refused)
        mentor = found.mentor_id if rng.random() < 0.85 else rng.choice([*MENTORS, *MENTEES])
        mentee = found.mentee_id if rng.random() < 0.85 else rng.choice([*MENTORS, *MENTEES])
        actions = {
            "confirm": lambda: change_status(uow, clock, mentor, booking_id, S.CONFIRMED),
            "decline": lambda: change_status(uow, clock, mentor, booking_id, S.DECLINED, "busy"),
            "cancel_mentor": lambda: cancel_as_mentor(uow, clock, mentor, booking_id, "sorry"),
            "cancel_mentee": lambda: cancel_as_mentee(uow, clock, mentee, booking_id, "cannot come"),
            "expire": lambda: expire_request(uow, clock, booking_id),
            "complete": lambda: mark_session(uow, clock, mentor, booking_id, S.COMPLETED),
            "no_show": lambda: mark_session(uow, clock, mentor, booking_id, S.NO_SHOW),
            "rate": lambda: rate_session(uow, clock, mentee, booking_id, rng.randint(1, 5)),
            "pay": lambda: _pay(uow, clock, rng, found, mentee),
            "release": lambda: release_hold(uow, clock, mentee, booking_id),
            "expire_hold": lambda: expire_hold(uow, clock, booking_id),
        }
        action = None
        label = f"{op} #{booking_id} ({found.status})"
    async with uow:
        try:
            if action is not None:
                await action
            else:
                await actions[op]()
        except DomainError as error:
            return f"{label}: refused ({type(error).__name__})"
        if rng.random() < 0.1:
            return f"{label}: rolled back"  # leaving the block without commit
        await uow.commit()
    return label


_charges = iter(range(1, 10**6))
_paid: list[IncomingPayment] = []


async def _pay(uow: SqlUnitOfWork, clock: FixedClock, rng: random.Random, booking, payer: int) -> None:
    """A payment for the booking as Telegram would report it: mostly the right one, sometimes a duplicate of an
    earlier delivery, or one whose amount does not match (refunded)."""
    if booking.payment_nonce is None:  # not a booking paid in the bot: a payment for it cannot exist
        raise DomainErrorForTest()
    total = to_minor(booking.amount, booking.currency) + (1 if rng.random() < 0.05 else 0)
    payment = IncomingPayment(
        payer, invoice_payload(booking), booking.currency.value, total, f"tg-{next(_charges)}",
        "prov-1" if booking.currency.value == "INR" else None,
    )  # fmt: skip
    if _paid and rng.random() < 0.15:
        payment = rng.choice(_paid)  # delivered again
    _paid.append(payment)
    await record_payment(uow, clock, payment)


class DomainErrorForTest(DomainError):
    """A move the walk cannot make on this booking."""


async def _refunds(uow: SqlUnitOfWork, clock: FixedClock, rng: random.Random) -> str:
    async with uow:
        rows = await uow.db.rows(
            select(
                PaymentRow.id,
                PaymentRow.mode,
                PaymentRow.booking_id,
                PaymentRow.mentor_id,
                PaymentRow.charge_ref,
                PaymentRow.kind,
            )
        )
    done = {r.charge_ref for r in rows if r.kind == LedgerKind.REFUND}
    due = [r for r in rows if r.kind == LedgerKind.REFUND_DUE and r.charge_ref not in done]
    if not due:
        return "refunds: none due"
    row = rng.choice(due)
    charge = next(r for r in rows if r.charge_ref == row.charge_ref and r.kind == LedgerKind.CHARGE)
    async with uow:
        try:
            if row.mode == PaymentMode.STARS:
                await refund_made(uow, clock, charge.id)
            else:
                await mark_refunded(uow, clock, row.mentor_id, row.booking_id)
        except DomainError as error:
            return f"refund {row.charge_ref}: refused ({type(error).__name__})"
        await uow.commit()
    return f"refund {row.charge_ref} ({row.mode})"


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_transitions_keep_every_counter_exact(uow: SqlUnitOfWork, seed: int) -> None:
    rng = random.Random(seed)
    clock = FixedClock(START)
    _paid.clear()  # payments delivered in this walk (a later step may deliver one again)
    offering_ids = await _setup(uow)
    seen: Counter[str] = Counter()
    history: list[str] = []
    for _ in range(STEPS):
        history.append(await _step(uow, clock, rng, offering_ids))
        seen |= await _check_counters(uow, clock, " | ".join(history[-5:]))
    # on the way, the walk reached every status and every ledger event, and ratings happened: everything was used
    assert set(seen) == {s.value for s in S} | {k.value for k in LedgerKind}, seen
    assert any("rate" in h and "refused" not in h and "rolled" not in h for h in history)
