"""People acting in their private chats with the bot, as a Telegram client would: send text, press buttons,
block the bot, and wait (event-driven, bounded) for what the bot sends or edits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.botapi.html import utf16_len
from sandbox.botapi.payments import PaymentDesk
from sandbox.botapi.records import Button, CallbackQueryRecord, ChatMessage
from sandbox.botapi.state import BotApiState, Person

__all__ = ["FakeUser"]


class FakeUser(Person):
    """A Telegram user talking to the bot in a private chat (chat id == user id)."""

    def __init__(
        self,
        api: BotApiState,
        payments: PaymentDesk,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        started: bool,
    ) -> None:
        super().__init__(user_id, first_name, last_name, username, language_code, started)
        self.api = api
        self.payments = payments  # the server's invoices, checkouts and charges (``pay``)
        self._mark = 0  # event sequence number of this user's last action

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r}, username={self.username!r})"

    # -- what the user sees ----------------------------------------------------------------
    @property
    def chat(self) -> list[ChatMessage]:
        """All messages of the chat in order (user's and bot's; deleted ones flagged)."""
        return list(self.api.chats.get(self.id, []))

    def messages(self, *, include_deleted: bool = False, from_bot: bool | None = None) -> list[ChatMessage]:
        return [
            m
            for m in self.api.chats.get(self.id, [])
            if (include_deleted or not m.is_deleted) and (from_bot is None or m.from_bot == from_bot)
        ]

    def bot_messages(self, *, include_deleted: bool = False) -> list[ChatMessage]:
        return self.messages(include_deleted=include_deleted, from_bot=True)

    def last_bot_message(self, *, include_deleted: bool = False) -> ChatMessage:
        """The bot's latest message; fails (with the chat) if the bot has sent none."""
        messages = self.bot_messages(include_deleted=include_deleted)
        if not messages:
            raise AssertionError(f"no bot message in the chat of {self!r}:\n{self.transcript()}")
        return messages[-1]

    def last_keyboard_message(self) -> ChatMessage:
        """The latest visible bot message that currently has an inline keyboard; fails (with the chat) if none."""
        found = self._last_keyboard_message()
        if found is None:
            raise AssertionError(
                f"no bot message with an inline keyboard in the chat of {self!r}:\n{self.transcript()}"
            )
        return found

    def _last_keyboard_message(self) -> ChatMessage | None:
        for message in reversed(self.bot_messages()):
            if message.keyboard:
                return message
        return None

    def buttons(self, message: ChatMessage | int | None = None) -> list[str]:
        """Labels of the latest inline keyboard (or of ``message``); ``[]`` if there is none."""
        target = self._resolve(message) if message is not None else self._last_keyboard_message()
        return target.buttons if target is not None else []

    def keyboard(self, message: ChatMessage | int | None = None) -> list[list[tuple[str, str | None]]]:
        target = self._resolve(message) if message is not None else self._last_keyboard_message()
        return target.reply_markup if target is not None else []

    def mark(self) -> int:
        """Make :meth:`wait_for` ignore everything that happened so far (e.g. before a job runs)."""
        self._mark = self.api.event_seq
        return self._mark

    def message(self, message_id: int) -> ChatMessage:
        return self._resolve(message_id)

    def transcript(self) -> str:
        lines = [m.describe() for m in self.chat]
        return "\n".join(lines) if lines else "(empty chat)"

    # -- actions ---------------------------------------------------------------------------
    async def send(self, text: str) -> ChatMessage:
        """Send a text message to the bot (commands get a ``bot_command`` entity at offset 0)."""
        if self.blocked:
            raise AssertionError(f"{self!r} has blocked the bot; call unblock() first")
        api = self.api
        entities: list[dict[str, Any]] = []
        command = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?(?=\s|$)", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
        message = api.new_message(self.id, from_bot=False, sender=self.to_api(), text=text, entities=entities)
        self.started = True
        self._mark = api.record_event("user", message)
        api.enqueue_update({"message": message.to_api()})
        return message

    async def press(self, label: str | Callable[[str], bool], *, message: ChatMessage | int | None = None) -> str:
        """Press the inline button labelled ``label`` (or matching the predicate on its label).

        Looks at the latest bot message with an inline keyboard, or at ``message``.  Enqueues a
        ``callback_query`` update with the button's ``callback_data`` and returns the query id.
        """
        target = self._resolve(message) if message is not None else self.last_keyboard_message()
        return await self.press_button(target, target.button(label))

    async def press_button(self, message: ChatMessage | int, button: Button) -> str:
        """Press ``button`` of ``message`` (as a chat client does); returns the callback query id."""
        target = self._resolve(message)
        if target.is_deleted:
            raise AssertionError(f"message {target.message_id} was deleted")
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} is not a callback button: {button.raw}")
        return await self._callback(target, button.callback_data, forged=False)

    async def press_data(self, message_id: ChatMessage | int | None, data: str) -> str:
        """Send a callback query with arbitrary ``data`` from ``message_id`` (forgery tests).

        ``message_id=None`` uses the latest bot message.  Returns the query id.
        """
        target = self.last_bot_message(include_deleted=True) if message_id is None else self._resolve(message_id)
        return await self._callback(target, data, forged=True)

    async def _callback(self, target: ChatMessage, data: str, *, forged: bool) -> str:
        if self.blocked:
            raise AssertionError(f"{self!r} has blocked the bot; call unblock() first")
        api = self.api
        query_id = api.new_query_id()
        api.callback_queries[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=self.id,
            chat_id=target.chat_id,
            message_id=target.message_id,
            data=data,
            forged=forged,
        )
        self._mark = api.mark_action()
        api.enqueue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.to_api(),
                    "message": target.to_api(),
                    "chat_instance": str(-abs(self.id) * 7919 - 17),
                    "data": data,
                }
            }
        )
        return query_id

    async def pay(self, invoice: ChatMessage | int, **options: Any) -> Any:
        """Tap Pay on the invoice ``invoice`` (``sandbox.botapi.payments.PaymentDesk.pay``): the pre-checkout
        query, the bot's answer, and on yes the ``successful_payment``. Returns the ``Checkout``."""
        return await self.payments.pay(self, self._resolve(invoice), **options)

    async def block(self, *, notify: bool = True) -> None:
        """Block the bot: further bot calls for this chat get 403 "bot was blocked by the user".

        With ``notify`` a ``my_chat_member`` update (member -> kicked) is enqueued, like Telegram.
        """
        self.blocked = True
        if notify:
            self.api.enqueue_update(self._member_update("member", "kicked"))

    async def unblock(self, *, notify: bool = True) -> None:
        self.blocked = False
        self.started = True
        if notify:
            self.api.enqueue_update(self._member_update("kicked", "member"))

    def _member_update(self, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self.api.bot_user(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return {
            "my_chat_member": {
                "chat": self.chat_json(),
                "from": self.to_api(),
                "date": self.api.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        }

    # -- waiting ---------------------------------------------------------------------------
    async def wait_for(
        self,
        match: str | re.Pattern[str] | Callable[[ChatMessage], bool],
        *,
        timeout: float | None = None,
        since: int | None = None,
    ) -> ChatMessage:
        """Wait until a bot message in this chat is sent or edited so that it satisfies ``match``.

        ``match`` is a substring of the text/caption, a compiled regex (``search``) or a predicate
        on a :class:`ChatMessage` snapshot.  Only bot messages sent/edited after this user's last
        action (send/press) count, so responses that arrived before this call are still found;
        pass ``since=0`` to consider the whole chat history.  Returns the live message (current
        state) of the first matching event.  Event-driven: no polling, no sleeps.
        """
        api = self.api
        after = self._mark if since is None else since
        predicate = _message_predicate(match)
        checked = 0

        def find() -> ChatMessage | None:
            nonlocal checked
            events = api.events_by_chat.get(self.id, [])
            for event in events[checked:]:
                from_bot = event.seq > after and event.kind in ("sent", "edited") and event.message.from_bot
                if from_bot and predicate(event.snapshot):
                    return event.message
            checked = len(events)
            return None

        def describe() -> str:
            return (
                f"{self!r}: no bot message matching {match!r} within {timeout_value}s "
                f"(events after #{after}). Chat:\n{self.transcript()}"
            )

        timeout_value = api.default_timeout if timeout is None else timeout
        return await api.wait_until(find, timeout_value, describe)

    def _resolve(self, message: ChatMessage | int) -> ChatMessage:
        message_id = message.message_id if isinstance(message, ChatMessage) else int(message)
        found = self.api.messages.get((self.id, message_id))
        if found is None:
            raise AssertionError(f"no message {message_id} in the chat of {self!r}")
        return found


def _message_predicate(
    match: str | re.Pattern[str] | Callable[[ChatMessage], bool],
) -> Callable[[ChatMessage], bool]:
    if isinstance(match, str):
        return lambda m: match in m.shown_text
    if isinstance(match, re.Pattern):
        return lambda m: match.search(m.shown_text) is not None
    return match
