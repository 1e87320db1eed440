"""The running sandbox: the embedded Bot API server, the production bot on it, the clock and the people.

``running`` starts everything in one event loop: the server (Bot API and web chat on one port), a new database with
the demo when there is none, then the application from ``bot.app.build_application`` - the same handlers,
scheduler and dispatcher as in production - long-polling the server. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from bot.dispatcher import Dispatcher
from chat.i18n import SUPPORTED_LOCALES
from domain.errors import InvalidInput
from domain.model import PaymentMode
from domain.notifications import NotificationKind
from domain.people import Profile
from domain.ports import Clock
from domain.usecases.people import register_user, set_timezone
from domain.validation import validate_timezone
from handlers.commands import refresh_menu
from handlers.common import Services
from sandbox import demo, store
from sandbox.botapi import FakeBotApi, FakeUser
from sandbox.botapi.payments import Checkout
from sandbox.clock import SandboxClock
from sandbox.store import PersonRecord, SandboxRecord
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "7000000:SANDBOX-not-a-telegram-token"
FIRST_ADDED_ID = 7301  # people added in the page get ids from here on
NAME_MAX = 64
TEXT_MAX = 4096  # what a Telegram client lets a person send in one message
# Paid sessions in the sandbox: Telegram Stars (test payments through the page's Pay button) and UPI (the demo
# mentors have UPI IDs; "I have paid" and the mentor's Mark paid need no real money either).
PAYMENTS = (PaymentMode.STARS, PaymentMode.UPI)


@dataclass(frozen=True, slots=True)
class Paths:
    """Where a sandbox keeps its data: the database and the record beside it (``sandbox.store``)."""

    database: Path
    record: Path

    @classmethod
    def in_directory(cls, directory: Path) -> Paths:
        return cls(directory / "sandbox.sqlite3", directory / "sandbox.json")

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database}"

    def remove(self) -> None:
        """``--reset``: the database with its journal and lock files, and the record."""
        database = self.database
        for path in (database, *(database.with_name(database.name + suffix) for suffix in _DATABASE_FILES)):
            path.unlink(missing_ok=True)
        self.record.unlink(missing_ok=True)


_DATABASE_FILES = ("-wal", "-shm", "-journal", ".dispatcher.lock")


class PersonError(ValueError):
    """Something the page asked for does not fit (a bad name, zone, language or message)."""


class UnknownPerson(PersonError):
    """No such person in the sandbox."""


class Sandbox:
    """The people, the clock and the bot of one running sandbox; the web chat (``sandbox.web``) calls it."""

    def __init__(self, api: FakeBotApi, clock: SandboxClock, paths: Paths) -> None:
        self.api = api
        self.clock = clock
        self.paths = paths
        self.record = SandboxRecord()
        self.application: Application | None = None
        self.started = asyncio.Event()  # the bot runs: the page may act

    def adopt(self, record: SandboxRecord) -> None:
        """Take the people and the clock of ``record`` (a new sandbox's, or one saved by an earlier run)."""
        self.record = record
        self.clock.offset = timedelta(seconds=record.clock_offset_seconds)
        for person in record.people:
            self.api.user(
                person.id,
                person.first_name,
                last_name=person.last_name,
                language_code=person.language_code,
                started=True,
            )

    # -- the bot's side -------------------------------------------------------------------------------------------
    @property
    def services(self) -> Services:
        assert self.application is not None, "the bot is not running"
        return self.application.bot_data["services"]

    def reader(self) -> SqlUnitOfWork:
        """A read-only unit of work of the running bot: the SQL one, whose outbox also lists its rows."""
        factory = self.services.read_factory
        assert factory is not None, "build_application gives the bot a reader"
        uow = factory()
        assert isinstance(uow, SqlUnitOfWork)
        return uow

    @property
    def dispatcher(self) -> Dispatcher:
        assert self.application is not None, "the bot is not running"
        return self.application.bot_data["dispatcher"]

    async def publish_menus(self) -> None:
        """Give everyone the "/" menu of their role and language (the server forgets menus when it stops)."""
        assert self.application is not None
        async with self.reader() as reader:
            users = [await reader.users.get(person.id) for person in self.record.people]
        for user in users:
            if user is not None:
                await refresh_menu(self.application.bot, user)

    # -- people ---------------------------------------------------------------------------------------------------
    def person(self, person_id: int) -> FakeUser:
        """The person's handle as it is (``api.user`` would reset what it is not told, such as the language)."""
        found = self.api.people.get(person_id)
        if not isinstance(found, FakeUser) or not any(p.id == person_id for p in self.record.people):
            raise UnknownPerson("no such person in the sandbox")
        return found

    async def people(self) -> list[dict[str, Any]]:
        """Everyone in the sandbox as the page lists them, with what the bot knows about them."""
        async with self.reader() as reader:
            users = {p.id: await reader.users.get(p.id) for p in self.record.people}
        listed = []
        for person in self.record.people:
            user = users[person.id]
            listed.append(
                {
                    "id": person.id,
                    "name": user.display_name if user else person.first_name,
                    "language": user.locale if user else person.language_code,
                    "zone": (user.timezone if user else None) or self.services.default_timezone,
                    "mentor": bool(user and user.is_mentor),
                }
            )
        return listed

    async def add_person(self, name: str, language: str, zone: str) -> PersonRecord:
        """A new person who has not written to the bot yet; the bot already knows their language and zone."""
        name = " ".join(name.split())
        if not name or len(name) > NAME_MAX or not name.isprintable():
            raise PersonError(f"a name is 1 to {NAME_MAX} printable characters")
        if language not in SUPPORTED_LOCALES:
            raise PersonError(f"the language is one of {', '.join(SUPPORTED_LOCALES)}")
        try:
            validate_timezone(zone)
        except InvalidInput:
            raise PersonError("the time zone is not an IANA zone such as Asia/Kolkata") from None
        person = PersonRecord(max([FIRST_ADDED_ID - 1, *(p.id for p in self.record.people)]) + 1, name, language)
        async with self.services.uow_factory() as uow:
            await register_user(uow, Profile(person.id, name), language)
            await set_timezone(uow, person.id, zone)
            await uow.commit()
        self.record.people.append(person)
        store.save(self.paths.record, self.record)
        self.api.user(person.id, name, language_code=language)
        return person

    async def send(self, person_id: int, text: str) -> None:
        """``text`` as the person typed it (a command when it starts with /, like in Telegram)."""
        text = text.strip()
        if not text or len(text) > TEXT_MAX:
            raise PersonError(f"a message is 1 to {TEXT_MAX} characters")
        await self.person(person_id).send(text)

    async def pay(self, person_id: int, message_id: int) -> Checkout:
        """Pay the invoice in that message with a test payment, as Telegram's Pay does: the bot's pre-checkout
        answer, then (if it said yes) the ``successful_payment``. Returns the checkout (``ok``,
        ``error_message``)."""
        person = self.person(person_id)
        message = self.api.messages.get((person_id, message_id))
        if message is None or message.is_deleted or message.invoice is None:
            raise PersonError("that invoice is gone")
        return await person.pay(message)

    async def press(self, person_id: int, message_id: int, data: str) -> str:
        """Press the inline button with ``data`` on the message, if the message still has it (as Telegram checks);
        returns the callback query's id."""
        person = self.person(person_id)
        message = self.api.messages.get((person_id, message_id))
        if message is None or message.is_deleted:
            raise PersonError("that message is gone")
        button = next((b for row in message.keyboard for b in row if b.callback_data == data), None)
        if button is None:
            raise PersonError("that button is no longer there")
        return await person.press_button(message, button)

    # -- time travel ----------------------------------------------------------------------------------------------
    async def travel(self, delta: timedelta) -> datetime:
        """Move the bot's clock forward and let the dispatcher send whatever became due."""
        now = self.clock.advance(delta)
        self.record.clock_offset_seconds = self.clock.offset.total_seconds()
        store.save(self.paths.record, self.record)
        self.dispatcher.wake()
        return now

    async def next_scheduled(self) -> tuple[datetime, str] | None:
        """When the next reminder is due, or else the next scheduled message or expiry, with its kind; None if
        nothing is scheduled."""
        now = self.clock.now()
        async with self.reader() as reader:
            records = await reader.outbox.records()
        pending = [r for r in records if r.status == "pending" and r.due_at > now]
        reminders = [r for r in pending if r.kind == NotificationKind.REMINDER.value]
        chosen = min(reminders or pending, key=lambda r: r.due_at, default=None)
        return None if chosen is None else (chosen.due_at, chosen.kind)


def load_or_create_record(paths: Paths) -> tuple[SandboxRecord, bool]:
    """The sandbox's record and whether the database is new (then the demo fills it)."""
    if not paths.database.exists():
        paths.record.unlink(missing_ok=True)
        return SandboxRecord(people=demo.people()), True
    record = store.load(paths.record)
    if record is None:  # the database without its record: the demo people are in it
        record = SandboxRecord(people=demo.people())
    return record, False


async def create_demo_database(paths: Paths, now: datetime) -> None:
    paths.database.parent.mkdir(parents=True, exist_ok=True)
    await upgrade_to_head(paths.database_url)
    engine = create_engine(paths.database_url)
    try:
        await demo.seed(lambda: SqlUnitOfWork(engine), now)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running(
    paths: Paths,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    reset: bool = False,
    routes: Callable[[Sandbox], Sequence[web.AbstractRouteDef]] = lambda sandbox: (),
    time_source: Clock | None = None,
) -> AsyncIterator[Sandbox]:
    """The sandbox, serving on ``host:port`` until the block ends. A port in use raises ``OSError`` before
    anything on disk is touched (``reset`` included). ``time_source``: the real time unless given (tests start
    the sandbox at a known moment); time travel adds to it."""
    clock = SandboxClock(source=time_source)
    api = FakeBotApi(
        token=SANDBOX_TOKEN, bot_username="mentor_desk_sandbox_bot", clock=clock.timestamp, default_timeout=30
    )
    sandbox = Sandbox(api, clock, paths)
    await api.start(host=host, port=port, routes=routes(sandbox))
    try:
        if reset:
            paths.remove()
        record, new = load_or_create_record(paths)
        sandbox.adopt(record)
        if new:
            log.info("a new sandbox: creating %s with the demo", paths.database)
            await create_demo_database(paths, clock.now())
        store.save(paths.record, record)
        settings = Settings(
            bot_token=api.token, database_url=paths.database_url, telegram_api_url=api.url, payments=PAYMENTS
        )
        application = build_application(settings, clock=clock)
        sandbox.application = application
        async with api.running(application, poll_timeout=10, run_hooks=True):
            await sandbox.publish_menus()
            sandbox.started.set()
            yield sandbox
    finally:
        await api.stop()
