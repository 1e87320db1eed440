"""The offerings workspace over HTTP: the list with stats, the manage screen, editing every field, status changes,
delete-or-archive, duplicate, share link, an offering's own hours, and forged buttons from other people."""

from __future__ import annotations

from decimal import Decimal

import pytest
from telegram.ext import Application

from domain.model import BookingStatus, Category, Offering, OfferingStatus, TimeRange, WeeklyRule
from domain.offerings import OfferingField
from domain.usecases import booking
from handlers.callbacks import (
    ActOnOffering,
    EditOfferingField,
    ManageOffering,
    OfferingAction,
    SetOfferingField,
    SetOfferingStatus,
)
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.flows import become_mentor_with_offering, clock, onboard, open_first_date, pick_time_and_skip_notes

NOT_ALLOWED = "You are not allowed to do that."


async def offerings_of(bot: Application, mentor_id: int) -> list[Offering]:
    async with bot.bot_data["services"].uow_factory() as uow:
        return await uow.offerings.list_by_mentor(mentor_id)


async def only_offering(bot: Application, mentor_id: int) -> Offering:
    [offering] = await offerings_of(bot, mentor_id)
    return offering


async def book_it(api: FakeBotApi, mentee: FakeUser) -> None:
    await onboard(api, mentee)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Request sent")
    await api.wait_idle()


async def open_manage(api: FakeBotApi, mentor: FakeUser, number: int = 1):
    await mentor.send("/offerings")
    await mentor.wait_for("Your offerings")
    await mentor.press(f"{number}. ⚙️ Manage")
    return await mentor.wait_for("Buffers:")


