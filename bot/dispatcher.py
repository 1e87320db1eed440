"""The dispatcher: sends what the outbox says is due - once, in order, within Telegram's limits.

One *pass*::

    claim a batch (one short transaction: rows become ``sending`` with a lease)
      -> per notification, ``concurrency`` at a time:
           prepare it in its own unit of work (render the text in the recipient's language, or perform an action
           such as expiring a request - ``prepare`` returns None then), commit
           -> send it (at most ``rate`` messages per second overall, and one chat's messages spaced apart)
           -> record the outcome in one short transaction
      -> claim the next batch while the last one is still being sent, until nothing is due.

Passes never overlap in one process: ``wake()`` during a pass makes the pass run once more when it ends. Several
processes may each run a dispatcher on one PostgreSQL database; the outbox's claims keep them from sending a row
twice (``storage.outbox``). PTB's JobQueue only wakes the dispatcher (``bot.app``); the outbox rows are the truth,
so nothing is lost when the process stops or dies: unsent claims are released on a clean stop, and a crashed
process's claims are taken over when their lease runs out.

A due row may also be an action whose "sending" is a call to Telegram: a Stars refund (``prepare`` returns a
``chat.outgoing.StarRefund``). It goes the same way - claimed once, retried on network errors - and when it went
through, ``delivered`` records it in the same transaction as the row's outcome (``handlers.notify.delivered``).

Outcomes: sent; ``RetryAfter`` -> again after ``retry_after`` (not counted as a failed attempt); ``Forbidden``
(the user blocked the bot) -> the user is marked unreachable and the row skipped, and later notifications to them
are skipped without calling Telegram until they write to the bot again; ``BadRequest`` -> given up at once;
network errors, time-outs, 5xx and anything unexpected -> again after an exponential backoff with jitter, given up
after ``max_attempts``. Nothing one row does stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiolimiter import AsyncLimiter  # installed with python-telegram-bot[rate-limiter], which uses it too
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter
from telegram.ext import JobQueue

from chat.messages import send_text
from chat.outgoing import Outgoing, StarRefund
from chat.payments import refund_stars
from domain.notifications import Claimed, Notification
from domain.ports import Clock, UnitOfWork

log = logging.getLogger(__name__)


Prepare = Callable[[UnitOfWork, Notification], Awaitable[Outgoing | StarRefund | None]]
"""Turn a due notification into a message (or a Stars refund to make), inside a unit of work the dispatcher
commits. None: nothing to send (no longer relevant, or an action - such as expiring a request - was performed
instead). Should not raise; if it does, the notification is retried with backoff like a network error."""

Delivered = Callable[[UnitOfWork, Notification], Awaitable[None]]
"""Record what a sent notification did (a Stars refund went through), in the transaction that marks it sent."""


async def prepare_nothing(uow: UnitOfWork, notification: Notification) -> Outgoing | StarRefund | None:
    """The default until the messages are wired in: every notification is skipped."""
    return None


async def delivered_nothing(uow: UnitOfWork, notification: Notification) -> None:
    """The default: a sent message needs nothing recorded besides its row."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """``base * 2 ** (attempt - 1)`` seconds, at most ``cap``, times a random factor in ``1 ± jitter``."""

    base: float = 5.0
    cap: float = 600.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        seconds = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        factor = 1 + (rng or random).uniform(-self.jitter, self.jitter)
        return timedelta(seconds=max(seconds * factor, 0.0))


@dataclass
class DispatchStats:
    """What this dispatcher did since it was made (for logs, tests and benchmarks)."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    released: int = 0
    lost_claims: int = 0  # an outcome arrived after the lease ran out and another claim took the row
    passes: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    kind: str  # "sent" | "retry" | "wait" | "blocked" | "give_up"
    error: str = ""
    wait: timedelta = field(default=timedelta(0))


Waker = Callable[[float], None]
"""Run ``Dispatcher.kick`` after the given number of seconds (``bot.app`` uses the JobQueue)."""


