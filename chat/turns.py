"""A person's turn: their updates are handled one after another (``bot.updates.PerUserUpdateProcessor``).

Telegram's pre-checkout question waits for its person's earlier updates, so that it sees what they stored - but
only for what they *store*. An update that has stored its changes and has only Telegram calls left (an invoice
to send, a screen to edit) says so with ``settled()``: a pre-checkout question waiting behind it may go ahead,
instead of waiting for those calls' answers. Handlers commit before they call Telegram, so sending an invoice
settles its update (``chat.payments.send_invoice``). Outside the processor (tests, tools) ``settled`` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

# Set by the update processor around each update it handles in turn; read by ``settled``.
SETTLE: ContextVar[Callable[[], None] | None] = ContextVar("mentor_desk_settle", default=None)


def settled() -> None:
    """This update's changes are stored: an urgent update of the same person need not wait for the rest of it."""
    settle = SETTLE.get()
    if settle is not None:
        settle()
