"""What each due notification says, in the recipient's language and time zone, with the buttons it needs.

``prepare`` is the dispatcher's hook: called in a fresh unit of work when a notification falls due, it returns
the message to send, or None when there is nothing to say any more (the booking changed since it was planned,
the agenda day is empty) - or, for an expiry (of a request, or of a hold awaiting payment), performs it and lets
the resulting messages go out through the outbox like any other. For a Stars refund it returns the refund to
make; ``delivered`` records it once Telegram has made it. A refund owed by hand is told to the mentor and, when
``OPERATOR_CHAT_ID`` is set, to the operator's chat (in the default language); the refunds of several weeks of a
series made due (or done) by one action are one message each (``series_refund_due``, ``series_refunded``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.i18n import _, format_clock, format_moment, format_price, ngettext, use_locale
from chat.outgoing import Outgoing, StarRefund
from domain import sessions
from domain.mentee import MyTab
from domain.model import Actor, Booking, BookingStatus, BookingView, PaymentMode, User
from domain.notifications import Notification, NotificationKind, still_relevant
from domain.payments import LedgerEntry, LedgerKind
from domain.ports import Clock, UnitOfWork
from domain.reschedule import DEFAULT_MAX_RESCHEDULES
from domain.roster import Roster
from domain.usecases.calendars import stopped_calendars
from domain.usecases.notifications import day_agenda, expire_request, load_view, session_views
from domain.usecases.payments import (
    RefundsTogether,
    charge_of,
    expire_hold,
    paid_with,
    refund_made,
    refund_to_make,
    refunds_together,
)
from domain.usecases.reschedule import expire_move
from domain.usecases.roster import open_roster
from domain.usecases.series import series_of
from domain.usecases.waitlist import waitlist_notice
from handlers import series, waitlist
from handlers.aftercare import attendance_buttons, stars_keyboard
from handlers.busy_calendars import stopped_buttons, stopped_text
from handlers.callbacks import ActOnSession, MarkSeriesRefunded, OpenMyBookings, SessionAction
from handlers.keyboards import button
from handlers.labels import booking_status_label
from handlers.payments import pay_buttons, upi_claim_head, upi_missing_head, upi_receipt_head
from handlers.render import (
    booking_card_for_mentee,
    booking_card_for_mentor,
    esc,
    proposal_buttons,
    proposal_text,
)
from handlers.roster import roster_view

K = NotificationKind
SERIES_NOTICES = (K.SERIES_CONFIRMED, K.SERIES_DECLINED, K.SERIES_CANCELLED, K.SERIES_EXPIRED)
SERIES_REFUNDS = (K.SERIES_REFUND_DUE, K.SERIES_REFUND_DUE_OPERATOR, K.SERIES_REFUNDED)
ASK_ATTENDANCE_FROM = timedelta(hours=12)  # the mentee's day-before reminder asks "I'll be there / Can't make it"


def lead_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("{count} hour", "{count} hours", hours).format(count=hours)
    return ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)


def _markup(*parts: InlineKeyboardMarkup | list[list[InlineKeyboardButton]] | None) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for part in parts:
        if isinstance(part, InlineKeyboardMarkup):
            rows += [list(row) for row in part.inline_keyboard]
        elif part:
            rows += part
    return InlineKeyboardMarkup(rows) if rows else None


def _zone(user: User, default_zone: str) -> str:
    return user.timezone or default_zone


def _amount(charge: LedgerEntry | None, view: BookingView) -> str:
    if charge is not None:
        return format_price(charge.amount, charge.currency)
    return format_price(view.booking.amount, view.booking.currency)


def to_mentee(
    n: Notification,
    view: BookingView,
    default_zone: str,
    now: datetime,
    charge: LedgerEntry | None = None,
    together: Sequence[Booking] = (),
) -> Outgoing | None:
    """``together``: what a UPI payment reported on ``view``'s booking pays (a series: every week of it)."""
    booking, offering, mentor = view.booking, view.offering, view.mentor
    assert booking.id is not None, "a stored booking"
    zone = _zone(view.mentee, default_zone)
    card, markup = booking_card_for_mentee(booking, offering, mentor, zone)
    title, name = esc(offering.title), esc(mentor.display_name)
    extra: list[list[InlineKeyboardButton]] = []
    match n.kind:
        case K.CONFIRMED:
            head = _("✅ Your booking is confirmed.")
        case K.DECLINED:
            head = _("❌ The mentor declined your booking. Reason: {reason}").format(
                reason=esc(booking.cancellation_reason)
            )
        case K.CANCELLED:
            head = _("🚫 The mentor cancelled your booking. Reason: {reason}").format(
                reason=esc(booking.cancellation_reason)
            )
        case K.EXPIRED:
            head = _("⌛ The mentor did not answer in time, so your request expired. The time is free again.")
        case K.LINK:
            head = _("🔗 The mentor added a meeting link.")
        case K.PAID:
            head = receipt_text(view, together)
        case K.HOLD_EXPIRED:
            head = _(
                "⌛ The time held for you ran out before you paid, so it is free again. Book again with /book."
            )
        case K.LATE_PAYMENT:
            head = _(
                "⚠️ Your payment of {amount} arrived when this booking no longer waited for it ({status}). "
                "It will be refunded in full."
            ).format(amount=_amount(charge, view), status=booking_status_label(booking.status))
            if charge is not None and charge.mode != PaymentMode.STARS:
                head += " " + _("The mentor has been asked to refund it and will let you know.")
        case K.REFUNDED:
            head = _("↩️ Refunded: {amount} for <b>{title}</b>.").format(amount=_amount(charge, view), title=title)
        case K.UPI_NOT_RECEIVED:
            head = upi_missing_head(view, together)
            held_until = booking.held_until
            if booking.status == BookingStatus.AWAITING_PAYMENT and held_until is not None and now < held_until:
                extra += pay_buttons(booking)
                head += " " + _(
                    "If you paid, check the UPI ID and the amount in your UPI app, then tap “I have paid” again. "
                    "The time stays held for you until {time}."
                ).format(time=format_moment(held_until, _zone(view.mentee, default_zone)))
            else:
                head += " " + _(
                    "The time is no longer held for you. If money left your account, message the mentor."
                )
        case K.MOVED:
            old = format_moment(booking.moved_from, zone) if booking.moved_from else "—"
            new = format_moment(booking.scheduled_at, zone)
            # the mentee hears of a move only when the mentor approved the time they asked for
            head = _("✅ The mentor approved your new time: {old} → {new}.").format(old=old, new=new)
        case K.MOVE_DECLINED:
            head = _("✖️ The mentor kept the original time: your session stays at {time}.").format(
                time=format_moment(booking.scheduled_at, zone)
            )
        case K.MOVE_EXPIRED:
            head = _(
                "⌛ The mentor did not answer your request for a new time in time: your session stays at {time}."
            ).format(time=format_moment(booking.scheduled_at, zone))
        case K.PROPOSED:
            head = proposal_text(view, zone)
            extra += proposal_buttons(booking, zone)
        case K.REMINDER:
            head = _("⏰ Reminder: <b>{title}</b> with {mentor} starts in {lead}.").format(
                title=title, mentor=name, lead=lead_text(n.lead_minutes)
            )
            if timedelta(minutes=n.lead_minutes) >= ASK_ATTENDANCE_FROM:
                may_cancel = not sessions.cancellation_closed(booking, offering, now)
                extra.append(attendance_buttons(booking.id, may_cancel))
                if not may_cancel:
                    head += "\n" + _(
                        "The cancellation cut-off has passed: if you cannot come, please message your mentor."
                    )
        case K.RATE | K.RATE_AGAIN:
            head = _("⭐ How was <b>{title}</b> with {mentor}? Tap the stars to rate it.").format(
                title=title, mentor=name
            )
            if n.kind == K.RATE_AGAIN:
                head = _("A quick reminder, it helps other mentees:") + "\n" + head
            return Outgoing(view.mentee.id, head, stars_keyboard(booking.id))
        case _:
            return None
    return Outgoing(view.mentee.id, f"{head}\n\n{card}", _markup(markup, extra))


