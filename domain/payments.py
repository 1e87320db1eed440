"""Payments, the rules: how a paid booking is paid, what it costs, the hold, the invoice payload, who may pay at
checkout, the refund policy, and the ledger with its summaries (a booking's payment status, a mentor's earnings).

Modes (``PAYMENTS``, ``PaymentSettings.modes``): ``stars`` and ``provider`` take the money in the bot with an
invoice; ``upi`` shows the mentee the mentor's UPI ID, a ``upi://pay`` link and its QR code, and the mentor
confirms the money arrived; ``off`` leaves it outside (the mentor marks a booking paid by hand). Several modes may
be on at once; the mentee picks. Every mode but ``off`` holds the slot while the mentee pays (``HELD``). A new
mode is one more ``PaymentMode`` value, listed in ``ONLINE`` if the bot sends it an invoice, with its currency in
``price_in``.

The money a booking asks for is decided once, when the booking is made (``payment_terms``), and stored on the
booking; every later check (the checkout, the payment, a refund) compares against the booking, never against a
button or an invoice payload.

The ledger is append-only: one ``LedgerEntry`` per event (a charge, a refund that became due, a refund done).
A booking's ``PaymentStatus`` is its summary (``payment_status_of``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from urllib.parse import quote
from zoneinfo import ZoneInfo

from domain.errors import DomainError, InvalidInput
from domain.model import Actor, Booking, BookingStatus, Currency, Offering, PaymentMode, PaymentStatus
from domain.sessions import cancellation_closed

S = BookingStatus

ONLINE: tuple[PaymentMode, ...] = (PaymentMode.STARS, PaymentMode.PROVIDER)  # paid with an invoice in the bot
HELD: tuple[PaymentMode, ...] = (*ONLINE, PaymentMode.UPI)  # paid while the slot is held (awaiting payment)
STARS_MIN = 1
STARS_MAX = 100_000  # a typed Stars price above this is refused (Telegram may refuse lower ones)
NONCE_BYTES = 8  # the random part of an invoice payload: 16 hex digits


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    """The deployment's payment settings, as the rules need them."""

    modes: tuple[PaymentMode, ...] = (PaymentMode.OFF,)
    stars_per_rupee: Decimal = Decimal(1)
    hold: timedelta = timedelta(minutes=15)

    @property
    def online(self) -> tuple[PaymentMode, ...]:
        """The invoice modes that are on."""
        return tuple(mode for mode in self.modes if mode in ONLINE)

    @property
    def held(self) -> tuple[PaymentMode, ...]:
        """The modes that are on and hold the slot while the mentee pays (invoices, UPI)."""
        return tuple(mode for mode in self.modes if mode in HELD)


class PaymentModeUnavailable(DomainError):
    """The mode asked for is not one this offering can be paid with here (turned off, or a free offering)."""


class HoldOver(DomainError):
    """The hold on the slot has run out (or the booking no longer waits for a payment)."""


class NothingToMark(DomainError):
    """Mark paid / mark refunded on a booking with nothing of that kind to mark."""


# --- what a booking costs, and how it is paid ----------------------------------------------------------------


def modes_for(offering: Offering, settings: PaymentSettings, upi_id: str | None = None) -> tuple[PaymentMode, ...]:
    """How a booking of ``offering`` may be paid, in the order ``PAYMENTS`` lists them: nothing for a free
    offering; the modes that are on (UPI only when the mentor has a UPI ID, ``upi_id``); else ``off`` (paid
    outside the bot)."""
    if offering.is_free:
        return ()
    usable = tuple(mode for mode in settings.held if mode != PaymentMode.UPI or upi_id)
    return usable or (PaymentMode.OFF,)


def suggested_stars(price: Decimal, stars_per_rupee: Decimal) -> int:
    """A Stars price for ``price`` rupees at the configured rate: rounded up, at least one Star."""
    stars = int((price * stars_per_rupee).to_integral_value(rounding=ROUND_CEILING))
    return min(max(stars, STARS_MIN), STARS_MAX)


