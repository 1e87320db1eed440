"""Payments in the chat: the invoice for a slot held awaiting payment (💳 Pay sends it again while the hold lasts,
✖️ lets the time go), or its UPI details and QR code (for a weekly series, one invoice or one UPI payment for
every week), Telegram's pre-checkout question, the successful payment, the mentee's ✅ I have paid, the mentor's
💰 Mark paid / ❌ Not received and ↩️ Mark refunded, and ``/earnings`` with its CSV download.

Amounts come from the stored booking only: the invoice is built from it, the checkout and the payment are
compared with it (``domain.usecases.payments``). The pre-checkout question is always answered (Telegram waits at
most 10 seconds), in the payer's language when it is refused.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, PreCheckoutQueryHandler, filters

from chat.i18n import _, format_amount, format_day, format_moment, format_price, ngettext, pick_locale, set_locale
from chat.payments import Invoice, send_invoice, send_qr
from domain.errors import DomainError
from domain.inbox import tab_of
from domain.mentee import MyTab
from domain.model import Booking, BookingStatus, BookingView, Currency, PaymentMode
from domain.payments import (
    UPI_NOTE_MAX,
    CheckoutRefusal,
    Earnings,
    LedgerEntry,
    Totals,
    invoice_payload,
    may_claim_upi,
    series_amount,
    series_payload,
    to_minor,
    upi_link,
)
from domain.usecases import payments as usecase
from handlers.callbacks import (
    ActOnPayment,
    DownloadLedger,
    MarkSeriesRefunded,
    OpenInbox,
    OpenMyBookings,
    PaymentAction,
)
from handlers.common import AppContext, answer_press, on_button, say, show, show_keyboard
from handlers.keyboards import button
from handlers.labels import payment_mode_label
from handlers.render import booking_card_for_mentee, booking_card_for_mentor, esc

log = logging.getLogger(__name__)
T = TypeVar("T")
RECORD_RETRIES = (0.5, 2.0, 5.0)  # seconds between attempts to record a payment while the database is away


# --- the invoice ----------------------------------------------------------------------------------------------


def invoice_for(view: BookingView, zone: str, provider_token: str) -> Invoice:
    """The invoice of a booking awaiting payment, in the reader's language: its stored price, its payload."""
    booking = view.booking
    assert booking.id is not None
    description = _("{minutes}-minute session with {mentor}, {time}").format(
        minutes=booking.duration_minutes,
        mentor=view.mentor.display_name,
        time=format_moment(booking.scheduled_at, zone),
    )
    stars = booking.currency == Currency.XTR
    return Invoice(
        chat_id=booking.mentee_id,
        title=view.offering.title,
        description=description,
        payload=invoice_payload(booking),
        currency=booking.currency.value,
        label=view.offering.title,
        amount=to_minor(booking.amount, booking.currency),
        provider_token="" if stars else provider_token,
    )


def series_invoice_for(views: list[BookingView], zone: str, provider_token: str) -> Invoice:
    """One invoice for the weeks of a series held awaiting payment: the sum of their stored prices
    (``domain.payments.series_amount``), the series' payload."""
    first = views[0].booking
    assert first.series_id is not None and first.payment_nonce is not None
    amount, currency = series_amount([v.booking for v in views])
    description = ngettext(
        "{count} weekly {minutes}-minute session with {mentor}, from {time}",
        "{count} weekly {minutes}-minute sessions with {mentor}, from {time}",
        len(views),
    ).format(
        count=len(views),
        minutes=first.duration_minutes,
        mentor=views[0].mentor.display_name,
        time=format_moment(first.scheduled_at, zone),
    )
    return Invoice(
        chat_id=first.mentee_id,
        title=views[0].offering.title,
        description=description,
        payload=series_payload(first.series_id, first.payment_nonce),
        currency=currency.value,
        label=views[0].offering.title,
        amount=to_minor(amount, currency),
        provider_token="" if currency == Currency.XTR else provider_token,
    )