def receipt_text(view: BookingView, together: Sequence[Booking] = ()) -> str:
    """The receipt's head: what was paid, for what, and where the booking stands now."""
    booking = view.booking
    paid = format_price(booking.amount, booking.currency)
    if booking.payment_mode == PaymentMode.OFF:
        head = _("🧾 {mentor} marked your booking as paid: {amount}.").format(
            mentor=esc(view.mentor.display_name), amount=paid
        )
        return head
    if booking.payment_mode == PaymentMode.UPI:
        head = upi_receipt_head(view, together)
        if booking.status == BookingStatus.CONFIRMED:
            return head + " " + _confirmed(booking, len(together))
        if booking.status == BookingStatus.PENDING:
            return head + " " + _("The mentor will confirm it; I will message you.")
        return head
    title = esc(view.offering.title)
    head = _("🧾 Payment received: {amount} for <b>{title}</b>.").format(amount=paid, title=title)
    if booking.series_id is not None and booking.series_weeks:  # one payment for the series (its first week)
        head = ngettext(
            "🧾 Payment received for <b>{title}</b>, {count} weekly session: {amount} each.",
            "🧾 Payment received for <b>{title}</b>, {count} weekly sessions: {amount} each.",
            booking.series_weeks,
        ).format(title=title, count=booking.series_weeks, amount=paid)
    if booking.status == BookingStatus.CONFIRMED:
        return head + " " + _confirmed(booking, booking.series_weeks or 1)
    if booking.status == BookingStatus.PENDING:
        return head + " " + _("The mentor will confirm it; I will message you.")
    return head


