"""Weekly series: after choosing a time, the mentee taps **🔁 Repeat weekly**, picks how many weeks, sees which
weeks are free and books those together; later the mentor confirms or declines the whole series, and either
person cancels all future weeks of it. One occurrence is managed like any booking (its own card)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_moment, format_price, ngettext
from domain.errors import InvalidTransition, SlotTaken, TooManyBookings
from domain.inbox import InboxTab
from domain.mentee import MyTab
from domain.model import REASON_MAX, Actor, BookingStatus, BookingView, PaymentMode
from domain.notifications import NotificationKind
from domain.payments import HELD, ONLINE, PaymentSettings, price_in
from domain.series import MIN_WEEKS, SeriesPlan, series_modes
from domain.sessions import cutoff_before
from domain.usecases.booking import BookingRequest, upi_id_for
from domain.usecases.series import (
    book_series,
    cancel_future,
    confirm_series,
    decline_series,
    future_open,
    plan_series,
    series_start,
    series_views,
    start_series_decline,
)
from handlers.booking import notes_for, offering_may_be_gone
from handlers.callbacks import (
    ActOnSeries,
    BookDate,
    BookPaidSeries,
    BookSeries,
    OpenInbox,
    OpenMyBookings,
    PlanSeries,
    RepeatWeekly,
    SeriesAction,
    SkipNotes,
)
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.errors import explain
from handlers.keyboards import button, rows
from handlers.labels import booking_status_label
from handlers.payments import show_held_series
from handlers.render import esc, session_time

S = BookingStatus


def _back_to_summary(offering_id: int, start: datetime) -> list[InlineKeyboardButton]:
    return [button(_("◀ Back"), SkipNotes(offering_id, start))]


@on_button(RepeatWeekly)
@offering_may_be_gone
async def repeat_weekly(update: Update, context: AppContext, data: RepeatWeekly) -> str | None:
    """How many weeks: 2 up to what the booking window holds (at most 12)."""
    async with context.reader() as uow:
        ctx, possible = await series_start(
            uow, context.clock, data.offering_id, context.user.id, data.start, context.services.payments
        )
    when = format_moment(data.start, context.zone)
    if possible < MIN_WEEKS:
        text = _("{time} cannot repeat: the booking window ends before the next week.").format(time=when)
        await show(update, text, InlineKeyboardMarkup([_back_to_summary(data.offering_id, data.start)]))
        return None
    text = _(
        "🔁 <b>Repeat weekly</b>: {title}, every week at this time from {time}.\nHow many weeks in all? "
        "(The mentor's clock is kept, also when the clocks change.)"
    ).format(title=esc(ctx.offering.title), time=when)
    choices = [(str(n), PlanSeries(data.offering_id, data.start, n)) for n in range(MIN_WEEKS, possible + 1)]
    markup = rows(choices, width=6)
    keyboard = [*markup.inline_keyboard, _back_to_summary(data.offering_id, data.start)]
    await show(update, text, InlineKeyboardMarkup(keyboard))
    return None


def plan_view(
    plan: SeriesPlan,
    start: datetime,
    zone: str,
    payments: PaymentSettings = PaymentSettings(),
    upi_id: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """Each week with its time (the mentee's clock) and whether it is free; book the free ones (and pay them with
    one payment - one invoice, or one UPI payment when the mentor has a UPI ID, ``upi_id`` - one button per way
    of paying, when the series is paid in the bot)."""
    offering = plan.offering
    assert offering.id is not None
    lines = [_("🔁 <b>{title}</b>, {weeks} weeks:").format(title=esc(offering.title), weeks=len(plan.weeks))]
    for week in plan.weeks:
        if week.start is None:
            lines.append(
                _("Week {number}: ❌ this time does not exist that week (the clocks change)").format(
                    number=week.number
                )
            )
        elif week.free:
            lines.append(
                _("Week {number}: {time} ✅ free").format(number=week.number, time=format_moment(week.start, zone))
            )
        else:
            lines.append(
                _("Week {number}: {time} ❌ not free").format(
                    number=week.number, time=format_moment(week.start, zone)
                )
            )
    free = len(plan.free)
    keyboard = []
    if free:
        lines += [
            "",
            ngettext(
                "{count} week is free: book it as one series?",
                "{count} weeks are free: book them as one series?",
                free,
            ).format(count=free),
        ]
        online = [mode for mode in series_modes(offering, payments, upi_id) if mode in HELD]
        if online:
            lines += pay_lines(plan, start, zone, payments, online)
        for mode in online:
            amount, currency = price_in(offering, mode, payments.stars_per_rupee)
            label = series_pay_label(mode, free, format_price(amount * free, currency))
            keyboard.append([button(label, BookPaidSeries(offering.id, start, len(plan.weeks), mode))])
        if not online:
            label = ngettext("✅ Book {count} weekly session", "✅ Book {count} weekly sessions", free)
            label = label.format(count=free)
            keyboard.append([button(label, BookSeries(offering.id, start, len(plan.weeks)))])
    if offering.package_weeks is None:  # a package has its own number of weeks
        keyboard.append([button(_("◀ Other number of weeks"), RepeatWeekly(offering.id, start))])
    keyboard.append(_back_to_summary(offering.id, start))
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def series_pay_label(mode: PaymentMode, weeks: int, total: str) -> str:
    if mode == PaymentMode.STARS:
        label = ngettext(
            "⭐ Book {count} week and pay {total} in Stars",
            "⭐ Book {count} weeks and pay {total} in Stars",
            weeks,
        )
    elif mode == PaymentMode.UPI:
        label = ngettext(
            "📲 Book {count} week and pay {total} by UPI", "📲 Book {count} weeks and pay {total} by UPI", weeks
        )
    else:
        label = ngettext("💳 Book {count} week and pay {total}", "💳 Book {count} weeks and pay {total}", weeks)
    return label.format(count=weeks, total=total)


def pay_lines(
    plan: SeriesPlan, start: datetime, zone: str, payments: PaymentSettings, modes: list[PaymentMode]
) -> list[str]:
    """Before paying a series (``modes``: the ways offered): one payment for every free week (an invoice, or one
    UPI payment), held while paying, and what is refunded when."""
    offering = plan.offering
    minutes = int(payments.hold.total_seconds() // 60)
    held: list[str] = []
    if any(mode in ONLINE for mode in modes):
        invoice = ngettext(
            "💳 One invoice for every free week, paid in Telegram: after you tap a Pay button, the weeks are held "
            "for you for {minutes} minute while you pay.",
            "💳 One invoice for every free week, paid in Telegram: after you tap a Pay button, the weeks are held "
            "for you for {minutes} minutes while you pay.",
            minutes,
        )
        held.append(invoice.format(minutes=minutes))
    if PaymentMode.UPI in modes:
        upi = ngettext(
            "📲 One UPI payment to the mentor for every free week: after you tap the UPI button, the weeks are "
            "held for you for {minutes} minute while you pay; once you tap “I have paid”, they stay held until "
            "the mentor has checked.",
            "📲 One UPI payment to the mentor for every free week: after you tap the UPI button, the weeks are "
            "held for you for {minutes} minutes while you pay; once you tap “I have paid”, they stay held "
            "until the mentor has checked.",
            minutes,
        )
        held.append(upi.format(minutes=minutes))
    lines = held
    lines += [
        _("Once paid, every week is confirmed at once.")
        if offering.auto_confirm_paid
        else _("Once paid, the mentor confirms the series; I will message you."),
        _(
            "↩️ Refunds, week by week: a week's share in full if the mentor declines or cancels it, if it expires "
            "unanswered, or if you cancel it until {hours} h before it starts (the first week: until {time}); "
            "nothing after that."
        ).format(
            hours=offering.cancellation_cutoff_hours, time=format_moment(cutoff_before(start, offering), zone)
        ),
    ]
    if PaymentMode.UPI in modes:
        lines.append(_("📲 Paid by UPI: the mentor sends a week's share back to you by UPI when it is refunded."))
    if PaymentMode.STARS in modes:
        lines.append(
            _(
                "⭐ Paid in Stars: Telegram refunds a Stars payment only in full, so the bot gives the whole "
                "payment back when every week is refunded (say, the series cancelled before the first cut-off); "
                "a refund for some weeks only is settled with you by the mentor."
            )
        )
    return lines


@on_button(PlanSeries)
@offering_may_be_gone
async def choose_weeks(update: Update, context: AppContext, data: PlanSeries) -> str | None:
    try:
        async with context.reader() as uow:
            plan = await plan_series(
                uow, context.clock, data.offering_id, context.user.id, data.start, data.weeks,
                context.services.payments,
            )  # fmt: skip
            upi_id = await upi_id_for(uow, plan.offering, context.services.payments)
    except SlotTaken:
        return await _first_week_taken(update, context, data.offering_id, data.start)
    await show(update, *plan_view(plan, data.start, context.zone, context.services.payments, upi_id))
    return None


async def _first_week_taken(update: Update, context: AppContext, offering_id: int, start: datetime) -> str:
    day = start.astimezone(ZoneInfo(context.zone)).date()
    markup = InlineKeyboardMarkup([[button(_("◀ Times"), BookDate(offering_id, day))]])
    await show(update, "⚠️ " + _("This time was just taken. Please choose another time."), markup)
    return _("This time was just taken. Please choose another time.")


def booked_view(views: list[BookingView], zone: str) -> tuple[str, InlineKeyboardMarkup]:
    first = views[0].booking
    if first.status == S.CONFIRMED:
        head = ngettext(
            "🎉 Booked! {count} weekly session is confirmed.",
            "🎉 Booked! {count} weekly sessions are confirmed.",
            len(views),
        ).format(count=len(views))
    else:
        head = ngettext(
            "📨 Request sent for {count} weekly session. The mentor confirms the series; I will message you.",
            "📨 Request sent for {count} weekly sessions. The mentor confirms the series; I will message you.",
            len(views),
        ).format(count=len(views))
    lines = [head, "", f"<b>{esc(views[0].offering.title)}</b> · {esc(views[0].mentor.display_name)}"]
    lines += [
        _("🔁 Week {week} of {weeks}: {time}").format(
            week=v.booking.series_week,
            weeks=v.booking.series_weeks,
            time=format_moment(v.booking.scheduled_at, zone),
        )
        for v in views
    ]
    markup = InlineKeyboardMarkup([[button(_("🎟 My bookings"), OpenMyBookings(MyTab.UPCOMING, 0))]])
    return "\n".join(lines), markup


@on_button(BookSeries)
@offering_may_be_gone
async def book_weeks(update: Update, context: AppContext, data: BookSeries) -> str | None:
    return await _book(update, context, data.offering_id, data.start, data.weeks, None)


@on_button(BookPaidSeries)
@offering_may_be_gone
async def book_and_pay_weeks(update: Update, context: AppContext, data: BookPaidSeries) -> str | None:
    return await _book(update, context, data.offering_id, data.start, data.weeks, data.mode)


async def _book(
    update: Update, context: AppContext, offering_id: int, start: datetime, weeks: int, mode: PaymentMode | None
) -> str | None:
    """Book the free weeks; when they are paid in the bot, held while the mentee pays the one invoice."""
    notes = await notes_for(context, offering_id, start)
    request = BookingRequest(offering_id, context.user.id, start, notes, mode)
    try:
        async with context.uow() as uow:
            views = await book_series(
                uow, context.clock, request, weeks,
                max_active_per_mentor=context.services.max_active_per_mentor, payments=context.services.payments,
            )  # fmt: skip
            await uow.dialogs.clear(context.user.id)
            await uow.commit()
    except SlotTaken:
        return await _first_week_taken(update, context, offering_id, start)
    except TooManyBookings as error:
        markup = InlineKeyboardMarkup([[button(_("🎟 My bookings"), OpenMyBookings(MyTab.UPCOMING, 0))]])
        await show(update, "⚠️ " + explain(error), markup)
        return explain(error)
    if views[0].booking.status == S.AWAITING_PAYMENT:
        await show_held_series(update, context, views)
        return None
    await show(update, *booked_view(views, context.zone))
    return None


# --- a booked series ------------------------------------------------------------------------------------------


def series_text(views: list[BookingView], zone: str, other_zone: str | None = None, other_label: str = "") -> str:
    """The series' title and each week (its time in ``zone``, and on the other person's clock when
    ``other_zone`` differs) with its status."""
    lines = [_("🔁 <b>{title}</b>, every week:").format(title=esc(views[0].offering.title))]
    lines += [
        _("Week {week} of {weeks}: {time} · {status}").format(
            week=v.booking.series_week,
            weeks=v.booking.series_weeks,
            time=session_time(v.booking.scheduled_at, zone, other_zone, other_label),
            status=booking_status_label(v.booking.status),
        )
        for v in views
    ]
    return "\n".join(lines)


@on_button(ActOnSeries)
async def act_on_series(update: Update, context: AppContext, data: ActOnSeries) -> str | None:
    me = context.user.id
    match data.action:
        case SeriesAction.CONFIRM_ALL:
            async with context.uow() as uow:
                views = await confirm_series(uow, context.clock, me, data.booking_id)
                await uow.commit()
            await say(
                update,
                _("Confirmed every week. The mentee has been told.") + "\n\n" + series_text(views, context.zone),
            )
            return _("Confirmed every week.")
        case SeriesAction.DECLINE_ALL:
            async with context.uow() as uow:
                views = await start_series_decline(uow, me, data.booking_id)
                await uow.dialogs.set(me, DialogState.SERIES_DECLINE_REASON, {"booking_id": data.booking_id})
                await uow.commit()
            prompt = _(
                "Why are you declining this weekly series? Type a short reason (at most {limit} characters); "
                "every week still waiting for your answer is declined, and the mentee is told once, with the "
                "reason. Send /cancel to keep them."
            ).format(limit=REASON_MAX)
            await say(update, prompt + "\n\n" + series_text(views, context.zone))
            return None
        case _:  # CANCEL_FUTURE
            async with context.uow() as uow:
                views, _actor = await series_views(uow, me, data.booking_id)
                if not future_open(views, context.clock.now()):
                    raise InvalidTransition(views[0].booking.status, S.CANCELLED, Actor.MENTEE)
                await uow.dialogs.set(me, DialogState.SERIES_CANCEL_REASON, {"booking_id": data.booking_id})
                await uow.commit()
            prompt = _(
                "Why are you cancelling all future weeks of this series? Type a short reason (at most {limit} "
                "characters); it is shown with each cancelled week. Send /cancel to keep them."
            ).format(limit=REASON_MAX)
            await say(update, prompt + "\n\n" + series_text(views, context.zone))
            return None


@text_step(DialogState.SERIES_CANCEL_REASON)
async def type_series_cancel_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    async with context.uow() as uow:
        views, kept = await cancel_future(uow, context.clock, context.user.id, int(data["booking_id"]), text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    lines = [_("Cancelled every future week of the series. I have told the other person."), ""]
    if kept:
        lines.append(
            ngettext(
                "{count} week is past its cancellation cut-off and stays booked; please message your mentor.",
                "{count} weeks are past their cancellation cut-off and stay booked; please message your mentor.",
                len(kept),
            ).format(count=len(kept))
        )
    await say(update, "\n".join([*lines, series_text(views, context.zone)]))


@text_step(DialogState.SERIES_DECLINE_REASON)
async def type_series_decline_reason(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    async with context.uow() as uow:
        views = await decline_series(uow, context.clock, context.user.id, int(data["booking_id"]), text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    head = _("Declined every week that was waiting for your answer. The mentee has been told.")
    await say(update, head + "\n\n" + series_text(views, context.zone))


def series_notice(
    kind: NotificationKind, views: list[BookingView], anchor_id: int | None, recipient_id: int, default_zone: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """One message for a series answered, cancelled or run out as a whole (``domain.notifications``): to the mentee
    or the mentor, in their zone (and the other person's clock when it differs), each week as it is now. The reason
    is the one given with ``anchor_id``, the first week changed. None when there is nothing to say any more (a
    series confirmed whose weeks were all cancelled since)."""
    anchor = next((v for v in views if v.booking.id == anchor_id), views[0])
    mentor, mentee = anchor.mentor, anchor.mentee
    reason = esc(anchor.booking.cancellation_reason or "—")
    title = esc(anchor.offering.title)
    K = NotificationKind
    if recipient_id == mentee.id:
        zone = mentee.timezone or default_zone
        weeks = series_text(views, zone, mentor.timezone, _("mentor"))
        name = esc(mentor.display_name)
        match kind:
            case K.SERIES_CONFIRMED:
                if not any(v.booking.status in (S.CONFIRMED, S.COMPLETED) for v in views):
                    return None
                head = _("✅ {mentor} confirmed your weekly series <b>{title}</b>.").format(
                    mentor=name, title=title
                )
            case K.SERIES_DECLINED:
                head = _("❌ The mentor declined your weekly series with {mentor}. Reason: {reason}").format(
                    mentor=name, reason=reason
                )
            case K.SERIES_CANCELLED:
                head = _(
                    "🚫 {mentor} cancelled every future week of your weekly series <b>{title}</b>. "
                    "Reason: {reason}"
                ).format(mentor=name, title=title, reason=reason)
            case K.SERIES_EXPIRED:
                head = _(
                    "⌛ {mentor} did not answer your weekly series request in time, so it expired. "
                    "The times are free again."
                ).format(mentor=name)
            case _:
                return None
        markup = InlineKeyboardMarkup([[button(_("🎟 My bookings"), OpenMyBookings(MyTab.UPCOMING, 0))]])
        return head + "\n\n" + weeks, markup
    if recipient_id != mentor.id:
        return None
    zone = mentor.timezone or default_zone
    weeks = series_text(views, zone, anchor.booking.timezone, _("mentee"))
    name = esc(mentee.display_name)
    match kind:
        case K.SERIES_CANCELLED:
            head = _(
                "🚫 {mentee} cancelled every future week of the weekly series <b>{title}</b>. Reason: {reason}"
            ).format(mentee=name, title=title, reason=reason)
            tab = InboxTab.CANCELLED
        case K.SERIES_EXPIRED:
            head = _(
                "⌛ The weekly series request from {mentee} expired: it was not answered in time. "
                "The times are free again."
            ).format(mentee=name)
            tab = InboxTab.PAST
        case _:
            return None
    markup = InlineKeyboardMarkup([[button(_("📥 Bookings"), OpenInbox(tab, 0))]])
    return head + "\n\n" + weeks, markup


def handlers() -> list[BaseHandler]:
    return [repeat_weekly, choose_weeks, book_weeks, book_and_pay_weeks, act_on_series]
