"""Shareable links: ``/start o<id>`` opens an offering's booking, ``/start m<id>`` a mentor's live offerings; a
newcomer answers the time zone question first and lands there right after; bad links are explained, then the usual
start."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from domain.model import Offering
from sandbox.botapi import FakeBotApi
from tests.e2e.flows import KOLKATA, become_mentor_with_offering, onboard, pick_time_and_skip_notes

LINK = "https://t.me/mentor_desk_test_bot?start="


async def only_offering(bot: Application, mentor_id: int) -> Offering:
    async with bot.bot_data["services"].uow_factory() as uow:
        [offering] = await uow.offerings.list_by_mentor(mentor_id)
    return offering


async def shared_offering_link(api: FakeBotApi, mentor) -> str:
    """The link as the mentor finds it on the Share screen."""
    await mentor.send("/offerings")
    await mentor.wait_for("Your offerings")
    await mentor.press("1. ⚙️ Manage")
    await mentor.wait_for("Buffers:")
    await mentor.press("🔗 Share link")
    share = await mentor.wait_for("Share “")
    [link] = [line for line in share.text.splitlines() if line.startswith(LINK + "o")]
    return link


async def test_an_offering_link_opens_its_dates_and_books(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    link = await shared_offering_link(api, mentor)
    await onboard(api, mentee)

    sent = await mentee.send("/start " + link.removeprefix(LINK))
    dates = await mentee.wait_for("Choose a date.")
    assert "Resume Review 1:1" in dates.text and "with Asha" in dates.text
    await api.wait_idle()
    assert [m.message_id for m in mentee.bot_messages() if m.message_id > sent.message_id] == [dates.message_id]
    await mentee.press(dates.keyboard[0][0].text)
    await mentee.wait_for("Choose a time.")
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Request sent")
    await mentor.wait_for("New booking request")


@pytest.mark.parametrize("answer", ["button", "typed city"])
async def test_a_newcomer_picks_a_zone_first_then_lands_on_the_offering(api: FakeBotApi, bot, answer: str) -> None:
    mentor, newcomer = api.user(101, "Asha"), api.user(303, "Meera")
    await become_mentor_with_offering(api, mentor)
    offering = await only_offering(bot, mentor.id)

    await newcomer.send(f"/start o{offering.id}")
    await newcomer.wait_for("Hi Meera!")
    await newcomer.wait_for("Which time zone are you in?")
    if answer == "button":
        await newcomer.press(KOLKATA)
    else:
        await newcomer.send("Mumbai")
    await newcomer.wait_for("Time zone set to Asia/Kolkata.")
    dates = await newcomer.wait_for("Choose a date.")
    assert "Resume Review 1:1" in dates.text and "Times are in your zone (Asia/Kolkata)" in dates.text
    await api.wait_idle()
    assert not any("What would you like to do?" in m.text for m in newcomer.bot_messages())
    # the pending link was used once: a later zone change in /settings shows the menu as usual
    await newcomer.send("/settings")
    await newcomer.wait_for("Settings")
    await newcomer.press("🕒 Time zone")
    await newcomer.wait_for("Which time zone are you in?")
    await newcomer.press("London (UTC+0)")
    await newcomer.wait_for("What would you like to do?")


async def test_a_mentor_link_lists_their_live_offerings_with_book_buttons(api: FakeBotApi, bot) -> None:
    mentor, mentee, newcomer = api.user(101, "Asha"), api.user(202, "Ravi"), api.user(303, "Meera")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await mentee.send("/start m101")
    card = await mentee.wait_for("Offerings")
    assert "Asha" in card.text and "1. Resume Review 1:1 — ₹500, 30 min" in card.text
    assert card.buttons == ["📅 Book 1"]
    await mentee.press("📅 Book 1")
    await mentee.wait_for("Choose a date.")

    await newcomer.send("/start m101")
    await newcomer.wait_for("Which time zone are you in?")
    await newcomer.press(KOLKATA)
    card = await newcomer.wait_for("1. Resume Review 1:1")
    assert card.buttons == ["📅 Book 1"]

    # the mentor opening their own link sees what mentees see, and cannot book themselves
    await mentor.send("/start m101")
    own = await mentor.wait_for("This is what mentees see when they open your link")
    await mentor.press("📅 Book 1", message=own)
    await api.wait_idle()
    assert api.callback_answers[-1].text == "You cannot book your own offering."


async def test_bad_unknown_paused_and_own_links_are_explained_then_the_usual_start(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    offering = await only_offering(bot, mentor.id)
    await onboard(api, mentee)

    cases = [
        (mentee, "/start hello", "This link is not valid. Here is the start menu instead."),
        (mentee, "/start o", "This link is not valid."),
        (mentee, "/start o999", "This link points to an offering that no longer exists."),
        (mentee, "/start m999", "This link points to a mentor who is not on Mentor Desk."),
        (mentee, "/start m202", "This link points to a mentor who is not on Mentor Desk."),  # not a mentor
        (mentor, f"/start o{offering.id}", "This is the link to your own offering, so you cannot book it."),
    ]
    for user, command, explanation in cases:
        await user.send(command)
        await user.wait_for(explanation)
        await user.wait_for("What would you like to do?")
        await api.wait_idle()

    await mentor.send("/offerings")
    await mentor.wait_for("Your offerings")
    await mentor.press("1. ⏸ Pause")
    await mentor.wait_for("is now paused")
    await mentee.send(f"/start o{offering.id}")
    await mentee.wait_for("This offering is not taking bookings right now.")
    await mentee.wait_for("What would you like to do?")
    await mentee.send("/start m101")
    await mentee.wait_for("No offerings are open for booking right now.")
    await mentee.wait_for("What would you like to do?")


async def test_a_newcomer_with_a_bad_link_answers_the_zone_then_hears_why(api: FakeBotApi, bot) -> None:
    newcomer = api.user(303, "Meera")
    await newcomer.send("/start o42")
    await newcomer.wait_for("Which time zone are you in?")
    await newcomer.press(KOLKATA)
    await newcomer.wait_for("This link points to an offering that no longer exists.")
    await newcomer.wait_for("What would you like to do?")
