"""Discover: ``/book`` lists the open offerings with the categories (and their counts) above them; filters,
sort and a text search narrow the list, ◀ ▶ page it. ``ℹ️ Details`` opens an offering's card, ``👤 Mentor`` the
mentor's page (``handlers.profile.public_card``). ``📅 Book`` enters the date picker (``handlers.booking``).

The list's state (category, filters, sort, page, search words) travels in every button's data, so old lists keep
working after a restart; only the typed search step is stored in the dialog.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_moment, format_money, ngettext
from domain import discovery
from domain.discovery import (
    CATEGORIES,
    NEXT_SLOT_HORIZON_DAYS,
    SOON_DAYS,
    Filters,
    Listed,
    Listing,
    OfferingCard,
    PriceBand,
    SortOrder,
    category_code,
    category_from_code,
    normalize_search,
    stars,
)
from domain.errors import InvalidInput, NotFound, OfferingUnavailable
from domain.model import ALLOWED_DURATIONS
from domain.usecases.discovery import discover, offering_card
from domain.usecases.profiles import mentor_card
from handlers.callbacks import (
    BookOffering,
    Browse,
    DiscoverList,
    DiscoverOptions,
    DiscoverPanel,
    DiscoverSearch,
    ShowMentor,
    ShowOffering,
)
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.errors import explain
from handlers.keyboards import button
from handlers.labels import category_label
from handlers.profile import public_card
from handlers.render import booking_counts, cancellation_terms, esc, group_size, package_line, rating_line

# --- state ⇄ buttons ----------------------------------------------------------------------------------------


def list_button(filters: Filters, page: int = 0) -> DiscoverList:
    code = category_code(filters.category)
    return DiscoverList(code, filters.price, filters.minutes, filters.soon, filters.sort, page, filters.text)


def options_button(panel: DiscoverPanel, filters: Filters) -> DiscoverOptions:
    code = category_code(filters.category)
    return DiscoverOptions(panel, code, filters.price, filters.minutes, filters.soon, filters.sort, filters.text)


def search_button(filters: Filters) -> DiscoverSearch:
    code = category_code(filters.category)
    return DiscoverSearch(code, filters.price, filters.minutes, filters.soon, filters.sort)


def filters_of(data: DiscoverList | DiscoverOptions | DiscoverSearch, text: str | None = None) -> Filters:
    """The filters a button carries; ``InvalidInput("discover_filter")`` for values no button offers."""
    words = text if text is not None else getattr(data, "text", "")
    if words:
        words = normalize_search(words)
    return Filters(category_from_code(data.category), data.price, data.minutes, data.soon, data.sort, words)


def _filters_to_dialog(filters: Filters) -> dict[str, Any]:
    return {
        "category": category_code(filters.category),
        "price": filters.price.value,
        "minutes": filters.minutes,
        "soon": filters.soon,
        "sort": filters.sort.value,
    }


def _filters_from_dialog(data: dict[str, Any]) -> Filters:
    try:
        return Filters(
            category_from_code(int(data.get("category", 0))),
            PriceBand(data.get("price", PriceBand.ANY.value)),
            int(data.get("minutes", 0)),
            bool(data.get("soon", False)),
            SortOrder(data.get("sort", SortOrder.RATING.value)),
        )
    except (ValueError, TypeError, InvalidInput):
        return Filters()


# --- labels -------------------------------------------------------------------------------------------------


def price_label(band: PriceBand) -> str:
    match band:
        case PriceBand.ANY:
            return _("Any price")
        case PriceBand.FREE:
            return _("Free only")
        case PriceBand.PAID:
            return _("Paid only")
        case PriceBand.UP_TO_500:
            return _("Up to {amount}").format(amount=format_money(Decimal(500)))
        case PriceBand.UP_TO_1500:
            return _("{low} – {high}").format(low=format_money(Decimal(500)), high=format_money(Decimal(1500)))
        case PriceBand.OVER_1500:
            return _("Over {amount}").format(amount=format_money(Decimal(1500)))


def sort_label(sort: SortOrder) -> str:
    match sort:
        case SortOrder.RATING:
            return _("⭐ Best rated")
        case SortOrder.BOOKINGS:
            return _("🔥 Most booked")
        case SortOrder.PRICE:
            return _("💰 Lowest price")
        case SortOrder.SOONEST:
            return _("⏱ Soonest free time")


def _duration_label(minutes: int) -> str:
    return _("{minutes} min").format(minutes=minutes) if minutes else _("Any length")


def _soon_label() -> str:
    return ngettext("Free time in the next {days} day", "Free time in the next {days} days", SOON_DAYS).format(
        days=SOON_DAYS
    )


def _ticked(label: str, on: bool) -> str:
    return f"✅ {label}" if on else label


# --- rendering ----------------------------------------------------------------------------------------------


def next_slot_line(next_slot: Any, zone: str) -> str:
    if next_slot is None:
        return ngettext(
            "🗓 No free time in the next {days} day",
            "🗓 No free time in the next {days} days",
            NEXT_SLOT_HORIZON_DAYS,
        ).format(days=NEXT_SLOT_HORIZON_DAYS)
    return _("🗓 Next free time: {time}").format(time=format_moment(next_slot, zone))


def _listed_block(number: int, item: Listed, zone: str) -> str:
    offering, match = item.match.offering, item.match
    return "\n".join(
        [
            f"{number}. <b>{esc(offering.title)}</b>",
            _("with {mentor}").format(mentor=esc(match.mentor_name)),
            _("{price} · {minutes} min · {category}").format(
                price=format_money(offering.price),
                minutes=offering.duration_minutes,
                category=category_label(offering.category),
            ),
            *([group_size(offering.capacity)] if offering.is_group else []),
            *([package_line(offering.package_weeks)] if offering.package_weeks is not None else []),
            f"{rating_line(offering)} · {booking_counts(offering.total_bookings, offering.total_completed)}",
            next_slot_line(item.next_slot, zone),
        ]
    )


def _filters_line(filters: Filters) -> str | None:
    parts = []
    if filters.price != PriceBand.ANY:
        parts.append(price_label(filters.price))
    if filters.minutes:
        parts.append(_duration_label(filters.minutes))
    if filters.soon:
        parts.append(_soon_label())
    return _("Filters: {filters}").format(filters=", ".join(parts)) if parts else None


def _category_buttons(listing: Listing) -> list[list[InlineKeyboardButton]]:
    """ "All" and every category that has offerings under the other filters, each with its count."""
    filters = listing.filters
    everything = sum(listing.counts.values())
    buttons = [
        button(
            _ticked(_("All ({count})").format(count=everything), filters.category is None),
            list_button(filters.with_changes(category=None)),
        )
    ]
    for category in CATEGORIES:
        count = listing.counts.get(category, 0)
        if count or category == filters.category:
            label = _("{category} ({count})").format(category=category_label(category), count=count)
            chosen = list_button(filters.with_changes(category=category))
            buttons.append(button(_ticked(label, category == filters.category), chosen))
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def listing_view(
    listing: Listing, viewer_id: int, zone: str, lead: str = ""
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The page of offerings with the category choice above it and the filter, sort and search tools below."""
    filters = listing.filters
    if listing.total == 0 and not filters.is_narrowed:
        return lead + _("No offerings are open for booking yet. Please check back soon."), None
    scope = category_label(filters.category) if filters.category else _("All categories")
    found = ngettext("{count} found", "{count} found", listing.total).format(count=listing.total)
    head = [lead + _("<b>Open offerings</b>") + f" · {scope} · {found}"]
    if filters.text:
        head.append(_("🔎 Search: “{words}”").format(words=esc(filters.text)))
    if (line := _filters_line(filters)) is not None:
        head.append(line)
    head.append(_("Sorted by: {order}").format(order=sort_label(filters.sort)))
    if listing.pages > 1:
        head.append(_("Page {page} of {pages}").format(page=listing.page + 1, pages=listing.pages))
    if listing.truncated:
        head.append(_("Only the best rated offerings were checked for free times; narrow the list to see more."))
    blocks = ["\n".join(head)]
    keyboard = _category_buttons(listing)
    first = listing.page * discovery.PAGE_SIZE + 1
    for number, item in enumerate(listing.items, start=first):
        offering = item.match.offering
        assert offering.id is not None
        blocks.append(_listed_block(number, item, zone))
        book = button(_("📅 Book {number}").format(number=number), BookOffering(offering.id))
        details = button(_("ℹ️ Details {number}").format(number=number), ShowOffering(offering.id))
        keyboard.append([book, details] if offering.mentor_id != viewer_id else [details])
    if not listing.items:
        blocks.append(_("Nothing matches. Try fewer filters or other words."))
    nav = []
    if listing.page > 0:
        nav.append(button(_("◀ Back"), list_button(filters, listing.page - 1)))
    if listing.page + 1 < listing.pages:
        nav.append(button(_("More ▶"), list_button(filters, listing.page + 1)))
    if nav:
        keyboard.append(nav)
    keyboard.append(
        [
            button(_("⚙️ Filters"), options_button(DiscoverPanel.FILTERS, filters)),
            button(_("↕️ Sort"), options_button(DiscoverPanel.SORT, filters)),
            button(_("🔎 Search"), search_button(filters)),
        ]
    )
    clear = []
    if filters.price != PriceBand.ANY or filters.minutes or filters.soon:
        clear.append(button(_("🧹 Clear filters"), list_button(filters.cleared())))
    if filters.text:
        clear.append(button(_("✖️ Clear search"), list_button(filters.with_changes(text=""))))
    if clear:
        keyboard.append(clear)
    return "\n\n".join(blocks), InlineKeyboardMarkup(keyboard)


