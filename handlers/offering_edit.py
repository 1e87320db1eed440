"""Edit any field of an offering: the question (with the usual values as buttons), the typed answer or the tapped
one, then back to the offering's manage screen. A value that is not accepted is explained and the question stays.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from chat.i18n import _, format_money, format_price, ngettext
from domain import offerings as rules
from domain.errors import NotAllowed, NotFound
from domain.model import ALLOWED_DURATIONS, TITLE_MAX, Category, Offering
from domain.offerings import NUMBERS, TEXTS, OfferingField
from domain.payments import STARS_MAX, STARS_MIN, PaymentSettings, stars_price, suggested_stars
from domain.reschedule import reschedule_cutoff_hours
from domain.series import MAX_WEEKS, MIN_WEEKS
from domain.usecases import offerings as workspace
from handlers import dialog
from handlers.callbacks import ActOnOffering, EditOfferingField, OfferingAction, SetOfferingField
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button, rows
from handlers.labels import category_label
from handlers.offerings import field_label, leave_edit_step, manage_view
from handlers.render import esc, package_line

# The usual values, offered as buttons next to the question (anything within the bounds may be typed).
_PRESETS: dict[OfferingField, tuple[int, ...]] = {
    OfferingField.BUFFER_BEFORE: (0, 5, 10, 15, 30),
    OfferingField.BUFFER_AFTER: (0, 5, 10, 15, 30),
    OfferingField.DAILY_LIMIT: (1, 2, 3, 5, 10),
    OfferingField.ADVANCE_DAYS: (7, 14, 30, 60, 90),
    OfferingField.MIN_NOTICE: (0, 2, 12, 24, 48),
    OfferingField.CANCELLATION_CUTOFF: (0, 2, 12, 24, 48),
    OfferingField.RESCHEDULE_CUTOFF: (0, 2, 12, 24, 48),
    OfferingField.DURATION: ALLOWED_DURATIONS,
    OfferingField.CAPACITY: (1, 5, 10, 20, 50),
    OfferingField.PACKAGE: (2, 4, 6, 8, 12),
}


def _minutes(count: int) -> str:
    return _("{minutes} min").format(minutes=count)


def _hours(count: int) -> str:
    return _("{hours} h").format(hours=count)


def _days(count: int) -> str:
    return ngettext("{count} day", "{count} days", count).format(count=count)


def _amount(field: OfferingField, count: int) -> str:
    """A number of the field's unit, as shown on its buttons and as its current value."""
    if field in (OfferingField.BUFFER_BEFORE, OfferingField.BUFFER_AFTER, OfferingField.DURATION):
        return _minutes(count)
    if field in (OfferingField.MIN_NOTICE, OfferingField.CANCELLATION_CUTOFF, OfferingField.RESCHEDULE_CUTOFF):
        return _hours(count)
    if field == OfferingField.ADVANCE_DAYS:
        return _days(count)
    if field == OfferingField.PACKAGE:
        return ngettext("{count} week", "{count} weeks", count).format(count=count)
    return str(count)


def current_value(offering: Offering, field: OfferingField, payments: PaymentSettings = PaymentSettings()) -> str:
    if field == OfferingField.RESCHEDULE_CUTOFF:  # unset: the cancellation cut-off
        return _amount(field, reschedule_cutoff_hours(offering))
    if field in NUMBERS:
        return _amount(field, getattr(offering, NUMBERS[field][0]))
    if field in TEXTS:
        text = getattr(offering, TEXTS[field][0])
        return esc(text) if text else "—"
    match field:
        case OfferingField.TITLE:
            return esc(offering.title)
        case OfferingField.CATEGORY:
            return category_label(offering.category)
        case OfferingField.PRICE:
            return format_money(offering.price)
        case OfferingField.DURATION:
            return _minutes(offering.duration_minutes)
        case OfferingField.PRICE_STARS:
            stars = format_price(Decimal(stars_price(offering, payments.stars_per_rupee)), "XTR")
            return stars if offering.price_stars is not None else _("{stars} (suggested)").format(stars=stars)
        case OfferingField.AUTO_CONFIRM:
            return _("on") if offering.auto_confirm_paid else _("off")
        case OfferingField.PACKAGE:
            if offering.package_weeks is None:
                return _("one session at a time")
            return package_line(offering.package_weeks)
    if offering.use_profile_availability:
        return _("your weekly hours from /availability")
    return _("its own weekly hours")