def _confirmed(booking: Booking, weeks: int) -> str:
    """The receipt's word on a booking confirmed with its payment: a series' every week (``weeks``) at once."""
    if booking.series_id is None or weeks < 2:
        return _("Your session is confirmed.")
    return ngettext(
        "Your {count} weekly session is confirmed.", "All {count} weekly sessions are confirmed.", weeks
    ).format(count=weeks)


def _week_amounts(found: RefundsTogether, zone: str) -> list[str]:
    """Each week of a series refund message with its share, from the ledger's rows."""
    weeks = {v.booking.id: v for v in found.weeks}
    lines = []
    for row in found.rows:
        week = weeks.get(row.booking_id)
        if week is not None:
            lines.append(
                _("🔁 Week {week} of {weeks}: {time} · {amount}").format(
                    week=week.booking.series_week,
                    weeks=week.booking.series_weeks,
                    time=format_moment(week.booking.scheduled_at, zone),
                    amount=format_price(row.amount, row.currency),
                )
            )
    return lines


def _charge_ids(rows: Sequence[LedgerEntry]) -> str:
    """The provider's and Telegram's charge ids of refund rows (a series paid at once: one payment's)."""
    provider = sorted({row.provider_charge_id or "—" for row in rows})
    telegram = sorted({row.telegram_charge_id or "—" for row in rows})
    return _("Provider charge id: <code>{provider}</code> · Telegram charge id: <code>{telegram}</code>").format(
        provider=esc(", ".join(provider)), telegram=esc(", ".join(telegram))
    )


def series_refund_due(n: Notification, found: RefundsTogether, default_zone: str) -> Outgoing:
    """To the mentor, once per action on a weekly series: the weeks whose refunds they make by hand, the total
    (the ledger's rows added up) and one Mark all refunded."""
    first = found.weeks[0]
    lines = [
        ngettext(
            "↩️ <b>Refund due: {amount}</b> to {mentee} for {count} week of the weekly series <b>{title}</b>:",
            "↩️ <b>Refund due: {amount}</b> to {mentee} for {count} weeks of the weekly series <b>{title}</b>:",
            found.count,
        ).format(
            amount=format_price(*found.total),
            mentee=esc(first.mentee.display_name),
            count=found.count,
            title=esc(first.offering.title),
        ),
        *_week_amounts(found, _zone(first.mentor, default_zone)),
        "",
    ]
    mode = found.rows[0].mode
    if mode == PaymentMode.PROVIDER:
        lines.append(
            _(
                "Telegram cannot refund payments made through a payment provider: refund these weeks' shares in "
                "your provider's dashboard, then tap “Mark all refunded”."
            )
        )
        lines.append(_charge_ids(found.rows))
    elif mode == PaymentMode.STARS:
        lines.append(
            _(
                "These are weeks' shares of a weekly series paid at once in Telegram Stars. Telegram refunds a "
                "Stars payment only in full, so they are settled by hand: agree them with the mentee (the "
                "operator has a copy), then tap “Mark all refunded”."
            )
        )
    elif mode == PaymentMode.UPI:
        lines.append(_("It was paid by UPI to you: send it back by UPI, then tap “Mark all refunded”."))
    else:
        lines.append(_("It was paid outside the bot: pay it back, then tap “Mark all refunded”."))
    assert first.booking.id is not None and n.payment_id is not None and n.booking_id is not None
    press = MarkSeriesRefunded(n.booking_id, n.payment_id)
    markup = InlineKeyboardMarkup([[button(_("↩️ Mark all refunded"), press)]])
    return Outgoing(first.mentor.id, "\n".join(lines), markup)