def held_series_screen(views: list[BookingView], zone: str) -> tuple[str, InlineKeyboardMarkup]:
    """After booking a series paid in the bot: the weeks held until when, the total, and how to pay."""
    first = views[0].booking
    amount, currency = series_amount([v.booking for v in views])
    head = ngettext(
        "🕒 {count} week is held for you. Pay {total} for it with the invoice below ({mode}).",
        "🕒 {count} weeks are held for you. Pay {total} for all of them with the invoice below ({mode}).",
        len(views),
    ).format(
        count=len(views),
        total=format_price(amount, currency),
        mode=payment_mode_label(first.payment_mode or PaymentMode.STARS),
    )
    card, _markup = booking_card_for_mentee(first, views[0].offering, views[0].mentor, zone)
    text = "\n".join([head, "", *week_lines(views, zone), "", card])
    return text, InlineKeyboardMarkup(pay_buttons(first, price=format_price(amount, currency)))


async def show_held_series(update: Update, context: AppContext, views: list[BookingView]) -> None:
    """The held weeks, then the series' one invoice (the card's 💳 Pay sends it again); paid by UPI, the one UPI
    payment's details and QR code."""
    if views[0].booking.payment_mode == PaymentMode.UPI:
        await show_held_booking(update, context, views[0])
        return
    await show(update, *held_series_screen(views, context.zone))
    await send_invoice(context.bot, series_invoice_for(views, context.zone, context.services.provider_token))


def claim_button(booking: Booking) -> InlineKeyboardButton:
    assert booking.id is not None
    return button(_("✅ I have paid"), ActOnPayment(booking.id, PaymentAction.CLAIM_UPI))


def pay_buttons(booking: Booking, pay: bool = True, price: str | None = None) -> list[list[InlineKeyboardButton]]:
    """For a booking awaiting payment: 💳 Pay (the invoice, or the UPI details, again) while ``pay``; for UPI,
    ✅ I have paid until the mentee said so; ✖️ Let this time go. ``price``: what the invoice asks, when it pays
    more than this booking (a series)."""
    assert booking.id is not None
    price_given, price = price, price or format_price(booking.amount, booking.currency)
    rows = []
    weeks = booking.series_weeks or 0
    if pay and price_given is None and booking.series_id is not None and weeks > 1:  # the series' one payment
        if booking.payment_mode == PaymentMode.UPI:
            label = ngettext(
                "📲 Pay for the {count} week by UPI", "📲 Pay for all {count} weeks by UPI", weeks
            ).format(count=weeks)
        else:
            label = ngettext("💳 Pay for the {count} week", "💳 Pay for all {count} weeks", weeks).format(
                count=weeks
            )
        rows.append([button(label, ActOnPayment(booking.id, PaymentAction.PAY))])
    elif pay:
        label = _("📲 Pay {price} by UPI") if booking.payment_mode == PaymentMode.UPI else _("💳 Pay {price}")
        rows.append([button(label.format(price=price), ActOnPayment(booking.id, PaymentAction.PAY))])
    if may_claim_upi(booking):
        rows.append([claim_button(booking)])
    rows.append([button(_("✖️ Let this time go"), ActOnPayment(booking.id, PaymentAction.RELEASE))])
    return rows


def held_screen(view: BookingView, zone: str) -> tuple[str, InlineKeyboardMarkup]:
    """After Confirm on a slot paid with an invoice: what is held until when, and how to pay."""
    booking = view.booking
    card, _markup = booking_card_for_mentee(booking, view.offering, view.mentor, zone)
    head = _("🕒 This time is held for you. Pay with the invoice below ({mode}).").format(
        mode=payment_mode_label(booking.payment_mode or PaymentMode.STARS)
    )
    return f"{head}\n\n{card}", InlineKeyboardMarkup(pay_buttons(booking))


def upi_note(view: BookingView) -> str:
    """The UPI payment's note (``tn``): the offering and the booking (a series: its first week's, the series'
    number), so the mentor can match it. A long title is cut, never the number (UPI apps cut the note at
    ``UPI_NOTE_MAX``)."""
    number = f" #{view.booking.id}"
    return view.offering.title[: UPI_NOTE_MAX - len(number)].rstrip() + number


def upi_total(bookings: Sequence[Booking]) -> str:
    """What one UPI payment of ``bookings`` (one booking, or the weeks of a series paid together) asks: their
    stored prices added up."""
    return format_price(*series_amount(bookings))


def is_series(bookings: Sequence[Booking]) -> bool:
    return len(bookings) > 1 or any(b.series_id is not None for b in bookings)


