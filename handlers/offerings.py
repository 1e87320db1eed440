"""Mentors: become a mentor, create an offering in three answers, list offerings, publish or pause."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from bot.i18n import _, format_money
from domain import usecases
from domain.model import ALLOWED_DURATIONS, OfferingStatus
from domain.validation import parse_price, validate_duration, validate_title
from handlers import dialog
from handlers.callbacks import Menu, MenuItem, NewDuration, NewFree, SetOfferingStatus
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button, rows, stack
from handlers.render import esc, offering_details, offering_status_buttons
from handlers.labels import offering_status_label


async def become_mentor(update: Update, context: AppContext) -> None:
    async with context.uow() as uow:
        context.me = await usecases.become_mentor(uow, context.user.id)
        availability = await usecases.get_availability(uow, context.user.id)
        await uow.commit()
    text = _("You are a mentor now. Two quick steps: set your weekly hours, then create an offering.")
    first = (_("🗓 Set weekly hours"), Menu(MenuItem.AVAILABILITY))
    second = (_("➕ New offering"), Menu(MenuItem.NEW_OFFERING))
    await show(update, text, stack([first] if availability is None or not availability.weekly else [], [second]))


async def new_offering(update: Update, context: AppContext) -> None:
    async with context.uow() as uow:
        context.me = await usecases.become_mentor(uow, context.user.id)
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


async def _ask_duration(update: Update, context: AppContext, title: str, price: str) -> None:
    await dialog.save(context, DialogState.OFFER_DURATION, {"title": title, "price": price})
    text = _("<b>Step 3 of 3.</b> How long is one session?")
    markup = rows([(_("{minutes} min").format(minutes=m), NewDuration(m)) for m in ALLOWED_DURATIONS], width=5)
    await show(update, text, markup)


@text_step(DialogState.OFFER_PRICE)
async def type_price(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    price = parse_price(text)
    await _ask_duration(update, context, data["title"], str(price))


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
        offering = await usecases.create_offering(uow, context.user.id, draft["title"], draft["price"], data.minutes)
        availability = await usecases.get_availability(uow, context.user.id)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    text = _("Created as a draft:\n\n{details}\n\nEverything else has sensible defaults you can change later.").format(
        details=offering_details(offering)
    )
    keyboard = [offering_status_buttons(offering)]
    if availability is None or not availability.weekly:
        text += "\n\n" + _("Set your weekly hours before going live.")
        keyboard = [[button(_("🗓 Set weekly hours"), Menu(MenuItem.AVAILABILITY))], *keyboard]
    await show(update, text, InlineKeyboardMarkup(keyboard))
    return None


@on_button(SetOfferingStatus)
async def set_status(update: Update, context: AppContext, data: SetOfferingStatus) -> str | None:
    async with context.uow() as uow:
        offering = await usecases.set_offering_status(uow, context.user.id, data.offering_id, data.status)
        await uow.commit()
    if offering.status == OfferingStatus.ACTIVE:
        text = _("🎉 <b>{title}</b> is live! Mentees can find it with /book.").format(title=esc(offering.title))
    else:
        text = _("<b>{title}</b> is now {status}.").format(
            title=esc(offering.title), status=offering_status_label(offering.status)
        )
    markup = InlineKeyboardMarkup([offering_status_buttons(offering)])
    await show(update, text + "\n\n" + offering_details(offering), markup)
    return None


async def my_offerings(update: Update, context: AppContext) -> None:
    async with context.uow() as uow:
        context.me = await usecases.become_mentor(uow, context.user.id)
        offerings = await usecases.list_my_offerings(uow, context.user.id)
        await uow.commit()
    if not offerings:
        await show(
            update,
            _("You have no offerings yet."),
            rows([(_("➕ New offering"), Menu(MenuItem.NEW_OFFERING))], width=1),
        )
        return
    lines = [_("<b>Your offerings</b>")]
    keyboard = []
    for number, offering in enumerate(offerings, start=1):
        lines.append(
            _("{number}. {title} — {price}, {minutes} min — {status}").format(
                number=number,
                title=esc(offering.title),
                price=format_money(offering.price),
                minutes=offering.duration_minutes,
                status=offering_status_label(offering.status),
            )
        )
        keyboard.append(offering_status_buttons(offering, prefix=f"{number}. "))
    await show(update, "\n".join(lines), InlineKeyboardMarkup([row for row in keyboard if row]))


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("newoffering", new_offering),
        CommandHandler("offerings", my_offerings),
        CommandHandler("becomementor", become_mentor),
        choose_free,
        choose_duration,
        set_status,
    ]