def stars_price(offering: Offering, stars_per_rupee: Decimal) -> int:
    """The offering's price in Stars: the mentor's, or the suggestion when they never set one."""
    if offering.price_stars is not None:
        return offering.price_stars
    return suggested_stars(offering.price, stars_per_rupee)


def price_in(offering: Offering, mode: PaymentMode, stars_per_rupee: Decimal) -> tuple[Decimal, Currency]:
    """What a booking paid by ``mode`` costs: whole Stars for ``stars``, else the rupee price."""
    if mode == PaymentMode.STARS:
        return Decimal(stars_price(offering, stars_per_rupee)), Currency.XTR
    return offering.price, Currency.INR


def to_minor(amount: Decimal, currency: Currency) -> int:
    """``amount`` in the smallest unit Telegram counts in: paise for rupees, whole Stars for ``XTR``."""
    units = amount.scaleb(currency.digits)
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of the smallest unit")
    return int(units)


def from_minor(units: int, currency: Currency) -> Decimal:
    return Decimal(units).scaleb(-currency.digits)


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """What a new paid booking stores: how it is paid, how much, and until when the slot is held for it."""

    mode: PaymentMode
    amount: Decimal
    currency: Currency
    hold_until: datetime | None  # online modes only
    nonce: str | None  # online modes only


def payment_terms(
    offering: Offering,
    mode: PaymentMode | None,
    settings: PaymentSettings,
    start: datetime,
    now: datetime,
    nonce: str,
    upi_id: str | None = None,
) -> PaymentTerms | None:
    """The terms of a new booking of ``offering`` starting at ``start``: None when it is free; ``mode`` None
    takes the first mode offered (``upi_id``: the mentor's, see ``modes_for``). ``PaymentModeUnavailable`` for a
    mode this offering cannot be paid with. The hold lasts ``settings.hold``, and never past the start."""
    offered = modes_for(offering, settings, upi_id)
    if not offered:
        if mode is not None:
            raise PaymentModeUnavailable(mode)
        return None
    chosen = mode or offered[0]
    if chosen not in offered:
        raise PaymentModeUnavailable(chosen)
    amount, currency = price_in(offering, chosen, settings.stars_per_rupee)
    if chosen not in HELD:
        return PaymentTerms(chosen, amount, currency, None, None)
    if not re.fullmatch(r"[0-9a-f]{16}", nonce):
        raise ValueError("the nonce must be 16 hex digits")
    return PaymentTerms(chosen, amount, currency, min(now + settings.hold, start), nonce)


# --- the invoice payload and the checkout ---------------------------------------------------------------------

_PAYLOAD = re.compile(r"b([1-9][0-9]{0,18})\.([0-9a-f]{16})")


def invoice_payload(booking: Booking) -> str:
    """What the invoice carries back: the booking's id and its random nonce, nothing about the people."""
    if booking.id is None or booking.payment_nonce is None:
        raise ValueError("only a saved booking awaiting payment has an invoice")
    return f"b{booking.id}.{booking.payment_nonce}"


def read_payload(payload: str) -> tuple[int, str] | None:
    """``(booking id, nonce)`` from an invoice payload; None for anything the bot did not write."""
    found = _PAYLOAD.fullmatch(payload or "")
    return (int(found.group(1)), found.group(2)) if found else None


class CheckoutRefusal(StrEnum):
    """Why a checkout is refused (the payer is told, in their language)."""

    UNKNOWN = "unknown"  # no such booking, or a payload the bot did not write
    NOT_YOURS = "not_yours"
    NOT_AWAITING = "not_awaiting"  # paid already, cancelled, expired
    HOLD_OVER = "hold_over"
    MISMATCH = "mismatch"  # the amount or currency is not the booking's


