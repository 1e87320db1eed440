"""Pure rendering of the cards several flows show: text and keyboards, no Telegram calls, no database.

Every piece of text a user typed is escaped here before it reaches HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.i18n import (
    _,
    format_clock,
    format_moment,
    format_money,
    format_price,
    format_rating,
    format_wall,
    ngettext,
)
from domain.booking import allowed_moves, link_editable
from domain.model import (
    Actor,
    Booking,
    BookingStatus,
    BookingView,
    Offering,
    OfferingStatus,
    PaymentMode,
    PaymentStatus,
    TimeRange,
    User,
)
from domain.payments import HELD, may_check_upi, may_mark_paid, may_mark_refunded
from domain.reschedule import may_propose
from domain.sessions import cancellation_deadline
from handlers.callbacks import (
    ActOnBooking,
    ActOnPayment,
    ActOnSeries,
    ActOnSession,
    AnswerMove,
    BookingAction,
    CallbackData,
    DeclineProposals,
    PaymentAction,
    PickProposal,
    ProposeTimes,
    SeriesAction,
    SessionAction,
    SetOfferingStatus,
)
from handlers.keyboards import button
from handlers.labels import (
    booking_status_label,
    category_label,
    offering_status_label,
    payment_mode_label,
    payment_status_label,
)


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)


def describe_ranges(ranges: Iterable[TimeRange]) -> str:
    """Wall-clock ranges as the reader's clock writes them: ``09:00–12:00, 14:00–18:00``."""
    return ", ".join(f"{format_wall(r.start)}–{format_wall(r.end)}" for r in ranges)


def rating_line(offering: Offering) -> str:
    if offering.average_rating is None:
        return _("no ratings yet")
    return ngettext("★ {rating} ({count} rating)", "★ {rating} ({count} ratings)", offering.rating_count).format(
        rating=format_rating(offering.average_rating), count=offering.rating_count
    )


def booking_counts(requests: int, held: int) -> str:
    """How much an offering (or a mentor) is booked: the requests made (``total_bookings``: cancelled, declined
    and expired ones too) next to the sessions held (``total_completed``). "2 bookings" alone read as sessions."""
    made = ngettext("{count} request made", "{count} requests made", requests).format(count=requests)
    done = ngettext("{count} session held", "{count} sessions held", held).format(count=held)
    return f"{made} · {done}"


def offering_summary(offering: Offering, mentor: User | None = None) -> str:
    """Title, mentor, price, duration, rating, requests and sessions: the lines a mentee compares offerings by."""
    lines = [f"<b>{esc(offering.title)}</b>"]
    if mentor is not None:
        lines.append(_("with {mentor}").format(mentor=esc(mentor.display_name)))
    lines.append(
        _("{price} · {minutes} min · {category}").format(
            price=format_money(offering.price),
            minutes=offering.duration_minutes,
            category=category_label(offering.category),
        )
    )
    if offering.is_group:
        lines.append(group_size(offering.capacity))
    if offering.package_weeks is not None:
        lines.append(package_line(offering.package_weeks))
    lines.append(f"{rating_line(offering)} · {booking_counts(offering.total_bookings, offering.total_completed)}")
    return "\n".join(lines)


def series_line(booking: Booking) -> str:
    """Which week of a weekly series a booking is: "🔁 Week 3 of 6"."""
    return _("🔁 Week {week} of {weeks}").format(week=booking.series_week, weeks=booking.series_weeks)


def series_move_note(booking: Booking) -> str | None:
    """On the screens that move one week of a weekly series: only that week moves, and it keeps its place."""
    if booking.series_id is None:
        return None
    return _(
        "🔁 Week {week} of {weeks} of a weekly series: only this week moves. The other weeks keep their times, "
        "and this one stays week {week} of {weeks}."
    ).format(week=booking.series_week, weeks=booking.series_weeks)


def package_line(weeks: int) -> str:
    """What a package is (``domain.series``): booked only as this many weekly sessions."""
    return ngettext(
        "📦 Package: {count} weekly session, booked together",
        "📦 Package: {count} weekly sessions, booked together",
        weeks,
    ).format(count=weeks)


