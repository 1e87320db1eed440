"""Updates of different users run together; one user's updates run one at a time, in arrival order."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.updates import PerUserUpdateProcessor, ordering_key


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
    done: list[int] = []

    async def slow(uid: int) -> None:
        await release.wait()
        done.append(uid)

    async def quick(uid: int) -> None:
        done.append(uid)

    busy = [asyncio.create_task(processor.process_update(update(i, 1), slow(i))) for i in range(1, 6)]
    await asyncio.sleep(0.01)
    # user 1 holds one slot (the rest of their updates wait for their turn, not for a slot): user 2 gets through
    await asyncio.wait_for(processor.process_update(update(10, 2), quick(10)), timeout=1)
    assert done == [10]
    release.set()
    await asyncio.gather(*busy)
    assert done == [10, 1, 2, 3, 4, 5]


def test_updates_without_a_user_use_the_chat_or_nothing() -> None:
    assert ordering_key(update(1, 42)) == 42
    assert ordering_key(object()) is None


def test_the_dispatcher_lock_is_not_the_migration_lock() -> None:
    """The leader holds its advisory lock for its whole life: with the migrations' key, every other process would
    wait at start-up until the leader exits (this happened once)."""
    from bot.leader import DISPATCHER_LOCK_KEY
    from storage.migrate import MIGRATION_LOCK_KEY

    assert DISPATCHER_LOCK_KEY != MIGRATION_LOCK_KEY
