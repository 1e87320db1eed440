"""What each due notification says, in the recipient's language and time zone, with the buttons it needs.

``prepare`` is the dispatcher's hook: called in a fresh unit of work when a notification falls due, it returns
the message to send, or None when there is nothing to say any more (the booking changed since it was planned,
the agenda day is empty) - or, for an expiry, performs it and lets the resulting messages go out through the
outbox like any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.i18n import _, format_clock, ngettext, use_locale
from chat.outgoing import Outgoing
from domain import sessions
from domain.model import BookingStatus, BookingView, User
from domain.notifications import Notification, NotificationKind, still_relevant
from domain.ports import Clock, UnitOfWork
from domain.usecases.calendars import stopped_calendars
from domain.usecases.notifications import day_agenda, expire_request, load_view
from handlers.aftercare import attendance_buttons, stars_keyboard
from handlers.busy_calendars import stopped_buttons, stopped_text
from handlers.render import booking_card_for_mentee, booking_card_for_mentor, esc

K = NotificationKind
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


def to_mentee(n: Notification, view: BookingView, default_zone: str, now: datetime) -> Outgoing | None:
    booking, offering, mentor = view.booking, view.offering, view.mentor
    card, markup = booking_card_for_mentee(booking, offering, mentor, _zone(view.mentee, default_zone))
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
        case K.REMINDER:
            head = _("⏰ Reminder: <b>{title}</b> with {mentor} starts in {lead}.").format(
                title=title, mentor=name, lead=lead_text(n.lead_minutes)
            )
            if timedelta(minutes=n.lead_minutes) >= ASK_ATTENDANCE_FROM:
                may_cancel = not sessions.cancellation_closed(booking, offering, now)
                extra.append(attendance_buttons(booking.id, may_cancel))  # type: ignore[arg-type]
                if not may_cancel:
                    head += "\n" + _("The cancellation cut-off has passed: if you cannot come, please message your mentor.")
        case K.RATE | K.RATE_AGAIN:
            head = _("⭐ How was <b>{title}</b> with {mentor}? Tap the stars to rate it.").format(
                title=title, mentor=name
            )
            if n.kind == K.RATE_AGAIN:
                head = _("A quick reminder, it helps other mentees:") + "\n" + head
            return Outgoing(view.mentee.id, head, stars_keyboard(booking.id))  # type: ignore[arg-type]
        case _:
            return None
    return Outgoing(view.mentee.id, f"{head}\n\n{card}", _markup(markup, extra))


def to_mentor(n: Notification, view: BookingView, default_zone: str, now: datetime) -> Outgoing | None:
    booking, offering, mentee = view.booking, view.offering, view.mentee
    card, markup = booking_card_for_mentor(booking, offering, mentee, _zone(view.mentor, default_zone), now)
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
        case K.REMINDER:
            head = _("⏰ Reminder: <b>{title}</b> with {mentee} starts in {lead}.").format(
                title=title, mentee=name, lead=lead_text(n.lead_minutes)
            )
            if not booking.meeting_link and timedelta(minutes=n.lead_minutes) < ASK_ATTENDANCE_FROM:
                head += "\n" + _("There is no meeting link yet: add one so the mentee can join.")
        case K.AFTER_SESSION:
            head = _("How did <b>{title}</b> with {mentee} go? Mark it completed or no-show.").format(
                title=title, mentee=name
            )
        case _:
            return None
    return Outgoing(view.mentor.id, f"{head}\n\n{card}", markup)


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


async def prepare(uow: UnitOfWork, n: Notification, clock: Clock, default_zone: str) -> Outgoing | None:
    """The dispatcher's hook (``bot.dispatcher.Prepare`` once ``clock`` and ``default_zone`` are bound)."""
    if n.kind == K.EXPIRE:
        if n.booking_id is not None:
            await expire_request(uow, clock, n.booking_id)
        return None
    if n.kind == K.AGENDA:
        agenda = await day_agenda(uow, n.recipient_id, n.due_at)
        if agenda is None:
            return None
        with use_locale(agenda.mentor.locale):
            return agenda_message(agenda, default_zone)
    if n.kind == K.CALENDAR_FAILING:
        stopped = await stopped_calendars(uow, clock, n.recipient_id)
        if stopped is None:  # it works again, or was removed: nothing to say
            return None
        mentor, calendars = stopped
        with use_locale(mentor.locale):
            return Outgoing(mentor.id, stopped_text(calendars), stopped_buttons())
    view = await load_view(uow, n.booking_id) if n.booking_id is not None else None
    if view is None or not still_relevant(n, view.booking):
        return None
    if n.recipient_id == view.mentee.id:
        with use_locale(view.mentee.locale):
            return to_mentee(n, view, default_zone, clock.now())
    if n.recipient_id == view.mentor.id:
        with use_locale(view.mentor.locale):
            return to_mentor(n, view, default_zone, clock.now())
    return None