def series_refund_due_operator(found: RefundsTogether, chat_id: int, default_zone: str) -> Outgoing:
    """The operator's copy of a series' refunds due by hand, once per action (in the default language)."""
    first = found.weeks[0]
    lines = [
        ngettext(
            "↩️ <b>Refund due</b> (operator copy): {amount}, {count} week of weekly series #{id}.",
            "↩️ <b>Refund due</b> (operator copy): {amount}, {count} weeks of weekly series #{id}.",
            found.count,
        ).format(amount=format_price(*found.total), count=found.count, id=first.booking.series_id),
        _("Mentor: {name} (id {id})").format(name=esc(first.mentor.display_name), id=first.mentor.id),
        _("Payer: {name} (id {id})").format(name=esc(first.mentee.display_name), id=first.mentee.id),
        _charge_ids(found.rows),
        *_week_amounts(found, default_zone),
    ]
    return Outgoing(chat_id, "\n".join(lines))


def series_refunded(found: RefundsTogether, default_zone: str) -> Outgoing:
    """To the payer, once for the weeks' refunds recorded together: each week's share and the total."""
    first = found.weeks[0]
    head = ngettext(
        "↩️ Refunded: {amount} for <b>{title}</b>, {count} weekly session:",
        "↩️ Refunded: {amount} for <b>{title}</b>, {count} weekly sessions:",
        found.count,
    ).format(amount=format_price(*found.total), title=esc(first.offering.title), count=found.count)
    lines = [head, *_week_amounts(found, _zone(first.mentee, default_zone))]
    markup = InlineKeyboardMarkup([[button(_("🎟 My bookings"), OpenMyBookings(MyTab.UPCOMING, 0))]])
    return Outgoing(first.mentee.id, "\n".join(lines), markup)


def refund_due_text(view: BookingView, charge: LedgerEntry | None) -> str:
    """To the mentor: a refund only they can make (a provider's payment, or money paid outside the bot)."""
    amount = _amount(charge, view)
    head = _("↩️ <b>Refund due: {amount}</b> to {mentee} for booking #{id}.").format(
        amount=amount, mentee=esc(view.mentee.display_name), id=view.booking.id
    )
    if charge is not None and charge.mode == PaymentMode.PROVIDER:
        head += "\n" + _(
            "Telegram cannot refund payments made through a payment provider: refund it in your provider's "
            "dashboard (provider charge id: <code>{provider}</code>, Telegram charge id: "
            "<code>{telegram}</code>), then tap “Mark refunded”."
        ).format(provider=esc(charge.provider_charge_id or "—"), telegram=esc(charge.telegram_charge_id or "—"))
    elif charge is not None and charge.mode == PaymentMode.STARS:  # one week's share of a series' payment
        head += "\n" + _(
            "It is this week's share of a weekly series paid at once in Telegram Stars. Telegram refunds a Stars "
            "payment only in full, so this share is settled by hand: agree it with the mentee (the operator has a "
            "copy), then tap “Mark refunded”."
        )
    elif charge is not None and charge.mode == PaymentMode.UPI:
        head += "\n" + _("It was paid by UPI to you: send it back by UPI, then tap “Mark refunded”.")
    else:
        head += "\n" + _("It was paid outside the bot: pay it back, then tap “Mark refunded”.")
    return head


def to_operator(view: BookingView, charge: LedgerEntry | None, chat_id: int) -> Outgoing:
    """The operator's copy of a refund due by hand (in the deployment's default language)."""
    lines = [
        _("↩️ <b>Refund due</b> (operator copy): {amount}, booking #{id}.").format(
            amount=_amount(charge, view), id=view.booking.id
        ),
        _("Mentor: {name} (id {id})").format(name=esc(view.mentor.display_name), id=view.mentor.id),
        _("Payer: {name} (id {id})").format(name=esc(view.mentee.display_name), id=view.mentee.id),
    ]
    if charge is not None:
        lines.append(
            _("Provider charge id: <code>{provider}</code> · Telegram charge id: <code>{telegram}</code>").format(
                provider=esc(charge.provider_charge_id or "—"), telegram=esc(charge.telegram_charge_id or "—")
            )
        )
    return Outgoing(chat_id, "\n".join(lines))


