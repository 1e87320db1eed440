"""What the server records: messages in chats (with their keyboards and documents), the bot's calls, errors,
callback queries and their answers, injected faults, pending updates and chat events."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "Button",
    "Call",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "ChatEvent",
    "ChatMessage",
    "ErrorRecord",
    "FaultRule",
    "PendingUpdate",
    "SentDocument",
    "Upload",
]


@dataclasses.dataclass(frozen=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def data(self) -> str:
        """The callback data of a callback button; fails for another kind (a URL button)."""
        if self.callback_data is None:
            raise AssertionError(f"button {self.text!r} is not a callback button: {self.raw}")
        return self.callback_data

    def as_tuple(self) -> tuple[str, str | None]:
        return (self.text, self.callback_data if self.callback_data is not None else self.url)


@dataclasses.dataclass
class SentDocument:
    """A document in a chat (uploaded by the bot, or re-sent by file_id/URL)."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    content: bytes | None  # None when sent by URL
    url: str | None = None
    file_path: str | None = None
    width: int | None = None  # a photo's size in pixels (``sendPhoto``); None for other files
    height: int | None = None

    @property
    def file_size(self) -> int | None:
        return None if self.content is None else len(self.content)

    def photo_size(self) -> dict[str, Any]:
        """A photo as Telegram's ``PhotoSize`` JSON."""
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
        }
        if self.file_size is not None:
            data["file_size"] = self.file_size
        return data

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name is not None:
            data["file_name"] = self.file_name
        if self.mime_type is not None:
            data["mime_type"] = self.mime_type
        if self.file_size is not None:
            data["file_size"] = self.file_size
        return data