def checkout_refusal(
    booking: Booking | None, nonce: str, payer_id: int, currency: str, total: int, now: datetime
) -> CheckoutRefusal | None:
    """None when ``payer_id`` may pay ``total`` (smallest units) of ``currency`` for ``booking`` now: it still
    waits for this payment, it is theirs, the hold has not run out, and the amount and currency are the
    booking's. Otherwise why not."""
    if booking is None or booking.payment_nonce is None or booking.payment_nonce != nonce:
        return CheckoutRefusal.UNKNOWN
    if booking.payment_mode not in ONLINE:  # a UPI booking is never paid with an invoice
        return CheckoutRefusal.UNKNOWN
    if booking.mentee_id != payer_id:
        return CheckoutRefusal.NOT_YOURS
    if booking.status != S.AWAITING_PAYMENT:
        return CheckoutRefusal.NOT_AWAITING
    if booking.hold_until is None or now >= booking.hold_until:
        return CheckoutRefusal.HOLD_OVER
    if currency != booking.currency.value or total != to_minor(booking.amount, booking.currency):
        return CheckoutRefusal.MISMATCH
    return None


def accepts_payment(booking: Booking, nonce: str, payer_id: int, currency: str, total: int) -> bool:
    """A payment that has arrived moves the booking on only if the booking still waits for exactly it (the
    hold's end does not matter any more: the checkout was accepted before it, and the slot is still held).
    Anything else is refunded."""
    return (
        booking.status == S.AWAITING_PAYMENT
        and booking.payment_mode in ONLINE
        and booking.payment_nonce == nonce
        and booking.mentee_id == payer_id
        and currency == booking.currency.value
        and total == to_minor(booking.amount, booking.currency)
    )


def after_payment(offering: Offering) -> BookingStatus:
    """Where a paid booking goes: confirmed at once if the offering says so, else to the mentor's answer."""
    return S.CONFIRMED if offering.auto_confirm_paid else S.PENDING


# --- a weekly series paid as one ------------------------------------------------------------------------------
#
# A series paid in the bot (``domain.series``) has one invoice for all its occurrences. Every occurrence stores
# its own price (``payment_terms``, snapshotted when it is booked) and the series' one nonce; the invoice asks for
# their sum. The payment is recorded as one charge row per occurrence (its share, ``share_charge_ref``), so each
# occurrence's payment status, its refund by the usual policy and ``/earnings`` work as for single bookings.
# Telegram refunds a Stars payment only whole (``refundStarPayment``): ``stars_refund_way`` decides.

_SERIES_PAYLOAD = re.compile(r"s([1-9][0-9]{0,18})\.([0-9a-f]{16})")


def series_payload(series_id: int, nonce: str) -> str:
    """The invoice payload of a series paid as one: its id (the first occurrence's booking id) and its nonce."""
    return f"s{series_id}.{nonce}"


def read_series_payload(payload: str) -> tuple[int, str] | None:
    """``(series id, nonce)`` from a series invoice payload; None for anything else."""
    found = _SERIES_PAYLOAD.fullmatch(payload or "")
    return (int(found.group(1)), found.group(2)) if found else None


def paid_together(bookings: Sequence[Booking], nonce: str) -> list[Booking]:
    """The occurrences of a series that one invoice (``nonce``) pays: those booked with it, earliest first."""
    return sorted((b for b in bookings if b.payment_nonce == nonce), key=lambda b: b.scheduled_at)


def series_amount(bookings: Sequence[Booking]) -> tuple[Decimal, Currency]:
    """What one invoice for ``bookings`` asks: the sum of their stored prices, in their one currency."""
    if not bookings or len({b.currency for b in bookings}) != 1:
        raise ValueError("a series is paid in one currency")
    return sum((b.amount for b in bookings), Decimal(0)), bookings[0].currency


def series_checkout_refusal(
    bookings: Sequence[Booking], payer_id: int, currency: str, total: int, now: datetime
) -> CheckoutRefusal | None:
    """``checkout_refusal`` for a series' invoice: every occurrence it pays (``paid_together``) must still wait
    for it, held, the payer's, and ``total`` must be their stored prices added up."""
    if not bookings or any(b.payment_mode not in ONLINE for b in bookings):
        return CheckoutRefusal.UNKNOWN
    if any(b.mentee_id != payer_id for b in bookings):
        return CheckoutRefusal.NOT_YOURS
    if any(b.status != S.AWAITING_PAYMENT for b in bookings):
        return CheckoutRefusal.NOT_AWAITING
    if any(b.hold_until is None or now >= b.hold_until for b in bookings):
        return CheckoutRefusal.HOLD_OVER
    amount, own = series_amount(bookings)
    if currency != own.value or total != to_minor(amount, own):
        return CheckoutRefusal.MISMATCH
    return None


