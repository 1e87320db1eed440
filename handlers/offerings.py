"""Mentors: become a mentor, create an offering in three answers, and the offerings workspace: the list with stats,
one offering's manage screen (publish, pause, resume, archive, delete, duplicate, share link, hours).

Editing one field at a time lives in ``handlers.offering_edit``; it returns here, to the manage screen.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby
from typing import Any
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import N_, _, format_money, format_price, ngettext
from domain import offerings as rules
from domain.model import ALLOWED_DURATIONS, Offering, OfferingStatus, PaymentMode, WeeklyRule
from domain.offerings import STARS_PRICE, HasBookings, OfferingField, OfferingScreen, parse_whole
from domain.payments import PaymentSettings, stars_price, suggested_stars
from domain.ports import UnitOfWork
from domain.reschedule import reschedule_cutoff_hours
from domain.usecases import offerings as workspace
from domain.usecases import people
from domain.usecases.availability import get_availability
from domain.usecases.waitlist import waiting_for
from domain.validation import parse_price, validate_duration, validate_title
from handlers import dialog
from handlers.callbacks import (
    ActOnOffering,
    EditHours,
    EditOfferingField,
    ManageOffering,
    Menu,
    MenuItem,
    NewDuration,
    NewFree,
    NewStarsPrice,
    OfferingAction,
    SetOfferingField,
    SetOfferingStatus,
)
from handlers.common import AppContext, on_button, say, show
from handlers.deeplinks import mentor_link, offering_link
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button, rows, stack
from handlers.labels import offering_status_label, weekday_name
from handlers.render import (
    booking_counts,
    describe_ranges,
    esc,
    offering_details,
    offering_status_buttons,
    package_line,
    rating_line,
)


async def become_mentor(update: Update, context: AppContext) -> None:
    async with context.uow() as uow:
        context.me = await people.become_mentor(uow, context.user.id)
        availability = await get_availability(uow, context.user.id)
        await uow.commit()
    text = _("You are a mentor now. Two quick steps: set your weekly hours, then create an offering.")
    first = (_("🗓 Set weekly hours"), Menu(MenuItem.AVAILABILITY))
    second = (_("➕ New offering"), Menu(MenuItem.NEW_OFFERING))
    await show(update, text, stack([first] if availability is None or not availability.weekly else [], [second]))


# --- create: the under-a-minute path ------------------------------------------------------------------------


async def new_offering(update: Update, context: AppContext) -> None:
    async with context.uow() as uow:
        context.me = await people.become_mentor(uow, context.user.id)
        await uow.dialogs.set(context.user.id, DialogState.OFFER_TITLE, {})
        await uow.commit()
    await show(
        update,
        _("<b>New offering, step 1 of 3.</b> What is it called? For example: <i>Resume Review 1:1</i>."),
    )


@text_step(DialogState.OFFER_TITLE)
async def type_title(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    title = validate_title(text)
    await dialog.save(context, DialogState.OFFER_PRICE, {"title": title})
    await say(
        update,
        _("<b>Step 2 of 3.</b> The price in rupees? Type a number such as <code>500</code>, or tap Free."),
        rows([(_("Free"), NewFree())], width=1),
    )


async def _ask_duration(
    update: Update, context: AppContext, title: str, price: str, stars: str | None = None
) -> None:
    draft = {"title": title, "price": price} | ({"stars": stars} if stars is not None else {})
    await dialog.save(context, DialogState.OFFER_DURATION, draft)
    text = _("<b>Step 3 of 3.</b> How long is one session?")
    markup = rows([(_("{minutes} min").format(minutes=m), NewDuration(m)) for m in ALLOWED_DURATIONS], width=5)
    await show(update, text, markup)


@text_step(DialogState.OFFER_PRICE)
async def type_price(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    price = parse_price(text)
    settings = context.services.payments
    if price > 0 and PaymentMode.STARS in settings.online:  # a price in Stars too, suggested from the rupees
        suggested = suggested_stars(price, settings.stars_per_rupee)
        await dialog.save(context, DialogState.OFFER_STARS, {"title": data["title"], "price": str(price)})
        text = _(
            "<b>Step 2 of 3, in Stars.</b> Mentees paying with Telegram Stars pay a whole number of Stars. "
            "Tap the suggestion ({price} at the configured rate) or type your own."
        ).format(price=format_money(price))
        label = _("{stars} (suggested)").format(stars=format_price(Decimal(suggested), "XTR"))
        await say(update, text, rows([(label, NewStarsPrice(suggested))], width=1))
        return
    await _ask_duration(update, context, data["title"], str(price))


@text_step(DialogState.OFFER_STARS)
async def type_stars_price(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    stars = parse_whole(text, STARS_PRICE)
    await _ask_duration(update, context, data["title"], data["price"], str(stars))


@on_button(NewStarsPrice)
async def choose_stars_price(update: Update, context: AppContext, data: NewStarsPrice) -> str | None:
    found = await dialog.load(context)
    if found is None or found[0] != DialogState.OFFER_STARS:
        return _("Start a new offering with /newoffering.")
    stars = parse_whole(str(data.stars), STARS_PRICE)
    await _ask_duration(update, context, found[1]["title"], found[1]["price"], str(stars))
    return None


@on_button(NewFree)
async def choose_free(update: Update, context: AppContext, data: NewFree) -> str | None:
    found = await dialog.load(context)
    if found is None or found[0] != DialogState.OFFER_PRICE:
        return _("Start a new offering with /newoffering.")
    await _ask_duration(update, context, found[1]["title"], "0")
    return None


@text_step(DialogState.OFFER_DURATION)
async def duration_expected(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    await say(update, _("Choose one of the durations on the buttons: 15, 30, 45, 60 or 90 minutes."))


@on_button(NewDuration)
async def choose_duration(update: Update, context: AppContext, data: NewDuration) -> str | None:
    validate_duration(data.minutes)
    found = await dialog.load(context)
    if found is None or found[0] != DialogState.OFFER_DURATION:
        return _("Start a new offering with /newoffering.")
    draft = found[1]
    async with context.uow() as uow:
        offering = await workspace.create_offering(
            uow, context.user.id, draft["title"], draft["price"], data.minutes, draft.get("stars")
        )
        availability = await get_availability(uow, context.user.id)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    assert offering.id is not None
    text = _(
        "Created as a draft:\n\n{details}\n\nEverything else has sensible defaults you can change later."
    ).format(details=offering_details(offering))
    advanced = button(_("⚙️ Advanced"), ActOnOffering(offering.id, OfferingAction.EDIT))
    keyboard = [offering_status_buttons(offering), [advanced]]
    if availability is None or not availability.weekly:
        text += "\n\n" + _("Set your weekly hours before going live.")
        keyboard = [[button(_("🗓 Set weekly hours"), Menu(MenuItem.AVAILABILITY))], *keyboard]
    await show(update, text, InlineKeyboardMarkup(keyboard))
    return None


# --- the list -----------------------------------------------------------------------------------------------


def stats_line(offering: Offering) -> str:
    """Requests made, sessions held and the average rating of one offering."""
    return f"{booking_counts(offering.total_bookings, offering.total_completed)} · {rating_line(offering)}"


def list_view(offerings: list[Offering], mentor_url: str, lead: str = "") -> tuple[str, InlineKeyboardMarkup]:
    new = [button(_("➕ New offering"), Menu(MenuItem.NEW_OFFERING))]
    if not offerings:
        return lead + _("You have no offerings yet."), InlineKeyboardMarkup([new])
    lines = [lead + _("<b>Your offerings</b>")]
    keyboard: list[list[InlineKeyboardButton]] = []
    for number, offering in enumerate(offerings, start=1):
        assert offering.id is not None
        lines.append(
            _("{number}. {title} — {price}, {minutes} min — {status}").format(
                number=number,
                title=esc(offering.title),
                price=format_money(offering.price),
                minutes=offering.duration_minutes,
                status=offering_status_label(offering.status),
            )
        )
        lines.append("    " + stats_line(offering))
        manage = button(_("{number}. ⚙️ Manage").format(number=number), ManageOffering(offering.id))
        keyboard.append([manage, *offering_status_buttons(offering, prefix=f"{number}. ")])
    lines += ["", _("Your mentor link (all your live offerings): {link}").format(link=esc(mentor_url))]
    return "\n".join(lines), InlineKeyboardMarkup([*keyboard, new])


async def my_offerings(update: Update, context: AppContext, lead: str = "") -> None:
    async with context.uow() as uow:
        context.me = await people.become_mentor(uow, context.user.id)
        offerings = await workspace.list_my_offerings(uow, context.user.id)
        await uow.commit()
    await show(update, *list_view(offerings, mentor_link(context, context.user.id), lead))


async def offerings_command(update: Update, context: AppContext) -> None:
    await my_offerings(update, context)


# --- one offering: the manage screen ------------------------------------------------------------------------


def _text_or_dash(text: str) -> str:
    return esc(text) if text else "—"


def describe_week(weekly: tuple[WeeklyRule, ...]) -> str:
    """``Mon 9:00 AM–12:00 PM; Sat 10:00 AM–1:30 PM`` (the reader's clock), or a dash."""
    days = groupby(sorted(weekly, key=lambda r: (r.weekday, r.range.start)), key=lambda r: r.weekday)
    parts = [f"{weekday_name(day)} {describe_ranges(r.range for r in day_rules)}" for day, day_rules in days]
    return "; ".join(parts) or "—"


def hours_line(screen: OfferingScreen) -> str:
    if screen.offering.use_profile_availability:
        return _("Hours: your weekly hours from /availability")
    return _("Hours: its own weekly hours — {hours}").format(hours=describe_week(screen.offering.weekly_rules))


def hours_warning(screen: OfferingScreen) -> str | None:
    """Tell the mentor when mentees could find nothing to book (or could not, once it is published)."""
    if not screen.hours_missing or screen.offering.status == OfferingStatus.ARCHIVED:
        return None
    if screen.offering.use_profile_availability:
        fix = _("Set your weekly hours with /availability.")
    else:
        fix = _("Tap “🗓 Hours” to set this offering's own hours.")
    if screen.offering.status == OfferingStatus.ACTIVE:
        return "⚠️ " + _("It is live, but it has no weekly hours, so mentees see no free times.") + " " + fix
    return "⚠️ " + _("It has no weekly hours yet, so it cannot go live.") + " " + fix


def payment_lines(offering: Offering, payments: PaymentSettings) -> list[str]:
    """How a paid offering is paid here: its price in Stars, and whether a paid booking waits for the mentor."""
    if offering.is_free or not payments.held:
        return []
    lines = []
    if PaymentMode.STARS in payments.online:
        stars = format_price(Decimal(stars_price(offering, payments.stars_per_rupee)), "XTR")
        if offering.price_stars is None:
            stars = _("{stars} (suggested from the rupee price)").format(stars=stars)
        lines.append(_("Price in Stars: {stars}").format(stars=stars))
    if offering.auto_confirm_paid:
        lines.append(_("Paid bookings: confirmed automatically once paid"))
    else:
        lines.append(_("Paid bookings: wait for your confirmation after payment"))
    return lines


def manage_text(screen: OfferingScreen, payments: PaymentSettings = PaymentSettings()) -> str:
    """Every field of the offering, as its mentor sees it."""
    offering = screen.offering
    package = [package_line(offering.package_weeks)] if offering.package_weeks is not None else []
    lines = [
        offering_details(offering),
        *package,
        *payment_lines(offering, payments),
        "",
        _("Description: {text}").format(text=_text_or_dash(offering.description)),
        ngettext(
            "Mentees may cancel until {hours} hour before the start.",
            "Mentees may cancel until {hours} hours before the start.",
            offering.cancellation_cutoff_hours,
        ).format(hours=offering.cancellation_cutoff_hours),
        ngettext(
            "Mentees may move a session until {hours} hour before the start.",
            "Mentees may move a session until {hours} hours before the start.",
            reschedule_cutoff_hours(offering),
        ).format(hours=reschedule_cutoff_hours(offering)),
        _("Cancellation policy: {text}").format(text=_text_or_dash(offering.cancellation_policy)),
        _("Preparation notes: {text}").format(text=_text_or_dash(offering.preparation_notes)),
        hours_line(screen),
    ]
    warning = hours_warning(screen)
    if warning:
        lines += ["", warning]
    return "\n".join(lines)


def manage_view(
    screen: OfferingScreen, lead: str = "", payments: PaymentSettings = PaymentSettings()
) -> tuple[str, InlineKeyboardMarkup]:
    offering = screen.offering
    assert offering.id is not None
    oid = offering.id
    keyboard: list[list[InlineKeyboardButton]] = []
    if offering.status != OfferingStatus.ARCHIVED:
        edit = button(_("✏️ Edit"), ActOnOffering(oid, OfferingAction.EDIT))
        keyboard.append([edit, *offering_status_buttons(offering)])
        if not offering.use_profile_availability:
            keyboard.append([button(_("🗓 Hours"), EditHours(oid))])
    keyboard.append(
        [
            button(_("🔗 Share link"), ActOnOffering(oid, OfferingAction.SHARE)),
            button(_("📄 Duplicate"), ActOnOffering(oid, OfferingAction.DUPLICATE)),
        ]
    )
    archive = [button(_("🗂 Archive"), ActOnOffering(oid, OfferingAction.ARCHIVE))]
    delete = [button(_("🗑 Delete"), ActOnOffering(oid, OfferingAction.DELETE))]
    keyboard.append(delete if offering.status == OfferingStatus.ARCHIVED else archive + delete)
    keyboard.append([button(_("◀ My offerings"), Menu(MenuItem.MY_OFFERINGS))])
    return lead + manage_text(screen, payments), InlineKeyboardMarkup(keyboard)


async def leave_edit_step(uow: UnitOfWork, user_id: int) -> None:
    """Forget a half-answered "type the new value" step once the mentor has moved on with a button."""
    found = await uow.dialogs.get(user_id)
    if found is not None and found[0] == DialogState.OFFER_EDIT:
        await uow.dialogs.clear(user_id)


@on_button(ManageOffering)
async def open_offering(update: Update, context: AppContext, data: ManageOffering) -> str | None:
    async with context.uow() as uow:
        screen = await workspace.manage(uow, context.user.id, data.offering_id)
        waiting = await waiting_for(uow, context.clock, data.offering_id, context.zone)
        await leave_edit_step(uow, context.user.id)
        await uow.commit()
    lead = ""
    if waiting:
        lead = (
            ngettext(
                "🔔 {count} mentee is waiting for a time of this offering to free up.",
                "🔔 {count} mentees are waiting for a time of this offering to free up.",
                waiting,
            ).format(count=waiting)
            + "\n\n"
        )
    await show(update, *manage_view(screen, lead, payments=context.services.payments))
    return None


@on_button(SetOfferingStatus)
async def set_status(update: Update, context: AppContext, data: SetOfferingStatus) -> str | None:
    async with context.uow() as uow:
        screen = await workspace.change_status(uow, context.clock, context.user.id, data.offering_id, data.status)
        await uow.commit()
    offering = screen.offering
    if offering.status == OfferingStatus.ACTIVE:
        text = _("🎉 <b>{title}</b> is live! Mentees can find it with /book.").format(title=esc(offering.title))
        text += "\n" + _("Share it: {link}").format(link=esc(offering_link(context, data.offering_id)))
    else:
        text = _("<b>{title}</b> is now {status}.").format(
            title=esc(offering.title), status=offering_status_label(offering.status)
        )
    await show(update, *manage_view(screen, text + "\n\n", context.services.payments))
    return None


# --- the edit menu (the fields themselves: ``handlers.offering_edit``) --------------------------------------

FIELD_LABELS: dict[OfferingField, str] = {
    OfferingField.TITLE: N_("Title"),
    OfferingField.DESCRIPTION: N_("Description"),
    OfferingField.CATEGORY: N_("Category"),
    OfferingField.PRICE: N_("Price"),
    OfferingField.DURATION: N_("Duration"),
    OfferingField.BUFFER_BEFORE: N_("Buffer before"),
    OfferingField.BUFFER_AFTER: N_("Buffer after"),
    OfferingField.DAILY_LIMIT: N_("Daily limit"),
    OfferingField.ADVANCE_DAYS: N_("Booking window"),
    OfferingField.MIN_NOTICE: N_("Minimum notice"),
    OfferingField.CANCELLATION_POLICY: N_("Cancellation policy"),
    OfferingField.CANCELLATION_CUTOFF: N_("Cancellation cut-off"),
    OfferingField.RESCHEDULE_CUTOFF: N_("Reschedule cut-off"),
    OfferingField.PREPARATION_NOTES: N_("Preparation notes"),
    OfferingField.CAPACITY: N_("Seats"),
    OfferingField.PACKAGE: N_("Package"),
}


# Payment fields: in the edit menu only when payments in the bot are on (``payment_fields``).
PAYMENT_FIELD_LABELS: dict[OfferingField, str] = {
    OfferingField.PRICE_STARS: N_("Price in Stars"),
    OfferingField.AUTO_CONFIRM: N_("Confirm paid bookings automatically"),
}
_HOURS_LABEL = N_("Weekly hours")  # the "use profile availability" switch


def field_label(field: OfferingField) -> str:
    return _(FIELD_LABELS.get(field) or PAYMENT_FIELD_LABELS.get(field) or _HOURS_LABEL)


def edit_menu_view(
    screen: OfferingScreen, payments: PaymentSettings = PaymentSettings()
) -> tuple[str, InlineKeyboardMarkup]:
    offering = screen.offering
    assert offering.id is not None
    fields = [*FIELD_LABELS]
    if PaymentMode.STARS in payments.online:
        fields.append(OfferingField.PRICE_STARS)
    buttons = [("✏️ " + field_label(f), EditOfferingField(offering.id, f)) for f in fields]
    markup = rows(buttons, width=2)
    if offering.use_profile_availability:
        label, value = _("🔀 Use its own hours"), "0"
    else:
        label, value = _("🔀 Use my profile hours"), "1"
    switches = [[button(label, SetOfferingField(offering.id, OfferingField.PROFILE_HOURS, value))]]
    if payments.held:  # paid in the bot (an invoice, or UPI the mentor confirms)
        auto = offering.auto_confirm_paid
        label = (
            _("⚡ Confirm paid bookings automatically: on")
            if auto
            else _("⚡ Confirm paid bookings automatically: off")
        )
        switch = SetOfferingField(offering.id, OfferingField.AUTO_CONFIRM, "0" if auto else "1")
        switches.append([button(label, switch)])
    back = button(_("◀ Back"), ManageOffering(offering.id))
    text = _("<b>Edit</b> — tap what you want to change.") + "\n\n" + manage_text(screen, payments)
    return text, InlineKeyboardMarkup([*markup.inline_keyboard, *switches, [back]])


# --- archive, delete, duplicate, share ----------------------------------------------------------------------


def _confirm(question: str, yes: InlineKeyboardButton, offering_id: int) -> tuple[str, InlineKeyboardMarkup]:
    return question, InlineKeyboardMarkup([[yes], [button(_("◀ Back"), ManageOffering(offering_id))]])


def share_view(context: AppContext, offering: Offering) -> tuple[str, InlineKeyboardMarkup]:
    assert offering.id is not None
    link = offering_link(context, offering.id)
    lines = [
        _("<b>Share “{title}”</b>").format(title=esc(offering.title)),
        _("Whoever opens this link goes straight to booking it:"),
        esc(link),
        "",
        _("Your mentor link, with all your live offerings:"),
        esc(mentor_link(context, offering.mentor_id)),
    ]
    if offering.status != OfferingStatus.ACTIVE:
        warning = _("It is not live, so the link tells people it is not taking bookings. Publish it first.")
        lines += ["", "⚠️ " + warning]
    send = InlineKeyboardButton(_("📤 Send to a chat"), url="https://t.me/share/url?url=" + quote(link, safe=""))
    return "\n".join(lines), InlineKeyboardMarkup([[send], [button(_("◀ Back"), ManageOffering(offering.id))]])


@on_button(ActOnOffering)
async def act_on_offering(update: Update, context: AppContext, data: ActOnOffering) -> str | None:
    oid, action = data.offering_id, data.action
    if action == OfferingAction.DELETE_YES:
        async with context.uow() as uow:
            deleted = await workspace.delete_offering(uow, context.user.id, oid)
            await uow.commit()
        await my_offerings(update, context, _("🗑 Deleted “{title}”.").format(title=esc(deleted.title)) + "\n\n")
        return None
    if action == OfferingAction.DUPLICATE:
        async with context.uow() as uow:
            screen = await workspace.duplicate_offering(uow, context.user.id, oid, _("(copy)"))
            await uow.commit()
        lead = _("📄 Duplicated as a draft. Change what you need, then publish it.") + "\n\n"
        await show(update, *manage_view(screen, lead, context.services.payments))
        return None
    if action == OfferingAction.DELETE:
        return await _ask_delete(update, context, oid)
    async with context.uow() as uow:
        screen = await workspace.manage(uow, context.user.id, oid)
        if action == OfferingAction.EDIT:
            rules.check_editable(screen.offering)
            await leave_edit_step(uow, context.user.id)
        await uow.commit()
    offering = screen.offering
    match action:
        case OfferingAction.EDIT:
            await show(update, *edit_menu_view(screen, context.services.payments))
        case OfferingAction.ARCHIVE:
            question = _(
                "Archive “{title}”? Mentees can no longer book it and it cannot be published again. "
                "Its bookings and stats stay."
            ).format(title=esc(offering.title))
            yes = button(_("🗂 Yes, archive"), SetOfferingStatus(oid, OfferingStatus.ARCHIVED))
            await show(update, *_confirm(question, yes, oid))
        case OfferingAction.SHARE:
            await show(update, *share_view(context, offering))
    return None


async def _ask_delete(update: Update, context: AppContext, offering_id: int) -> str | None:
    try:
        async with context.reader() as uow:
            offering = await workspace.check_deletable(uow, context.user.id, offering_id)
    except HasBookings:
        text = _("This offering has bookings, so it cannot be deleted: archive it instead.")
        archive = button(_("🗂 Archive"), ActOnOffering(offering_id, OfferingAction.ARCHIVE))
        await show(update, *_confirm(text, archive, offering_id))
        return None
    question = _("Delete “{title}” for good? It has never been booked, so nothing else changes.").format(
        title=esc(offering.title)
    )
    yes = button(_("🗑 Yes, delete"), ActOnOffering(offering_id, OfferingAction.DELETE_YES))
    await show(update, *_confirm(question, yes, offering_id))
    return None


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("newoffering", new_offering),
        CommandHandler("offerings", offerings_command),
        CommandHandler("becomementor", become_mentor),
        choose_free,
        choose_stars_price,
        choose_duration,
        set_status,
        open_offering,
        act_on_offering,
    ]
