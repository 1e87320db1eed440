"""Updates of different users run together; one user's updates run one at a time, in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from telegram import Chat, Message, PreCheckoutQuery, Update, User
from telegram.ext import BaseUpdateProcessor

from bot.updates import HELD_PER_SLOT, PerUserUpdateProcessor, ordering_key
from chat.turns import settled


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run (passes of the event loop, no clock) until ``condition`` holds."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def let_others_run(passes: int = 20) -> None:
    for _ in range(passes):
        await asyncio.sleep(0)


def update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    message = Message(update_id, None, Chat(user_id, Chat.PRIVATE), from_user=user, text=str(update_id))  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_users_updates_keep_their_order_while_others_run_alongside() -> None:
    processor = PerUserUpdateProcessor(16)
    log: list[tuple[str, int, int]] = []
    running: dict[int, int] = {}
    overlap_across_users = asyncio.Event()

    async def handle(update_id: int, user_id: int, delay: float) -> None:
        running[user_id] = running.get(user_id, 0) + 1
        assert running[user_id] == 1, "two updates of one user ran at once"
        if len([u for u, n in running.items() if n]) > 1:
            overlap_across_users.set()
        log.append(("start", user_id, update_id))
        await asyncio.sleep(delay)
        log.append(("end", user_id, update_id))
        running[user_id] -= 1

    # user 1 sends three updates, the first slow; user 2 sends two in between
    plan = [(1, 1, 0.05), (2, 2, 0.01), (3, 1, 0.0), (4, 2, 0.0), (5, 1, 0.0)]
    tasks = [
        asyncio.create_task(processor.process_update(update(uid, user), handle(uid, user, delay)))
        for uid, user, delay in plan
    ]
    await asyncio.gather(*tasks)
    for user in (1, 2):
        started = [uid for kind, u, uid in log if kind == "start" and u == user]
        assert started == [uid for uid, u, _d in plan if u == user]
    assert overlap_across_users.is_set()
    # user 2 did not wait for user 1's slow first update
    assert log.index(("end", 2, 4)) < log.index(("end", 1, 1))
    assert processor.users_in_flight == 0


async def test_a_busy_user_cannot_take_every_slot() -> None:
    processor = PerUserUpdateProcessor(2)
    release = asyncio.Event()
    started: list[int] = []
    done: list[int] = []

    async def slow(uid: int) -> None:
        started.append(uid)
        await release.wait()
        done.append(uid)

    async def quick(uid: int) -> None:
        done.append(uid)

    # user 1 sends many more updates than there are running slots
    busy = [asyncio.create_task(processor.process_update(update(i, 1), slow(i))) for i in range(1, 41)]
    await until(lambda: started == [1])
    await let_others_run()  # the other 39 take their places
    # user 1 holds one running slot (the rest of their updates wait for their turn, not for a slot): user 2 and
    # user 3 get through, even at the same time
    await asyncio.wait_for(
        asyncio.gather(
            processor.process_update(update(100, 2), quick(100)),
            processor.process_update(update(101, 3), quick(101)),
        ),
        timeout=1,
    )
    assert done == [100, 101]
    release.set()
    await asyncio.gather(*busy)
    assert done == [100, 101, *range(1, 41)]
    assert processor.users_in_flight == 0


async def test_at_most_max_running_updates_are_handled_at_once() -> None:
    processor = PerUserUpdateProcessor(3)
    running = peak = 0
    release = asyncio.Event()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    tasks = [asyncio.create_task(processor.process_update(update(i, i), handle())) for i in range(1, 11)]
    tasks.append(asyncio.create_task(processor.process_update(object(), handle())))  # no user: limited too
    await until(lambda: processor.current_concurrent_updates == 11)  # all taken in; 8 wait for a running slot
    await let_others_run()
    assert running == peak == 3
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3 and running == 0


async def test_the_held_bound_counts_updates_waiting_for_their_turn() -> None:
    """PTB's own limit (``max_concurrent_updates``, taken before ``do_process_update``) counts every update held,
    handled or waiting; it is what a single user's backlog could fill, hence far larger than ``max_running``."""
    assert PerUserUpdateProcessor(256).max_concurrent_updates == 256 * HELD_PER_SLOT
    processor = PerUserUpdateProcessor(2, max_held=3)
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    busy = [asyncio.create_task(processor.process_update(update(i, 1), slow())) for i in range(1, 4)]
    await until(lambda: processor.current_concurrent_updates == 3)  # one handled, two waiting for user 1's turn
    other = asyncio.create_task(processor.process_update(update(10, 2), slow()))
    await let_others_run()
    assert not other.done() and processor.current_concurrent_updates == 3
    release.set()
    await asyncio.gather(*busy, other)
    assert processor.current_concurrent_updates == 0


def test_the_processor_uses_ptbs_seam_and_leaves_its_final_method_alone() -> None:
    assert PerUserUpdateProcessor.process_update is BaseUpdateProcessor.process_update
    assert "process_update" not in vars(PerUserUpdateProcessor)
    with pytest.raises(ValueError, match="max_running must be at least 1"):
        PerUserUpdateProcessor(0)
    with pytest.raises(ValueError, match="max_held must be at least max_running"):
        PerUserUpdateProcessor(4, max_held=3)


