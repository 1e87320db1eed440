"""Reading mentors' busy calendars: every ``CALENDAR_REFRESH_MINUTES`` all of them, and one right after its mentor
adds it.

A read is three steps (``domain.usecases.calendars``): plan it in one short transaction, fetch the file
(``bot.calendar_fetch``: the network guard) and read it into busy intervals on a worker thread
(``asyncio.to_thread``: a large file takes a while, and the event loop keeps serving meanwhile), then record the
outcome in another short transaction. No transaction is open while a server takes its time.

With several bot processes on one database only the elected leader (``bot.leader``) reads on schedule, like only
it sends the outbox; a mentor's newly added calendar is read by whichever process took the update. PTB's JobQueue
only wakes the rounds; a round runs as this object's own task, so a slow server never holds up the JobQueue, and
rounds never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from telegram.ext import JobQueue

from bot.calendar_fetch import CalendarFetcher
from domain.busy import BusyCalendar, CalendarFailure, Failure, read_busy
from domain.ports import Clock, UnitOfWork
from domain.usecases.calendars import ReadOk, calendars_due, plan_read, record_read

log = logging.getLogger(__name__)


class CalendarSync:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        fetcher: CalendarFetcher,
        every: timedelta,
        *,
        concurrency: int = 4,
        batch: int = 100,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.fetcher = fetcher
        self.every = every
        self.concurrency = concurrency
        self.batch = batch
        # Several processes: only the elected one reads on schedule (``bot.leader``).
        self.may_run: Callable[[], bool] = lambda: True
        self._round: asyncio.Task[int] | None = None
        self.rounds = 0

    async def refresh(self, calendar_id: int) -> BusyCalendar | None:
        """Read one calendar now and save the outcome; None when it is gone."""
        async with self.uow_factory() as uow:
            plan = await plan_read(uow, self.clock, calendar_id)
        if plan is None:
            return None
        outcome: ReadOk | Failure
        try:
            fetched = await self.fetcher.fetch(plan.calendar.url, plan.etag, plan.last_modified)
            intervals = None
            if fetched.body is not None:
                intervals = await asyncio.to_thread(read_busy, fetched.body, plan.start, plan.end, plan.zone)
            outcome = ReadOk(fetched.etag, fetched.last_modified, intervals)
        except CalendarFailure as failure:
            log.info("busy calendar %s could not be read: %s", calendar_id, failure)
            outcome = failure.failure
        async with self.uow_factory() as uow:
            saved = await record_read(uow, self.clock, plan, outcome)
            await uow.commit()
        return saved

    async def refresh_due(self) -> int:
        """One round: every calendar not read for half the interval (or never), ``concurrency`` at a time. Returns
        how many were read. Does nothing on a process that is not the leader."""
        done = 0
        gate = asyncio.Semaphore(self.concurrency)

        async def read(calendar_id: int) -> None:
            async with gate:
                try:
                    await self.refresh(calendar_id)
                except Exception:  # one calendar's fault (a database hiccup) never stops the round
                    log.exception("busy calendar %s: the read could not be recorded", calendar_id)

        while self.may_run():
            # Half the interval: a calendar read a moment after the last round began is due in the next one.
            async with self.uow_factory() as uow:
                due = await calendars_due(uow, self.clock, self.every / 2, self.batch)
            if not due:
                break
            await asyncio.gather(*(read(calendar_id) for calendar_id in due))
            done += len(due)
            if len(due) < self.batch:
                break
        self.rounds += 1
        return done

    def kick(self) -> None:
        """Start a round unless one is running (the JobQueue's job)."""
        if self._round is None or self._round.done():
            self._round = asyncio.get_running_loop().create_task(self.refresh_due(), name="busy calendars")

    async def stop(self) -> None:
        """Cancel a running round and close the HTTP client."""
        task, self._round = self._round, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.fetcher.close()


def refresh_with_job_queue(job_queue: JobQueue, sync: CalendarSync, first: float = 30.0) -> None:
    """A round every ``sync.every`` (the first ``first`` seconds after start-up, so calendars that fell behind
    while the bot was down are read soon)."""

    async def refresh(context: object) -> None:
        sync.kick()

    late_is_fine = {"misfire_grace_time": None, "coalesce": True}
    job_queue.run_repeating(
        refresh, interval=sync.every, first=first, name="read busy calendars", job_kwargs=late_is_fine
    )