def upi_screen(views: list[BookingView], upi_id: str, zone: str) -> tuple[str, InlineKeyboardMarkup, str]:
    """A booking held for a UPI payment - or the weeks of a series, paid with one - : the amount (the stored
    prices), the mentor's UPI ID, the ``upi://pay`` link as text, what to do; its buttons; and the link (for the
    QR code)."""
    view = views[0]
    booking = view.booking
    bookings = [v.booking for v in views]
    card, _markup = booking_card_for_mentee(booking, view.offering, view.mentor, zone)
    total, currency = series_amount(bookings)
    link = upi_link(upi_id, view.mentor.display_name, total, currency, upi_note(view))
    amount, mentor = format_price(total, currency), esc(view.mentor.display_name)
    weeks: list[str] = []
    if is_series(bookings):
        head = ngettext(
            "🕒 {count} week is held for you. Pay {amount} for it by UPI to {mentor}, in one payment:",
            "🕒 {count} weeks are held for you. Pay {amount} for all of them by UPI to {mentor}, in one payment:",
            len(views),
        ).format(count=len(views), amount=amount, mentor=mentor)
        weeks = ["", *week_lines(views, zone)]
    else:
        head = _("🕒 This time is held for you. Pay {amount} by UPI to {mentor}:").format(
            amount=amount, mentor=mentor
        )
    lines = [
        head,
        _("UPI ID: <code>{upi_id}</code>").format(upi_id=esc(upi_id)),
        _("Scan the QR code below with any UPI app, or open this link on your phone:"),
        f"<code>{esc(link)}</code>",
        _("Pay exactly {amount}, then tap “I have paid”: the mentor checks that it arrived.").format(
            amount=amount
        ),
        *weeks,
        "",
        card,
    ]
    return "\n".join(lines), InlineKeyboardMarkup(pay_buttons(booking, pay=False)), link


def week_lines(views: list[BookingView], zone: str) -> list[str]:
    """The weeks of a series held together: "🔁 Week 2 of 3: <time>" each."""
    return [
        _("🔁 Week {week} of {weeks}: {time}").format(
            week=v.booking.series_week,
            weeks=v.booking.series_weeks,
            time=format_moment(v.booking.scheduled_at, zone),
        )
        for v in views
    ]


def qr_caption(views: list[BookingView], upi_id: str) -> str:
    amount = upi_total([v.booking for v in views])
    return _("Scan to pay {amount} to <code>{upi_id}</code>, then tap “I have paid”.").format(
        amount=amount, upi_id=esc(upi_id)
    )


async def show_upi(update: Update, context: AppContext, views: list[BookingView], upi_id: str) -> None:
    """The UPI details in place of the pressed message, then the QR code of the link (with "I have paid")."""
    text, markup, link = upi_screen(views, upi_id, context.zone)
    await show(update, text, markup)
    first = views[0].booking
    rows = [[claim_button(first)]] if may_claim_upi(first) else []
    await send_qr(context.bot, first.mentee_id, link, qr_caption(views, upi_id), InlineKeyboardMarkup(rows))


# --- what the people are told of a UPI payment (``handlers.notify``), for one booking or a series paid as one


def upi_claim_head(view: BookingView, together: Sequence[Booking]) -> str:
    """To the mentor: the mentee says they paid; the amount is the stored prices of what the payment is for."""
    amount, name, note = upi_total(together or [view.booking]), esc(view.mentee.display_name), esc(upi_note(view))
    if is_series(together):
        return ngettext(
            "📲 {mentee} says they paid {amount} by UPI for {count} weekly session of this series, in one "
            "payment. Check your UPI app for it (note: <code>{note}</code>), then tap “Mark paid” or “Not "
            "received” once for the whole series.",
            "📲 {mentee} says they paid {amount} by UPI for {count} weekly sessions of this series, in one "
            "payment. Check your UPI app for it (note: <code>{note}</code>), then tap “Mark paid” or “Not "
            "received” once for the whole series.",
            len(together),
        ).format(mentee=name, amount=amount, count=len(together), note=note)
    return _(
        "📲 {mentee} says they paid {amount} by UPI for this booking. Check your UPI app for it "
        "(note: <code>{note}</code>), then tap “Mark paid” or “Not received”."
    ).format(mentee=name, amount=amount, note=note)


