"""Pure rendering of the mentor's bookings inbox: quick stats, tabs, one page of bookings, paging buttons."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.i18n import N_, _, format_moment, format_rating, ngettext
from domain.inbox import PAGE_SIZE, Inbox, InboxTab, MentorStats
from domain.model import BookingStatus, BookingView
from handlers.callbacks import OpenBookingCard, OpenInbox
from handlers.keyboards import button
from handlers.labels import booking_status_label
from handlers.render import esc

_TAB_NAMES = {
    InboxTab.PENDING: N_("Pending"),
    InboxTab.UPCOMING: N_("Upcoming"),
    InboxTab.PAST: N_("Past"),
    InboxTab.CANCELLED: N_("Cancelled"),
}
_NAME_IN_BUTTON = 24  # characters of the mentee's name on an entry's button


def tab_name(tab: InboxTab) -> str:
    return _(_TAB_NAMES[tab])


def stats_lines(stats: MentorStats) -> list[str]:
    if stats.average_rating is None:
        rating = _("no ratings yet")
    else:
        rating = ngettext(
            "★ {rating} ({count} rating)", "★ {rating} ({count} ratings)", stats.rating_count
        ).format(rating=format_rating(stats.average_rating), count=stats.rating_count)
    return [
        _("⏳ Pending requests: {count}").format(count=stats.pending),
        _("📅 Sessions this week: {count}").format(count=stats.this_week),
        _("✅ Completed: {count}").format(count=stats.completed),
        _("Average rating: {rating}").format(rating=rating),
    ]


def needs_marking(view: BookingView, now: datetime) -> bool:
    return view.booking.status == BookingStatus.CONFIRMED and view.booking.ends_at <= now


def entry_line(number: int, view: BookingView, zone: str, now: datetime) -> str:
    booking = view.booking
    line = _("{number}. {time} · {title} · {mentee}").format(
        number=number,
        time=format_moment(booking.scheduled_at, zone),
        title=esc(view.offering.title),
        mentee=esc(view.mentee.display_name),
    )
    if needs_marking(view, now):
        return line + " · " + _("⚠️ to mark")
    if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
        return line + " · " + booking_status_label(booking.status)
    return line


def _empty_text(tab: InboxTab) -> str:
    match tab:
        case InboxTab.PENDING:
            return _("No requests are waiting for you.")
        case InboxTab.UPCOMING:
            return _("No upcoming sessions.")
        case InboxTab.PAST:
            return _("No past sessions yet.")
        case InboxTab.CANCELLED:
            return _("Nothing was cancelled or declined.")


def inbox_screen(inbox: Inbox, zone: str, now: datetime) -> tuple[str, InlineKeyboardMarkup]:
    """The inbox page: stats, the tab's bookings (one button each, opening its card), tabs and paging."""
    lines = [_("📥 <b>Your bookings</b>"), *stats_lines(inbox.stats), ""]
    heading = _("<b>{tab}</b> · page {page} of {pages}").format(
        tab=tab_name(inbox.tab), page=inbox.page + 1, pages=inbox.pages
    )
    lines.append(heading)
    first = inbox.page * PAGE_SIZE + 1  # numbering runs on across pages
    if not inbox.entries:
        lines.append(_empty_text(inbox.tab))
    for index, view in enumerate(inbox.entries, start=first):
        lines.append(entry_line(index, view, zone, now))

    rows: list[list[InlineKeyboardButton]] = []
    for index, view in enumerate(inbox.entries, start=first):
        assert view.booking.id is not None
        name = view.mentee.display_name
        if len(name) > _NAME_IN_BUTTON:
            name = name[: _NAME_IN_BUTTON - 1] + "…"
        label = _("{number}. {time} · {mentee}").format(
            number=index, time=format_moment(view.booking.scheduled_at, zone), mentee=name
        )
        rows.append([button(label, OpenBookingCard(view.booking.id, inbox.tab, inbox.page))])
    paging: list[InlineKeyboardButton] = []
    if inbox.has_previous:
        paging.append(button(_("◀ Previous"), OpenInbox(inbox.tab, inbox.page - 1)))
    if inbox.has_next:
        paging.append(button(_("Next ▶"), OpenInbox(inbox.tab, inbox.page + 1)))
    if paging:
        rows.append(paging)
    tabs = [
        button(
            ("• " if tab == inbox.tab else "")
            + _("{tab} ({count})").format(tab=tab_name(tab), count=inbox.counts[tab]),
            OpenInbox(tab, 0),
        )
        for tab in InboxTab
    ]
    rows += [tabs[:2], tabs[2:]]
    return "\n".join(lines), InlineKeyboardMarkup(rows)