def to_mentor(
    n: Notification,
    view: BookingView,
    default_zone: str,
    now: datetime,
    charge: LedgerEntry | None = None,
    max_moves: int = DEFAULT_MAX_RESCHEDULES,
    together: Sequence[Booking] = (),
) -> Outgoing | None:
    booking, offering, mentee = view.booking, view.offering, view.mentee
    zone = _zone(view.mentor, default_zone)
    card, markup = booking_card_for_mentor(booking, offering, mentee, zone, now, max_moves=max_moves)
    title, name = esc(offering.title), esc(mentee.display_name)
    match n.kind:
        case K.NEW_BOOKING:
            pending = booking.status == BookingStatus.PENDING
            head = _("🔔 New booking request") if pending else _("🔔 New booking")
        case K.CANCELLED:
            head = _("🚫 The mentee cancelled this booking. Reason: {reason}").format(
                reason=esc(booking.cancellation_reason)
            )
        case K.EXPIRED:
            head = _("⌛ This request expired: it was not answered in time. The time is free again.")
        case K.HOLD_EXPIRED:
            head = _("⌛ A mentee held this time but did not pay in time, so it is free again.")
        case K.REFUND_DUE:
            head = refund_due_text(view, charge)
        case K.UPI_CLAIM:
            head = upi_claim_head(view, together)
        case K.MOVED:
            old = format_moment(booking.moved_from, zone) if booking.moved_from else "—"
            new = format_moment(booking.scheduled_at, zone)
            if booking.moved_by == Actor.MENTOR:  # one of the times the mentor proposed
                head = _("✅ The mentee took one of your proposed times: {old} → {new}.").format(old=old, new=new)
            else:
                head = _("🔁 The mentee moved this session: {old} → {new}.").format(old=old, new=new)
        case K.PROPOSALS_DECLINED:
            head = _(
                "🙅 None of the times you proposed works for the mentee. Propose other times, or cancel the "
                "booking."
            )
        case K.MOVE_REQUESTED:
            asked = booking.requested_start
            head = _(
                "🔁 <b>New time requested</b>: the mentee asks to move this session from {old} to {new}."
            ).format(
                old=format_moment(booking.scheduled_at, zone), new=format_moment(asked, zone) if asked else "—"
            )
        case K.MOVE_EXPIRED:
            head = _(
                "⌛ The mentee's request for a new time expired unanswered: the session stays at {time}."
            ).format(time=format_moment(booking.scheduled_at, zone))
        case K.REMINDER | K.SESSION_REMINDER:  # a 1:1 session's reminder: its one booking's card
            head = _("⏰ Reminder: <b>{title}</b> with {mentee} starts in {lead}.").format(
                title=title, mentee=name, lead=lead_text(n.lead_minutes)
            )
            if not booking.meeting_link and timedelta(minutes=n.lead_minutes) < ASK_ATTENDANCE_FROM:
                head += "\n" + _("There is no meeting link yet: add one so the mentee can join.")
        case K.AFTER_SESSION | K.SESSION_AFTER:
            head = _("How did <b>{title}</b> with {mentee} go? Mark it completed or no-show.").format(
                title=title, mentee=name
            )
        case _:
            return None
    return Outgoing(view.mentor.id, f"{head}\n\n{card}", markup)