def upi_receipt_head(view: BookingView, together: Sequence[Booking]) -> str:
    """To the mentee: the mentor received their UPI payment (for a series: every week's share, added up)."""
    mentor, title = esc(view.mentor.display_name), esc(view.offering.title)
    if is_series(together):
        share = format_price(view.booking.amount, view.booking.currency)
        return ngettext(
            "🧾 {mentor} received your UPI payment: {amount} for <b>{title}</b>, {count} weekly session "
            "({share} each).",
            "🧾 {mentor} received your UPI payment: {amount} for <b>{title}</b>, {count} weekly sessions "
            "({share} each).",
            len(together),
        ).format(mentor=mentor, amount=upi_total(together), title=title, count=len(together), share=share)
    return _("🧾 {mentor} received your UPI payment: {amount} for <b>{title}</b>.").format(
        mentor=mentor, amount=upi_total([view.booking]), title=title
    )


def upi_missing_head(view: BookingView, together: Sequence[Booking]) -> str:
    """To the mentee: the mentor did not find their UPI payment (of the whole series, for a series)."""
    return _("⚠️ {mentor} has not received your UPI payment of {amount}.").format(
        mentor=esc(view.mentor.display_name), amount=upi_total(together or [view.booking])
    )


async def show_held_booking(update: Update, context: AppContext, view: BookingView) -> None:
    """The held booking's card, then its invoice (the card's 💳 Pay sends it again if it gets lost); for UPI,
    the details and the QR code. The press is answered first: the person may pay at once."""
    await answer_press(update, context)
    if view.booking.payment_mode == PaymentMode.UPI:
        async with context.reader() as uow:
            views, upi_id = await usecase.upi_to_pay(uow, context.clock, context.user.id, view.booking.id or 0)
        await show_upi(update, context, views, upi_id)
        return
    await show(update, *held_screen(view, context.zone))
    await send_invoice(context.bot, invoice_for(view, context.zone, context.services.provider_token))


# --- the mentee's and the mentor's buttons --------------------------------------------------------------------


@on_button(ActOnPayment)
async def act_on_payment(update: Update, context: AppContext, data: ActOnPayment) -> str | None:
    me, booking_id, now = context.user.id, data.booking_id, context.clock.now()
    match data.action:
        case PaymentAction.PAY:
            async with context.reader() as uow:
                view = await usecase.booking_to_pay(uow, context.clock, me, booking_id)
                if view.booking.payment_mode == PaymentMode.UPI:
                    views, upi_id = await usecase.upi_to_pay(uow, context.clock, me, booking_id)
                    upi = True
                else:
                    together, upi = await usecase.series_to_pay(uow, context.clock, me, booking_id), False
            if upi:
                await show_upi(update, context, views, upi_id)
                return _("The QR code is below.")
            if view.booking.series_id is not None:  # a series paid as one: its one invoice
                token = context.services.provider_token
                await send_invoice(context.bot, series_invoice_for(together, context.zone, token))
                return _("The invoice is below.")
            await send_invoice(context.bot, invoice_for(view, context.zone, context.services.provider_token))
            return _("The invoice is below.")
        case PaymentAction.CLAIM_UPI:
            async with context.uow() as uow:
                view = await usecase.claim_upi(uow, context.clock, me, booking_id)
                await uow.commit()
            await show_keyboard(update, None)  # the pressed message (the QR code, or the details) is answered
            card, _markup = booking_card_for_mentee(view.booking, view.offering, view.mentor, context.zone)
            head = _(
                "📨 Thank you. {mentor} has been asked to check that your UPI payment arrived; I will message you."
            )
            text = head.format(mentor=esc(view.mentor.display_name)) + "\n\n" + card
            held = view.booking.status == BookingStatus.AWAITING_PAYMENT
            rows = pay_buttons(view.booking, pay=False) if held else []
            await say(update, text, InlineKeyboardMarkup(rows) if rows else None)
            return _("The mentor has been asked to check.")
        case PaymentAction.NOT_RECEIVED:
            async with context.uow() as uow:
                view = await usecase.upi_not_received(uow, context.clock, me, booking_id)
                await uow.commit()
            await show(update, *_mentor_card(view, context, now))
            return _("The mentee has been told that the payment has not arrived.")
        case PaymentAction.RELEASE:
            async with context.uow() as uow:
                view = await usecase.release_hold(uow, context.clock, me, booking_id)
                await uow.commit()
            card, _markup = booking_card_for_mentee(view.booking, view.offering, view.mentor, context.zone)
            back = [[button(_("🎟 My bookings"), OpenMyBookings(MyTab.UPCOMING, 0))]]
            text = _("The time is free again; nothing was paid.") + "\n\n" + card
            await show(update, text, InlineKeyboardMarkup(back))
            return _("The time is free again.")
        case PaymentAction.MARK_PAID:
            async with context.uow() as uow:
                view = await usecase.mark_paid(uow, context.clock, me, booking_id)
                await uow.commit()
            await show(update, *_mentor_card(view, context, now))
            return _("Marked paid. The mentee has been sent a receipt.")
        case _:  # MARK_REFUNDED
            async with context.uow() as uow:
                view = await usecase.mark_refunded(uow, context.clock, me, booking_id)
                await uow.commit()
            await show(update, *_mentor_card(view, context, now))
            return _("Marked refunded. The mentee has been told.")


