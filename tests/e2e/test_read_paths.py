"""Screens that only show data take no write transaction (SQLite: no ``BEGIN IMMEDIATE`` on the writer), so they
never queue behind a booking; a step that changes something still writes, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from telegram.ext import Application

from sandbox.botapi import FakeBotApi
from storage.db import listen_to_transactions
from tests.e2e.flows import become_mentor_with_offering, onboard


class WriteCounter:
    """Counts transactions begun on the bot's writer engine (each one takes SQLite's write lock). SQLite: each
    ``BEGIN IMMEDIATE``, emitted through SQLAlchemy (its engine's "begin" listener) or run by a unit of work on its
    connection's sqlite3 connection (``storage.db.listen_to_transactions``); PostgreSQL: SQLAlchemy's "begin"."""

    def __init__(self, application: Application) -> None:
        engine = application.bot_data["engine"]
        self.engine = engine.sync_engine
        self.count = 0
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            event.listen(self.engine, "before_cursor_execute", self._statement)
            listen_to_transactions(engine, self._told)
        else:
            event.listen(self.engine, "begin", self._begun)

    def _begun(self, connection: Any) -> None:
        self.count += 1

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._told(statement)

    def _told(self, sql: str) -> None:
        if sql.startswith("BEGIN"):
            self.count += 1

    def close(self) -> None:
        if self.sqlite:
            event.remove(self.engine, "before_cursor_execute", self._statement)  # the other ends with the engine
        else:
            event.remove(self.engine, "begin", self._begun)


async def test_known_users_reading_screens_do_not_write(api: FakeBotApi, bot: Application) -> None:
    bot.bot_data["dispatcher"].may_send = lambda: False  # the scheduler's passes would write too
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await api.wait_idle()

    writes = WriteCounter(bot)
    try:
        await mentee.press("📅 Book 1")  # the date picker
        await mentee.wait_for("Choose a date.")
        await api.wait_idle()
        await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)  # the times of a day
        await mentee.wait_for("Choose a time.")
        await api.wait_idle()
        assert writes.count == 0

        await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)  # a time: the step is saved
        await mentee.wait_for("Anything the mentor should know")
        await api.wait_idle()
        assert writes.count == 1

        await mentee.press("Skip ▶")  # the time step stored the notes step already: the summary is only read
        await mentee.wait_for("Please check your booking")
        await api.wait_idle()
        assert writes.count == 1

        renamed = api.user(202, "Ravi K")  # Telegram reports a new name: the next update stores it
        await renamed.press("◀ Change time")  # a reading screen, but the name must be written
        await renamed.wait_for("Choose a time.")
        await api.wait_idle()
        assert writes.count == 2

        await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)
        await mentee.wait_for("Anything the mentor should know")
        prompt = mentee.last_keyboard_message()
        await api.wait_idle()
        assert writes.count == 3
        await mentee.send("Please look at my CV first")  # typed notes are stored with the step
        await mentee.wait_for("Your notes: Please look at my CV first")
        await api.wait_idle()
        assert writes.count == 4

        await mentee.press("Skip ▶", message=prompt)  # Skip after all: the step is stored again, without notes
        await mentee.wait_for("No notes.")
        await api.wait_idle()
        assert writes.count == 5
    finally:
        writes.close()
