"""The state of the server: people and their private chats with the bot, messages, pending updates, files,
command menus, everything recorded for assertions, and the one change signal every wait is built on."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import mimetypes
import time
from collections.abc import Callable
from typing import Any

from sandbox.botapi.errors import HarnessTimeout
from sandbox.botapi.records import (
    Call,
    CallbackAnswer,
    CallbackQueryRecord,
    ChatEvent,
    ChatMessage,
    ErrorRecord,
    FaultRule,
    PendingUpdate,
    SentDocument,
)

__all__ = ["BotApiState", "Person"]


class Person:
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        started: bool,
    ) -> None:
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started  # has contacted the bot; needed for the bot to message them
        self.blocked = False  # has blocked the bot

    def to_api(self) -> dict[str, Any]:
        """``User`` JSON."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> dict[str, Any]:
        """``Chat`` JSON of the private chat with the bot."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


class BotApiState:
    """Chats, updates and records of one bot; the HTTP server, the method handlers and the people share it."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        bot_first_name: str,
        default_timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.default_timeout = default_timeout
        #: Source of "now" (unix seconds) for message dates and records.
        self.clock = clock

        # records for assertions
        self.calls: list[Call] = []
        self.errors_returned: list[ErrorRecord] = []
        self.unknown_methods: list[Call] = []
        self.internal_errors: list[str] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.chat_actions: list[tuple[int | str, str]] = []
        self.webhook: dict[str, Any] | None = None
        #: Every webhook delivery attempt as ``(update_id, HTTP status)``; status None: no HTTP answer.
        self.webhook_deliveries: list[tuple[int, int | None]] = []
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_settings: dict[str, dict[str, str]] = {}  # method -> {language_code: value}
        self.logged_out = False
        self.closed = False
        self.get_updates_count = 0
        self.last_get_updates_params: dict[str, Any] | None = None
        self.faults: list[FaultRule] = []
        #: Called with ``(chat_id, kind, message)`` for every chat event ("user", "sent", "edited", "deleted"):
        #: load generators wait per chat with it instead of waking every waiter on every event.
        self.on_event: Callable[[int, str, ChatMessage], None] | None = None
        #: Called with ``(kind, chat_id, item)`` for what a chat client shows as it happens: the chat events above
        #: (item: the live message), "answer" (a callback query's answer), "commands" (a command list changed;
        #: chat_id None unless it was set for one chat) and "closing" (the server stops). See :meth:`watch`.
        self.watchers: list[Callable[[str, int | None, Any], None]] = []

        # chats
        self.people: dict[int, Person] = {}
        self.chats: dict[int, list[ChatMessage]] = {}
        self.messages: dict[tuple[int, int], ChatMessage] = {}
        self.message_log: list[ChatMessage] = []  # all chats, in creation order
        self.events_by_chat: dict[int, list[ChatEvent]] = {}
        #: Sequence number of the latest chat event (or press); usable as ``wait_for(..., since=...)``.
        self.event_seq = 0
        self.files: dict[str, SentDocument] = {}
        self.command_lists: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._next_message_id: dict[int, int] = {}
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)

        # updates and requests
        self.pending_updates: list[PendingUpdate] = []  # not yet confirmed by an offset
        self._update_ids = itertools.count(1)
        self.in_flight: list[Call] = []  # bot requests being answered (getUpdates excluded)
        self.polls_waiting = 0  # getUpdates requests being held open
        self.poll_generation = 0
        self.activity = 0  # counts requests, updates and answers: wait_idle waits for it to settle
        self.closing = False
        self._changed = asyncio.Event()
        self._webhook_target: str | None = None

    # -- identity ----------------------------------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def now(self) -> int:
        return int(self.clock())

    @property
    def webhook_target(self) -> str | None:
        """Where the registered https webhook is reachable locally, e.g. ``http://127.0.0.1:8443``.

        Replaces scheme and host of the webhook URL (its path is kept); None (default) delivers nothing.
        """
        return self._webhook_target

    @webhook_target.setter
    def webhook_target(self, target: str | None) -> None:
        self._webhook_target = target.rstrip("/") if target else None
        self.notify(activity=False)  # wakes the delivery loop

    # -- the change signal -------------------------------------------------------------------
    @property
    def changed(self) -> asyncio.Event:
        """Set (and replaced by a fresh one) at the next change of anything here: wait on it, then look again."""
        return self._changed

    def notify(self, *, activity: bool = True) -> None:
        if activity:
            self.activity += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float,
        describe: Callable[[], str],
        *,
        raise_on_timeout: bool = True,
    ) -> Any:
        """Wait until ``predicate()`` is true (re-checked at every change), at most ``timeout`` seconds.

        Returns its last value; on time-out raises :class:`HarnessTimeout` with ``describe()``, or returns the
        false value when ``raise_on_timeout`` is false.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                if raise_on_timeout:
                    raise HarnessTimeout(describe())
                return result
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # -- chat events -------------------------------------------------------------------------
    def record_event(self, kind: str, message: ChatMessage) -> int:
        self.event_seq += 1
        self.events_by_chat.setdefault(message.chat_id, []).append(
            ChatEvent(self.event_seq, kind, message, message.snapshot())
        )
        self.notify()
        if self.on_event is not None:
            self.on_event(message.chat_id, kind, message)
        self.publish(kind, message.chat_id, message)
        return self.event_seq

    def watch(self, watcher: Callable[[str, int | None, Any], None]) -> Callable[[], None]:
        """Call ``watcher`` for everything :meth:`publish` announces; returns the function that stops that."""
        self.watchers.append(watcher)
        return lambda: self.watchers.remove(watcher) if watcher in self.watchers else None

    def publish(self, kind: str, chat_id: int | None, item: Any) -> None:
        for watcher in list(self.watchers):
            watcher(kind, chat_id, item)

    def mark_action(self) -> int:
        """A person acted without a chat event (a button press): the next sequence number."""
        self.event_seq += 1
        return self.event_seq

    def new_message(
        self,
        chat_id: int,
        *,
        from_bot: bool,
        sender: dict[str, Any],
        text: str = "",
        entities: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> ChatMessage:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        person = self.people[chat_id]
        message = ChatMessage(
            chat_id=chat_id,
            message_id=message_id,
            from_bot=from_bot,
            date=self.now(),
            text=text,
            entities=entities or [],
            sender=sender,
            chat=person.chat_json(),
            **fields,
        )
        self.chats.setdefault(chat_id, []).append(message)
        self.messages[(chat_id, message_id)] = message
        self.message_log.append(message)
        return message

    def new_query_id(self) -> str:
        return str(next(self._query_ids))

    def is_blocked(self, chat_id: Any) -> bool:
        person = self.people.get(chat_id) if isinstance(chat_id, int) else None
        return bool(person and person.blocked)

    # -- updates -----------------------------------------------------------------------------
    def enqueue_update(self, update: dict[str, Any]) -> int:
        """Enqueue a raw update (without ``update_id``); returns the assigned update id."""
        update_id = next(self._update_ids)
        self.pending_updates.append(PendingUpdate(update_id, {"update_id": update_id, **update}))
        self.notify()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        """``getUpdates(offset=...)``: forget the updates the bot has confirmed."""
        if offset > 0:
            remaining = [u for u in self.pending_updates if u.update_id >= offset]
        elif offset < 0:
            remaining = self.pending_updates[offset:]
        else:
            return
        if len(remaining) != len(self.pending_updates):
            self.pending_updates = remaining
            self.notify()

    def discard_update(self, update: PendingUpdate) -> None:
        """A webhook delivery of ``update`` was answered with a 2xx: it is no longer pending (no notice)."""
        self.pending_updates = [u for u in self.pending_updates if u is not update]

    def drop_pending_updates(self) -> None:
        """Forget every update no bot has fetched yet (as ``deleteWebhook(drop_pending_updates=True)`` does)."""
        if self.pending_updates:
            self.confirm_updates(self.pending_updates[-1].update_id + 1)

    # -- files and command menus -------------------------------------------------------------
    def store_file(
        self,
        filename: str | None,
        mime_type: str | None,
        content: bytes | None,
        *,
        url: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> SentDocument:
        """A file the bot sent, kept for ``getFile`` and the web chat; ``size`` (width, height): a photo."""
        number = next(self._file_ids)
        if not mime_type or mime_type == "application/octet-stream":
            guessed = mimetypes.guess_type(filename or "")[0]
            mime_type = guessed or mime_type
        digest = hashlib.sha1(content or (url or "").encode()).hexdigest()[:16]
        extension = ""
        if filename and "." in filename:
            extension = "." + filename.rsplit(".", 1)[1]
        photo = size is not None
        document = SentDocument(
            file_id=f"{'AgACAgIAAxkDAAI' if photo else 'BQACAgIAAxkDAAI'}{number:06d}{digest}",
            file_unique_id=f"AgAD{number:06d}",
            file_name=filename,
            mime_type=mime_type,
            content=content,
            url=url,
            file_path=f"{'photos' if photo else 'documents'}/file_{number}{extension}",
            width=size[0] if size is not None else None,
            height=size[1] if size is not None else None,
        )
        self.files[document.file_id] = document
        return document

    def file_content(self, file_id: str) -> bytes | None:
        stored = self.files.get(file_id)
        return None if stored is None else stored.content

    @staticmethod
    def commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The command list set for exactly this scope and language (``[]`` if none)."""
        return list(self.command_lists.get(self.commands_key(scope, language_code), []))

    def commands_for_chat(self, chat_id: int, language_code: str | None) -> list[dict[str, str]]:
        """The "/" menu a person sees in their private chat: the most specific list that exists, in Telegram's
        order (this chat, all private chats, the default; each in the person's language first)."""
        scopes = ({"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, {"type": "default"})
        languages = (language_code, "") if language_code else ("",)
        for scope in scopes:
            for language in languages:
                found = self.command_lists.get(self.commands_key(scope, language))
                if found:
                    return list(found)
        return []