def session_reminder(
    n: Notification, attendees: list[BookingView], default_zone: str, now: datetime
) -> Outgoing | None:
    """The mentor's one reminder of a session: a 1:1 session's is its booking's card; a group session's lists its
    confirmed attendees (the seats taken) with the roster and, when there is one, the meeting link."""
    first = attendees[0]
    if len(attendees) == 1 and not first.offering.is_group:
        return to_mentor(n, first, default_zone, now)
    assert first.booking.id is not None, "a stored booking"
    zone = _zone(first.mentor, default_zone)
    capacity = max(first.offering.capacity, len(attendees))
    lines = [
        _("⏰ Reminder: your group session <b>{title}</b> starts in {lead} ({time}).").format(
            title=esc(first.offering.title),
            lead=lead_text(n.lead_minutes),
            time=format_clock(first.booking.scheduled_at, zone),
        ),
        ngettext("👥 {count} of {capacity} seat taken:", "👥 {count} of {capacity} seats taken:", capacity).format(
            count=len(attendees), capacity=capacity
        ),
        *(f"{number}. {esc(view.mentee.display_name)}" for number, view in enumerate(attendees, start=1)),
    ]
    link = next((view.booking.meeting_link for view in attendees if view.booking.meeting_link), None)
    buttons = [[button(_("👥 Session roster"), ActOnSession(first.booking.id, SessionAction.OPEN))]]
    if link:
        lines.append(_("Meeting link: {link}").format(link=esc(link)))
        buttons.insert(0, [InlineKeyboardButton(_("🎥 Join"), url=link)])
    elif timedelta(minutes=n.lead_minutes) < ASK_ATTENDANCE_FROM:
        lines.append(_("There is no meeting link yet: add one for everyone from the roster."))
    return Outgoing(first.mentor.id, "\n".join(lines), InlineKeyboardMarkup(buttons))


def after_group_session(session: Roster, zone: str, now: datetime) -> Outgoing:
    """The mentor's one after-session question of a group session: its roster, with a ✔️ came / 🙈 no-show pair
    for each attendee still to mark (pressing one marks that attendee and redraws the roster)."""
    head = _("🏁 Your group session <b>{title}</b> ({time}) has ended. Who came? Mark each attendee.").format(
        title=esc(session.offering.title), time=format_clock(session.start, zone)
    )
    text, markup = roster_view(session, zone, now)
    return Outgoing(session.mentor.id, head + "\n\n" + text, markup)


def agenda_message(agenda: sessions.Agenda, default_zone: str) -> Outgoing:
    zone = _zone(agenda.mentor, default_zone)
    lines = [_("🗓 <b>Your sessions today</b>")]
    for view in agenda.sessions:
        lines.append(
            _("{time} — {title} with {mentee}").format(
                time=format_clock(view.booking.scheduled_at, zone),
                title=esc(view.offering.title),
                mentee=esc(view.mentee.display_name),
            )
        )
    lines.append("")
    lines.append(_("You can turn this daily message off in /settings."))
    return Outgoing(agenda.mentor.id, "\n".join(lines))


