"""Test harness for end-to-end tests of the Mentor Desk bot.

The main entry point is :class:`~tests.harness.fake_bot_api.FakeBotApi`, a Bot API-compatible
HTTP server on loopback that the real python-telegram-bot ``Application`` talks to.
"""

from tests.harness.fake_bot_api import *  # noqa: F403  (its __all__ is the one list of exports)
from tests.harness.fake_bot_api import __all__  # noqa: F401
