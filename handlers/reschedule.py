"""Moving a booking: the mentee's 🔁 Reschedule (date → time → summary → confirm, on the booking's offering) and
the mentor's answer to a request for a new time (✅ Approve new time / ✖️ Keep original time).

The rules are ``domain.reschedule``; every step re-checks that the presser is the booking's mentee (or mentor) and
that the move is still open, and the confirmation re-checks the new time inside its write transaction.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_moment, ngettext
from domain.errors import SlotTaken
from domain.inbox import tab_of
from domain.mentee import MyTab
from domain.model import REASON_MAX, BookingView, PaymentStatus
from domain.reschedule import MAX_PROPOSALS, NoMoveRequest, moves_at_once, moves_left
from domain.usecases.inbox import mentor_booking
from domain.usecases.reschedule import (
    answer_move,
    check_move,
    decline_proposals,
    move_dates,
    move_times,
    pick_proposal,
    proposal_dates,
    proposal_times,
    propose_times,
    reschedule,
    start_proposal,
)
from handlers import dialog
from handlers.booking import Picker, dates_view, times_view
from handlers.callbacks import (
    ActOnBooking,
    AnswerMove,
    BookingAction,
    ConfirmMove,
    DeclineProposals,
    MoveDate,
    MoveTime,
    MoveWeek,
    OpenInbox,
    OpenMyBooking,
    PickProposal,
    ProposeDate,
    ProposeTimes,
    ProposeWeek,
    Reschedule,
    SendProposals,
    ToggleProposal,
)
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button
from handlers.render import booking_card_for_mentee, booking_card_for_mentor, esc, series_move_note, session_time


def _picker(booking_id: int) -> Picker:
    return Picker(
        week=functools.partial(MoveWeek, booking_id),
        day=functools.partial(MoveDate, booking_id),
        time=functools.partial(MoveTime, booking_id),
        back=lambda: button(_("◀ Back to booking"), OpenMyBooking(booking_id, MyTab.UPCOMING, 0)),
    )


def _lead(view: BookingView, zone: str) -> str:
    """What every step of the move says first: which session moves, from when."""
    old = session_time(view.booking.scheduled_at, zone, view.mentor.timezone, _("mentor"))
    lines = [_("🔁 <b>Moving your session</b> (now {time}).").format(time=old)]
    note = series_move_note(view.booking)
    return "\n".join([*lines, *([note] if note else [])]) + "\n\n"


async def _dates(update: Update, context: AppContext, booking_id: int, monday: date | None) -> None:
    async with context.reader() as uow:
        view, ctx, days = await move_dates(
            uow, context.clock, context.user.id, booking_id, context.zone, context.services.max_reschedules, monday
        )
    text, markup = dates_view(ctx, days, context.zone, context.clock.now(), monday, _picker(booking_id))
    await show(update, _lead(view, context.zone) + text, markup)


@on_button(Reschedule)
async def start_move(update: Update, context: AppContext, data: Reschedule) -> str | None:
    await _dates(update, context, data.booking_id, None)
    return None


@on_button(MoveWeek)
async def choose_move_week(update: Update, context: AppContext, data: MoveWeek) -> str | None:
    await _dates(update, context, data.booking_id, data.monday)
    return None


async def _times(update: Update, context: AppContext, booking_id: int, day: date, lead: str = "") -> None:
    async with context.reader() as uow:
        view, ctx, times = await move_times(
            uow, context.clock, context.user.id, booking_id, day, context.zone, context.services.max_reschedules
        )
    text, markup = times_view(ctx, day, times, context.zone, lead + _lead(view, context.zone), _picker(booking_id))
    await show(update, text, markup)


@on_button(MoveDate)
async def choose_move_date(update: Update, context: AppContext, data: MoveDate) -> str | None:
    await _times(update, context, data.booking_id, data.day)
    return None


def _day(start: datetime, context: AppContext) -> date:
    return start.astimezone(ZoneInfo(context.zone)).date()


async def _taken(update: Update, context: AppContext, booking_id: int, start: datetime) -> str:
    """The new time was just taken (or no longer fits): the free times of that day now."""
    lead = _("⚠️ This time was just taken. Here are the free times now.") + "\n\n"
    await _times(update, context, booking_id, _day(start, context), lead)
    return _("This time was just taken. Please choose another time.")


def summary_text(view: BookingView, start: datetime, zone: str, max_moves: int) -> str:
    """Old and new time (both zones when they differ), whether it moves at once, and what happens to the money."""
    booking, mentor_zone = view.booking, view.mentor.timezone
    lines = [
        _("🔁 <b>Move your session?</b>"),
        _("<b>{title}</b> with {mentor}").format(
            title=esc(view.offering.title), mentor=esc(view.mentor.display_name)
        ),
        _("From: {time}").format(time=session_time(booking.scheduled_at, zone, mentor_zone, _("mentor"))),
        _("To: {time}").format(time=session_time(start, zone, mentor_zone, _("mentor"))),
        "",
    ]
    note = series_move_note(booking)
    if note:
        lines[-1:-1] = [note]
    if moves_at_once(booking, view.offering):
        lines.append(_("⚡ It moves at once when you tap Confirm; the mentor is told."))
    else:
        lines.append(
            _(
                "⏳ The mentor approves the new time. Until they answer, your session stays where it is and the "
                "new time is held for you."
            )
        )
    if booking.payment_status == PaymentStatus.PAID:
        lines.append(_("💳 Your payment moves with the session: nothing more to pay, nothing refunded."))
    left = moves_left(booking, max_moves) - 1
    lines.append(
        ngettext(
            "After this you can move it {count} more time.", "After this you can move it {count} more times.", left
        ).format(count=left)
    )
    return "\n".join(lines)


@on_button(MoveTime)
async def choose_move_time(update: Update, context: AppContext, data: MoveTime) -> str | None:
    max_moves = context.services.max_reschedules
    try:
        async with context.reader() as uow:
            view = await check_move(uow, context.clock, context.user.id, data.booking_id, data.start, max_moves)
    except SlotTaken:
        return await _taken(update, context, data.booking_id, data.start)
    markup = InlineKeyboardMarkup(
        [
            [button(_("✅ Confirm new time"), ConfirmMove(data.booking_id, data.start))],
            [button(_("◀ Change time"), MoveDate(data.booking_id, _day(data.start, context)))],
            [button(_("◀ Back to booking"), OpenMyBooking(data.booking_id, MyTab.UPCOMING, 0))],
        ]
    )
    await show(update, summary_text(view, data.start, context.zone, max_moves), markup)
    return None


@on_button(ConfirmMove)
async def confirm_move(update: Update, context: AppContext, data: ConfirmMove) -> str | None:
    try:
        async with context.uow() as uow:
            view = await reschedule(
                uow, context.clock, context.user.id, data.booking_id, data.start, context.services.max_reschedules
            )
            await uow.commit()
    except SlotTaken:
        return await _taken(update, context, data.booking_id, data.start)
    booking = view.booking
    card, _join = booking_card_for_mentee(booking, view.offering, view.mentor, context.zone)
    back = InlineKeyboardMarkup(
        [[button(_("◀ Back to booking"), OpenMyBooking(data.booking_id, MyTab.UPCOMING, 0))]]
    )
    if booking.requested_start is None:
        head = _("🔁 Moved! Your session is now at {time}. The mentor has been told.").format(
            time=format_moment(booking.scheduled_at, context.zone)
        )
        toast = _("Moved. The mentor has been told.")
    else:
        head = _(
            "📨 I asked the mentor to move your session to {new}. It stays at {old} until they answer; "
            "I will message you."
        ).format(
            new=format_moment(booking.requested_start, context.zone),
            old=format_moment(booking.scheduled_at, context.zone),
        )
        toast = _("Asked. The mentor will answer.")
    await show(update, f"{head}\n\n{card}", back)
    return toast


def _mentor_card(context: AppContext, view: BookingView) -> tuple[str, InlineKeyboardMarkup | None]:
    now = context.clock.now()
    back = OpenInbox(tab_of(view.booking, now), 0)
    max_moves = context.services.max_reschedules
    return booking_card_for_mentor(
        view.booking, view.offering, view.mentee, context.zone, now, back, max_moves=max_moves
    )


@on_button(AnswerMove)
async def answer_move_request(update: Update, context: AppContext, data: AnswerMove) -> str | None:
    try:
        async with context.uow() as uow:
            view = await answer_move(
                uow, context.clock, context.user.id, data.booking_id, data.start, data.approve
            )
            await uow.commit()
    except NoMoveRequest:  # answered, withdrawn or expired meanwhile: the card as it is now, then the alert
        async with context.reader() as uow:
            current = await mentor_booking(uow, context.user.id, data.booking_id)
        await show(update, *_mentor_card(context, current))
        raise
    await show(update, *_mentor_card(context, view))
    if data.approve:
        return _("Moved to the new time. The mentee has been told.")
    return _("Kept the original time. The mentee has been told.")


# --- the mentor proposes new times -------------------------------------------------------------------------


def _proposal_picker(booking_id: int, ticked: frozenset[datetime] = frozenset()) -> Picker:
    return Picker(
        week=functools.partial(ProposeWeek, booking_id),
        day=functools.partial(ProposeDate, booking_id),
        time=functools.partial(ToggleProposal, booking_id),
        back=lambda: button(_("◀ Back to booking"), ActOnBooking(booking_id, BookingAction.REFRESH)),
        ticked=ticked,
    )


async def _ticked(context: AppContext, booking_id: int) -> list[datetime]:
    """The times ticked so far for this booking (none once the mentor went elsewhere)."""
    found = await dialog.load(context)
    if found is None or found[0] != DialogState.PROPOSE_TIMES or found[1].get("booking_id") != booking_id:
        return []
    return [datetime.fromisoformat(moment) for moment in found[1].get("ticked", [])]


def _proposal_lead(view: BookingView, zone: str, ticked: list[datetime]) -> str:
    lines = [
        _("🔁 <b>Propose new times</b> for booking #{id} ({name}, now {time}).").format(
            id=view.booking.id,
            name=esc(view.mentee.display_name),
            time=session_time(view.booking.scheduled_at, zone, view.booking.timezone, _("mentee")),
        ),
        _("Tick one to {count} free times; the mentee gets them as buttons and picks one.").format(
            count=MAX_PROPOSALS
        ),
    ]
    note = series_move_note(view.booking)
    if note:
        lines.insert(1, note)
    if ticked:
        lines.append(
            _("Ticked: {times}").format(times=", ".join(format_moment(moment, zone) for moment in sorted(ticked)))
        )
    return "\n".join(lines) + "\n\n"


def _send_row(booking_id: int, ticked: list[datetime]) -> list[InlineKeyboardButton]:
    return [
        button(
            ngettext("📨 Send {count} time ▶", "📨 Send {count} times ▶", len(ticked)).format(count=len(ticked)),
            SendProposals(booking_id, True),
        )
    ]


async def _proposal_dates(update: Update, context: AppContext, booking_id: int, monday: date | None) -> None:
    ticked = await _ticked(context, booking_id)
    async with context.reader() as uow:
        view, ctx, days = await proposal_dates(
            uow, context.clock, context.user.id, booking_id, context.zone, context.services.max_reschedules, monday
        )
    text, markup = dates_view(ctx, days, context.zone, context.clock.now(), monday, _proposal_picker(booking_id))
    keyboard = list(markup.inline_keyboard)
    if ticked:
        keyboard.insert(-1, tuple(_send_row(booking_id, ticked)))
    await show(update, _proposal_lead(view, context.zone, ticked) + text, InlineKeyboardMarkup(keyboard))


async def _proposal_times(update: Update, context: AppContext, booking_id: int, day: date) -> None:
    ticked = await _ticked(context, booking_id)
    async with context.reader() as uow:
        view, ctx, times = await proposal_times(
            uow, context.clock, context.user.id, booking_id, day, context.zone, context.services.max_reschedules
        )
    picker = _proposal_picker(booking_id, frozenset(ticked))
    text, markup = times_view(ctx, day, times, context.zone, _proposal_lead(view, context.zone, ticked), picker)
    keyboard = list(markup.inline_keyboard)
    if ticked:
        keyboard.insert(-1, tuple(_send_row(booking_id, ticked)))
    await show(update, text, InlineKeyboardMarkup(keyboard))


@on_button(ProposeTimes)
async def start_proposing(update: Update, context: AppContext, data: ProposeTimes) -> str | None:
    async with context.reader() as uow:  # refused (an alert) before anything is stored when it is not open
        await start_proposal(
            uow, context.clock, context.user.id, data.booking_id, context.services.max_reschedules
        )
    await dialog.save(context, DialogState.PROPOSE_TIMES, {"booking_id": data.booking_id, "ticked": []})
    await _proposal_dates(update, context, data.booking_id, None)
    return None


@on_button(ProposeWeek)
async def choose_proposal_week(update: Update, context: AppContext, data: ProposeWeek) -> str | None:
    await _proposal_dates(update, context, data.booking_id, data.monday)
    return None


@on_button(ProposeDate)
async def choose_proposal_date(update: Update, context: AppContext, data: ProposeDate) -> str | None:
    await _proposal_times(update, context, data.booking_id, data.day)
    return None


@on_button(ToggleProposal)
async def toggle_proposal(update: Update, context: AppContext, data: ToggleProposal) -> str | None:
    ticked = await _ticked(context, data.booking_id)
    toast = None
    if data.start in ticked:
        ticked.remove(data.start)
    elif len(ticked) >= MAX_PROPOSALS:
        toast = _("At most {count} times: untick one first.").format(count=MAX_PROPOSALS)
    else:
        ticked.append(data.start)
    step = {"booking_id": data.booking_id, "ticked": [moment.isoformat() for moment in sorted(ticked)]}
    await dialog.save(context, DialogState.PROPOSE_TIMES, step)
    await _proposal_times(update, context, data.booking_id, _day(data.start, context))
    return toast


@on_button(SendProposals)
async def send_proposals(update: Update, context: AppContext, data: SendProposals) -> str | None:
    """With a message: ask for it (the ticked times kept); without: send the ticked times now."""
    found = await dialog.load(context)
    expected = DialogState.PROPOSE_TIMES if data.with_message else DialogState.PROPOSE_MESSAGE
    if found is None or found[0] != expected or found[1].get("booking_id") != data.booking_id:
        return _("This button is no longer valid.")
    ticked = [datetime.fromisoformat(moment) for moment in found[1].get("ticked", [])]
    if not ticked:
        return _("Tick at least one time first.")
    if data.with_message:
        await dialog.save(context, DialogState.PROPOSE_MESSAGE, found[1])
        text = _(
            "Add a message for the mentee (at most {limit} characters), or tap Send without a message."
        ).format(limit=REASON_MAX)
        markup = InlineKeyboardMarkup(
            [[button(_("📨 Send without a message"), SendProposals(data.booking_id, False))]]
        )
        await show(update, text, markup)
        return None
    view = await _propose(context, data.booking_id, ticked, None)
    await show(update, *_mentor_card(context, view))
    return _("Sent. The mentee will pick one.")


async def _propose(
    context: AppContext, booking_id: int, ticked: list[datetime], message: str | None
) -> BookingView:
    async with context.uow() as uow:
        view = await propose_times(
            uow, context.clock, context.user.id, booking_id, ticked, message, context.services.max_reschedules
        )
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    return view


@text_step(DialogState.PROPOSE_MESSAGE)
async def type_proposal_message(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    booking_id = int(data["booking_id"])
    ticked = [datetime.fromisoformat(moment) for moment in data.get("ticked", [])]
    view = await _propose(context, booking_id, ticked, text)
    card, markup = _mentor_card(context, view)
    await say(update, _("Sent. The mentee will pick one.") + "\n\n" + card, markup)


# --- the mentee answers the proposal --------------------------------------------------------------------------


@on_button(PickProposal)
async def pick_proposed_time(update: Update, context: AppContext, data: PickProposal) -> str | None:
    try:
        async with context.uow() as uow:
            view = await pick_proposal(
                uow, context.clock, context.user.id, data.booking_id, data.start, context.services.max_reschedules
            )
            await uow.commit()
    except SlotTaken:
        return _("This time is no longer free. Tap another one, or tell the mentor none of these work.")
    card, _join = booking_card_for_mentee(view.booking, view.offering, view.mentor, context.zone)
    head = _("🔁 Moved! Your session is now at {time}. The mentor has been told.").format(
        time=format_moment(view.booking.scheduled_at, context.zone)
    )
    back = InlineKeyboardMarkup(
        [[button(_("◀ Back to booking"), OpenMyBooking(data.booking_id, MyTab.UPCOMING, 0))]]
    )
    await show(update, f"{head}\n\n{card}", back)
    return _("Moved. The mentor has been told.")


@on_button(DeclineProposals)
async def decline_proposed_times(update: Update, context: AppContext, data: DeclineProposals) -> str | None:
    async with context.uow() as uow:
        view = await decline_proposals(uow, context.clock, context.user.id, data.booking_id)
        await uow.commit()
    card, _join = booking_card_for_mentee(view.booking, view.offering, view.mentor, context.zone)
    back = InlineKeyboardMarkup(
        [[button(_("◀ Back to booking"), OpenMyBooking(data.booking_id, MyTab.UPCOMING, 0))]]
    )
    await show(update, _("🙅 The mentor has been told none of these work.") + "\n\n" + card, back)
    return _("The mentor has been told.")


def handlers() -> list[BaseHandler]:
    return [
        start_move,
        choose_move_week,
        choose_move_date,
        choose_move_time,
        confirm_move,
        answer_move_request,
        start_proposing,
        choose_proposal_week,
        choose_proposal_date,
        toggle_proposal,
        send_proposals,
        pick_proposed_time,
        decline_proposed_times,
    ]