def question(field: OfferingField) -> str:
    """What to send for ``field``, with its limits."""
    if field in NUMBERS:
        bounds = NUMBERS[field][1]
        low, high = bounds.low, bounds.high
        match field:
            case OfferingField.BUFFER_BEFORE:
                text = _(
                    "Free minutes to keep before each session: tap one, or type a number from {low} to {high}."
                )
            case OfferingField.BUFFER_AFTER:
                text = _(
                    "Free minutes to keep after each session: tap one, or type a number from {low} to {high}."
                )
            case OfferingField.DAILY_LIMIT:
                text = _(
                    "At most how many sessions of this offering a day? "
                    "Tap one, or type a number from {low} to {high}."
                )
            case OfferingField.ADVANCE_DAYS:
                text = _("How many days ahead may mentees book? Tap one, or type a number from {low} to {high}.")
            case OfferingField.MIN_NOTICE:
                text = _(
                    "How many hours of notice do you need before a session? "
                    "Tap one, or type a number from {low} to {high}."
                )
            case OfferingField.CAPACITY:
                text = _(
                    "How many people may book one session? 1 is a 1:1 session; more makes a group session, where "
                    "a time stays bookable until its seats are taken. People already booked keep their seats. "
                    "Tap one, or type a number from {low} to {high}."
                )
            case _:
                text = _(
                    "Until how many hours before the start may mentees cancel by themselves? "
                    "Tap one, or type a number from {low} to {high}."
                )
        return text.format(low=low, high=high)
    if field in TEXTS:
        limit = TEXTS[field][1]
        match field:
            case OfferingField.DESCRIPTION:
                text = _(
                    "Type a description mentees will read (at most {limit} characters), or send - to remove it."
                )
            case OfferingField.CANCELLATION_POLICY:
                text = _("Type your cancellation policy (at most {limit} characters), or send - to remove it.")
            case _:
                text = _("Type what mentees should prepare (at most {limit} characters), or send - to remove it.")
        return text.format(limit=limit)
    match field:
        case OfferingField.TITLE:
            return _("Type the new title (at most {limit} characters).").format(limit=TITLE_MAX)
        case OfferingField.CATEGORY:
            return _("Choose a category.")
        case OfferingField.PRICE:
            return _("Type the price in rupees, such as <code>500</code>, or tap Free.")
        case OfferingField.DURATION:
            return _("How long is one session?")
        case OfferingField.PRICE_STARS:
            return _(
                "Type the price in Telegram Stars, a whole number from {low} to {high}, or tap the suggestion "
                "(send - to follow the rupee price)."
            ).format(low=STARS_MIN, high=STARS_MAX)
        case OfferingField.AUTO_CONFIRM:
            return _("Confirm a booking as soon as it is paid, without waiting for you?")
        case OfferingField.PACKAGE:
            return _(
                "Sell this offering only as a package of weekly sessions? Mentees then book that many weeks at "
                "the same time together (and pay them with one invoice), never a single session. Tap a number of "
                "weeks or type one from {low} to {high}, or tap “One session at a time”. Bookings already made "
                "stay as they are."
            ).format(low=MIN_WEEKS, high=MAX_WEEKS)
    return _("Which weekly hours can mentees book this offering in?")


