"""A Bot API-compatible HTTP server for end-to-end tests, plus handles to act as Telegram users.

The real python-telegram-bot (PTB) ``Application`` talks to this server over HTTP exactly as it
talks to ``api.telegram.org``: ``<url>/bot<token>/<method>`` for methods and
``<url>/file/bot<token>/<file_path>`` for file downloads.  The server runs on 127.0.0.1 on a
random free port inside the test's event loop.

Usage::

    from telegram.ext import ApplicationBuilder
    from tests.harness.fake_bot_api import FakeBotApi

    async def test_booking_flow():
        async with FakeBotApi() as api:
            app = api.configure(ApplicationBuilder()).build()   # token + base_url + base_file_url
            register_handlers(app)
            async with api.running(app):                        # initialize/start/poll ... stop
                alice = api.user(101, first_name="Alice", username="alice")
                await alice.send("/start")
                welcome = await alice.wait_for("Welcome")        # event-driven, no sleeps
                assert alice.buttons() == ["Book a session", "My bookings"]
                await alice.press("Book a session")
                await alice.wait_for(lambda m: "Pick a day" in m.text)
                await api.wait_idle()                            # every update handled + answered
            api.assert_no_errors()

Without the helpers, build the application yourself with
``ApplicationBuilder().token(api.token).base_url(f"{api.url}/bot").base_file_url(f"{api.url}/file/bot")``,
call ``api.attach(app)`` (this makes :meth:`FakeBotApi.wait_idle` exact, see there) and run it with
``async with app: await app.start(); await app.updater.start_polling(poll_interval=0, timeout=1)``.

Behaviour worth knowing:

* Requests may be GET or POST with a query string, ``application/x-www-form-urlencoded``,
  ``application/json`` or ``multipart/form-data`` body.  PTB 22 sends form-encoded bodies (nested
  objects such as ``reply_markup`` as JSON strings) and multipart bodies when uploading files; a
  parameter-less call (``getMe``) is a POST with an empty body.
* Validation mirrors Telegram where it catches bot bugs: message text required and at most 4096
  characters after entity parsing (leading/trailing whitespace is trimmed, like Telegram), HTML
  ``parse_mode`` parsed with Telegram's rules and tag set, ``callback_data`` 1-64 bytes, inline
  buttons need exactly one action, ``editMessageText`` with identical content fails with
  "message is not modified", a callback query can be answered only once, editing/deleting unknown
  messages fails, ``editMessageText`` without ``reply_markup`` removes the inline keyboard (as on
  Telegram), and a bot cannot message a user who has never contacted it (``403 Forbidden: bot can't
  initiate conversation with a user``; pass ``started=True`` to :meth:`FakeBotApi.user` to skip).
  MarkdownV2 text is *not* validated.
* Unknown methods get ``404 Not Found`` (PTB raises ``EndPointNotFound``) and are recorded in
  :attr:`FakeBotApi.unknown_methods`.
* All waits are bounded (default 5 s) and raise :class:`HarnessTimeout` (an ``AssertionError``)
  with a transcript of the relevant state, so a broken test fails fast instead of hanging.
* ``getUpdates`` calls are not recorded in :attr:`FakeBotApi.calls` (they would drown everything
  else); see :attr:`FakeBotApi.get_updates_count` and :attr:`FakeBotApi.last_get_updates_params`.
* Webhooks: after ``setWebhook`` (https only), updates are *delivered* once the test says where the
  https URL is reachable locally: ``api.webhook_target = "http://127.0.0.1:<port>"`` replaces the
  scheme and host of the registered URL (the path is kept).  Each update is POSTed as JSON with
  ``X-Telegram-Bot-Api-Secret-Token`` (when a secret was set) and removed only after a 2xx answer;
  other answers and connection errors are recorded in :attr:`FakeBotApi.webhook_deliveries` as
  ``(update_id, status)`` (``status`` None: no HTTP answer), shown in ``getWebhookInfo`` as
  ``last_error_message``, and retried with a short backoff.  At most ``max_connections`` (default 40)
  requests are in flight, one per chat at a time, so one chat's updates arrive in order.  Pending
  updates keep :meth:`FakeBotApi.wait_idle` waiting, as with polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dtm
import hashlib
import itertools
import json
import logging
import mimetypes
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

__all__ = [
    "Button",
    "Call",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "ChatMessage",
    "ErrorRecord",
    "FakeBotApi",
    "FakeUser",
    "FaultRule",
    "HarnessTimeout",
    "HtmlParseError",
    "SentDocument",
    "parse_html",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_TOKEN = "1000000:TEST-mentor-desk-token"
DEFAULT_TIMEOUT = 5.0
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_LONG_POLL = 50.0
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_MAX_CONNECTIONS = 40  # Telegram's default for setWebhook
WEBHOOK_RETRY_BASE = 0.05  # seconds before the first retry of a failed delivery; doubles up to 1 s

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class HarnessTimeout(AssertionError):
    """A bounded wait of the harness ran out; the message describes what was still missing."""


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html`; the message is what Telegram puts after "can't parse entities: "."""


