"""A Bot API-compatible HTTP server on loopback, and handles to act as Telegram users in it.

The real python-telegram-bot ``Application`` talks to it over HTTP as it talks to ``api.telegram.org``. The
end-to-end tests, the benchmarks and the sandbox use it; :class:`FakeBotApi` (``server``) is the entry point.

Modules: ``html`` (Telegram's HTML parse mode), ``records`` (messages, calls, callback queries),
``state`` (chats, updates, the change signal), ``validation`` (request parameters), ``methods`` (the Bot API
methods), ``webhooks`` (webhook delivery), ``users`` (people acting in chats), ``server`` (HTTP, lifecycle and
the test-side API).
"""

from sandbox.botapi.errors import HarnessTimeout
from sandbox.botapi.html import HtmlParseError, parse_html
from sandbox.botapi.records import (
    Button,
    Call,
    CallbackAnswer,
    CallbackQueryRecord,
    ChatMessage,
    ErrorRecord,
    FaultRule,
    SentDocument,
)
from sandbox.botapi.server import DEFAULT_TIMEOUT, DEFAULT_TOKEN, FakeBotApi
from sandbox.botapi.users import FakeUser
from sandbox.botapi.webhooks import WEBHOOK_SECRET_HEADER

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN",
    "WEBHOOK_SECRET_HEADER",
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
