"""Wiring: settings → database → handlers → a python-telegram-bot ``Application``."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import timedelta
from functools import partial

from telegram import Update
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

from bot.calendar_fetch import CalendarFetcher
from bot.calendar_sync import CalendarSync, refresh_with_job_queue
from bot.clock import SystemClock
from bot.config import Settings
from bot.dispatcher import Dispatcher, Prepare, wake_with_job_queue
from bot.http import telegram_requests
from bot.leader import AlwaysLeader, Leadership, leadership_for
from bot.updates import PerUserUpdateProcessor
from domain.notifications import NotificationPolicy
from domain.ports import Clock
from handlers import (
    aftercare,
    availability,
    booking,
    calendar_feed,
    discover,
    mentor_inbox,
    menu,
    my_bookings,
    notify,
    offering_edit,
    offerings,
    onboarding,
    payments,
    profile,
    reschedule,
    roster,
    series,
    waitlist,
)
from handlers.commands import follow_role_changes, publish_default_menus
from handlers.common import AppContext, Services, answer_stale_button, remember_user, report_error
from handlers.dialog import text_handler
from storage.engine import create_engine, create_read_engine, reading_engine
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


def use_timedelta_periods() -> None:
    """Telegram's time periods as ``datetime.timedelta`` in this process (``RetryAfter.retry_after``: how long to
    wait after a 429): PTB's documented opt-in (the ``PTB_TIMEDELTA`` environment variable) to the type its next
    major version uses. Without it PTB 22 warns of the int form on every 429, in ``RetryAfter``'s own constructor.
    The wait is the same either way. A value set in the environment is kept."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    rate_limit: bool = True,
    prepare: Prepare | None = None,
    elect: bool = True,
) -> Application:
    """The bot, ready for ``run_polling`` (or ``initialize``/``start`` in tests).

    ``prepare`` turns due notifications into messages (``bot.dispatcher``); tests and benchmarks pass their own.
    ``elect``: several processes on one database send the outbox through one elected leader (``bot.leader``);
    False makes this process send regardless (tests of the outbox's own guarantees).
    """
    use_timedelta_periods()
    engine = create_engine(settings.database_url)
    read_engine = create_read_engine(settings.database_url)  # SQLite: reads beside the single writer
    reads = reading_engine(engine, read_engine)  # PostgreSQL: the same pool, in autocommit
    policy = NotificationPolicy(
        reminder_leads=settings.reminder_leads, expire_after=timedelta(hours=settings.expire_after_hours)
    )
    clock = clock or SystemClock()

    def wake_dispatcher() -> None:  # a commit wrote notifications: send what is due now, re-plan the next wake
        dispatcher.wake()

    services = Services(
        uow_factory=lambda: SqlUnitOfWork(engine, policy, wake_dispatcher),
        read_factory=lambda: SqlUnitOfWork(reads, policy, read_only=True),
        clock=clock,
        default_timezone=settings.default_timezone,
        default_locale=settings.default_locale,
        max_active_per_mentor=settings.max_active_bookings_per_mentor,
        max_reschedules=settings.max_reschedules,
        payments=settings.payment_settings,
        provider_token=settings.payment_provider_token,
        public_url=settings.public_url,
        calendar_refresh_minutes=settings.calendar_refresh_minutes,
    )
    # Mentors' busy calendars: read every CALENDAR_REFRESH_MINUTES by the leader, and when a mentor adds one.
    calendar_sync = CalendarSync(
        services.uow_factory,
        clock,
        CalendarFetcher(allow_loopback=settings.calendar_allow_loopback),
        timedelta(minutes=settings.calendar_refresh_minutes),
    )

    async def post_init(application: Application) -> None:
        if migrate:
            await upgrade_to_head(settings.database_url)
        await leadership.start()  # the leader's dispatcher sends; the others' stay idle until they take over
        await publish_default_menus(application.bot, settings.default_locale)
        # Only now, with the tables in place: the JobQueue wakes the dispatcher (at once, then every interval).
        if application.job_queue is None:  # pragma: no cover - a dependency of the project
            raise RuntimeError('the JobQueue is missing: install "python-telegram-bot[job-queue]"')
        wake_with_job_queue(application.job_queue, dispatcher, settings.dispatch_interval_seconds)
        refresh_with_job_queue(application.job_queue, calendar_sync)

    async def post_stop(application: Application) -> None:
        await dispatcher.stop()  # finish the messages being sent, give back the rest of the claimed rows
        await calendar_sync.stop()
        await leadership.stop()  # another process may take over now

    async def post_shutdown(application: Application) -> None:
        await dispatcher.stop()  # already stopped by post_stop under run_polling
        await calendar_sync.stop()
        await leadership.stop()
        await engine.dispose()
        if read_engine is not None:
            await read_engine.dispose()

    # aiohttp instead of PTB's default httpx: under many concurrent calls httpx's pool slows down sharply
    # (benchmarks/bench_http.py); one pool of 256 connections for calls, one connection for the long poll
    request, get_updates_request = telegram_requests(pool_size=256)
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .request(request)
        .get_updates_request(get_updates_request)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .context_types(ContextTypes(context=AppContext))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        # different people's updates at once, one person's in order (conversation state is per person)
        .concurrent_updates(PerUserUpdateProcessor(settings.updates_at_once))
    )
    application: Application  # with or without the rate limiter, which changes the bot's type parameters
    if rate_limit:
        # Answers to people are not capped overall (Telegram's ~30 messages/s is for bulk messages - the
        # scheduler's, capped in the dispatcher below); a RetryAfter is waited out, holding every request, and
        # retried here first.
        application = builder.rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=3)).build()
    else:
        application = builder.build()

    # The scheduler: due notifications are outbox rows; the JobQueue only wakes the dispatcher that sends them
    # (from post_init on).
    dispatcher = Dispatcher(
        services.uow_factory,
        application.bot,
        services.clock,
        prepare
        or partial(
            notify.prepare,
            clock=clock,
            default_zone=settings.default_timezone,
            operator_chat_id=settings.operator_chat_id,
            default_locale=settings.default_locale,
            max_reschedules=settings.max_reschedules,
        ),
        delivered=partial(notify.delivered, clock=clock),
        batch=settings.dispatch_batch,
        concurrency=settings.dispatch_concurrency,
        max_attempts=settings.dispatch_max_attempts,
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
        rate=settings.send_rate_per_second if rate_limit else None,
        read_factory=services.read_factory,
    )

    def on_leadership(leader: bool) -> None:
        if leader:
            dispatcher.wake()  # send whatever is due, then keep the usual wake-ups

    leadership: Leadership = (
        leadership_for(
            settings.database_url,
            retry=settings.dispatch_interval_seconds,
            on_change=on_leadership,
            on_notify=dispatcher.wake,
        )
        if elect
        else AlwaysLeader(on_leadership)
    )
    dispatcher.may_send = lambda: leadership.is_leader
    calendar_sync.may_run = lambda: leadership.is_leader
    services = replace(services, dispatcher=dispatcher, calendar_reader=calendar_sync)
    application.bot_data["dispatcher"] = dispatcher
    application.bot_data["calendar_sync"] = calendar_sync
    application.bot_data["leadership"] = leadership
    application.bot_data["services"] = services
    application.bot_data["engine"] = engine  # the health check (bot.web) pings the database through it

    application.add_handler(TypeHandler(Update, remember_user), group=-1)
    flows = (
        onboarding, availability, offerings, offering_edit, booking, discover, mentor_inbox, profile, payments,
        reschedule, waitlist,
    )  # fmt: skip
    for module in (*flows, aftercare):
        application.add_handlers(module.handlers())
    application.add_handlers(my_bookings.handlers())
    application.add_handlers(calendar_feed.handlers())
    application.add_handlers(roster.handlers())
    application.add_handlers(series.handlers())
    application.add_handler(menu.open_menu_item)
    application.add_handler(text_handler())
    application.add_handler(CallbackQueryHandler(answer_stale_button))
    application.add_handler(TypeHandler(Update, follow_role_changes), group=1)
    application.add_error_handler(report_error)
    return application