class _ApiError(Exception):
    """Internal: turns into ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad_request(message: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {message}")


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_BLOCKED = "Forbidden: bot was blocked by the user"
_NOT_STARTED = "Forbidden: bot can't initiate conversation with a user"


# ---------------------------------------------------------------------------------------------
# HTML parse mode (Telegram's rules, modelled on tdlib's parse_html)
# ---------------------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
        "code", "pre", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_html_entity(source: str, pos: int) -> tuple[str | None, int]:
    """Decode ``&...;`` at ``pos``; returns (character or None, position after the entity)."""
    n = len(source)
    if source.startswith("&#", pos):
        j = pos + 2
        is_hex = j < n and source[j] in "xX"
        if is_hex:
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if is_hex else "0123456789"
        while j < n and source[j] in digits:
            j += 1
        if j == start or j - pos >= 10:
            return None, pos
        value = int(source[start:j], 16 if is_hex else 10)
        if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return None, pos
        char = chr(value)
    else:
        j = pos + 1
        while j < n and source[j].isascii() and source[j].isalpha():
            j += 1
        char = _NAMED_HTML_ENTITIES.get(source[pos + 1 : j])
        if char is None:  # unsupported named entity: the '&' is kept as text
            return None, pos
    if j < n and source[j] == ";":
        j += 1
    return char, j


@dataclasses.dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the resulting text
    attrs: dict[str, str]
    byte_offset: int


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-HTML into (plain text, message entities) or raise :class:`HtmlParseError`.

    Supported like Telegram: b/strong, i/em, u/ins, s/strike/del, tg-spoiler,
    ``span class="tg-spoiler"``, ``a href``, code, pre (with ``code class="language-x"``),
    blockquote (``expandable``), tg-emoji, tg-time, numeric character references and the named
    entities ``&lt; &gt; &amp; &quot;`` (any other ``&`` is literal text).  Entity offsets are in
    UTF-16 code units.  The text is *not* trimmed here.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(source)
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8", "surrogatepass"))

    while i < n:
        char = source[i]
        if char == "&":
            decoded, j = _decode_html_entity(source, i)
            if decoded is not None:
                out.append(decoded)
                pos16 += _utf16_len(decoded)
                i = j
                continue
        if char != "<":
            out.append(char)
            pos16 += _utf16_len(char)
            i += 1
            continue

        begin = i
        i += 1
        if i < n and source[i] == "/":  # end tag
            j = i + 1
            while j < n and not source[j].isspace() and source[j] != ">":
                j += 1
            end_name = source[i + 1 : j].lower()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i = j + 1
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            top = stack.pop()
            if end_name and end_name != top.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_tag(top, pos16 - top.start, out, entities)
            continue

        # start tag
        j = i
        while j < n and not source[j].isspace() and source[j] not in ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i:j].lower()
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] == ">":
                j += 1
                break
            attr_begin = j
            while j < n and not source[j].isspace() and source[j] not in "=>":
                j += 1
            attr_name = source[attr_begin:j].lower()
            if not attr_name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] != "=":  # attribute without value, e.g. <blockquote expandable>
                attrs[attr_name] = ""
                continue
            j += 1
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] in "'\"":
                quote = source[j]
                j += 1
                value_chars: list[str] = []
                while j < n and source[j] != quote:
                    if source[j] == "&":
                        decoded, k = _decode_html_entity(source, j)
                        if decoded is not None:
                            value_chars.append(decoded)
                            j = k
                            continue
                    value_chars.append(source[j])
                    j += 1
                if j >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                j += 1
                value = "".join(value_chars)
            else:
                token_begin = j
                while j < n and (source[j].isalnum() or source[j] in ".-"):
                    j += 1
                value = source[token_begin:j].lower()
                if j < n and not source[j].isspace() and source[j] != ">":
                    raise HtmlParseError(
                        f"Unexpected end of name token at byte offset {byte_offset(token_begin)}"
                    )
            attrs[attr_name] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(begin)}'
            )
        stack.append(_OpenTag(name, pos16, attrs, byte_offset(begin)))
        i = j

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), entities


def _close_tag(tag: _OpenTag, length: int, out: list[str], entities: list[dict[str, Any]]) -> None:
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
        if tag.name == "code" and tag.attrs.get("class", "").startswith("language-"):
            entity["_language"] = tag.attrs["class"][len("language-") :]
        if tag.name == "pre":
            # <pre><code class="language-x">...</code></pre> becomes one pre entity with a language
            for other in entities:
                if (
                    other["type"] == "code"
                    and other["offset"] == tag.start
                    and other["length"] == length
                    and other.get("_language")
                ):
                    entity["language"] = other["_language"]
                    entities.remove(other)
                    break
    elif tag.name == "a":
        url = tag.attrs.get("href")
        if not url:  # like Telegram: the link text is used as URL
            text = "".join(out)
            url = text.encode("utf-16-le")[tag.start * 2 :].decode("utf-16-le")
        entity.update(type="text_link", url=url)
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    else:  # tg-time: allowed, but we do not emit the (newer) date_time entity
        return
    entities.append(entity)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram does, keeping entities consistent."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

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

    @property
    def file_size(self) -> int | None:
        return None if self.content is None else len(self.content)

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

    ``text`` is the plain text the user sees (entities parsed out); ``source`` is what the bot sent
    (e.g. the HTML).  ``versions`` holds earlier ``(text, reply_markup)`` states, oldest first.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None
    raw_reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    is_deleted: bool = False
    document: SentDocument | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    versions: list[tuple[str | None, list[list[tuple[str, str | None]]]]] = dataclasses.field(
        default_factory=list
    )
    sender: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    chat: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    # -- keyboard views -------------------------------------------------------------------
    @property
    def keyboard(self) -> list[list[Button]]:
        """The current inline keyboard as rows of :class:`Button` (empty if none)."""
        markup = self.raw_reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [
            [Button(b.get("text", ""), b.get("callback_data"), b.get("url"), raw=b) for b in row]
            for row in rows
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
        """Text or caption, whichever the message has (``""`` if neither)."""
        return self.text if self.text is not None else (self.caption or "")

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
        if self.document is not None:
            data["document"] = self.document.to_api()
            if self.caption:
                data["caption"] = self.caption
                if self.caption_entities:
                    data["caption_entities"] = [dict(e) for e in self.caption_entities]
        elif self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = [dict(e) for e in self.entities]
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
    text: str | None
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
        if self.chat_id is not None and str(params.get("chat_id")) != str(self.chat_id):
            return False
        return True


@dataclasses.dataclass
class _Update:
    update_id: int
    payload: dict[str, Any]
    fetched: int = 0  # how many getUpdates responses carried it


@dataclasses.dataclass
class _ChatEvent:
    seq: int
    kind: str  # "user" | "sent" | "edited" | "deleted"
    message: ChatMessage  # live object
    snapshot: ChatMessage  # state right after the event


@dataclasses.dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    content: bytes


_MethodHandler = Callable[[dict[str, Any], dict[str, _Upload]], Awaitable[Any]]


# ---------------------------------------------------------------------------------------------
# Parameter decoding
# ---------------------------------------------------------------------------------------------

# Parameters whose form value is a plain string and must never be JSON-decoded.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "action", "language_code",
        "inline_message_id", "business_connection_id", "message_effect_id", "secret_token",
        "ip_address", "description", "short_description", "name", "file_id", "document", "photo",
        "thumbnail", "audio", "video", "voice", "animation", "sticker", "emoji", "title", "query",
        "custom_emoji_id",
    }
)  # fmt: skip
# Parameters that carry JSON objects/arrays (may arrive as JSON strings even in a JSON body).
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope", "menu_button",
        "allowed_updates", "link_preview_options", "reply_parameters", "media",
    }
)  # fmt: skip


def _coerce_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _update_lane(update: _Update) -> object:
    """Which webhook lane an update waits for: its chat (one delivery at a time per chat), else only itself."""
    for key, body in update.payload.items():
        if key == "update_id" or not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from")
        if isinstance(chat, dict) and "id" in chat:
            return ("chat", chat["id"])
    return ("update", update.update_id)


# ---------------------------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------------------------


class FakeUser:
    """A Telegram user talking to the bot in a private chat (chat id == user id)."""

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        started: bool,
    ) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started  # has contacted the bot; needed for the bot to message them
        self.blocked = False  # has blocked the bot
        self._mark = 0  # event sequence number of this user's last action

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r}, username={self.username!r})"

    # -- JSON -----------------------------------------------------------------------------
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

    # -- what the user sees ----------------------------------------------------------------
    @property
    def chat(self) -> list[ChatMessage]:
        """All messages of the chat in order (user's and bot's; deleted ones flagged)."""
        return list(self.api._chats.get(self.id, []))

    def messages(self, *, include_deleted: bool = False, from_bot: bool | None = None) -> list[ChatMessage]:
        return [
            m
            for m in self.api._chats.get(self.id, [])
            if (include_deleted or not m.is_deleted) and (from_bot is None or m.from_bot == from_bot)
        ]

    def bot_messages(self, *, include_deleted: bool = False) -> list[ChatMessage]:
        return self.messages(include_deleted=include_deleted, from_bot=True)

    def last_bot_message(self, *, include_deleted: bool = False) -> ChatMessage | None:
        messages = self.bot_messages(include_deleted=include_deleted)
        return messages[-1] if messages else None

    def last_keyboard_message(self) -> ChatMessage | None:
        """The latest visible bot message that currently has an inline keyboard."""
        for message in reversed(self.bot_messages()):
            if message.keyboard:
                return message
        return None

    def buttons(self, message: ChatMessage | int | None = None) -> list[str]:
        """Labels of the latest inline keyboard (or of ``message``); ``[]`` if there is none."""
        target = self._resolve(message) if message is not None else self.last_keyboard_message()
        return target.buttons if target is not None else []

    def keyboard(self, message: ChatMessage | int | None = None) -> list[list[tuple[str, str | None]]]:
        target = self._resolve(message) if message is not None else self.last_keyboard_message()
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
            entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())})
        message = api._new_message(
            self.id, from_bot=False, sender=self.to_api(), text=text, entities=entities
        )
        self.started = True
        self._mark = api._record_event("user", message)
        api._enqueue({"message": message.to_api()})
        return message

    async def press(
        self, label: str | Callable[[str], bool], *, message: ChatMessage | int | None = None
    ) -> str:
        """Press the inline button labelled ``label`` (or matching the predicate on its label).

        Looks at the latest bot message with an inline keyboard, or at ``message``.  Enqueues a
        ``callback_query`` update with the button's ``callback_data`` and returns the query id.
        """
        if message is not None:
            target = self._resolve(message)
        else:
            target = self.last_keyboard_message()
            if target is None:
                raise AssertionError(f"no bot message with an inline keyboard in the chat of {self!r}:\n"
                                     f"{self.transcript()}")
        if target.is_deleted:
            raise AssertionError(f"message {target.message_id} was deleted")
        button = target.button(label)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} is not a callback button: {button.raw}")
        return await self._callback(target, button.callback_data, forged=False)

    async def press_data(self, message_id: ChatMessage | int | None, data: str) -> str:
        """Send a callback query with arbitrary ``data`` from ``message_id`` (forgery tests).

        ``message_id=None`` uses the latest bot message.  Returns the query id.
        """
        if message_id is None:
            target = self.last_bot_message(include_deleted=True)
            if target is None:
                raise AssertionError(f"no bot message in the chat of {self!r}")
        else:
            target = self._resolve(message_id)
        return await self._callback(target, data, forged=True)

    async def _callback(self, target: ChatMessage, data: str, *, forged: bool) -> str:
        if self.blocked:
            raise AssertionError(f"{self!r} has blocked the bot; call unblock() first")
        api = self.api
        query_id = str(next(api._query_ids))
        api.callback_queries[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=self.id,
            chat_id=target.chat_id,
            message_id=target.message_id,
            data=data,
            forged=forged,
        )
        api._seq += 1
        self._mark = api._seq
        api._enqueue(
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

    async def block(self, *, notify: bool = True) -> None:
        """Block the bot: further bot calls for this chat get 403 "bot was blocked by the user".

        With ``notify`` a ``my_chat_member`` update (member -> kicked) is enqueued, like Telegram.
        """
        self.blocked = True
        if notify:
            self.api._enqueue(self._member_update("member", "kicked"))

    async def unblock(self, *, notify: bool = True) -> None:
        self.blocked = False
        self.started = True
        if notify:
            self.api._enqueue(self._member_update("kicked", "member"))

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
                "date": self.api._now(),
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
            events = api._events_by_chat.get(self.id, [])
            for event in events[checked:]:
                if event.seq > after and event.kind in ("sent", "edited") and event.message.from_bot:
                    if predicate(event.snapshot):
                        return event.message
            checked = len(events)
            return None

        def describe() -> str:
            return (
                f"{self!r}: no bot message matching {match!r} within {timeout_value}s "
                f"(events after #{after}). Chat:\n{self.transcript()}"
            )

        timeout_value = api.default_timeout if timeout is None else timeout
        return await api._wait_until(find, timeout_value, describe)

    def _resolve(self, message: ChatMessage | int) -> ChatMessage:
        message_id = message.message_id if isinstance(message, ChatMessage) else int(message)
        found = self.api._messages.get((self.id, message_id))
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


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class FakeBotApi:
    """Bot API-compatible HTTP server on 127.0.0.1 (random port) for end-to-end tests.

    Use as ``async with FakeBotApi() as api:`` or call :meth:`start` / :meth:`stop` yourself; both
    must happen inside the test's event loop.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "mentor_desk_test_bot",
        bot_first_name: str = "Mentor Desk",
        default_timeout: float = DEFAULT_TIMEOUT,
        latency: float | Callable[[str], float] = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.default_timeout = default_timeout
        #: Seconds added to every request except getUpdates (a float or ``f(method) -> float``).
        self.latency = latency
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

        # state
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, list[ChatMessage]] = {}
        self._messages: dict[tuple[int, int], ChatMessage] = {}
        self._message_log: list[ChatMessage] = []  # all chats, in creation order
        self._next_message_id: dict[int, int] = {}
        self._events_by_chat: dict[int, list[_ChatEvent]] = {}
        self._seq = 0
        self._updates: list[_Update] = []  # not yet confirmed by an offset
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, SentDocument] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._in_flight: list[Call] = []
        self._polls_waiting = 0
        self._poll_generation = 0
        self._activity = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._apps: list[Any] = []
        self._webhook_target: str | None = None
        self._webhook_lanes: set[object] = set()  # chats (or lone updates) with a delivery in flight
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self._webhook_loop: asyncio.Task[None] | None = None
        self._client: aiohttp.ClientSession | None = None

        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._methods: dict[str, _MethodHandler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "logout": self._log_out,
            "close": self._close,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "sendchataction": self._send_chat_action,
            "setmydescription": self._bot_setting("description", "description"),
            "getmydescription": self._bot_getting("description", "description"),
            "setmyshortdescription": self._bot_setting("short_description", "short_description"),
            "getmyshortdescription": self._bot_getting("short_description", "short_description"),
            "setmyname": self._bot_setting("name", "name"),
            "getmyname": self._bot_getting("name", "name"),
        }

    # =========================================================================================
    # lifecycle
    # =========================================================================================
    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a request whose client went away (e.g. PTB cancelling its long
        # poll on stop) is cancelled instead of lingering until its timeout.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.default_timeout))
        self._webhook_loop = asyncio.create_task(self._deliver_webhooks(), name="FakeBotApi:webhook")

    async def stop(self) -> None:
        """Stop the server; pending long polls are released at once (they return no updates)."""
        if self._runner is None:
            return
        self._closing = True
        self._notify(activity=False)
        tasks = [*self._webhook_tasks, *([self._webhook_loop] if self._webhook_loop else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._webhook_loop = None
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    @property
    def webhook_target(self) -> str | None:
        """Where the registered https webhook is reachable locally, e.g. ``http://127.0.0.1:8443``.

        Replaces scheme and host of the webhook URL (its path is kept); None (default) delivers nothing.
        """
        return self._webhook_target

    @webhook_target.setter
    def webhook_target(self, target: str | None) -> None:
        self._webhook_target = target.rstrip("/") if target else None
        self._notify(activity=False)  # wakes the delivery loop

    def configure(self, builder: Any) -> Any:
        """Point a PTB ``ApplicationBuilder`` at this server (token, base_url, base_file_url)."""
        return builder.token(self.token).base_url(self.base_url).base_file_url(self.base_file_url)

    def attach(self, application: Any) -> Any:
        """Let :meth:`wait_idle` also wait for ``application`` to finish processing updates."""
        if application not in self._apps:
            self._apps.append(application)
        return application

    def detach(self, application: Any) -> None:
        with contextlib.suppress(ValueError):
            self._apps.remove(application)

    @contextlib.asynccontextmanager
    async def running(
        self,
        application: Any,
        *,
        poll_timeout: float = 1.0,
        drop_pending_updates: bool = False,
        run_hooks: bool = False,
    ) -> AsyncIterator[Any]:
        """Run a PTB ``Application`` with polling against this server; stop it cleanly on exit.

        Does ``initialize``, ``start``, ``updater.start_polling(poll_interval=0)`` and on exit
        ``updater.stop``, ``stop``, ``shutdown``, and attaches the application for
        :meth:`wait_idle`.  Like ``async with application``, this does *not* call the builder's
        ``post_init``/``post_stop``/``post_shutdown`` hooks (only ``run_polling`` does) unless
        ``run_hooks=True``, which calls them where ``run_polling`` would.
        """
        self.attach(application)
        try:
            await application.initialize()
            try:
                if run_hooks and application.post_init:
                    await application.post_init(application)
                await application.start()
                await application.updater.start_polling(
                    poll_interval=0,
                    timeout=dtm.timedelta(seconds=poll_timeout),
                    drop_pending_updates=drop_pending_updates,
                )
                try:
                    yield application
                finally:
                    if application.updater.running:
                        await application.updater.stop()
                    if application.running:
                        await application.stop()
                        if run_hooks and application.post_stop:
                            await application.post_stop(application)
            finally:
                await application.shutdown()
                if run_hooks and application.post_shutdown:
                    await application.post_shutdown(application)
        finally:
            self.detach(application)

    # =========================================================================================
    # test-side API
    # =========================================================================================
    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """Get or create the user ``user_id`` (private chat id == user id).

        ``started=True`` marks the user as having contacted the bot before, so the bot may message
        them without them sending anything first.
        """
        existing = self._users.get(user_id)
        if existing is not None:
            if first_name is not None:
                existing.first_name = first_name
            if username is not None:
                existing.username = username
            if last_name is not None:
                existing.last_name = last_name
            existing.language_code = language_code
            existing.started = existing.started or started
            return existing
        user = FakeUser(
            self,
            user_id,
            first_name or f"User{user_id}",
            last_name,
            username,
            language_code,
            started,
        )
        self._users[user_id] = user
        self._chats.setdefault(user_id, [])
        return user

    @property
    def users(self) -> list[FakeUser]:
        return list(self._users.values())

    def chat(self, chat_id: int) -> list[ChatMessage]:
        return list(self._chats.get(chat_id, []))

    @property
    def event_seq(self) -> int:
        """Sequence number of the latest chat event; usable as ``wait_for(..., since=...)``."""
        return self._seq

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def enqueue_update(self, update: dict[str, Any]) -> int:
        """Enqueue a raw update (without ``update_id``); returns the assigned update id."""
        return self._enqueue(update)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> FaultRule:
        """Make the next ``times`` calls of ``method`` (optionally only for ``chat_id``) fail.

        ``status`` 429 gets ``parameters.retry_after`` (PTB raises ``RetryAfter``), 403 defaults to
        "Forbidden: bot was blocked by the user" (``Forbidden``), 5xx to a server error
        (``NetworkError``).  ``method="*"`` matches any method except getUpdates.
        """
        if description is None:
            description = {
                400: "Bad Request",
                403: _BLOCKED,
                429: f"Too Many Requests: retry after {retry_after if retry_after is not None else 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }.get(status, f"Error {status}")
        if status == 429 and retry_after is None:
            retry_after = 1
        rule = FaultRule(method, status, description, retry_after, chat_id, remaining=times)
        self.faults.append(rule)
        return rule

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[ChatMessage]:
        """Bot messages (live objects), optionally of one chat, in sending order."""
        return [m for m in self._message_log if m.from_bot and (chat_id is None or m.chat_id == chat_id)]

    def unanswered_callbacks(self) -> list[CallbackQueryRecord]:
        return [q for q in self.callback_queries.values() if not q.answered]

    def assert_callbacks_answered_once(self) -> None:
        problems = [
            f"{q.id} (data={q.data!r}): answered {len(q.answers)}x, rejected {q.rejected_answers}x"
            for q in self.callback_queries.values()
            if len(q.answers) != 1 or q.rejected_answers
        ]
        if problems:
            raise AssertionError("callback queries not answered exactly once: " + "; ".join(problems))

    def assert_no_errors(self) -> None:
        """No unexpected error responses, unknown methods or harness failures happened."""
        problems = [
            f"{e.method} -> {e.error_code} {e.description}" for e in self.errors_returned if not e.injected
        ]
        problems += [f"unknown method {c.method}" for c in self.unknown_methods]
        problems += [f"harness error: {e}" for e in self.internal_errors]
        if problems:
            raise AssertionError("Bot API errors:\n  " + "\n  ".join(problems))

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def file_content(self, file_id: str) -> bytes | None:
        stored = self._files.get(file_id)
        return None if stored is None else stored.content

    async def wait_idle(
        self,
        timeout: float | None = None,
        *,
        quiet: float = 0.05,
        require_answers: bool = True,
    ) -> None:
        """Wait until the bot has dealt with everything the test did.

        Idle means, all at the same time: every enqueued update has been *confirmed* by the bot
        (a later getUpdates carried an offset past it, which PTB sends only after it put the update
        into ``application.update_queue``); every callback query has been answered (unless
        ``require_answers=False``); no bot request other than getUpdates is in flight; and every
        attached application (see :meth:`attach` / :meth:`running`) has an empty update queue with
        all items marked done (``update_queue.join()``) and no running PTB-internal handler tasks
        (``block=False`` handlers, concurrent updates).  After that, no new activity (request,
        update, answer) may happen for ``quiet`` seconds; any activity restarts the check.  Each
        step is event-driven; the whole wait is bounded by ``timeout``.
        """
        loop = asyncio.get_running_loop()
        timeout_value = self.default_timeout if timeout is None else timeout
        deadline = loop.time() + timeout_value

        def describe() -> str:
            problems = self._idle_problems(require_answers) + self._app_problems()
            detail = "; ".join(problems) or "activity never settled"
            return f"wait_idle timed out after {timeout_value}s: {detail}"

        while True:
            await self._wait_until(
                lambda: not self._idle_problems(require_answers), deadline - loop.time(), describe
            )
            if not self._apps_idle():
                await self._wait_apps(deadline, describe)
                continue
            activity = self._activity
            quiet_end = loop.time() + quiet
            if quiet_end > deadline:
                raise HarnessTimeout(describe())
            changed = await self._wait_until(
                lambda: self._activity != activity, quiet_end - loop.time(), describe, raise_on_timeout=False
            )
            if not changed and not self._idle_problems(require_answers) and self._apps_idle():
                return

    # =========================================================================================
    # internals: events and waiting
    # =========================================================================================
    def _now(self) -> int:
        return int(self.clock())

    def _notify(self, *, activity: bool = True) -> None:
        if activity:
            self._activity += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float,
        describe: Callable[[], str],
        *,
        raise_on_timeout: bool = True,
    ) -> Any:
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

    def _idle_problems(self, require_answers: bool) -> list[str]:
        problems = []
        if self._updates:
            ids = [u.update_id for u in self._updates]
            hint = "" if self._polls_waiting or self._in_flight else " (is the Updater polling?)"
            if self.webhook is not None:
                hint = " (webhook set, no webhook_target)" if self._webhook_target is None else " (webhook)"
            problems.append(f"{len(ids)} update(s) not yet confirmed by the bot {ids}{hint}")
        if self._in_flight:
            problems.append("bot requests in flight: " + ", ".join(c.method for c in self._in_flight))
        if require_answers:
            unanswered = self.unanswered_callbacks()
            if unanswered:
                problems.append(
                    "callback queries not answered: "
                    + ", ".join(f"{q.id} (data={q.data!r})" for q in unanswered)
                )
        return problems

    @staticmethod
    def _app_busy_tasks(application: Any) -> list[asyncio.Task[Any]]:
        # PTB keeps tasks made by Application.create_task in a private set; only PTB's own update
        # processing tasks count (user-made long-lived tasks would never finish).
        tasks = getattr(application, "_Application__create_task_tasks", ())
        return [
            t
            for t in tasks
            if not t.done() and t.get_name().startswith(("Application:", "ConversationHandler:"))
        ]

    def _apps_idle(self) -> bool:
        return not self._app_problems()

    def _app_problems(self) -> list[str]:
        problems = []
        for application in self._apps:
            unfinished = getattr(application.update_queue, "_unfinished_tasks", 0)
            if unfinished:
                problems.append(f"application still processing {unfinished} update(s)")
            busy = self._app_busy_tasks(application)
            if busy:
                problems.append("application tasks running: " + ", ".join(t.get_name() for t in busy))
        return problems

    async def _wait_apps(self, deadline: float, describe: Callable[[], str]) -> None:
        loop = asyncio.get_running_loop()
        for application in self._apps:
            try:
                await asyncio.wait_for(application.update_queue.join(), max(deadline - loop.time(), 0))
                busy = self._app_busy_tasks(application)
                if busy:
                    await asyncio.wait_for(asyncio.wait(busy), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise HarnessTimeout(describe()) from None

    def _record_event(self, kind: str, message: ChatMessage) -> int:
        self._seq += 1
        self._events_by_chat.setdefault(message.chat_id, []).append(
            _ChatEvent(self._seq, kind, message, message.snapshot())
        )
        self._notify()
        if self.on_event is not None:
            self.on_event(message.chat_id, kind, message)
        return self._seq

    def _enqueue(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append(_Update(update_id, {"update_id": update_id, **update}))
        self._notify()
        return update_id

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            remaining = [u for u in self._updates if u.update_id >= offset]
        elif offset < 0:
            remaining = self._updates[offset:]
        else:
            return
        if len(remaining) != len(self._updates):
            self._updates = remaining
            self._notify()

    def _drop_pending(self) -> None:
        if self._updates:
            self._confirm(self._updates[-1].update_id + 1)

    def drop_pending_updates(self) -> None:
        """Forget every update no bot has fetched yet (as ``deleteWebhook(drop_pending_updates=True)`` does)."""
        self._drop_pending()

    def _new_message(
        self,
        chat_id: int,
        *,
        from_bot: bool,
        sender: dict[str, Any],
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> ChatMessage:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        user = self._users[chat_id]
        message = ChatMessage(
            chat_id=chat_id,
            message_id=message_id,
            from_bot=from_bot,
            date=self._now(),
            text=text,
            entities=entities or [],
            sender=sender,
            chat=user.chat_json(),
            **fields,
        )
        self._chats.setdefault(chat_id, []).append(message)
        self._messages[(chat_id, message_id)] = message
        self._message_log.append(message)
        return message

    # =========================================================================================
    # internals: webhook delivery
    # =========================================================================================
    async def _deliver_webhooks(self) -> None:
        """While a webhook is set and its target known, start deliveries; event-driven like every wait here."""
        while not self._closing:
            changed = self._changed
            if self.webhook is not None and self._webhook_target is not None:
                self._start_deliveries()
            await changed.wait()

    def _start_deliveries(self) -> None:
        limit = _as_int(self.webhook.get("max_connections") or WEBHOOK_MAX_CONNECTIONS, "max_connections")
        for update in self._updates:  # oldest first: a chat's next update waits for its lane
            if len(self._webhook_lanes) >= limit:
                return
            lane = _update_lane(update)
            if lane in self._webhook_lanes:
                continue
            self._webhook_lanes.add(lane)
            task = asyncio.create_task(self._deliver_update(update, lane), name=f"FakeBotApi:deliver:{lane}")
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)

    async def _deliver_update(self, update: _Update, lane: object) -> None:
        """POST ``update`` until a 2xx answer (then it is gone) or until the webhook/target goes away."""
        attempt = 0
        try:
            while self._delivery_wanted(update):
                status = await self._post_update(update)
                self.webhook_deliveries.append((update.update_id, status))
                if status is not None and 200 <= status < 300:
                    self._updates = [u for u in self._updates if u is not update]
                    return
                self._notify()  # wakes tests waiting on webhook_deliveries
                await asyncio.sleep(min(WEBHOOK_RETRY_BASE * 2**attempt, 1.0))
                attempt += 1
        except Exception as exc:  # a harness bug: report loudly
            _LOGGER.exception("FakeBotApi failed delivering update %s", update.update_id)
            self.internal_errors.append(f"webhook delivery of {update.update_id}: {exc!r}")
        finally:
            self._webhook_lanes.discard(lane)
            self._notify()

    def _delivery_wanted(self, update: _Update) -> bool:
        return (
            not self._closing
            and self.webhook is not None
            and self._webhook_target is not None
            and any(u is update for u in self._updates)
        )

    async def _post_update(self, update: _Update) -> int | None:
        """One delivery attempt: the HTTP status, or None without an answer (recorded as Telegram would)."""
        assert self.webhook is not None and self._webhook_target is not None and self._client is not None
        webhook = self.webhook
        registered = urllib.parse.urlsplit(webhook["url"])
        url = self._webhook_target + urllib.parse.urlunsplit(("", "", registered.path or "/", registered.query, ""))
        headers = {WEBHOOK_SECRET_HEADER: webhook["secret_token"]} if webhook.get("secret_token") else {}
        update.fetched += 1
        try:
            async with self._client.post(url, json=update.payload, headers=headers) as response:
                await response.read()
                status: int | None = response.status
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = None, f"Connection failed: {type(exc).__name__}"
        if status is None or not 200 <= status < 300:
            webhook["last_error_date"], webhook["last_error_message"] = self._now(), error
        return status

    # =========================================================================================
    # internals: HTTP
    # =========================================================================================
    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, _Upload]]:
        params: dict[str, Any] = {k: _coerce_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, _Upload] = {}
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError:
                    raise _bad_request("can't parse JSON encoded request body") from None
                if not isinstance(data, dict):
                    raise _bad_request("JSON object expected as request body")
                params.update(data)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = _Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = _coerce_form_value(key, str(value))
        for key in ("chat_id", "message_id", "user_id"):
            value = params.get(key)
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                params[key] = int(value)
        for key in _JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise _bad_request(f"can't parse {key} JSON object") from None
        return params, files

    def _response(self, status: int, body: dict[str, Any]) -> web.Response:
        return web.json_response(body, status=status)

    def _error_response(self, method: str, params: dict[str, Any], error: _ApiError, *, injected: bool,
                        request: web.Request | None = None, call: Call | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        deliverable = request is None or (request.transport is not None and not request.transport.is_closing())
        if deliverable:
            self.errors_returned.append(
                ErrorRecord(method, params, error.code, error.description, injected, self.clock())
            )
        if call is not None:
            call.status = error.code
            call.description = error.description
        return self._response(error.code, body)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        is_poll = method.lower() == "getupdates"
        if request.match_info["token"] != self.token:
            return self._error_response(method, {}, _ApiError(401, "Unauthorized"), injected=False)
        try:
            params, files = await self._read_params(request)
        except _ApiError as exc:
            return self._error_response(method, {}, exc, injected=False)

        if is_poll:
            self.get_updates_count += 1
            self.last_get_updates_params = params
            fault = next((r for r in self.faults if r.method.lower() == "getupdates" and r.remaining > 0), None)
            if fault is not None:
                fault.remaining -= 1
                fault.hits += 1
                extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                error = _ApiError(fault.status, fault.description, extra)
                return self._error_response(method, params, error, injected=True, request=request)
            try:
                result = await self._get_updates(params, files)
            except _ApiError as exc:
                return self._error_response(method, params, exc, injected=False, request=request)
            return self._response(200, {"ok": True, "result": result})

        loop = asyncio.get_running_loop()
        started = loop.time()
        call = Call(
            method=method,
            params=params,
            time=self.clock(),
            content_type=request.content_type if "Content-Type" in request.headers else "",
            files={k: (f.filename, f.content_type, len(f.content)) for k, f in files.items()},
        )
        self.calls.append(call)
        self._in_flight.append(call)
        self._notify()
        try:
            latency = self.latency(method) if callable(self.latency) else self.latency
            if latency:
                await asyncio.sleep(latency)
            fault = next((rule for rule in self.faults if rule.matches(method, params)), None)
            if fault is not None:
                fault.remaining -= 1
                fault.hits += 1
                extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                return self._error_response(
                    method, params, _ApiError(fault.status, fault.description, extra), injected=True, call=call
                )
            handler = self._methods.get(method.lower())
            if handler is None:
                self.unknown_methods.append(call)
                return self._error_response(method, params, _ApiError(404, "Not Found"), injected=False, call=call)
            try:
                result = await handler(params, files)
            except _ApiError as exc:
                injected = exc.description in (_BLOCKED,) and self._is_blocked(params.get("chat_id"))
                return self._error_response(method, params, exc, injected=injected, call=call)
            except Exception as exc:  # a harness bug: report loudly
                _LOGGER.exception("FakeBotApi failed handling %s", method)
                self.internal_errors.append(f"{method}: {exc!r}")
                return self._error_response(
                    method, params, _ApiError(500, f"Internal Server Error: {exc!r}"), injected=False, call=call
                )
            call.status = 200
            call.result = result
            return self._response(200, {"ok": True, "result": result})
        finally:
            call.duration = loop.time() - started
            self._in_flight.remove(call)
            self._notify()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path and stored.content is not None:
                mime_type = stored.mime_type or "application/octet-stream"
                return web.Response(body=stored.content, content_type=mime_type)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    # =========================================================================================
    # internals: validation helpers
    # =========================================================================================
    def _is_blocked(self, chat_id: Any) -> bool:
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        return bool(user and user.blocked)

    def _require_chat(self, params: dict[str, Any], *, for_sending: bool = True) -> FakeUser:
        if "chat_id" not in params or params["chat_id"] in ("", None):
            raise _bad_request("chat_id is empty")
        chat_id = params["chat_id"]
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise _bad_request("chat not found")
        if user.blocked:
            raise _ApiError(403, _BLOCKED)
        if for_sending and not user.started:
            raise _ApiError(403, _NOT_STARTED)
        return user

    def _require_message(self, user: FakeUser, params: dict[str, Any], action: str) -> ChatMessage:
        if params.get("message_id") in (None, ""):
            raise _bad_request("message identifier is not specified")
        message_id = _as_int(params["message_id"], "message_id")
        message = self._messages.get((user.id, message_id))
        if message is None or message.is_deleted:
            raise _bad_request(f"message to {action} not found")
        return message

    def _format_text(
        self, text: Any, parse_mode: Any, entities: Any, *, limit: int, kind: str
    ) -> tuple[str, list[dict[str, Any]]]:
        if text is None or text == "":
            raise _bad_request(f"{kind} text is empty" if kind == "message" else "caption is empty")
        if not isinstance(text, str):
            text = json.dumps(text) if not isinstance(text, (int, float)) else str(text)
        mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                plain, parsed = parse_html(text)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            plain = text
            parsed = [dict(e) for e in entities] if isinstance(entities, list) else []
        else:
            raise _bad_request("unsupported parse_mode")
        plain, parsed = _trim(plain, parsed)
        if not plain:
            raise _bad_request(f"{kind} text is empty" if kind == "message" else "caption is empty")
        if len(plain) > limit:
            raise _bad_request("message is too long" if kind == "message" else "message caption is too long")
        return plain, parsed

    @staticmethod
    def _validate_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an array")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict):
                        raise _bad_request(
                            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                        )
                    if not isinstance(button.get("text"), str) or not button["text"]:
                        raise _bad_request(
                            'can\'t parse inline keyboard button: Field "text" must be of type String'
                        )
                    actions = [k for k in button if k != "text"]
                    if not actions:
                        raise _bad_request(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in button:
                        data = button["callback_data"]
                        if (
                            not isinstance(data, str)
                            or not data
                            or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES
                        ):
                            raise _bad_request("BUTTON_DATA_INVALID")
                    if "url" in button and (not isinstance(button["url"], str) or ":" not in button["url"]):
                        raise _bad_request("BUTTON_URL_INVALID")
        elif not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _inline_rows(markup: dict[str, Any] | None) -> list[Any]:
        if not markup or "inline_keyboard" not in markup:
            return []
        return markup["inline_keyboard"]

    def _snapshot_version(self, message: ChatMessage) -> None:
        message.versions.append((message.shown_text, message.reply_markup))

    # =========================================================================================
    # Bot API methods
    # =========================================================================================
    async def _get_me(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset") or 0, "offset")
        limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL)
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._polls_waiting += 1
        self._notify(activity=False)  # wakes an older poll (-> Conflict) and anyone watching polls
        try:
            while True:
                if self._updates:
                    batch = self._updates[:limit]
                    for update in batch:
                        update.fetched += 1
                    return [json.loads(json.dumps(u.payload)) for u in batch]
                if self._closing:
                    return []
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        finally:
            self._polls_waiting -= 1

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        url = params.get("url") or ""
        if _as_bool(params.get("drop_pending_updates", False)):
            self._drop_pending()
        if not url:
            self.webhook = None
            return True
        if not str(url).startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections"),
        }
        return True

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self.webhook = None
        if _as_bool(params.get("drop_pending_updates", False)):
            self._drop_pending()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections") or WEBHOOK_MAX_CONNECTIONS
            if self.webhook.get("last_error_date"):
                info["last_error_date"] = self.webhook["last_error_date"]
                info["last_error_message"] = self.webhook["last_error_message"]
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _log_out(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self.logged_out = True
        return True

    async def _close(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self.closed = True
        return True

    async def _send_message(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        user = self._require_chat(params)
        text, entities = self._format_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"),
            limit=MAX_MESSAGE_LENGTH, kind="message",
        )  # fmt: skip
        markup = self._validate_markup(params.get("reply_markup"))
        message = self._new_message(
            user.id,
            from_bot=True,
            sender=self.bot_user(),
            text=text,
            entities=entities,
            source=params.get("text"),
            parse_mode=params.get("parse_mode"),
            raw_reply_markup=markup,
        )
        self._record_event("sent", message)
        return message.to_api()

    async def _edit_message_text(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        user = self._require_chat(params, for_sending=False)
        message = self._require_message(user, params, "edit")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._format_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"),
            limit=MAX_MESSAGE_LENGTH, kind="message",
        )  # fmt: skip
        markup = self._validate_markup(params.get("reply_markup"))
        new_rows = self._inline_rows(markup)
        if (
            text == message.text
            and entities == message.entities
            and new_rows == self._inline_rows(message.raw_reply_markup)
        ):
            raise _bad_request(_NOT_MODIFIED)
        self._snapshot_version(message)
        message.text = text
        message.entities = entities
        message.source = params.get("text")
        message.parse_mode = params.get("parse_mode")
        # like Telegram: omitting reply_markup removes the inline keyboard
        message.raw_reply_markup = markup if new_rows else None
        message.edit_date = self._now()
        self._record_event("edited", message)
        return message.to_api()

    async def _edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        user = self._require_chat(params, for_sending=False)
        message = self._require_message(user, params, "edit")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        markup = self._validate_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad_request("inline keyboard expected")
        new_rows = self._inline_rows(markup)
        if new_rows == self._inline_rows(message.raw_reply_markup):
            raise _bad_request(_NOT_MODIFIED)
        self._snapshot_version(message)
        message.raw_reply_markup = markup if new_rows else None
        message.edit_date = self._now()
        self._record_event("edited", message)
        return message.to_api()

    async def _delete_message(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        user = self._require_chat(params, for_sending=False)
        message = self._require_message(user, params, "delete")
        message.is_deleted = True
        self._record_event("deleted", message)
        return True

    async def _answer_callback_query(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        query_id = params.get("callback_query_id")
        record = self.callback_queries.get(str(query_id)) if query_id is not None else None
        if record is None:
            raise _bad_request(_QUERY_TOO_OLD)
        if record.answers:
            record.rejected_answers += 1
            raise _bad_request(_QUERY_TOO_OLD)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        answer = CallbackAnswer(
            query_id=record.id,
            text=text,
            show_alert=_as_bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=params.get("cache_time"),
            time=self.clock(),
        )
        record.answers.append(answer)
        self.callback_answers.append(answer)
        return True

    async def _send_document(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        user = self._require_chat(params)
        upload = files.get("document")
        document: SentDocument
        if upload is not None:
            document = self._store_file(upload.filename, upload.content_type, upload.content)
        else:
            reference = params.get("document")
            if not reference:
                raise _bad_request("there is no document in the request")
            reference = str(reference)
            if reference.startswith("attach://"):
                attached = files.get(reference[len("attach://") :])
                if attached is None:
                    raise _bad_request("there is no document in the request")
                document = self._store_file(attached.filename, attached.content_type, attached.content)
            elif reference in self._files:
                document = self._files[reference]
            elif re.match(r"https?://", reference):
                document = self._store_file(reference.rsplit("/", 1)[-1] or None, None, None, url=reference)
            else:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = None, []
        if params.get("caption"):
            caption, caption_entities = self._format_text(
                params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH, kind="caption",
            )  # fmt: skip
        markup = self._validate_markup(params.get("reply_markup"))
        message = self._new_message(
            user.id,
            from_bot=True,
            sender=self.bot_user(),
            document=document,
            caption=caption,
            caption_entities=caption_entities,
            source=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            raw_reply_markup=markup,
        )
        self._record_event("sent", message)
        return message.to_api()

    def _store_file(
        self, filename: str | None, mime_type: str | None, content: bytes | None, *, url: str | None = None
    ) -> SentDocument:
        number = next(self._file_ids)
        if not mime_type or mime_type == "application/octet-stream":
            guessed = mimetypes.guess_type(filename or "")[0]
            mime_type = guessed or mime_type
        digest = hashlib.sha1(content or (url or "").encode()).hexdigest()[:16]
        extension = ""
        if filename and "." in filename:
            extension = "." + filename.rsplit(".", 1)[1]
        document = SentDocument(
            file_id=f"BQACAgIAAxkDAAI{number:06d}{digest}",
            file_unique_id=f"AgAD{number:06d}",
            file_name=filename,
            mime_type=mime_type,
            content=content,
            url=url,
            file_path=f"documents/file_{number}{extension}",
        )
        self._files[document.file_id] = document
        return document

    async def _get_file(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        data: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_size is not None:
            data["file_size"] = stored.file_size
            data["file_path"] = stored.file_path
        return data

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    async def _set_my_commands(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        return self.commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _set_chat_menu_button(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id not in (None, ""):
            self._require_chat(params, for_sending=False)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise _bad_request("can't parse menu button JSON object")
        self.menu_buttons[chat_id if chat_id not in (None, "") else None] = button
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        chat_id = params.get("chat_id")
        key = chat_id if chat_id not in (None, "") else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}

    _CHAT_ACTIONS = frozenset(
        {
            "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
            "upload_document", "choose_sticker", "find_location", "record_video_note",
            "upload_video_note",
        }
    )  # fmt: skip

    async def _send_chat_action(self, params: dict[str, Any], files: dict[str, _Upload]) -> Any:
        user = self._require_chat(params)
        action = params.get("action")
        if action not in self._CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append((user.id, action))
        return True

    def _bot_setting(self, kind: str, param: str) -> _MethodHandler:
        async def handler(params: dict[str, Any], files: dict[str, _Upload]) -> Any:
            self.bot_settings.setdefault(kind, {})[str(params.get("language_code") or "")] = str(
                params.get(param) or ""
            )
            return True

        return handler

    def _bot_getting(self, kind: str, param: str) -> _MethodHandler:
        async def handler(params: dict[str, Any], files: dict[str, _Upload]) -> Any:
            values = self.bot_settings.get(kind, {})
            language = str(params.get("language_code") or "")
            value = values.get(language, values.get("", self.bot_first_name if kind == "name" else ""))
            return {param: value}

        return handler