def test_updates_without_a_user_use_the_chat_or_nothing() -> None:
    assert ordering_key(update(1, 42)) == 42
    assert ordering_key(object()) is None


def test_the_dispatcher_lock_is_not_the_migration_lock() -> None:
    """The leader holds its advisory lock for its whole life: with the migrations' key, every other process would
    wait at start-up until the leader exits (this happened once)."""
    from bot.leader import DISPATCHER_LOCK_KEY
    from storage.migrate import MIGRATION_LOCK_KEY

    assert DISPATCHER_LOCK_KEY != MIGRATION_LOCK_KEY


def checkout(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    query = PreCheckoutQuery(str(update_id), user, "XTR", 300, "b1.0123456789abcdef")
    return Update(update_id, pre_checkout_query=query)


async def test_a_pre_checkout_question_takes_its_turn_after_a_quick_earlier_update() -> None:
    processor = PerUserUpdateProcessor(2)
    done: list[int] = []
    earlier_may_finish = asyncio.Event()

    async def earlier() -> None:  # the payment just reported, say
        await earlier_may_finish.wait()
        done.append(1)

    async def answer() -> None:
        done.append(2)

    first = asyncio.create_task(processor.process_update(update(1, 1), earlier()))
    question = asyncio.create_task(processor.process_update(checkout(2, 1), answer()))
    await let_others_run()
    assert done == []  # it waits for its person's turn
    earlier_may_finish.set()
    await asyncio.gather(first, question)
    assert done == [1, 2] and processor.users_in_flight == 0


async def test_a_pre_checkout_question_waits_neither_long_for_its_person_nor_for_a_full_house() -> None:
    processor = PerUserUpdateProcessor(2, urgent_wait=0.05)
    release = asyncio.Event()
    answered: list[int] = []

    async def busy() -> None:
        await release.wait()

    async def answer(update_id: int) -> None:
        answered.append(update_id)

    # user 1's earlier update and user 2's hold both running slots, and user 1 has another update waiting
    held = [
        asyncio.create_task(processor.process_update(update(1, 1), busy())),
        asyncio.create_task(processor.process_update(update(2, 2), busy())),
        asyncio.create_task(processor.process_update(update(3, 1), answer(3))),
    ]
    await let_others_run()
    assert answered == []
    # answered after urgent_wait while the others still wait (the outer timeout only stops a broken processor
    # from hanging the test)
    await asyncio.wait_for(processor.process_update(checkout(4, 1), answer(4)), 5)
    assert answered == [4]
    release.set()
    await asyncio.gather(*held)
    assert answered == [4, 3]
    assert processor.users_in_flight == 0


async def test_a_pre_checkout_question_goes_ahead_once_the_earlier_update_has_stored_its_changes() -> None:
    """The update that sent the invoice settles before the call (``chat.turns.settled``): the question does not
    wait for Telegram's answer to that call, nor for the rest of that update."""
    processor = PerUserUpdateProcessor(2, urgent_wait=60)  # so only settling lets it through within 5 s
    events: list[str] = []
    stored, invoice_answered = asyncio.Event(), asyncio.Event()

    async def confirm_and_pay() -> None:
        events.append("stored")
        settled()
        stored.set()
        await invoice_answered.wait()  # Telegram's answer to sendInvoice, still on its way
        events.append("confirm done")

    async def answer() -> None:
        events.append("answered")

    async def unrelated() -> None:
        events.append("later update")

    first = asyncio.create_task(processor.process_update(update(1, 1), confirm_and_pay()))
    await stored.wait()
    question = asyncio.create_task(processor.process_update(checkout(2, 1), answer()))
    await let_others_run()
    later = asyncio.create_task(processor.process_update(update(3, 1), unrelated()))  # after the question
    await asyncio.wait_for(question, 5)
    await let_others_run()
    assert events == ["stored", "answered"]  # the later update still waits for the first one's turn
    invoice_answered.set()
    await asyncio.gather(first, later)
    assert events == ["stored", "answered", "confirm done", "later update"]
    assert processor.users_in_flight == 0


async def test_a_pre_checkout_question_waits_for_every_earlier_update_to_settle() -> None:
    processor = PerUserUpdateProcessor(4)
    events: list[str] = []
    go_on = [asyncio.Event(), asyncio.Event()]

    async def earlier(n: int) -> None:
        await go_on[n].wait()
        events.append(f"earlier {n}")

    async def answer() -> None:
        events.append("answered")

    tasks = [asyncio.create_task(processor.process_update(update(n + 1, 1), earlier(n))) for n in (0, 1)]
    await let_others_run()
    question = asyncio.create_task(processor.process_update(checkout(3, 1), answer()))
    go_on[0].set()
    await until(lambda: events == ["earlier 0"])
    await let_others_run()
    assert not question.done()  # the second earlier update has not run yet
    go_on[1].set()
    await asyncio.gather(*tasks, question)
    assert events == ["earlier 0", "earlier 1", "answered"]


def test_settling_outside_the_processor_does_nothing() -> None:
    settled()  # tests and tools call handlers directly: nothing to tell