def group_size(capacity: int) -> str:
    """What a group offering is: how many people one session seats."""
    return ngettext(
        "👥 Group session for up to {count} person", "👥 Group session for up to {count} people", capacity
    ).format(count=capacity)


def seats_left_line(left: int, capacity: int) -> str:
    """How many seats of a group session are still free: "3 of 10 seats left"."""
    return ngettext("👥 {left} of {capacity} seat left", "👥 {left} of {capacity} seats left", capacity).format(
        left=left, capacity=capacity
    )


def offering_details(offering: Offering) -> str:
    """The mentor's view of one offering: every setting, defaults included."""
    lines = [
        offering_summary(offering),
        _("Status: {status}").format(status=offering_status_label(offering.status)),
        _("Buffers: {before} min before, {after} min after").format(
            before=offering.buffer_before_minutes, after=offering.buffer_after_minutes
        ),
        _("At most {count} per day · book up to {days} days ahead · at least {hours} h notice").format(
            count=offering.max_bookings_per_day,
            days=offering.advance_booking_days,
            hours=offering.min_notice_hours,
        ),
    ]
    return "\n".join(lines)


def offering_status_buttons(offering: Offering, prefix: str = "") -> list[InlineKeyboardButton]:
    """Publish (draft), Resume (paused) or Pause (live); ``prefix`` tells apart several offerings' buttons."""
    assert offering.id is not None
    if offering.status in (OfferingStatus.DRAFT, OfferingStatus.PAUSED):
        label = _("🚀 Publish & Go Live") if offering.status == OfferingStatus.DRAFT else _("▶️ Resume")
        return [button(prefix + label, SetOfferingStatus(offering.id, OfferingStatus.ACTIVE))]
    if offering.status == OfferingStatus.ACTIVE:
        return [button(prefix + _("⏸ Pause"), SetOfferingStatus(offering.id, OfferingStatus.PAUSED))]
    return []


def session_time(moment: datetime, reader_zone: str, other_zone: str | None = None, other_label: str = "") -> str:
    """``Mon, 30 Nov, 14:30`` in the reader's zone, plus the other person's clock when their zone differs."""
    text = format_moment(moment, reader_zone)
    if other_zone and other_zone != reader_zone:
        text += " " + _("({time} for {who})").format(time=format_clock(moment, other_zone), who=other_label)
    return text