def series_accepts_payment(bookings: Sequence[Booking], payer_id: int, currency: str, total: int) -> bool:
    """``accepts_payment`` for a series: every occurrence still waits for exactly this payment."""
    if not bookings or any(b.status != S.AWAITING_PAYMENT or b.payment_mode not in ONLINE for b in bookings):
        return False
    amount, own = series_amount(bookings)
    return all(b.mentee_id == payer_id for b in bookings) and (currency, total) == (
        own.value,
        to_minor(amount, own),
    )


def share_charge_ref(telegram_charge_id: str, booking: Booking, first: bool) -> str:
    """The ledger's ``charge_ref`` of one occurrence's share of a series payment: Telegram's charge id for the
    first occurrence (so a payment reported twice is recorded once, whichever way it went), with the booking's
    id after it for the others."""
    return telegram_charge_id if first else f"{telegram_charge_id}:{booking.id}"


def shares_of(charge: LedgerEntry, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The charges of one Telegram payment (``charge``'s and the other occurrences' of its series), from
    ``entries`` (the ledger of the series' bookings)."""
    if charge.telegram_charge_id is None:
        return [charge]
    found = [e for e in charges(entries) if e.telegram_charge_id == charge.telegram_charge_id]
    return found or [charge]


class StarsRefundWay(StrEnum):
    WHOLE = "whole"  # refundStarPayment gives the whole payment back (every share of it is owed)
    BY_HAND = "by_hand"  # one share of a series payment: the mentor (and the operator) settle it, then mark it
    NONE = "none"  # nothing to do for this charge (refunded already, or another share's refund does it)


def stars_refund_way(charge: LedgerEntry, entries: Sequence[LedgerEntry]) -> StarsRefundWay:
    """How a Stars charge owed back is refunded. Telegram refunds a payment only whole, so the bot calls
    ``refundStarPayment`` when every share of the payment is owed and none was settled by hand (a single
    booking's payment; a series cancelled, declined or expired whole, or paid after its hold ran out). One share
    owed while others are kept (one week of a series cancelled) cannot be refunded by Telegram: it is a refund
    due that the mentor or the operator settles and marks, as a provider's payment is. ``entries``: the ledger
    of every booking the payment paid."""
    owed = {c.charge_ref for c in outstanding_refunds(entries)}
    if charge.charge_ref not in owed:
        return StarsRefundWay.NONE
    shares = {s.charge_ref for s in shares_of(charge, entries)}
    if not shares <= owed:
        return StarsRefundWay.BY_HAND
    # every share owed: the one made due last refunds the payment (its REFUND row is the last one written), the
    # others nothing - so Telegram is asked once, however many weeks were cancelled together
    due = [e for e in entries if e.kind == LedgerKind.REFUND_DUE and e.charge_ref in shares]
    last = max(due, key=lambda e: (e.recorded_at, e.id or 0))
    return StarsRefundWay.WHOLE if last.charge_ref == charge.charge_ref else StarsRefundWay.NONE


# --- the refund policy ----------------------------------------------------------------------------------------


class Refund(StrEnum):
    FULL = "full"
    NONE = "none"


def refund_on_move(
    booking: Booking, target: BookingStatus, actor: Actor, offering: Offering, now: datetime
) -> Refund:
    """What a paid booking's move to ``target`` by ``actor`` refunds::

    declined by the mentor, cancelled by the mentor, expired unanswered  -> full refund
    cancelled by the mentee: a request still waiting for the mentor       -> full refund
                             a confirmed session, until the cut-off       -> full refund
                             a confirmed session, after the cut-off       -> nothing
    anything else (confirmed, completed, no-show)                         -> nothing
    """
    if target in (S.DECLINED, S.EXPIRED):
        return Refund.FULL
    if target != S.CANCELLED:
        return Refund.NONE
    if actor != Actor.MENTEE:
        return Refund.FULL
    # the cut-off until which a mentee may cancel a confirmed session (``domain.sessions``): after it, nothing
    return Refund.NONE if cancellation_closed(booking, offering, now) else Refund.FULL


def may_mark_paid(booking: Booking) -> bool:
    """The mentor may mark a booking paid outside the bot once they have confirmed it, while it is not paid (a
    request is answered first: the card stays short)."""
    return (
        booking.payment_mode == PaymentMode.OFF
        and booking.payment_status == PaymentStatus.PENDING
        and booking.status in (S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
    )


def may_mark_refunded(booking: Booking) -> bool:
    """A refund only the mentor can make is owed (Stars are refunded by the bot itself, except one week's share
    of a series paid as one: ``stars_refund_way``; the use case checks the ledger)."""
    by_hand = (PaymentMode.PROVIDER, PaymentMode.UPI, PaymentMode.OFF)
    series_stars = booking.payment_mode == PaymentMode.STARS and booking.series_id is not None
    return booking.payment_status == PaymentStatus.REFUND_DUE and (booking.payment_mode in by_hand or series_stars)


# --- UPI: paid to the mentor's UPI ID, confirmed by the mentor -------------------------------------------------

UPI_ID_MAX = 100  # characters, handle included (NPCI allows more; nobody's is this long)
_UPI_ID = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}@[a-z][a-z0-9]{1,35}")
UPI_NOTE_MAX = 50  # the ``tn`` (transaction note) of a ``upi://pay`` link: apps cut longer ones


def parse_upi_id(text: str) -> str:
    """A UPI ID as typed (``Ananya.Rao@okicici``), checked and lower-cased (UPI IDs ignore case): a name of
    2-64 letters, digits, ``.``, ``_`` or ``-``, ``@``, and a bank handle of 2-36 letters and digits starting with
    a letter; at most ``UPI_ID_MAX`` characters in all. ``InvalidInput("upi_id")`` otherwise."""
    typed = text.strip().lower()
    if len(typed) > UPI_ID_MAX or not _UPI_ID.fullmatch(typed):
        raise InvalidInput("upi_id")
    return typed


def upi_link(upi_id: str, payee: str, amount: Decimal, currency: Currency, note: str) -> str:
    """The ``upi://pay`` link UPI apps open (NPCI's deep-link form): payee address and name, the amount with two
    decimals, the currency, a note. Every value is percent-encoded (``@`` too: apps decode it), so a payee name or
    note can never add a parameter. Only rupees go by UPI."""
    if currency != Currency.INR:
        raise ValueError("UPI pays rupees only")
    values = (
        ("pa", upi_id),
        ("pn", payee),
        ("am", f"{amount.quantize(Decimal('0.01'))}"),
        ("cu", currency.value),
        ("tn", note[:UPI_NOTE_MAX]),
    )
    return "upi://pay?" + "&".join(f"{key}={quote(value, safe='')}" for key, value in values)


def upi_charge_ref(booking_id: int) -> str:
    """The ledger's reference of a booking's UPI payment: one per booking (the mentor confirms it once)."""
    return f"upi:{booking_id}"


def may_claim_upi(booking: Booking) -> bool:
    """The mentee may say "I have paid" for a UPI booking not paid yet and not already waiting for the mentor's
    check: while it is held, or after the hold ran out or was let go (the money may have left anyway: the mentor
    then confirms it and refunds it)."""
    return (
        booking.payment_mode == PaymentMode.UPI
        and booking.payment_status == PaymentStatus.PENDING
        and booking.payment_claimed_at is None
        and booking.status in (S.AWAITING_PAYMENT, S.EXPIRED, S.CANCELLED)
    )


def may_check_upi(booking: Booking) -> bool:
    """The mentor may answer a UPI payment the mentee reported (received / not received) once, while it waits."""
    return (
        booking.payment_mode == PaymentMode.UPI
        and booking.payment_status == PaymentStatus.PENDING
        and booking.payment_claimed_at is not None
    )


# A weekly series of a UPI-paid offering is paid with ONE UPI payment, as a Stars series is with one invoice: the
# weeks booked together (``paid_together``, one nonce) are held as one, the mentee pays the sum of their stored
# prices (``series_amount``) and reports it once ("I have paid" marks every week), and the mentor answers once for
# all of them. Mark paid writes one charge per week (its stored price, ``upi_charge_ref`` of the week), so each
# week's refund by the usual policy and ``/earnings`` work as for single bookings; the mentor always gives UPI
# money back by hand. A single booking is the series of one.


def upi_moves_on(bookings: Sequence[Booking]) -> bool:
    """The UPI payment the mentor found moves the bookings on (to the mentor's answer, or confirmed) only when
    every one of them still waits for it; otherwise it came too late and is owed back whole."""
    return bool(bookings) and all(
        b.status == S.AWAITING_PAYMENT and b.payment_mode == PaymentMode.UPI for b in bookings
    )


def upi_charges(bookings: Sequence[Booking], now: datetime) -> list[LedgerEntry]:
    """The ledger's charges for one UPI payment of ``bookings`` (one booking, or the weeks of a series paid
    together, earliest first) that the mentor marked received: one per booking, its stored price, when they
    still waited for it (``upi_moves_on``); else one charge of the whole sum on the first, to be refunded whole.
    Amounts come from the stored bookings only."""
    if not bookings:
        return []
    first = bookings[0]
    assert all(b.id is not None for b in bookings)

    def charge(booking: Booking, amount: Decimal) -> LedgerEntry:
        assert booking.id is not None
        return LedgerEntry(
            booking.id, booking.mentor_id, booking.mentee_id, LedgerKind.CHARGE, amount, booking.currency,
            PaymentMode.UPI, upi_charge_ref(booking.id), now,
        )  # fmt: skip

    if upi_moves_on(bookings):
        return [charge(b, b.amount) for b in bookings]
    return [charge(first, series_amount(bookings)[0])]


# --- the ledger -----------------------------------------------------------------------------------------------


class LedgerKind(StrEnum):
    """One event in the ledger. Values are stored: never rename them."""

    CHARGE = "charge"  # money received
    REFUND_DUE = "refund_due"  # a refund of a charge became due
    REFUND = "refund"  # the charge was refunded


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of the append-only ledger. A charge and its refund events share ``charge_ref``: the Telegram
    charge id, or ``manual:<booking>`` for a payment the mentor marked by hand."""

    booking_id: int
    mentor_id: int
    payer_id: int
    kind: LedgerKind
    amount: Decimal  # in ``currency``
    currency: Currency
    mode: PaymentMode
    charge_ref: str
    recorded_at: datetime
    telegram_charge_id: str | None = None
    provider_charge_id: str | None = None
    id: int | None = None

    def event(self, kind: LedgerKind, at: datetime) -> LedgerEntry:
        """The ``kind`` event of this charge, recorded ``at``."""
        return LedgerEntry(
            self.booking_id, self.mentor_id, self.payer_id, kind, self.amount, self.currency, self.mode,
            self.charge_ref, at, self.telegram_charge_id, self.provider_charge_id,
        )  # fmt: skip


def manual_charge_ref(booking_id: int) -> str:
    return f"manual:{booking_id}"


def charges(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    return [e for e in entries if e.kind == LedgerKind.CHARGE]


def _refs(entries: Iterable[LedgerEntry], kind: LedgerKind) -> set[str]:
    return {e.charge_ref for e in entries if e.kind == kind}


def kept_charges(entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Charges no refund has become due for."""
    due = _refs(entries, LedgerKind.REFUND_DUE)
    return [c for c in charges(entries) if c.charge_ref not in due]


def outstanding_refunds(entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Charges whose refund is due and not yet done."""
    due, done = _refs(entries, LedgerKind.REFUND_DUE), _refs(entries, LedgerKind.REFUND)
    return [c for c in charges(entries) if c.charge_ref in due and c.charge_ref not in done]


def recorded_together(
    entries: Iterable[LedgerEntry], kind: LedgerKind, first_booking_id: int, last_id: int
) -> list[LedgerEntry]:
    """The ``kind`` events (refunds made due, or refunds done) that one action on a weekly series recorded for
    several weeks at once, in the order written: the rows of one moment from the first week's
    (``first_booking_id``) to the row ``last_id``, the action's last. A message about the action names those two,
    so it lists exactly its weeks, and an earlier or later action (even at the same moment) is not among them.
    [] when ``last_id`` is no such event or the first week has none before it."""
    entries = list(entries)
    last = next((e for e in entries if e.id == last_id and e.kind == kind), None)
    if last is None:
        return []
    same = [e for e in entries if e.kind == kind and e.recorded_at == last.recorded_at and (e.id or 0) <= last_id]
    starts = [e.id or 0 for e in same if e.booking_id == first_booking_id]
    if not starts:
        return []
    return sorted((e for e in same if (e.id or 0) >= max(starts)), key=lambda e: e.id or 0)


def total_of(entries: Sequence[LedgerEntry]) -> tuple[Decimal, Currency]:
    """What ``entries`` (events of one currency, at least one) add up to."""
    if not entries or len({e.currency for e in entries}) != 1:
        raise ValueError("a total of one currency")
    return sum((e.amount for e in entries), Decimal(0)), entries[0].currency


def payment_status_of(entries: Sequence[LedgerEntry], before: PaymentStatus) -> PaymentStatus:
    """A booking's payment status from its ledger: a refund owed shows first, then a payment kept, then
    "refunded" when every payment was; without any payment, what it was (not paid yet, or not required)."""
    if not charges(entries):
        return before
    if outstanding_refunds(entries):
        return PaymentStatus.REFUND_DUE
    if kept_charges(entries):
        return PaymentStatus.PAID
    return PaymentStatus.REFUNDED


# --- earnings -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Totals:
    """One currency's money over a period: received, refunded, and refunds owed but not yet done."""

    paid: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    owed: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        return self.paid - self.refunded


@dataclass(frozen=True, slots=True)
class Earnings:
    month_start: datetime  # UTC: the first instant of the mentor's current month, in their zone
    month: dict[Currency, Totals] = field(default_factory=dict)
    all_time: dict[Currency, Totals] = field(default_factory=dict)


def month_start(now: datetime, zone: str) -> datetime:
    """00:00 on the first day of ``now``'s month in ``zone``, as UTC."""
    local = now.astimezone(ZoneInfo(zone))
    first = datetime.combine(local.date().replace(day=1), time(0), tzinfo=ZoneInfo(zone))
    return first.astimezone(UTC)


Sums = dict[tuple[Currency, LedgerKind], Decimal]
"""The ledger's amounts added up per currency and kind (storage sums them in SQL)."""


def sums_of(entries: Iterable[LedgerEntry], since: datetime | None = None) -> Sums:
    """``Sums`` recounted from ``entries`` (those recorded from ``since`` on)."""
    out: Sums = {}
    for entry in entries:
        if since is None or entry.recorded_at >= since:
            key = (entry.currency, entry.kind)
            out[key] = out.get(key, Decimal(0)) + entry.amount
    return out


def totals_from(sums: Sums) -> dict[Currency, Totals]:
    """Per currency: paid is every charge, refunded every refund done, owed the refunds due and not done."""
    out: dict[Currency, Totals] = {}
    for currency in Currency:
        paid = sums.get((currency, LedgerKind.CHARGE), Decimal(0))
        due = sums.get((currency, LedgerKind.REFUND_DUE), Decimal(0))
        refunded = sums.get((currency, LedgerKind.REFUND), Decimal(0))
        if paid or due or refunded:
            out[currency] = Totals(paid, refunded, max(due - refunded, Decimal(0)))
    return out
