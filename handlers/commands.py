"""The command menu (the "/" button) per role and language.

Telegram picks the most specific list that exists: a chat's own list (``BotCommandScopeChat``) over the default
list for the user's app language over the plain default. Mentees get the default lists, one per supported
language. A user whose role or language changes here gets their own chat list, in the language they chose, so a
new mentor sees the mentor commands at once.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError

from chat.i18n import SUPPORTED_LOCALES, _, use_locale
from domain.model import User
from handlers.common import AppContext

log = logging.getLogger(__name__)


def mentee_commands() -> list[BotCommand]:
    return [
        BotCommand("book", _("Browse offerings and book a session")),
        BotCommand("mybookings", _("Sessions you booked")),
        BotCommand("settings", _("Language and time zone")),
        BotCommand("help", _("What I can do")),
        BotCommand("cancel", _("Stop what you are doing")),
    ]


def mentor_commands() -> list[BotCommand]:
    return [
        BotCommand("bookings", _("Your bookings inbox")),
        BotCommand("offerings", _("Your offerings")),
        BotCommand("availability", _("Your weekly hours and days off")),
        BotCommand("profile", _("Your mentor profile")),
        BotCommand("newoffering", _("Create an offering")),
        BotCommand("earnings", _("What you were paid, and a CSV of your payments")),
        BotCommand("book", _("Browse offerings and book a session")),
        BotCommand("mybookings", _("Sessions you booked")),
        BotCommand("settings", _("Language and time zone")),
        BotCommand("help", _("What I can do")),
        BotCommand("cancel", _("Stop what you are doing")),
    ]


def commands_for(user: User) -> list[BotCommand]:
    return mentor_commands() if user.is_mentor else mentee_commands()


async def publish_default_menus(bot: Bot, default_locale: str) -> None:
    """The mentee menu for everyone, in each supported language (run once at start-up)."""
    for locale in SUPPORTED_LOCALES:
        with use_locale(locale):
            code = None if locale == default_locale else locale
            await bot.set_my_commands(mentee_commands(), language_code=code)


async def refresh_menu(bot: Bot, user: User) -> None:
    """Give ``user`` the menu for their role, in their language, in their private chat with the bot."""
    with use_locale(user.locale):
        commands = commands_for(user)
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(user.id))
    except TelegramError:  # the menu is a convenience: never fail the user's action over it
        log.warning("could not set the command menu for user %s", user.id, exc_info=True)


async def follow_role_changes(update: Update, context: AppContext) -> None:
    """After the handlers (group 1): if this update made the user a mentor or changed their language, refresh
    their menu."""
    before, after = context.user_at_start, context.me
    if before is None or after is None:
        return
    if (before.is_mentor, before.locale) != (after.is_mentor, after.locale):
        await refresh_menu(context.bot, after)