def question_view(
    offering: Offering, field: OfferingField, payments: PaymentSettings = PaymentSettings()
) -> tuple[str, InlineKeyboardMarkup]:
    assert offering.id is not None
    oid = offering.id
    text = _("<b>{field}</b> of “{title}”\nNow: {value}\n\n{question}").format(
        field=field_label(field),
        title=esc(offering.title),
        value=current_value(offering, field, payments),
        question=question(field),
    )
    choices: list[tuple[str, Any]] = []
    if field in _PRESETS:
        choices = [(_amount(field, n), SetOfferingField(oid, field, str(n))) for n in _PRESETS[field]]
        if field == OfferingField.PACKAGE:
            choices.append((_("One session at a time"), SetOfferingField(oid, field, "0")))
    elif field == OfferingField.CATEGORY:
        choices = [(category_label(c), SetOfferingField(oid, field, c.value)) for c in Category]
    elif field == OfferingField.PRICE:
        choices = [(_("Free"), SetOfferingField(oid, field, "0"))]
    elif field == OfferingField.PRICE_STARS:
        suggested = suggested_stars(offering.price, payments.stars_per_rupee)
        label = _("{stars} (suggested)").format(stars=format_price(Decimal(suggested), "XTR"))
        choices = [(label, SetOfferingField(oid, field, str(suggested)))]
    elif field == OfferingField.AUTO_CONFIRM:
        choices = [(_("on"), SetOfferingField(oid, field, "1")), (_("off"), SetOfferingField(oid, field, "0"))]
    elif field == OfferingField.PROFILE_HOURS:
        choices = [
            (_("🔀 Use my profile hours"), SetOfferingField(oid, field, "1")),
            (_("🔀 Use its own hours"), SetOfferingField(oid, field, "0")),
        ]
    markup = rows(choices, width=2 if field in (OfferingField.CATEGORY, OfferingField.PROFILE_HOURS) else 5)
    back = [button(_("◀ Back"), ActOnOffering(oid, OfferingAction.EDIT))]
    return text, InlineKeyboardMarkup([*markup.inline_keyboard, back])


@on_button(EditOfferingField)
async def ask_field(update: Update, context: AppContext, data: EditOfferingField) -> str | None:
    async with context.uow() as uow:
        screen = await workspace.manage(uow, context.user.id, data.offering_id)
        rules.check_editable(screen.offering)
        step = {"offering_id": data.offering_id, "field": data.field.value}
        await uow.dialogs.set(context.user.id, DialogState.OFFER_EDIT, step)
        await uow.commit()
    await show(update, *question_view(screen.offering, data.field, context.services.payments))
    return None


def _saved(field: OfferingField) -> str:
    if field == OfferingField.PROFILE_HOURS:
        return "✅ " + _("Saved.") + "\n\n"
    return "✅ " + _("Saved: {field}.").format(field=field_label(field)) + "\n\n"


@on_button(SetOfferingField)
async def choose_value(update: Update, context: AppContext, data: SetOfferingField) -> str | None:
    async with context.uow() as uow:
        screen = await workspace.edit_offering(
            uow, context.clock, context.user.id, data.offering_id, data.field, data.value
        )
        await leave_edit_step(uow, context.user.id)
        await uow.commit()
    await show(update, *manage_view(screen, _saved(data.field), context.services.payments))
    return None


@text_step(DialogState.OFFER_EDIT)
async def type_value(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    try:
        offering_id, field = int(data["offering_id"]), OfferingField(data["field"])
    except (KeyError, ValueError, TypeError):
        await dialog.clear(context)
        await say(update, _("That edit has expired. Open it again from /offerings."))
        return
    try:
        async with context.uow() as uow:
            screen = await workspace.edit_offering(uow, context.clock, context.user.id, offering_id, field, text)
            await uow.dialogs.clear(context.user.id)
            await uow.commit()
    except (NotFound, NotAllowed):
        await dialog.clear(context)  # the offering is gone: nothing left to edit
        raise
    await say(update, *manage_view(screen, _saved(field), context.services.payments))


def handlers() -> list[BaseHandler]:
    return [ask_field, choose_value]