@on_button(MarkSeriesRefunded)
async def mark_series_refunded(update: Update, context: AppContext, data: MarkSeriesRefunded) -> str | None:
    """Mark all refunded: every week of the refund message still owed, once; the button goes with it."""
    async with context.uow() as uow:
        await usecase.mark_series_refunded(uow, context.clock, context.user.id, data.booking_id, data.last_id)
        await uow.commit()
    await show_keyboard(update, None)
    return _("Marked refunded. The mentee has been told.")


def _mentor_card(view: BookingView, context: AppContext, now: datetime) -> tuple[str, InlineKeyboardMarkup | None]:
    back = OpenInbox(tab_of(view.booking, now), 0)
    max_moves = context.services.max_reschedules
    return booking_card_for_mentor(
        view.booking, view.offering, view.mentee, context.zone, now, back, max_moves=max_moves
    )


# --- Telegram's side of a payment -----------------------------------------------------------------------------


def refusal_text(refusal: CheckoutRefusal) -> str:
    """Why a checkout is refused, as Telegram shows it to the payer."""
    match refusal:
        case CheckoutRefusal.HOLD_OVER:
            return _("The time held for you has run out, so this payment was not taken. Please book again.")
        case CheckoutRefusal.NOT_AWAITING:
            return _("This booking no longer waits for a payment (it is paid, cancelled or expired).")
        case CheckoutRefusal.NOT_YOURS:
            return _("This invoice is for someone else's booking.")
        case CheckoutRefusal.MISMATCH:
            return _("This invoice does not match the booking. Please pay with the latest invoice.")
        case _:
            return _("This invoice is not valid any more.")


async def answer_checkout(update: Update, context: AppContext) -> None:
    """``pre_checkout_query``: yes only for the booking as it is stored now; always answered, once."""
    query = update.pre_checkout_query
    assert query is not None
    set_locale(pick_locale(query.from_user.language_code, context.services.default_locale))
    try:
        async with context.reader() as uow:  # the payer for their language (``remember_user`` leaves this out)
            payer = await uow.users.get(query.from_user.id)
            if payer is not None:
                set_locale(payer.locale)
            refusal = await usecase.checkout(
                uow, context.clock, query.from_user.id, query.invoice_payload, query.currency, query.total_amount
            )
    except Exception:
        await query.answer(ok=False, error_message=_("Something went wrong. Please try again."))
        raise
    if refusal is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=refusal_text(refusal))


async def record_payment(update: Update, context: AppContext) -> None:
    """``successful_payment``: recorded once; the receipt (or the refund of a late payment) goes out through the
    outbox, in the payer's language."""
    message = update.effective_message
    assert message is not None and message.successful_payment is not None and message.from_user is not None
    paid = message.successful_payment
    payment = usecase.IncomingPayment(
        payer_id=message.from_user.id,
        payload=paid.invoice_payload,
        currency=paid.currency,
        total=paid.total_amount,
        telegram_charge_id=paid.telegram_payment_charge_id,
        provider_charge_id=paid.provider_payment_charge_id or None,
    )

    async def record() -> usecase.PaymentOutcome:
        async with context.uow() as uow:
            outcome, _view = await usecase.record_payment(uow, context.clock, payment)
            await uow.commit()
        return outcome

    try:
        outcome = await with_retries(record)
    except Exception:
        log.exception(
            "a payment could not be recorded: payer %s, %s %s, payload %s, telegram charge %s, provider charge %s",
            payment.payer_id, payment.total, payment.currency, payment.payload, payment.telegram_charge_id,
            payment.provider_charge_id,
        )  # fmt: skip
        raise
    log.info("payment %s: %s", paid.telegram_payment_charge_id, outcome)


