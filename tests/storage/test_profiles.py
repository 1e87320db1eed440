"""Mentor profiles round-trip through the database, lists and unicode included."""

from __future__ import annotations

from domain.model import MentorProfile
from storage.uow import SqlUnitOfWork
from tests.storage.builders import user


async def test_profile_round_trip_and_replace(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(5, is_mentor=True))
        assert await uow.profiles.get(5) is None
        first = MentorProfile(
            5, "Asha R.", "Staff engineer", "Ten years <b>of</b> Python", ("Python", "SQL"), ("हिन्दी",)
        )
        await uow.profiles.save(first)
        await uow.commit()
    async with uow:
        assert await uow.profiles.get(5) == first
        second = first.with_changes(display_name=None, headline="", expertise=(), languages=("English", "Tamil"))
        await uow.profiles.save(second)
        await uow.commit()
    async with uow:
        assert await uow.profiles.get(5) == second


async def test_profile_save_is_rolled_back_without_commit(uow: SqlUnitOfWork) -> None:
    async with uow:
        await uow.users.add(user(5, is_mentor=True))
        await uow.commit()
    async with uow:
        await uow.profiles.save(MentorProfile(5, headline="draft"))
    async with uow:
        assert await uow.profiles.get(5) is None