def filters_view(filters: Filters) -> tuple[str, InlineKeyboardMarkup]:
    """Price bands, durations and the 7-day toggle; a press applies it and goes back to the list's first page."""
    text = "\n".join(
        [
            _("<b>Filters</b>"),
            _("Price: {value}").format(value=price_label(filters.price)),
            _("Duration: {value}").format(value=_duration_label(filters.minutes)),
            _("{soon}: {value}").format(soon=_soon_label(), value=_("yes") if filters.soon else _("any")),
            _("Tap a choice to apply it."),
        ]
    )
    prices = [
        button(_ticked(price_label(band), band == filters.price), list_button(filters.with_changes(price=band)))
        for band in PriceBand
    ]
    lengths = [
        button(_ticked(_duration_label(m), m == filters.minutes), list_button(filters.with_changes(minutes=m)))
        for m in (0, *ALLOWED_DURATIONS)
    ]
    soon = list_button(filters.with_changes(soon=not filters.soon))
    keyboard = [
        prices[0:3],
        prices[3:6],
        lengths[0:3],
        lengths[3:6],
        [button(_ticked("🗓 " + _soon_label(), filters.soon), soon)],
        [button(_("◀ Back to the list"), list_button(filters))],
    ]
    return text, InlineKeyboardMarkup(keyboard)