async def prepare(
    uow: UnitOfWork,
    n: Notification,
    clock: Clock,
    default_zone: str,
    operator_chat_id: int | None = None,
    default_locale: str = "en",
    max_reschedules: int = DEFAULT_MAX_RESCHEDULES,
) -> Outgoing | StarRefund | None:
    """The dispatcher's hook (``bot.dispatcher.Prepare`` once the rest is bound); ``max_reschedules`` is
    ``MAX_RESCHEDULES`` (the mentor's card offers no 🔁 Propose new times once a booking used its moves)."""
    if n.kind in (K.EXPIRE, K.HOLD_EXPIRE, K.MOVE_EXPIRE):
        if n.booking_id is not None:
            expire = {K.EXPIRE: expire_request, K.HOLD_EXPIRE: expire_hold, K.MOVE_EXPIRE: expire_move}[n.kind]
            await expire(uow, clock, n.booking_id)
        return None
    if n.kind == K.REFUND:
        charge = await refund_to_make(uow, clock, n.payment_id) if n.payment_id is not None else None
        if charge is None or charge.telegram_charge_id is None:
            return None  # refunded already (or not a Stars payment of ours)
        return StarRefund(charge.payer_id, charge.telegram_charge_id)
    if n.kind == K.AGENDA:
        agenda = await day_agenda(uow, n.recipient_id, n.due_at)
        if agenda is None:
            return None
        with use_locale(agenda.mentor.locale):
            return agenda_message(agenda, default_zone)
    if n.kind == K.WAITLIST:
        freed = await waitlist_notice(uow, clock, n)
        if freed is None or n.slot is None:
            return None
        with use_locale(freed.mentee.locale):
            return Outgoing(freed.mentee.id, *waitlist.notice(freed, _zone(freed.mentee, default_zone), n.slot))
    if n.kind == K.CALENDAR_FAILING:
        stopped = await stopped_calendars(uow, clock, n.recipient_id)
        if stopped is None:  # it works again, or was removed: nothing to say
            return None
        mentor, calendars = stopped
        with use_locale(mentor.locale):
            return Outgoing(mentor.id, stopped_text(calendars), stopped_buttons())
    if n.kind == K.SESSION_REMINDER:
        attendees = await session_views(uow, n.recipient_id, n.slot) if n.slot is not None else []
        if not attendees:
            return None  # everyone left (or moved) since it was planned
        with use_locale(attendees[0].mentor.locale):
            return session_reminder(n, attendees, default_zone, clock.now())
    if n.kind in SERIES_NOTICES:
        weeks = await series_of(uow, n.booking_id) if n.booking_id is not None else []
        if not weeks:
            return None
        recipient = weeks[0].mentee if n.recipient_id == weeks[0].mentee.id else weeks[0].mentor
        with use_locale(recipient.locale):
            notice = series.series_notice(n.kind, weeks, n.booking_id, n.recipient_id, default_zone)
        return Outgoing(n.recipient_id, *notice) if notice is not None else None
    if n.kind in SERIES_REFUNDS:
        return await _series_refunds(uow, n, default_zone, operator_chat_id, default_locale)
    if n.kind == K.SESSION_AFTER:
        attendees = await session_views(uow, n.recipient_id, n.slot) if n.slot is not None else []
        if not attendees:
            return None  # every attendee was marked (or left) since it was planned
        first = attendees[0]
        if len(attendees) == 1 and not first.offering.is_group:  # a 1:1 session: its booking's card, as before
            with use_locale(first.mentor.locale):
                return to_mentor(n, first, default_zone, clock.now(), max_moves=max_reschedules)
        assert first.booking.id is not None, "a loaded booking"
        session = await open_roster(uow, n.recipient_id, first.booking.id)
        with use_locale(first.mentor.locale):
            return after_group_session(session, _zone(first.mentor, default_zone), clock.now())
    view = await load_view(uow, n.booking_id) if n.booking_id is not None else None
    if view is None or not still_relevant(n, view.booking):
        return None
    charge = await charge_of(uow, n.payment_id)
    upi = view.booking.payment_mode == PaymentMode.UPI and n.kind in (K.UPI_CLAIM, K.UPI_NOT_RECEIVED, K.PAID)
    together = await paid_with(uow, view.booking) if upi else []  # what the UPI payment is for: a series' weeks
    if n.kind == K.REFUND_DUE_OPERATOR:
        if operator_chat_id is None:
            return None
        with use_locale(default_locale):
            return to_operator(view, charge, operator_chat_id)
    if n.recipient_id == view.mentee.id:
        with use_locale(view.mentee.locale):
            return to_mentee(n, view, default_zone, clock.now(), charge, together)
    if n.recipient_id == view.mentor.id:
        with use_locale(view.mentor.locale):
            return to_mentor(n, view, default_zone, clock.now(), charge, max_reschedules, together)
    return None


async def _series_refunds(
    uow: UnitOfWork, n: Notification, default_zone: str, operator_chat_id: int | None, default_locale: str
) -> Outgoing | None:
    """One message about the refunds of several weeks of a series made due (or done) together; nothing when they
    are settled already (a refund due) or the rows are not found."""
    if n.booking_id is None or n.payment_id is None:
        return None
    kind = LedgerKind.REFUND if n.kind == K.SERIES_REFUNDED else LedgerKind.REFUND_DUE
    found = await refunds_together(uow, n.booking_id, kind, n.payment_id)
    if found is None:
        return None
    first = found.weeks[0]
    if n.kind == K.SERIES_REFUNDED:
        with use_locale(first.mentee.locale):
            return series_refunded(found, default_zone)
    if not found.owed:
        return None  # marked refunded meanwhile (or the whole Stars payment refunded): nothing to ask for
    if n.kind == K.SERIES_REFUND_DUE_OPERATOR:
        if operator_chat_id is None:
            return None
        with use_locale(default_locale):
            return series_refund_due_operator(found, operator_chat_id, default_zone)
    with use_locale(first.mentor.locale):
        return series_refund_due(n, found, default_zone)


async def delivered(uow: UnitOfWork, n: Notification, clock: Clock) -> None:
    """The dispatcher's ``delivered`` hook: a Stars refund went through - record it (once) and tell the payer."""
    if n.kind == K.REFUND and n.payment_id is not None:
        await refund_made(uow, clock, n.payment_id)