@dataclasses.dataclass(eq=False)
class ChatMessage:
    """A message in a private chat, in its *current* state (edits applied, ``is_deleted`` flag).

    ``text`` is the plain text the user sees (entities parsed out), ``""`` for a message that has none (a photo or
    document: ``caption``; an invoice; a payment); Telegram has no empty text messages, so ``""`` means exactly
    that. ``source`` is what the bot sent (e.g. the HTML). ``versions`` holds earlier ``(text, reply_markup)``
    states, oldest first.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str = ""
    entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None
    raw_reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    is_deleted: bool = False
    document: SentDocument | None = None
    photo: SentDocument | None = None  # ``sendPhoto``: the photo (its ``width`` and ``height`` set)
    caption: str = ""  # a photo's or document's; "" if none (Telegram has no empty captions)
    caption_entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    invoice: dict[str, Any] | None = None  # ``Invoice`` JSON (``sandbox.botapi.payments``)
    invoice_payload: str | None = None  # the invoice's payload: the bot's, never shown to the user
    successful_payment: dict[str, Any] | None = None  # ``SuccessfulPayment`` JSON, a service message
    versions: list[tuple[str, list[list[tuple[str, str | None]]]]] = dataclasses.field(default_factory=list)
    sender: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    chat: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    # -- keyboard views -------------------------------------------------------------------
    @property
    def keyboard(self) -> list[list[Button]]:
        """The current inline keyboard as rows of :class:`Button` (empty if none)."""
        markup = self.raw_reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [
            [Button(b.get("text", ""), b.get("callback_data"), b.get("url"), raw=b) for b in row] for row in rows
        ]

    @property
    def reply_markup(self) -> list[list[tuple[str, str | None]]]:
        """The current inline keyboard as rows of ``(text, callback_data or url)``; ``[]`` if none."""
        return [[button.as_tuple() for button in row] for row in self.keyboard]

    @property
    def buttons(self) -> list[str]:
        """Labels of all inline buttons, row by row."""
        return [button.text for row in self.keyboard for button in row]

    @property
    def has_keyboard(self) -> bool:
        return bool(self.keyboard)

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of a ReplyKeyboardMarkup sent with this message, if any."""
        markup = self.raw_reply_markup or {}
        if "keyboard" not in markup:
            return None
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in markup["keyboard"]]

    def button(self, label: str | Callable[[str], bool]) -> Button:
        matches = [b for row in self.keyboard for b in row if _label_matches(label, b.text)]
        if len(matches) != 1:
            what = "no" if not matches else "several"
            raise AssertionError(
                f"{what} button matching {label!r} on message {self.message_id}; buttons: {self.buttons}"
            )
        return matches[0]

    @property
    def shown_text(self) -> str:
        """Text or caption, whichever the message has (an invoice: its title and description; ``""`` if none)."""
        if not self.text and self.invoice is not None:
            return f"{self.invoice['title']}\n{self.invoice['description']}"
        return self.text or self.caption or ""

    def snapshot(self) -> ChatMessage:
        return dataclasses.replace(self, entities=list(self.entities), versions=list(self.versions))

    def to_api(self) -> dict[str, Any]:
        """The message as Bot API ``Message`` JSON."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": dict(self.sender),
            "chat": dict(self.chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.document is not None or self.photo is not None:
            if self.document is not None:
                data["document"] = self.document.to_api()
            if self.photo is not None:
                data["photo"] = [self.photo.photo_size()]
            if self.caption:
                data["caption"] = self.caption
                if self.caption_entities:
                    data["caption_entities"] = [dict(e) for e in self.caption_entities]
        elif self.text:
            data["text"] = self.text
            if self.entities:
                data["entities"] = [dict(e) for e in self.entities]
        if self.invoice is not None:
            data["invoice"] = dict(self.invoice)
        if self.successful_payment is not None:
            data["successful_payment"] = dict(self.successful_payment)
        if self.raw_reply_markup and "inline_keyboard" in self.raw_reply_markup:
            data["reply_markup"] = json.loads(json.dumps(self.raw_reply_markup))
        return data

    def describe(self) -> str:
        who = "bot" if self.from_bot else "user"
        flags = " (deleted)" if self.is_deleted else ""
        flags += " (edited)" if self.edit_date is not None else ""
        body = self.shown_text
        if self.document is not None:
            body = f"[document {self.document.file_name!r}] {body}"
        if self.photo is not None:
            body = f"[photo {self.photo.width}x{self.photo.height}] {body}"
        if self.invoice is not None:
            body = f"[invoice {self.invoice['total_amount']} {self.invoice['currency']}] {body}"
        if self.successful_payment is not None:
            paid = self.successful_payment
            body = f"[paid {paid['total_amount']} {paid['currency']}: {paid['telegram_payment_charge_id']}]"
        keyboard = f" {self.reply_markup}" if self.keyboard else ""
        return f"#{self.message_id} {who}{flags}: {body!r}{keyboard}"


def _label_matches(label: str | Callable[[str], bool], text: str) -> bool:
    return label(text) if callable(label) else text == label


@dataclasses.dataclass
class Call:
    """One HTTP request the bot made (``getUpdates`` excluded)."""

    method: str
    params: dict[str, Any]
    time: float  # api.clock() when the request arrived
    content_type: str  # "" when the request had no body (PTB: parameter-less calls such as getMe)
    files: dict[str, tuple[str | None, str | None, int]] = dataclasses.field(default_factory=dict)
    status: int | None = None  # HTTP status of the response, None while in flight
    result: Any = None
    description: str | None = None
    duration: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")


@dataclasses.dataclass
class ErrorRecord:
    method: str
    params: dict[str, Any]
    error_code: int
    description: str
    injected: bool  # produced by fail_next()/block(), i.e. expected by the test
    time: float


@dataclasses.dataclass
class CallbackAnswer:
    query_id: str
    text: str  # "" for an answer without text (Telegram then shows nothing)
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float


@dataclasses.dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    forged: bool
    answers: list[CallbackAnswer] = dataclasses.field(default_factory=list)
    rejected_answers: int = 0  # answerCallbackQuery calls after the first one

    @property
    def answered(self) -> bool:
        return bool(self.answers)


@dataclasses.dataclass
class FaultRule:
    method: str  # case-insensitive; "*" matches every method except getUpdates (name it explicitly)
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | str | None = None
    remaining: int = 1
    hits: int = 0

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.remaining <= 0:
            return False
        if self.method == "*":
            if method.lower() == "getupdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


@dataclasses.dataclass
class PendingUpdate:
    """An update not yet confirmed by the bot (or, with a webhook, not yet answered with a 2xx)."""

    update_id: int
    payload: dict[str, Any]
    fetched: int = 0  # how many getUpdates responses carried it


@dataclasses.dataclass
class ChatEvent:
    """Something that happened in a chat; waits look for it by sequence number."""

    seq: int
    kind: str  # "user" | "sent" | "edited" | "deleted"
    message: ChatMessage  # live object
    snapshot: ChatMessage  # state right after the event


@dataclasses.dataclass
class Upload:
    """A file in a multipart request."""

    filename: str | None
    content_type: str | None
    content: bytes