def booking_card_for_mentor(
    booking: Booking,
    offering: Offering,
    mentee: User,
    mentor_zone: str,
    now: datetime | None = None,
    back: CallbackData | None = None,
    *,
    max_moves: int,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What the mentor sees of a booking, private note included, with the actions open to them now.

    Without ``now`` the buttons that depend on the time (mark completed or no-show) are left out; ``back`` adds a
    "Back to list" button; ``max_moves`` is ``MAX_RESCHEDULES`` (no 🔁 Propose new times once used up). The
    mentee's card (``booking_card_for_mentee``) never shows the private note."""
    lines = [
        _("<b>Booking #{id}</b> · {status}").format(id=booking.id, status=booking_status_label(booking.status)),
        f"<b>{esc(offering.title)}</b>",
        _("Mentee: {name}").format(name=esc(mentee.display_name))
        + (f" (@{esc(mentee.username)})" if mentee.username else ""),
        _("When: {time}").format(
            time=session_time(booking.scheduled_at, mentor_zone, booking.timezone, _("mentee"))
        ),
        price_line(booking),
        *money_lines(booking, offering, mentor_zone, Actor.MENTOR),
    ]
    if booking.meeting_notes:
        lines.append(_("Notes from the mentee: {notes}").format(notes=esc(booking.meeting_notes)))
    if booking.meeting_link:
        lines.append(_("Meeting link: {link}").format(link=esc(booking.meeting_link)))
    if booking.cancellation_reason and booking.status in (BookingStatus.DECLINED, BookingStatus.CANCELLED):
        lines.append(_("Reason: {reason}").format(reason=esc(booking.cancellation_reason)))
    if booking.mentor_notes:
        lines.append(_("🔒 Your private note: {note}").format(note=esc(booking.mentor_notes)))
    lines += move_history(booking, mentor_zone)
    if now is not None and booking.status == BookingStatus.CONFIRMED and booking.ends_at <= now:
        lines.append(_("This session has ended: mark it completed or no-show."))
    if booking.series_id is not None:
        lines.insert(2, series_line(booking))
    markup = mentor_booking_buttons(booking, now, back, max_moves=max_moves)
    if booking.series_id is not None and markup is not None:  # the whole series at once (``handlers.series``)
        assert booking.id is not None
        whole: list[list[InlineKeyboardButton]] = []
        if booking.status == BookingStatus.PENDING:
            whole.append(
                [
                    button(_("✅ Confirm all weeks"), ActOnSeries(booking.id, SeriesAction.CONFIRM_ALL)),
                    button(_("❌ Decline all weeks"), ActOnSeries(booking.id, SeriesAction.DECLINE_ALL)),
                ]
            )
        if booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
            cancel = ActOnSeries(booking.id, SeriesAction.CANCEL_FUTURE)
            whole.append([button(_("🚫 Cancel all future weeks"), cancel)])
        *first, last = markup.inline_keyboard
        markup = InlineKeyboardMarkup([*first, *whole, last])
    if offering.is_group and markup is not None:  # the session's attendees together (``handlers.roster``)
        assert booking.id is not None
        lines.insert(2, group_size(offering.capacity))
        roster = [button(_("👥 Session roster"), ActOnSession(booking.id, SessionAction.OPEN))]
        markup = InlineKeyboardMarkup([roster, *markup.inline_keyboard])
    return "\n".join(lines), markup


def move_history(booking: Booking, mentor_zone: str) -> list[str]:
    """The mentor's card: how often the booking moved, from when and by whom, and a new time asked for."""
    lines = []
    if booking.reschedules and booking.moved_from is not None:
        who = _("the mentor") if booking.moved_by == Actor.MENTOR else _("the mentee")
        lines.append(
            ngettext(
                "🔁 Moved {count} time; last from {time}, by {who}.",
                "🔁 Moved {count} times; last from {time}, by {who}.",
                booking.reschedules,
            ).format(count=booking.reschedules, time=format_moment(booking.moved_from, mentor_zone), who=who)
        )
    if booking.requested_start is not None and booking.status.is_active:
        lines.append(
            _("⏳ The mentee asks to move this session to {time}.").format(
                time=session_time(booking.requested_start, mentor_zone, booking.timezone, _("mentee"))
            )
        )
    if booking.proposals and booking.status.is_active:
        times = ", ".join(format_moment(moment, mentor_zone) for moment in booking.proposals)
        lines.append(_("🔁 You proposed {times}; waiting for the mentee.").format(times=times))
    return lines


def proposal_text(view: BookingView, zone: str) -> str:
    """To the mentee: the mentor proposes new times (the buttons are ``proposal_buttons``), with their message."""
    booking = view.booking
    text = _(
        "🔁 {mentor} proposes new times for <b>{title}</b> (now {time}). Tap one to move your session there, or "
        "tell them none of these work."
    ).format(
        mentor=esc(view.mentor.display_name),
        title=esc(view.offering.title),
        time=session_time(booking.scheduled_at, zone, view.mentor.timezone, _("mentor")),
    )
    if booking.proposal_message:
        text += "\n" + _("Message: {message}").format(message=esc(booking.proposal_message))
    return text


def proposal_buttons(booking: Booking, zone: str) -> list[list[InlineKeyboardButton]]:
    """A button per proposed time, in the mentee's zone, and "None of these work"."""
    assert booking.id is not None
    rows = [
        [button(format_moment(moment, zone), PickProposal(booking.id, moment))] for moment in booking.proposals
    ]
    if rows:
        rows.append([button(_("🙅 None of these work"), DeclineProposals(booking.id))])
    return rows


# Before any booking starts: without a "now", the moves that wait for the start are not offered.
_BEFORE_ALL = datetime.min.replace(tzinfo=UTC)


def mentor_booking_buttons(
    booking: Booking,
    now: datetime | None = None,
    back: CallbackData | None = None,
    *,
    max_moves: int,
) -> InlineKeyboardMarkup | None:
    """Only the moves ``allowed_moves`` opens now; a pending request is declined (not cancelled)."""
    booking_id = booking.id
    assert booking_id is not None
    moves = allowed_moves(booking, Actor.MENTOR, now or _BEFORE_ALL)

    def act(label: str, action: BookingAction) -> InlineKeyboardButton:
        return button(label, ActOnBooking(booking_id, action))

    rows: list[list[InlineKeyboardButton]] = []
    if booking.requested_start is not None and booking.status == BookingStatus.CONFIRMED:
        asked = booking.requested_start
        rows.append(
            [
                button(_("✅ Approve new time"), AnswerMove(booking_id, asked, True)),
                button(_("✖️ Keep original time"), AnswerMove(booking_id, asked, False)),
            ]
        )
    if BookingStatus.CONFIRMED in moves:
        rows.append([act(_("✅ Confirm"), BookingAction.CONFIRM), act(_("❌ Decline"), BookingAction.DECLINE)])
    if link_editable(booking, Actor.MENTOR):
        label = _("🔗 Change meeting link") if booking.meeting_link else _("🔗 Add meeting link")
        rows.append([act(label, BookingAction.LINK)])
    if BookingStatus.COMPLETED in moves:
        rows.append(
            [act(_("✔️ Mark completed"), BookingAction.COMPLETE), act(_("🙈 Mark no-show"), BookingAction.NO_SHOW)]
        )
    if now is not None and may_propose(booking, now, max_moves):
        rows.append([button(_("🔁 Propose new times"), ProposeTimes(booking_id))])
    if BookingStatus.CANCELLED in moves and booking.status == BookingStatus.CONFIRMED:
        rows.append([act(_("🚫 Cancel booking"), BookingAction.CANCEL)])
    money = []
    if may_check_upi(booking):  # the mentee says they paid by UPI: did it arrive?
        money.append(button(_("💰 Mark paid"), ActOnPayment(booking_id, PaymentAction.MARK_PAID)))
        money.append(button(_("❌ Not received"), ActOnPayment(booking_id, PaymentAction.NOT_RECEIVED)))
    if may_mark_paid(booking):
        money.append(button(_("💰 Mark paid"), ActOnPayment(booking_id, PaymentAction.MARK_PAID)))
    if may_mark_refunded(booking):
        money.append(button(_("↩️ Mark refunded"), ActOnPayment(booking_id, PaymentAction.MARK_REFUNDED)))
    if money:
        rows.append(money)
    note = _("📝 Edit private note") if booking.mentor_notes else _("📝 Private note")
    rows.append([act(note, BookingAction.NOTE)])
    if back is not None:
        rows.append([button(_("⬅ Back to list"), back)])
    return InlineKeyboardMarkup(rows)


def booking_card_for_mentee(
    booking: Booking, offering: Offering, mentor: User, mentee_zone: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    mentor_zone = mentor.timezone
    lines = [
        _("<b>{title}</b> with {mentor}").format(title=esc(offering.title), mentor=esc(mentor.display_name)),
        _("When: {time}").format(time=session_time(booking.scheduled_at, mentee_zone, mentor_zone, _("mentor"))),
        _("Status: {status}").format(status=booking_status_label(booking.status)),
        price_line(booking),
        *money_lines(booking, offering, mentee_zone, Actor.MENTEE),
    ]
    if booking.series_id is not None:
        lines.insert(1, series_line(booking))
    markup = None
    if booking.meeting_link:
        lines.append(_("Meeting link: {link}").format(link=esc(booking.meeting_link)))
        if booking.status == BookingStatus.CONFIRMED:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(_("🎥 Join"), url=booking.meeting_link)]])
    return "\n".join(lines), markup


