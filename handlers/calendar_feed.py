"""The personal calendar feed: ``/settings`` → 📆 Calendar feed shows the private address (and its ``webcal://``
form) with how to subscribe in Google, Apple and Outlook calendars, and makes a new address on request (the old
one stops working). Also the texts of the feed's and the ``.ics`` download's events, in the reader's language.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, use_locale
from domain.calendar import FeedEvent, FeedLink, feed_ics
from domain.model import BookingView
from domain.usecases.calendars import Feed, feed_link, reset_feed
from handlers.callbacks import CalendarFeed, FeedAction, Menu, MenuItem
from handlers.common import AppContext, on_button, show
from handlers.keyboards import stack
from handlers.labels import booking_status_label
from handlers.render import esc

# --- the events' texts -------------------------------------------------------------------------------------------


def event_texts(view: BookingView, as_mentor: bool) -> tuple[str, str]:
    """The summary (who and what) and the description of a booking's event, in the current language. Never the
    mentor's private note."""
    booking, offering = view.booking, view.offering
    other = view.mentee if as_mentor else view.mentor
    summary = _("{title} with {person}").format(title=offering.title, person=other.display_name)
    lines = [_("Mentor Desk booking #{id}").format(id=booking.id)]
    lines.append(_("You are the mentor.") if as_mentor else _("You are the mentee."))
    lines.append(_("Status: {status}").format(status=booking_status_label(booking.status)))
    if booking.meeting_link:
        lines.append(_("Meeting link: {link}").format(link=booking.meeting_link))
    if as_mentor and booking.meeting_notes:
        lines.append(_("The mentee's notes: {notes}").format(notes=booking.meeting_notes))
    if not as_mentor and offering.preparation_notes:
        lines.append(_("How to prepare: {notes}").format(notes=offering.preparation_notes))
    return summary, "\n".join(lines)


def feed_file(feed: Feed) -> bytes:
    """The feed as its owner reads it: their language, each session as the mentor or the mentee sees it."""
    with use_locale(feed.owner.locale):
        events = []
        for view in feed.sessions:
            summary, description = event_texts(view, as_mentor=view.mentor.id == feed.owner.id)
            events.append(FeedEvent(view.booking, summary, description))
        name = _("Mentor Desk: {name}").format(name=feed.owner.display_name)
        return feed_ics(name, events)


# --- the screen in /settings ------------------------------------------------------------------------------------


def feed_url(public_url: str, link: FeedLink) -> str:
    return f"{public_url}/calendar/{link.token}.ics"


def webcal_url(url: str) -> str:
    """The same address for calendar apps that subscribe when it is opened (``webcal://``)."""
    return "webcal://" + url.split("://", 1)[1]


def feed_view(public_url: str, link: FeedLink, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    url = feed_url(public_url, link)
    lines = [
        _("<b>📆 Calendar feed</b>"),
        _(
            "Your sessions, as a mentor and as a mentee, in your calendar app. It updates itself: new bookings, "
            "changes and cancellations appear after the app's next refresh (Google checks every few hours)."
        ),
        "",
        f"<code>{esc(url)}</code>",
        "",
        _("<b>Google Calendar</b> (on a computer): Other calendars ＋ → From URL → paste the address."),
        _(
            "<b>Apple Calendar</b>: File → New Calendar Subscription (iPhone: Settings → Calendar → Accounts → "
            "Add Account → Other → Add Subscribed Calendar) → paste the address, or open {webcal}"
        ).format(webcal=f"<code>{esc(webcal_url(url))}</code>"),
        _("<b>Outlook</b>: Add calendar → Subscribe from web → paste the address."),
        "",
        _(
            "Keep the address to yourself: anyone who has it can see your sessions. 🔄 New address stops the old "
            "one."
        ),
    ]
    if note:
        lines += ["", note]
    return "\n".join(lines), stack(
        [(_("🔄 New address"), CalendarFeed(FeedAction.ASK_RESET))],
        [(_("◀ Settings"), Menu(MenuItem.SETTINGS))],
    )


def ask_reset_view() -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Make a new address for your calendar feed? The old one stops working at once: calendars subscribed to it "
        "stop updating, and you subscribe again with the new one."
    )
    return text, stack(
        [(_("🔄 Yes, make a new address"), CalendarFeed(FeedAction.RESET))],
        [(_("◀ Back"), CalendarFeed(FeedAction.SHOW))],
    )


@on_button(CalendarFeed)
async def calendar_feed(update: Update, context: AppContext, data: CalendarFeed) -> str | None:
    public_url = context.services.public_url
    if public_url is None:
        return _("The calendar feed is not available on this bot.")
    if data.action == FeedAction.ASK_RESET:
        await show(update, *ask_reset_view())
        return None
    async with context.uow() as uow:
        if data.action == FeedAction.RESET:
            link = await reset_feed(uow, context.user.id)
        else:
            link = await feed_link(uow, context.user.id)
        await uow.commit()
    if data.action == FeedAction.RESET:
        note = _("✅ New address made. The old one no longer works: subscribe again with this one.")
        await show(update, *feed_view(public_url, link, note))
        return _("New address made.")
    await show(update, *feed_view(public_url, link))
    return None


def handlers() -> list[BaseHandler]:
    return [calendar_feed]
