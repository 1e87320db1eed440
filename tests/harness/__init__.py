"""Test harness for end-to-end tests of the Mentor Desk bot.

The main entry point is :class:`~tests.harness.fake_bot_api.FakeBotApi`, a Bot API-compatible
HTTP server on loopback that the real python-telegram-bot ``Application`` talks to.
"""

from tests.harness.fake_bot_api import (
    Button,
    CallbackAnswer,
    CallbackQueryRecord,
    Call,
    ChatMessage,
    ErrorRecord,
    FakeBotApi,
    FakeUser,
    FaultRule,
    HarnessTimeout,
    HtmlParseError,
    SentDocument,
    parse_html,
)

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