# --- money on a card -------------------------------------------------------------------------------------------


def price_line(booking: Booking) -> str:
    """The price in its currency, and what has been paid (and how)."""
    price = _("Price: {price}").format(price=format_price(booking.amount, booking.currency))
    if booking.payment_status == PaymentStatus.NOT_REQUIRED:
        return price
    status = payment_status_label(booking.payment_status)
    if booking.payment_mode is not None:
        status = _("{status} · {mode}").format(status=status, mode=payment_mode_label(booking.payment_mode))
    return price + " · " + _("Payment: {status}").format(status=status)


def refund_terms(deadline: datetime, zone: str) -> str:
    """What is refunded when (``domain.payments.refund_on_move``), said before paying and on every card while it
    can still happen; ``deadline`` is the offering's cancellation cut-off for the session."""
    return _(
        "↩️ Refunds: in full if the mentor declines or cancels, if the request expires unanswered, or if the "
        "mentee cancels until {time}; nothing after that."
    ).format(time=format_moment(deadline, zone))


def money_lines(booking: Booking, offering: Offering, zone: str, reader: Actor) -> list[str]:
    """Until when a held slot waits for the payment, a refund owed, and the refund terms while they apply."""
    lines = []
    if may_check_upi(booking):  # held (or not) while the mentor checks a UPI payment the mentee reported
        if reader == Actor.MENTEE:
            lines.append(_("📲 You said you paid by UPI; the mentor is checking that it arrived."))
        else:
            lines.append(
                _(
                    "📲 The mentee says they paid by UPI: check your UPI app, then tap “Mark paid” or "
                    "“Not received”."
                )
            )
    elif booking.status == BookingStatus.AWAITING_PAYMENT and booking.hold_until is not None:
        held = format_moment(booking.hold_until, zone)
        if reader == Actor.MENTEE:
            lines.append(_("💳 Pay by {time}; after that the time is free for others again.").format(time=held))
        else:
            lines.append(_("⏳ Held for the mentee until {time} while they pay.").format(time=held))
    series_stars = booking.series_id is not None and booking.payment_mode == PaymentMode.STARS
    if booking.payment_status == PaymentStatus.REFUND_DUE and series_stars:  # ``domain.payments.stars_refund_way``
        if reader == Actor.MENTEE:
            lines.append(
                _(
                    "↩️ This week's share is owed back: the bot refunds the whole Stars payment when every week of "
                    "it is refunded; otherwise the mentor settles this week's share with you."
                )
            )
        else:
            lines.append(
                _(
                    "↩️ This week's share is owed back: the bot refunds the whole Stars payment when every week of "
                    "it is refunded; otherwise settle this week's share, then tap “Mark refunded”."
                )
            )
    elif booking.payment_status == PaymentStatus.REFUND_DUE:
        stars = booking.payment_mode == PaymentMode.STARS
        if reader == Actor.MENTEE:
            lines.append(_("↩️ Your refund is on its way.") if stars else _("↩️ The mentor owes you a refund."))
        elif stars:
            lines.append(_("↩️ A refund is due: the bot is giving the Stars back."))
        else:
            lines.append(_("↩️ A refund is due: refund it, then tap “Mark refunded”."))
    open_money = booking.payment_status in (PaymentStatus.PENDING, PaymentStatus.PAID)
    if open_money and booking.status.is_active:
        if booking.series_id is not None and booking.payment_mode in HELD:  # one payment for the series
            lines.append(series_share_line(booking))
        lines.append(refund_terms(cancellation_deadline(booking, offering), zone))
    return lines


def series_share_line(booking: Booking) -> str:
    """A week of a series paid with one invoice: its share, and how one week alone is refunded."""
    share = format_price(booking.amount, booking.currency)
    if booking.payment_mode == PaymentMode.STARS:
        return _(
            "🔁 One payment for the whole series; this week's share is {share}. Telegram refunds a Stars payment "
            "only in full: if every week is refunded, the bot gives the whole payment back; a refund for some "
            "weeks only is settled by the mentor."
        ).format(share=share)
    return _(
        "🔁 One payment for the whole series; this week's share is {share}, refunded on its own by the terms "
        "below."
    ).format(share=share)


def cancellation_terms(offering: Offering) -> str:
    """Until when a mentee may cancel, plus the mentor's policy text (shown before booking and on the card)."""
    cutoff = ngettext(
        "You can cancel until {hours} hour before the start.",
        "You can cancel until {hours} hours before the start.",
        offering.cancellation_cutoff_hours,
    ).format(hours=offering.cancellation_cutoff_hours)
    if offering.cancellation_policy:
        cutoff += " " + esc(offering.cancellation_policy)
    return _("↩️ Cancellation: {policy}").format(policy=cutoff)