def sort_view(filters: Filters) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = [
        [button(_ticked(sort_label(order), order == filters.sort), list_button(filters.with_changes(sort=order)))]
        for order in SortOrder
    ]
    keyboard.append([button(_("◀ Back to the list"), list_button(filters))])
    return _("<b>Sort the offerings by</b>"), InlineKeyboardMarkup(keyboard)


def offering_card_view(card: OfferingCard, zone: str) -> tuple[str, InlineKeyboardMarkup]:
    """Title, mentor, headline, price, duration, rating, bookings, next free time (the viewer's zone), the
    description, how to prepare and the cancellation terms; 📅 Book (not on one's own offering) and 👤 Mentor."""
    match = card.match
    offering = match.offering
    assert offering.id is not None
    lines = [f"<b>{esc(offering.title)}</b>", _("with {mentor}").format(mentor=esc(match.mentor_name))]
    if match.headline:
        lines.append(f"<i>{esc(match.headline)}</i>")
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
    rating = rating_line(offering)
    if offering.average_rating is not None:
        rating = f"{stars(offering.average_rating)} {rating}"
    lines.append(f"{rating} · {booking_counts(offering.total_bookings, offering.total_completed)}")
    lines.append(next_slot_line(card.next_slot, zone) + " " + _("(your time, {zone})").format(zone=esc(zone)))
    if offering.description:
        lines += ["", esc(offering.description)]
    lines.append("")
    if offering.preparation_notes:
        lines.append(_("📝 How to prepare: {notes}").format(notes=esc(offering.preparation_notes)))
    lines.append(cancellation_terms(offering))
    if card.own:
        lines += ["", _("This is your own offering, so it has no Book button.")]
    mentor = button(_("👤 Mentor"), ShowMentor(offering.mentor_id))
    row = [mentor] if card.own else [button(_("📅 Book"), BookOffering(offering.id)), mentor]
    keyboard = [row, [button(_("◀ All offerings"), Browse(0))]]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


