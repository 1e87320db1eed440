"""Concurrent updates, in order per person.

PTB's ``concurrent_updates`` runs updates as independent tasks; a conversation, though, is per person: a typed
reason must not overtake the button press that asked for it. ``PerUserUpdateProcessor`` runs updates of
different users (or chats) at the same time and updates of one user strictly one after the other, in the order
Telegram delivered them.

It extends PTB through its documented seam, ``BaseUpdateProcessor.do_process_update``. PTB's ``process_update``
(final) takes a slot of the base class's limit *before* it calls ``do_process_update``, so an update waiting there
for its person's turn holds that slot. Two limits therefore:

* ``max_running`` (our own semaphore, taken once it is the person's turn): how many updates are handled at once.
  An update waiting for its person's turn holds none of these, so one busy user never occupies them all.
* ``max_held`` (the base class's limit, ``max_concurrent_updates``): how many updates the processor holds,
  handled or waiting for their turn. It is far larger, so that updates waiting behind their own person's do not
  fill it: another user is held up only when one user has thousands of updates waiting at once. It bounds no
  memory - PTB starts a task for every fetched update before it calls the processor - it only has to be finite.

Telegram's pre-checkout question is the exception (``is_urgent``): Telegram waits at most 10 seconds for its
answer. It waits for its person's earlier updates - so it sees what they did (a payment just reported, a time
just let go) - but only until each of them has finished or said that its changes are stored (``chat.turns``:
the update that sends the invoice settles before the call, so the question does not wait for Telegram's answer to
it), and at most ``urgent_wait`` seconds (2): an earlier update that takes longer is overtaken, and the question
answered anyway. It never holds its person's turn (it changes nothing; later updates need not wait for it) and
never takes a running slot: its own semaphore (as large as ``max_running``) bounds how many run at once, so a
crowd of other people's updates does not hold it up either. An answer that overtook an earlier update is still
safe: the payment that follows is checked against the booking again when it arrives, and refunded if the booking
no longer waits for it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from chat.turns import SETTLE

# How many updates may wait for their person's turn per running slot (``max_held = max_running * HELD_PER_SLOT``).
HELD_PER_SLOT = 64
URGENT_WAIT = 2.0  # seconds a pre-checkout question waits for its person's earlier updates (Telegram allows 10)


def is_urgent(update: object) -> bool:
    """A pre-checkout question: answered at once, out of turn (see the module notes)."""
    return isinstance(update, Update) and update.pre_checkout_query is not None


def ordering_key(update: object) -> int | str | None:
    """Whose turn an update waits for: the sender, else the chat; None (no ordering) for anything else."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return f"chat:{update.effective_chat.id}"
    return None


class _Person:
    """One person's (or chat's) updates in the processor: whose turn it is, and which have not settled yet."""

    __slots__ = ("changed", "lock", "unsettled", "updates")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # the turn; asyncio.Lock wakes waiters first come, first served
        self.updates = 0  # updates holding or waiting (urgent ones included): the entry goes when it is 0
        self.unsettled: set[int] = set()  # updates in turn that have neither finished nor settled (by number)
        # a pre-checkout question waiting for them: set (and dropped) when one of them settles or finishes
        self.changed: asyncio.Event | None = None

    def settle(self, number: int) -> None:
        if number in self.unsettled:
            self.unsettled.discard(number)
            if self.changed is not None:  # only a waiting question made one: nothing to do per update otherwise
                self.changed.set()
                self.changed = None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most ``max_running`` updates handled at once; one at a time, in arrival order, per user."""

    __slots__ = ("_numbers", "_people", "_running", "_urgent", "max_running", "urgent_wait")

    def __init__(
        self, max_running: int = 256, max_held: int | None = None, urgent_wait: float = URGENT_WAIT
    ) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        held = max_running * HELD_PER_SLOT if max_held is None else max_held
        if held < max_running:
            raise ValueError("max_held must be at least max_running")
        super().__init__(held)
        self.max_running = max_running
        self.urgent_wait = urgent_wait
        self._running = asyncio.Semaphore(max_running)
        self._urgent = asyncio.Semaphore(max_running)  # pre-checkout questions, beside the others
        self._people: dict[int | str, _Person] = {}
        self._numbers = itertools.count()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        person = self._people.get(key)
        if person is None:
            person = self._people[key] = _Person()
        person.updates += 1
        try:
            if is_urgent(update):
                await self._out_of_turn(person, coroutine)
                return
            number = next(self._numbers)
            person.unsettled.add(number)
            token = SETTLE.set(functools.partial(person.settle, number))
            try:
                # The lock first, the running slot only then: waiting for one's turn takes no running slot.
                async with person.lock, self._running:
                    await coroutine
            finally:
                SETTLE.reset(token)
                person.settle(number)
        finally:
            person.updates -= 1
            if person.updates == 0:
                del self._people[key]

    async def _out_of_turn(self, person: _Person, coroutine: Awaitable[Any]) -> None:
        """A pre-checkout question: once every earlier update of its person has finished or settled, or after
        ``urgent_wait`` seconds; never a running slot, never the person's turn."""
        earlier = set(person.unsettled)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.urgent_wait
        while earlier & person.unsettled:
            left = deadline - loop.time()
            if left <= 0:
                break  # an earlier update takes too long: answer without waiting for it
            try:
                if person.changed is None:
                    person.changed = asyncio.Event()
                await asyncio.wait_for(person.changed.wait(), left)
            except TimeoutError:
                break
        async with self._urgent:
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def users_in_flight(self) -> int:
        """How many users have an update running or waiting (for tests: the map empties when idle)."""
        return len(self._people)