async def test_list_shows_stats_and_the_manage_screen_shows_every_field(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await book_it(api, mentee)

    await mentor.send("/offerings")
    listing = await mentor.wait_for("Your offerings")
    assert "1. Resume Review 1:1 — ₹500, 30 min — live" in listing.text
    assert "1 request made · 0 sessions held · no ratings yet" in listing.text
    assert "https://t.me/mentor_desk_test_bot?start=m101" in listing.text
    assert listing.buttons == ["1. ⚙️ Manage", "1. ⏸ Pause", "➕ New offering"]

    await mentor.press("1. ⚙️ Manage")
    screen = await mentor.wait_for("0 sessions held")
    for line in [
        "Resume Review 1:1",
        "₹500 · 30 min · Other",
        "Status: live",
        "Buffers: 5 min before, 5 min after",
        "At most 5 per day · book up to 30 days ahead · at least 24 h notice",
        "Description: —",
        "Mentees may cancel until 24 hours before the start.",
        "Cancellation policy: —",
        "Preparation notes: —",
        "Hours: your weekly hours from /availability",
    ]:
        assert line in screen.text, line
    assert screen.buttons == [
        "✏️ Edit",
        "⏸ Pause",
        "🔗 Share link",
        "📄 Duplicate",
        "🗂 Archive",
        "🗑 Delete",
        "◀ My offerings",
    ]
    await mentor.press("◀ My offerings", message=screen)
    await mentor.wait_for(lambda m: m.message_id == screen.message_id and "Your offerings" in m.text)


async def edit(api: FakeBotApi, mentor: FakeUser, label: str, *answers: str, tap: str | None = None) -> str:
    """From a manage screen: Edit → the field → each typed answer (all but the last refused) or ``tap``."""
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press(f"✏️ {label}")
    question = await mentor.wait_for("Now:")
    assert f"{label} of “" in question.text
    refusals = []
    for typed in answers[:-1] if tap is None else answers:
        await mentor.send(typed)
        refusals.append((await mentor.wait_for(lambda m: m.message_id > question.message_id)).text)
    if tap is None:
        await mentor.send(answers[-1])
    else:
        await mentor.press(tap, message=question)
    saved = await mentor.wait_for(f"✅ Saved: {label}.")
    await api.wait_idle()
    return "\n".join([*refusals, saved.text])


async def test_advanced_reaches_and_edits_every_field(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await onboard(api, mentor)
    await mentor.send("/newoffering")
    await mentor.wait_for("step 1 of 3")
    await mentor.send("Resume Review")
    await mentor.wait_for("Step 2 of 3")
    await mentor.send("500")
    await mentor.wait_for("Step 3 of 3")
    await mentor.press("30 min")
    created = await mentor.wait_for("Created as a draft")
    assert "⚙️ Advanced" in created.buttons and "🚀 Publish & Go Live" in created.buttons
    await mentor.press("⚙️ Advanced")
    menu = await mentor.wait_for("tap what you want to change")
    assert menu.buttons == [
        "✏️ Title",
        "✏️ Description",
        "✏️ Category",
        "✏️ Price",
        "✏️ Duration",
        "✏️ Buffer before",
        "✏️ Buffer after",
        "✏️ Daily limit",
        "✏️ Booking window",
        "✏️ Minimum notice",
        "✏️ Cancellation policy",
        "✏️ Cancellation cut-off",
        "✏️ Reschedule cut-off",
        "✏️ Preparation notes",
        "✏️ Seats",
        "✏️ Package",
        "🔀 Use its own hours",
        "◀ Back",
    ]
    await mentor.press("◀ Back")
    await mentor.wait_for("Buffers:")

    shown = await edit(api, mentor, "Title", "x" * 101, "<b>Mock</b> *interview*")
    assert "The title is too long: at most 100 characters." in shown
    assert "<b>Mock</b> *interview*" in shown  # shown literally, not as bold
    shown = await edit(api, mentor, "Description", "x" * 1001, "Bring <i>your</i> CV & questions")
    assert "The description is too long: at most 1000 characters." in shown
    assert "Description: Bring <i>your</i> CV & questions" in shown
    shown = await edit(api, mentor, "Category", "astrology", tap="Mock interview")
    assert "Choose a category on the buttons." in shown and "· Mock interview" in shown
    shown = await edit(api, mentor, "Price", "abc", tap="Free")
    assert "That is not a price" in shown and "Free · 30 min" in shown
    shown = await edit(api, mentor, "Price", "-1", "₹1,499.50")
    assert "cannot be negative" in shown and "₹1,499.50 · 30 min" in shown
    shown = await edit(api, mentor, "Duration", "20", tap="45 min")
    assert "Choose one of the durations on the buttons" in shown and "· 45 min ·" in shown
    shown = await edit(api, mentor, "Buffer before", tap="10 min")
    assert "Buffers: 10 min before, 5 min after" in shown
    shown = await edit(api, mentor, "Buffer after", "121", "ten", "20")
    assert shown.count("Type a whole number of minutes from 0 to 120, e.g. 10.") == 2
    assert "Buffers: 10 min before, 20 min after" in shown
    shown = await edit(api, mentor, "Daily limit", "0", "51", "3")
    assert shown.count("Type a whole number of sessions per day from 1 to 50.") == 2
    assert "At most 3 per day" in shown
    shown = await edit(api, mentor, "Booking window", "366", "14")
    assert "Type a whole number of days from 1 to 365." in shown and "book up to 14 days ahead" in shown
    shown = await edit(api, mentor, "Minimum notice", "721", tap="2 h")
    assert "Type a whole number of hours from 0 to 720." in shown and "at least 2 h notice" in shown
    shown = await edit(api, mentor, "Cancellation policy", "x" * 1001, "Full refund until <b>a day</b> before.")
    assert "The cancellation policy is too long: at most 1000 characters." in shown
    assert "Cancellation policy: Full refund until <b>a day</b> before." in shown
    shown = await edit(api, mentor, "Cancellation cut-off", "soon", "6")
    assert "Type a whole number of hours from 0 to 720." in shown
    assert "Mentees may cancel until 6 hours before the start." in shown
    assert "Mentees may move a session until 6 hours before the start." in shown  # unset: the cancellation cut-off
    shown = await edit(api, mentor, "Reschedule cut-off", "721", tap="2 h")
    assert "Type a whole number of hours from 0 to 720." in shown
    assert "Mentees may move a session until 2 hours before the start." in shown
    shown = await edit(api, mentor, "Preparation notes", "x" * 1001, "Send your resume the day before.")
    assert "The preparation notes are too long: at most 1000 characters." in shown
    assert "Preparation notes: Send your resume the day before." in shown
    shown = await edit(api, mentor, "Description", "-")
    assert "Description: —" in shown
    shown = await edit(api, mentor, "Seats", "0", "101", "12")
    assert shown.count("Type a whole number of seats from 1 to 100 (1 for a 1:1 session).") == 2
    assert "👥 Group session for up to 12 people" in shown
    shown = await edit(api, mentor, "Package", "1", "13", tap="6 weeks")
    assert shown.count("Type a number of weekly sessions from 2 to 12, or 0 to sell single sessions again.") == 2
    assert "📦 Package: 6 weekly sessions, booked together" in shown

    offering = await only_offering(bot, mentor.id)
    assert offering.with_changes(id=None) == Offering(
        mentor_id=mentor.id,
        title="<b>Mock</b> *interview*",
        price=Decimal("1499.50"),
        duration_minutes=45,
        description="",
        category=Category.MOCK_INTERVIEW,
        buffer_before_minutes=10,
        buffer_after_minutes=20,
        max_bookings_per_day=3,
        advance_booking_days=14,
        min_notice_hours=2,
        cancellation_policy="Full refund until <b>a day</b> before.",
        cancellation_cutoff_hours=6,
        reschedule_cutoff_hours=2,
        preparation_notes="Send your resume the day before.",
        capacity=12,
        package_weeks=6,
        status=OfferingStatus.DRAFT,
    )
    # the typed step ended with the save: more text is not taken as a value
    await mentor.send("42")
    await mentor.wait_for("I did not understand that")


async def test_leaving_a_question_with_a_button_forgets_it(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor)
    await open_manage(api, mentor)
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("✏️ Title")
    await mentor.wait_for("Type the new title (at most 100 characters).")
    await mentor.press("◀ Back")
    await mentor.wait_for("tap what you want to change")
    await mentor.send("Not a title")
    await mentor.wait_for("I did not understand that")
    assert (await only_offering(bot, mentor.id)).title == "Resume Review 1:1"


async def test_pause_resume_and_archive_which_is_final(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor)
    offering_id = (await only_offering(bot, mentor.id)).id or 0
    await open_manage(api, mentor)
    await mentor.press("⏸ Pause")
    paused = await mentor.wait_for("is now paused")
    assert "▶️ Resume" in paused.buttons and "Status: paused" in paused.text
    await mentor.press("▶️ Resume")
    live = await mentor.wait_for("is live!")
    assert "https://t.me/mentor_desk_test_bot?start=o" in live.text
    await mentor.press("🗂 Archive")
    ask = await mentor.wait_for("cannot be published again")
    assert ask.buttons == ["🗂 Yes, archive", "◀ Back"]
    await mentor.press("🗂 Yes, archive")
    archived = await mentor.wait_for("is now archived")
    assert archived.buttons == ["🔗 Share link", "📄 Duplicate", "🗑 Delete", "◀ My offerings"]
    assert (await only_offering(bot, mentor.id)).status == OfferingStatus.ARCHIVED

    # archived is final: publishing or editing it again (old or forged buttons) is refused
    for data in [
        SetOfferingStatus(offering_id, OfferingStatus.ACTIVE).pack(),
        SetOfferingStatus(offering_id, OfferingStatus.PAUSED).pack(),
        ActOnOffering(offering_id, OfferingAction.EDIT).pack(),
        EditOfferingField(offering_id, OfferingField.TITLE).pack(),
        SetOfferingField(offering_id, OfferingField.PRICE, "0").pack(),
    ]:
        await mentor.press_data(None, data)
        await api.wait_idle()
        assert api.callback_answers[-1].text == "An archived offering cannot be changed.", data
        assert api.callback_answers[-1].show_alert
    offering = await only_offering(bot, mentor.id)
    assert offering.status == OfferingStatus.ARCHIVED and offering.price == Decimal("500")
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    await mentee.send("/book")
    await mentee.wait_for("No offerings are open for booking yet.")


async def test_delete_only_when_never_booked_otherwise_archive(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await book_it(api, mentee)
    await mentor.send("/newoffering")
    await mentor.wait_for("step 1 of 3")
    await mentor.send("Quick chat")
    await mentor.wait_for("Step 2 of 3")
    await mentor.press("Free")
    await mentor.wait_for("Step 3 of 3")
    await mentor.press("15 min")
    await mentor.wait_for("Created as a draft")

    await open_manage(api, mentor, 1)
    await mentor.press("🗑 Delete")
    refused = await mentor.wait_for("archive it instead")
    assert refused.buttons == ["🗂 Archive", "◀ Back"]
    await mentor.press("🗂 Archive")
    await mentor.wait_for("cannot be published again")
    # a forged "yes, delete" is refused too
    booked = (await offerings_of(bot, mentor.id))[0]
    await mentor.press_data(None, ActOnOffering(booked.id or 0, OfferingAction.DELETE_YES).pack())
    await api.wait_idle()
    refusal = "This offering has bookings, so it cannot be deleted: archive it instead."
    assert api.callback_answers[-1].text == refusal
    assert len(await offerings_of(bot, mentor.id)) == 2

    await open_manage(api, mentor, 2)
    await mentor.press("🗑 Delete")
    await mentor.wait_for("Delete “Quick chat” for good?")
    await mentor.press("🗑 Yes, delete")
    gone = await mentor.wait_for("🗑 Deleted “Quick chat”.")
    assert "Your offerings" in gone.text and "Quick chat —" not in gone.text
    assert [o.title for o in await offerings_of(bot, mentor.id)] == ["Resume Review 1:1"]
    await mentor.press_data(None, ActOnOffering((booked.id or 0) + 1, OfferingAction.DELETE_YES).pack())
    await api.wait_idle()
    assert api.callback_answers[-1].text == "That is no longer available."


async def test_duplicate_and_share_link(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await book_it(api, mentee)
    original = await only_offering(bot, mentor.id)

    await open_manage(api, mentor)
    await mentor.press("🔗 Share link")
    share = await mentor.wait_for("Share “Resume Review 1:1”")
    assert f"https://t.me/mentor_desk_test_bot?start=o{original.id}" in share.text
    assert "https://t.me/mentor_desk_test_bot?start=m101" in share.text
    send = share.button("📤 Send to a chat")
    assert send.url is not None and send.url.startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2F")
    await mentor.press("◀ Back")
    await mentor.wait_for("Buffers:")

    await mentor.press("📄 Duplicate")
    copy_screen = await mentor.wait_for("Duplicated as a draft")
    assert "Resume Review 1:1 (copy)" in copy_screen.text and "Status: draft" in copy_screen.text
    assert "0 requests made · 0 sessions held" in copy_screen.text
    assert "🚀 Publish & Go Live" in copy_screen.buttons
    original_now, copy = await offerings_of(bot, mentor.id)
    assert original_now.total_bookings == 1 and copy.total_bookings == 0
    assert copy.with_changes(id=None, title=original.title, status=OfferingStatus.ACTIVE) == original.with_changes(
        id=None, total_bookings=0
    )
    await mentor.press("🔗 Share link", message=copy_screen)
    share = await mentor.wait_for("Share “Resume Review 1:1 (copy)”")
    assert "It is not live, so the link tells people it is not taking bookings." in share.text


async def test_own_hours_toggle_hours_button_and_warnings(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor)
    screen = await open_manage(api, mentor)
    assert "🗓 Hours" not in screen.buttons
    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("🔀 Use its own hours")
    switched = await mentor.wait_for("✅ Saved.")
    # its own hours start as a copy of the profile's, so a live offering keeps its free times
    assert clock("Hours: its own weekly hours — Mon 9:00 AM–12:00 PM; Tue 9:00 AM–12:00 PM") in switched.text
    assert "⚠️" not in switched.text
    assert "🗓 Hours" in switched.buttons
    offering = await only_offering(bot, mentor.id)
    assert not offering.use_profile_availability and len(offering.weekly_rules) == 5
    await mentor.press("🗓 Hours")
    await mentor.wait_for("Weekly hours for Resume Review 1:1")

    # own hours emptied (e.g. every day cleared in the hours editor): the mentor is told, not left in the dark
    async with bot.bot_data["services"].uow_factory() as uow:
        await uow.offerings.update(offering.with_changes(weekly_rules=()))
        await uow.commit()
    screen = await open_manage(api, mentor)
    assert "⚠️ It is live, but it has no weekly hours, so mentees see no free times." in screen.text
    assert "Tap “🗓 Hours” to set this offering's own hours." in screen.text
    await mentor.press("⏸ Pause")
    paused = await mentor.wait_for("is now paused")
    assert "It has no weekly hours yet, so it cannot go live." in paused.text
    await mentor.press("▶️ Resume")
    await api.wait_idle()
    assert api.callback_answers[-1].text == "Set your weekly availability first, so mentees have times to book."
    assert (await only_offering(bot, mentor.id)).status == OfferingStatus.PAUSED

    await mentor.press("✏️ Edit")
    await mentor.wait_for("tap what you want to change")
    await mentor.press("🔀 Use my profile hours")
    back = await mentor.wait_for("Hours: your weekly hours from /availability")
    assert "⚠️" not in back.text and "🗓 Hours" not in back.buttons


@pytest.mark.parametrize("intruder_is_mentor", [True, False], ids=["another mentor", "a mentee"])
async def test_forged_workspace_buttons_change_nothing(api: FakeBotApi, bot, intruder_is_mentor: bool) -> None:
    mentor, intruder = api.user(101, "Asha"), api.user(909, "Mallory")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, intruder)
    if intruder_is_mentor:
        await intruder.send("/becomementor")
        await intruder.wait_for("You are a mentor now.")
    before = await only_offering(bot, mentor.id)
    oid = before.id or 0

    forged = [
        ManageOffering(oid),
        *(ActOnOffering(oid, action) for action in OfferingAction),
        *(EditOfferingField(oid, field) for field in OfferingField),
        SetOfferingField(oid, OfferingField.PRICE, "0"),
        SetOfferingField(oid, OfferingField.TITLE, "Mine"),
        SetOfferingField(oid, OfferingField.PROFILE_HOURS, "0"),
        SetOfferingField(oid, OfferingField.CATEGORY, "code_review"),
        SetOfferingStatus(oid, OfferingStatus.ARCHIVED),
        SetOfferingStatus(oid, OfferingStatus.PAUSED),
    ]
    for data in forged:
        await intruder.press_data(None, data.pack())
        await api.wait_idle()
        assert api.callback_answers[-1].text == NOT_ALLOWED, data
        assert api.callback_answers[-1].show_alert
    for raw in ("ofm:x", "ofa:1:zz", "ofv:1:nope:1", "ofe:1"):
        await intruder.press_data(None, raw)
        await api.wait_idle()
        assert api.callback_answers[-1].text == "This button is no longer valid.", raw

    # no question was opened for them, and nothing changed or was copied
    await intruder.send("Mine now")
    await intruder.wait_for("I did not understand that")
    assert await offerings_of(bot, mentor.id) == [before]
    assert await offerings_of(bot, intruder.id) == []
    # a forged value for a field with nothing chosen still has to be valid for the owner
    await mentor.press_data(None, SetOfferingField(oid, OfferingField.DURATION, "20").pack())
    await api.wait_idle()
    assert api.callback_answers[-1].text.startswith("Choose one of the durations on the buttons")
    await mentor.press_data(None, SetOfferingField(oid, OfferingField.BUFFER_AFTER, "999").pack())
    await api.wait_idle()
    assert api.callback_answers[-1].text == "Type a whole number of minutes from 0 to 120, e.g. 10."
    assert await offerings_of(bot, mentor.id) == [before]


async def test_own_rules_survive_edits_of_other_fields(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor)
    offering = await only_offering(bot, mentor.id)
    own = (WeeklyRule(5, TimeRange(600, 720)),)
    async with bot.bot_data["services"].uow_factory() as uow:
        await uow.offerings.update(offering.with_changes(use_profile_availability=False, weekly_rules=own))
        await uow.commit()
    await open_manage(api, mentor)
    await edit(api, mentor, "Buffer after", tap="0 min")
    saved = await only_offering(bot, mentor.id)
    assert saved.weekly_rules == own and saved.buffer_after_minutes == 0


async def test_stats_count_requests_made_apart_from_sessions_held(api: FakeBotApi, bot) -> None:
    """One request cancelled by the mentee, one declined by the mentor: two requests made, no session held."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    services = bot.bot_data["services"]
    async with services.uow_factory() as uow:
        _ctx, days = await booking.free_dates(uow, services.clock, 1, mentee.id, "UTC")
        starts = []
        for day in days[:2]:  # the first free time of each of the first two days
            _ctx, times = await booking.free_times(uow, services.clock, 1, mentee.id, day, "UTC")
            starts.append(times[0])
        booked = [await booking.book_slot(uow, services.clock, booking.BookingRequest(1, mentee.id, start))
                  for start in starts]  # fmt: skip
        first, second = (view.booking.id for view in booked)
        assert first is not None and second is not None  # stored
        await booking.change_status(uow, services.clock, mentee.id, first, BookingStatus.CANCELLED, "Busy")
        await booking.change_status(uow, services.clock, mentor.id, second, BookingStatus.DECLINED, "Away")
        await uow.commit()
    assert (await only_offering(bot, mentor.id)).total_bookings == 2  # the brief's counter is kept as it is
    await api.wait_idle()

    await mentor.send("/offerings")
    listing = await mentor.wait_for("Your offerings")
    assert "2 requests made · 0 sessions held · no ratings yet" in listing.text
    assert "2 bookings" not in listing.text
    await mentor.press("1. ⚙️ Manage")
    manage = await mentor.wait_for(lambda m: m.message_id == listing.message_id and "Status: live" in m.text)
    assert "no ratings yet · 2 requests made · 0 sessions held" in manage.text

    await mentee.send("/book")
    found = await mentee.wait_for("Open offerings")
    assert "2 requests made · 0 sessions held" in found.text
    await mentee.send("/start m101")
    card = await mentee.wait_for("Offerings")
    assert "2 requests made · 0 sessions held" in card.text