# --- handlers -----------------------------------------------------------------------------------------------


async def show_listing(
    update: Update, context: AppContext, filters: Filters, page: int = 0, lead: str = "", *, new: bool = False
) -> Listing:
    async with context.reader() as uow:
        listing = await discover(uow, context.clock, filters, page)
    text, markup = listing_view(listing, context.user.id, context.zone, lead)
    await (say if new else show)(update, text, markup)
    return listing


async def open_discover(update: Update, context: AppContext, page: int = 0, lead: str = "") -> None:
    """``/book`` and the "Book a session" menu item: every open offering, categories above them."""
    await show_listing(update, context, Filters(), page, lead)


async def book_command(update: Update, context: AppContext) -> None:
    """``/book`` lists everything; ``/book <words>`` searches titles, descriptions and mentor names."""
    words = " ".join(context.args or ())
    if not words.strip():
        await open_discover(update, context)
        return
    try:
        filters = Filters(text=normalize_search(words))
    except InvalidInput:
        await open_discover(update, context)
        return
    await show_listing(update, context, filters)


def _page_moved(listing: Listing) -> str | None:
    if not listing.moved:
        return None
    return _("That page does not exist any more; here is page {page}.").format(page=listing.page + 1)


@on_button(DiscoverList)
async def list_offerings(update: Update, context: AppContext, data: DiscoverList) -> str | None:
    try:
        filters = filters_of(data)
    except InvalidInput as error:
        await show_listing(update, context, Filters(), lead="⚠️ " + explain(error) + "\n\n")
        return explain(error)
    return _page_moved(await show_listing(update, context, filters, data.page))


@on_button(Browse)
async def browse_page(update: Update, context: AppContext, data: Browse) -> str | None:
    """The unfiltered list (the booking flow's "◀ All offerings" and lists sent before filters existed)."""
    return _page_moved(await show_listing(update, context, Filters(), data.page))


@on_button(DiscoverOptions)
async def choose_options(update: Update, context: AppContext, data: DiscoverOptions) -> str | None:
    try:
        filters = filters_of(data)
    except InvalidInput as error:
        await show_listing(update, context, Filters(), lead="⚠️ " + explain(error) + "\n\n")
        return explain(error)
    view = filters_view(filters) if data.panel == DiscoverPanel.FILTERS else sort_view(filters)
    await show(update, *view)
    return None


@on_button(DiscoverSearch)
async def ask_search(update: Update, context: AppContext, data: DiscoverSearch) -> str | None:
    try:
        filters = filters_of(data, text="")
    except InvalidInput:
        filters = Filters()
    async with context.uow() as uow:
        await uow.dialogs.set(context.user.id, DialogState.DISCOVER_SEARCH, _filters_to_dialog(filters))
        await uow.commit()
    await say(update, _("🔎 Type a word or two to search titles, descriptions and mentor names."))
    return None


@text_step(DialogState.DISCOVER_SEARCH)
async def type_search(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    filters = _filters_from_dialog(data).with_changes(text=normalize_search(text))  # empty: explained, stays
    async with context.uow() as uow:
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    await show_listing(update, context, filters, new=True)


@on_button(ShowOffering)
async def open_offering(update: Update, context: AppContext, data: ShowOffering) -> str | None:
    try:
        async with context.reader() as uow:
            card = await offering_card(uow, context.clock, data.offering_id, context.user.id)
    except (OfferingUnavailable, NotFound) as error:
        await show_listing(update, context, Filters(), lead="⚠️ " + explain(error) + "\n\n")
        return explain(error)
    await say(update, *offering_card_view(card, context.zone))
    return None


@on_button(ShowMentor)
async def open_mentor(update: Update, context: AppContext, data: ShowMentor) -> str | None:
    async with context.reader() as uow:
        card = await mentor_card(uow, data.mentor_id)
    text, markup = public_card(card)
    keyboard = [*(markup.inline_keyboard if markup else ()), [button(_("◀ All offerings"), Browse(0))]]
    await show(update, text, InlineKeyboardMarkup(keyboard))
    return None


def handlers() -> list[BaseHandler]:
    """``/book`` and ``Browse`` are registered by ``handlers.booking`` (its entry points delegate here)."""
    return [list_offerings, choose_options, ask_search, open_offering, open_mentor]
