"""Wiring: settings → database → handlers → a python-telegram-bot ``Application``."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    TypeHandler,
)

from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import SUPPORTED_LOCALES, _, use_locale
from domain.ports import Clock
from handlers import availability, booking, mentor_inbox, menu, offerings, onboarding
from handlers.common import AppContext, Services, answer_stale_button, remember_user, report_error
from handlers.dialog import text_handler
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


def command_menu() -> list[BotCommand]:
    return [
        BotCommand("book", _("Browse offerings and book a session")),
        BotCommand("availability", _("Mentors: set your weekly hours")),
        BotCommand("newoffering", _("Mentors: create an offering")),
        BotCommand("offerings", _("Mentors: your offerings")),
        BotCommand("settings", _("Language and time zone")),
        BotCommand("help", _("What I can do")),
        BotCommand("cancel", _("Stop what you are doing")),
    ]


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    rate_limit: bool = True,
) -> Application:
    """The bot, ready for ``run_polling`` (or ``initialize``/``start`` in tests)."""
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    services = Services(
        uow_factory=lambda: SqlUnitOfWork(session_factory),
        clock=clock or SystemClock(),
        default_timezone=settings.default_timezone,
        default_locale=settings.default_locale,
    )

    async def post_init(application: Application) -> None:
        if migrate:
            await upgrade_to_head(settings.database_url)
        for locale in SUPPORTED_LOCALES:
            with use_locale(locale):
                code = None if locale == settings.default_locale else locale
                await application.bot.set_my_commands(command_menu(), language_code=code)

    async def post_shutdown(application: Application) -> None:
        await engine.dispose()

    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .context_types(ContextTypes(context=AppContext))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    application.bot_data["services"] = services

    application.add_handler(TypeHandler(Update, remember_user), group=-1)
    for module in (onboarding, availability, offerings, booking, mentor_inbox):
        application.add_handlers(module.handlers())
    application.add_handler(menu.open_menu_item)
    application.add_handler(text_handler())
    application.add_handler(CallbackQueryHandler(answer_stale_button))
    application.add_error_handler(report_error)
    return application