async def with_retries(
    action: Callable[[], Awaitable[T]],
    pauses: tuple[float, ...] = RECORD_RETRIES,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``action()``, tried again after each of ``pauses`` while it fails. Telegram reports a payment once (twice at
    most), so a moment without the database must not lose it; recording a payment is idempotent, so trying again
    is safe. The last failure is raised."""
    for pause in pauses:
        try:
            return await action()
        except Exception:
            log.warning("recording a payment failed; trying again in %.1f s", pause, exc_info=True)
            await sleep(pause)
    return await action()


# --- earnings -------------------------------------------------------------------------------------------------


def _currency_name(currency: Currency) -> str:
    return _("⭐ Telegram Stars") if currency == Currency.XTR else _("₹ Rupees")


def _totals_line(currency: Currency, totals: Totals) -> str:
    line = _("{currency}: paid {paid} · refunded {refunded} · net {net}").format(
        currency=_currency_name(currency),
        paid=format_amount(totals.paid, currency),
        refunded=format_amount(totals.refunded, currency),
        net=format_amount(totals.net, currency) if totals.net >= 0 else "−" + format_amount(-totals.net, currency),
    )
    if totals.owed:
        line += " · " + _("refunds still owed {owed}").format(owed=format_amount(totals.owed, currency))
    return line


def earnings_screen(earnings: Earnings, zone: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("💰 <b>Your earnings</b>"), ""]
    since = format_day(earnings.month_start, zone)
    for heading, totals in (
        (_("<b>This month</b> (since {day})").format(day=since), earnings.month),
        (_("<b>All time</b>"), earnings.all_time),
    ):
        lines.append(heading)
        if not totals:
            lines.append(_("No payments yet."))
        lines += [_totals_line(currency, totals[currency]) for currency in Currency if currency in totals]
        lines.append("")
    lines.append(_("Net is what was paid less what was refunded. The CSV file lists every payment and refund."))
    return "\n".join(lines), InlineKeyboardMarkup([[button(_("⬇️ Download CSV"), DownloadLedger())]])


async def earnings_command(update: Update, context: AppContext) -> None:
    try:
        async with context.reader() as uow:
            earnings = await usecase.earnings(uow, context.clock, context.user.id, context.zone)
    except DomainError:  # not a mentor
        await say(update, _("Earnings are for mentors. Tap “Become a mentor” in /start to offer sessions."))
        return
    await say(update, *earnings_screen(earnings, context.zone))


LEDGER_COLUMNS = (
    "recorded_at_utc", "booking_id", "event", "amount", "currency", "mode", "telegram_payment_charge_id",
    "provider_payment_charge_id",
)  # fmt: skip


def ledger_csv(entries: list[LedgerEntry]) -> bytes:
    """The mentor's ledger as CSV (UTF-8 with a byte order mark, so spreadsheets read it right): one row per
    event, amounts in their currency with a dot for decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LEDGER_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.recorded_at.isoformat(), e.booking_id, e.kind.value, f"{e.amount:f}", e.currency.value,
                e.mode.value, e.telegram_charge_id or "", e.provider_charge_id or "",
            ]
        )  # fmt: skip
    return out.getvalue().encode("utf-8-sig")


@on_button(DownloadLedger)
async def download_ledger(update: Update, context: AppContext, data: DownloadLedger) -> str | None:
    async with context.reader() as uow:
        entries = await usecase.ledger_of(uow, context.user.id)
    chat = update.effective_chat
    if chat is not None:
        name = "earnings.csv"
        document = InputFile(ledger_csv(entries), filename=name, attach=True)
        caption = ngettext(
            "Your payments and refunds: {count} row.", "Your payments and refunds: {count} rows.", len(entries)
        ).format(count=len(entries))
        await context.bot.send_document(chat.id, document, filename=name, caption=caption)
    return _("CSV sent.")


def handlers() -> list[BaseHandler]:
    return [
        PreCheckoutQueryHandler(answer_checkout),
        MessageHandler(filters.SUCCESSFUL_PAYMENT, record_payment),
        CommandHandler("earnings", earnings_command),
        act_on_payment,
        mark_series_refunded,
        download_ledger,
    ]
