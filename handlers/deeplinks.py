"""Shareable links: ``https://t.me/<bot>?start=o<id>`` opens the booking of one offering, ``?start=m<id>``
a mentor's live offerings. ``/start`` (``handlers.onboarding``) hands the parameter here; someone who has not
picked a time zone yet answers that first, and the link waits in their dialog data (``PENDING``) until then.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from chat.i18n import _
from domain.errors import NotFound, OfferingUnavailable, SelfBooking
from domain.offerings import read_payload, start_payload
from domain.usecases.booking import date_page
from domain.usecases.profiles import mentor_card
from handlers.booking import dates_view
from handlers.common import AppContext, say
from handlers.dialog import DialogState
from handlers.errors import explain
from handlers.profile import public_card

PENDING = "start"  # the key of a deep link waiting in the zone question's dialog data
OFFERING = "o"
MENTOR = "m"


def start_link(bot_username: str, kind: str, number: int) -> str:
    return f"https://t.me/{bot_username}?start={start_payload(kind, number)}"


def offering_link(context: AppContext, offering_id: int) -> str:
    return start_link(context.bot.username, OFFERING, offering_id)


def mentor_link(context: AppContext, mentor_id: int) -> str:
    return start_link(context.bot.username, MENTOR, mentor_id)


def pending_link(found: tuple[str, dict[str, Any]] | None) -> str | None:
    """The deep link a newcomer opened before answering the zone question, from their dialog (or None)."""
    if found is None or found[0] != DialogState.ZONE_SEARCH:
        return None
    payload = found[1].get(PENDING)
    return payload if isinstance(payload, str) and payload else None


async def open_link(update: Update, context: AppContext, payload: str) -> bool:
    """Show what the link points to. False (after saying why) when it points nowhere: the caller goes on with the
    normal start."""
    parsed = read_payload(payload)
    if parsed is None:
        await say(update, _("This link is not valid. Here is the start menu instead."))
        return False
    kind, number = parsed
    if kind == OFFERING:
        return await _open_offering(update, context, number)
    return await _open_mentor(update, context, number)


async def _open_offering(update: Update, context: AppContext, offering_id: int) -> bool:
    try:
        async with context.reader() as uow:
            ctx, days = await date_page(uow, context.clock, offering_id, context.user.id, context.zone)
    except SelfBooking:
        await say(
            update,
            _(
                "This is the link to your own offering, so you cannot book it. Share it with mentees: "
                "it opens the booking for them."
            ),
        )
        return False
    except NotFound:
        await say(update, _("This link points to an offering that no longer exists."))
        return False
    except OfferingUnavailable as error:
        await say(update, explain(error))
        return False
    await say(update, *dates_view(ctx, days, context.zone, context.clock.now()))
    return True


async def _open_mentor(update: Update, context: AppContext, mentor_id: int) -> bool:
    try:
        async with context.reader() as uow:
            card = await mentor_card(uow, mentor_id)
    except NotFound:
        await say(update, _("This link points to a mentor who is not on Mentor Desk."))
        return False
    text, markup = public_card(card)
    if card.mentor.id == context.user.id:
        text = _("<b>This is what mentees see when they open your link:</b>") + "\n\n" + text
    await say(update, text, markup)
    return bool(card.offerings)