class Dispatcher:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        bot: Bot,
        clock: Clock,
        prepare: Prepare = prepare_nothing,
        *,
        delivered: Delivered = delivered_nothing,
        batch: int = 100,
        concurrency: int = 10,
        max_attempts: int = 5,
        backoff: Backoff = Backoff(),
        lease: timedelta = timedelta(minutes=5),
        chat_interval: float = 1.0,
        waker: Waker | None = None,
        rate: float | None = None,
        read_factory: Callable[[], contextlib.AbstractAsyncContextManager[UnitOfWork]] | None = None,
    ) -> None:
        if batch < 1 or concurrency < 1 or max_attempts < 1:
            raise ValueError("batch, concurrency and max_attempts must be at least 1")
        self.uow_factory = uow_factory
        # reading when to wake next needs no transaction (SQLite: no write lock; PostgreSQL: no BEGIN/ROLLBACK);
        # it is only entered (``async with``), so anything that gives a unit of work that way will do
        self.read_factory: Callable[[], contextlib.AbstractAsyncContextManager[UnitOfWork]] = (
            read_factory or uow_factory
        )
        self.bot = bot
        self.clock = clock
        self.prepare = prepare
        self.delivered = delivered
        self.batch = batch
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.lease = lease
        self.chat_interval = chat_interval  # seconds between two messages to one chat
        self.waker = waker
        # Telegram: about 30 bulk messages per second per bot (``SEND_RATE_PER_SECOND``); None: no cap (tests)
        self._limiter = AsyncLimiter(rate, 1) if rate else None
        # Several processes: only the elected one sends (``bot.leader``), the others' passes do nothing.
        self.may_send: Callable[[], bool] = lambda: True
        self.stats = DispatchStats()
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._stopping = False
        self._planned_wake: float | None = None  # loop time of the earliest wake already asked for
        self._chat_free: dict[int, float] = {}  # chat id -> loop time of its next free turn
        self._chat_done: dict[int, float] = {}  # chat id -> loop time its last send came back
        self._unused: list[Claimed] = []

    # -- waking ------------------------------------------------------------------------------------------------

    def wake(self, delay: float = 0.0) -> None:
        """Ask for a pass in ``delay`` seconds (now by default), e.g. right after committing new notifications."""
        if self._stopping:
            return
        if delay > 0:
            loop = asyncio.get_running_loop()
            at = loop.time() + delay
            if self._planned_wake is not None and loop.time() < self._planned_wake <= at + 0.01:
                return  # an earlier wake is already planned
            self._planned_wake = at
        if delay <= 0:
            self.kick()  # only starts a task: the caller goes on at once
        elif self.waker is not None:
            self.waker(delay)
        else:
            asyncio.get_running_loop().call_later(delay, self.kick)

    def kick(self) -> None:
        """Start a pass now, or - if one is running - make it go round once more when it ends."""
        if self._stopping or not self.may_send():
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._passes(), name="dispatcher")

    async def run_until_idle(self) -> None:
        """Run passes until nothing is due now (tests, benchmarks, scripts)."""
        self.kick()
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; let the messages being sent finish (at most ``timeout`` seconds) and release the rest."""
        self._stopping = True
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            log.warning("dispatcher: sends still running after %.0f s; their rows wait for the lease", timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- a pass ------------------------------------------------------------------------------------------------

    async def _passes(self) -> None:
        while not self._stopping:
            self._again = False
            try:
                await self._pass()
            except Exception:  # the database may be away for a moment: try again at the next wake
                log.exception("dispatcher: pass failed")
            if self._stopping:
                break
            if not self._again:
                await self._plan_next_wake()
                # a kick that came while the next wake was being planned found this task still running and only
                # set ``_again``: go round once more for it rather than leave its messages to a later wake
                if not self._again:
                    break

    async def _pass(self) -> None:
        self.stats.passes += 1
        queue: asyncio.Queue[Claimed] = asyncio.Queue()
        taken = asyncio.Event()
        workers = [
            asyncio.create_task(self._work(queue, taken), name=f"dispatcher worker {i}")
            for i in range(self.concurrency)
        ]
        try:
            while not self._stopping and self.may_send():
                async with self.uow_factory() as uow:
                    claimed = await uow.outbox.claim(self.clock.now(), self.batch, self.lease)
                    await uow.commit()
                for claim in claimed:
                    queue.put_nowait(claim)
                if len(claimed) < self.batch:
                    break
                # claim the next batch when this one is nearly handed out: the senders never run dry, and rows
                # wait in memory for at most about one batch's sending time (well inside the lease)
                while queue.qsize() > self.concurrency and not self._stopping:
                    taken.clear()
                    await taken.wait()
            await queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if self._unused:
                unused, self._unused = self._unused, []
                async with self.uow_factory() as uow:
                    await uow.outbox.release(unused)
                    await uow.commit()
                self.stats.released += len(unused)
            self._forget_past_turns(asyncio.get_running_loop().time())

    async def _work(self, queue: asyncio.Queue[Claimed], taken: asyncio.Event) -> None:
        while True:
            claim = await queue.get()
            taken.set()
            try:
                if self._stopping:
                    self._unused.append(claim)
                else:
                    await self._deliver(claim)
            except Exception:
                log.exception("dispatcher: notification %s failed unexpectedly", claim.outbox_id)
            finally:
                queue.task_done()

    async def _plan_next_wake(self) -> None:
        try:
            async with self.read_factory() as uow:
                due = await uow.outbox.next_due()
        except Exception:
            log.exception("dispatcher: could not read the next due time")
            return
        if due is not None:
            self.wake(max((due - self.clock.now()).total_seconds(), 0.5))

    # -- one notification --------------------------------------------------------------------------------------

    async def _deliver(self, claim: Claimed) -> None:
        n = claim.notification
        try:
            async with self.uow_factory() as uow:
                outgoing = await self.prepare(uow, n)
                if outgoing is None:
                    if await uow.outbox.skip(claim, "nothing to send"):
                        await uow.commit()  # together with whatever ``prepare`` did
                        self.stats.skipped += 1
                    else:
                        self.stats.lost_claims += 1
                    return
                # a refund gives money back to whoever paid, blocked or not
                if isinstance(outgoing, Outgoing) and await uow.users.is_unreachable(outgoing.chat_id):
                    await uow.outbox.skip(claim, "unreachable: the user blocked the bot")
                    await uow.commit()
                    self.stats.skipped += 1
                    return
                await uow.commit()
        except Exception as error:
            log.exception("dispatcher: preparing %s (%s) failed", claim.outbox_id, n.kind)
            await self._record(claim, self._retry(claim, error), chat_id=None)
            return

        if self.clock.now() >= claim.locked_until:
            # the claim ran out while this row waited: another dispatcher may be sending it by now
            log.warning("dispatcher: lease of %s ran out before sending; leaving it", claim.outbox_id)
            self.stats.lost_claims += 1
            return
        await self._chat_turn(outgoing.chat_id)
        if self._limiter is not None:
            await self._limiter.acquire()
        try:
            if isinstance(outgoing, StarRefund):
                await refund_stars(self.bot, outgoing)
            else:
                await send_text(self.bot, outgoing.chat_id, outgoing.text, outgoing.reply_markup)
        except RetryAfter as error:
            outcome = _Outcome("wait", _describe(error), timedelta(seconds=_retry_after_seconds(error)))
        except Forbidden as error:
            outcome = _Outcome("blocked", _describe(error))
        except (BadRequest, ChatMigrated) as error:  # BadRequest before NetworkError: it is a subclass
            outcome = _Outcome("give_up", _describe(error))
        # NetworkError (5xx, connection), TimedOut, anything unexpected: retried later, never lost
        except Exception as error:  # noqa: BLE001
            outcome = self._retry(claim, error)
        else:
            outcome = _Outcome("sent")
        finally:
            self._chat_sent(outgoing.chat_id)
        await self._record(claim, outcome, chat_id=outgoing.chat_id)

    def _retry(self, claim: Claimed, error: BaseException) -> _Outcome:
        if claim.attempts >= self.max_attempts:
            return _Outcome("give_up", f"{_describe(error)} (after {claim.attempts} attempts)")
        return _Outcome("retry", _describe(error), self.backoff.delay(claim.attempts))

    async def _record(self, claim: Claimed, outcome: _Outcome, *, chat_id: int | None) -> None:
        """Write the outcome; a short database hiccup is retried (else the row waits for its lease to run out)."""
        for attempt in range(3):
            try:
                async with self.uow_factory() as uow:
                    held = await self._apply(uow, claim, outcome, chat_id)
                    await uow.commit()
                break
            except Exception:
                log.exception("dispatcher: recording the outcome of %s failed", claim.outbox_id)
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            return
        if not held:
            self.stats.lost_claims += 1
            log.warning(
                "dispatcher: %s was claimed again before its outcome arrived: %s", claim.outbox_id, outcome
            )
            return
        match outcome.kind:
            case "sent":
                self.stats.sent += 1
            case "blocked":
                self.stats.skipped += 1
                log.info("dispatcher: user %s blocked the bot; skipping their notifications", chat_id)
            case "give_up":
                self.stats.failed += 1
                log.warning(
                    "dispatcher: gave up on %s (%s to %s): %s",
                    claim.outbox_id, claim.notification.kind, claim.notification.recipient_id, outcome.error,
                )  # fmt: skip
            case _:
                self.stats.retried += 1

    async def _apply(self, uow: UnitOfWork, claim: Claimed, outcome: _Outcome, chat_id: int | None) -> bool:
        now = self.clock.now()
        match outcome.kind:
            case "sent":
                held = await uow.outbox.mark_sent(claim, now)
                if held:  # else another claim has the row: it records what it does
                    await self.delivered(uow, claim.notification)
                return held
            case "wait":
                return await uow.outbox.retry_at(claim, now + outcome.wait, outcome.error, count_attempt=False)
            case "retry":
                return await uow.outbox.retry_at(claim, now + outcome.wait, outcome.error)
            case "blocked":
                if chat_id is not None:
                    await uow.users.mark_unreachable(chat_id)
                return await uow.outbox.skip(claim, outcome.error)
            case _:
                return await uow.outbox.give_up(claim, outcome.error)

    def _forget_past_turns(self, now: float) -> None:
        """Drop the per-chat turns that have passed (they no longer delay anything)."""
        self._chat_free = {chat: t for chat, t in self._chat_free.items() if t > now}
        self._chat_done = {chat: t for chat, t in self._chat_done.items() if t + self.chat_interval > now}

    async def _chat_turn(self, chat_id: int) -> None:
        """Space messages to one chat ``chat_interval`` apart (Telegram: about one message per second per chat)."""
        if self.chat_interval <= 0:
            return
        now = asyncio.get_running_loop().time()
        if len(self._chat_free) >= _CHAT_TURNS_KEPT:  # a long pass over many chats
            self._forget_past_turns(now)
        turn = max(now, self._chat_free.get(chat_id, 0.0))
        self._chat_free[chat_id] = turn + self.chat_interval
        if turn > now:
            await asyncio.sleep(turn - now)
        # and an interval after the chat's last send came back: a send that was slow to arrive (a busy network or
        # rate limiter) must not bring the next one closer to it than the interval where Telegram counts
        wait = self._chat_done.get(chat_id, -math.inf) + self.chat_interval - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    def _chat_sent(self, chat_id: int | None) -> None:
        if self.chat_interval > 0 and chat_id is not None:
            self._chat_done[chat_id] = asyncio.get_running_loop().time()


_CHAT_TURNS_KEPT = 10_000  # per-chat spacing entries kept before the past ones are dropped (memory stays flat)


def _describe(error: BaseException) -> str:
    name, text = type(error).__name__, str(error)
    return text if text.startswith(name) else f"{name}: {text}"


def _retry_after_seconds(error: RetryAfter) -> float:
    """A timedelta (``bot.app.use_timedelta_periods``); whole seconds where the environment chose PTB's old
    form."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def wake_with_job_queue(job_queue: JobQueue, dispatcher: Dispatcher, interval: float) -> None:
    """Let PTB's JobQueue wake ``dispatcher``: every ``interval`` seconds (from start-up on, so whatever fell due
    while the bot was down goes out at once) and whenever ``dispatcher.wake()`` asks. The job only starts a pass;
    the pass runs as the dispatcher's own task, so a long pass never holds up the scheduler."""

    async def dispatch(context: object) -> None:
        dispatcher.kick()

    late_is_fine = {"misfire_grace_time": None, "coalesce": True}  # a wake that comes late still counts, once
    job_queue.run_repeating(dispatch, interval=interval, name="dispatch the outbox", job_kwargs=late_is_fine)
    job_queue.run_once(dispatch, 0, name="dispatch the outbox at start", job_kwargs=late_is_fine)

    def wake(delay: float) -> None:
        job_queue.run_once(dispatch, delay, name="dispatch the outbox now", job_kwargs=late_is_fine)

    dispatcher.waker = wake
