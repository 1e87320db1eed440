"""The availability workspace over HTTP: the week day by day, date exceptions, the next 7 days, an offering's
own hours, bad input kept on its step, and forged buttons that change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from telegram.ext import Application

from domain.model import TimeRange, WeeklyRule
from handlers.callbacks import (
    ActOnDay,
    ApplyCopy,
    DateStep,
    DayAction,
    EditDay,
    EditHours,
    OpenSchedule,
    PickDate,
    PickZone,
    RemoveException,
    SchedulePage,
    ToggleDay,
)
from sandbox.botapi import FakeBotApi, FakeUser
from tests.e2e.flows import become_mentor_with_offering, clock, last_answer, onboard, set_hours, with_button

# Now is Tuesday 24 Nov 2026, 11:30 in Kolkata.
WEEKDAYS_9_TO_12 = clock("Mon, Tue, Wed, Thu, Fri: 9:00 AM–12:00 PM")
REFUSED = "You are not allowed to do that."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


async def open_availability(api: FakeBotApi, mentor: FakeUser):
    await mentor.send("/availability")
    return await mentor.wait_for("Step 1 of 2")


async def profile_weekly(bot: Application, mentor_id: int) -> tuple[WeeklyRule, ...]:
    async with bot.bot_data["services"].uow_factory() as uow:
        saved = await uow.availability.get(mentor_id)
    return saved.weekly if saved else ()


async def test_saving_some_days_keeps_the_others(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await onboard(api, mentor)
    await set_hours(api, mentor, ["Mon", "Tue", "Wed", "Thu", "Fri"], ["9:00 AM", "10:00 AM", "11:00 AM"])
    screen = await open_availability(api, mentor)
    assert WEEKDAYS_9_TO_12 in screen.text
    assert "Days you leave out keep their hours" in screen.text
    assert screen.buttons[-5:] == [
        "Next: hours ▶",
        "✏️ Edit one day",
        "📅 Date exceptions",
        "👀 Next 7 days",
        "📆 Busy calendars",
    ]
    await mentor.press(lambda label: label.endswith("Sat"))
    await mentor.wait_for(lambda m: "✅ Sat" in m.buttons)
    await mentor.press("Next: hours ▶")
    grid = await mentor.wait_for("Step 2 of 2")
    assert not any(label.startswith("✅") for label in grid.buttons)  # Saturday had no hours
    await mentor.press(clock("2:00 PM"))
    await mentor.wait_for(lambda m: clock("✅ 2:00 PM") in m.buttons)
    await mentor.press("💾 Save")
    saved = await mentor.wait_for("Saved. Your weekly hours")
    assert WEEKDAYS_9_TO_12 in saved.text and clock("Sat: 2:00 PM–3:00 PM") in saved.text

    # ticking a day that has hours starts the grid from them
    await open_availability(api, mentor)
    await mentor.press(lambda label: label.endswith("Mon"))
    await api.wait_idle()
    await mentor.press("Next: hours ▶")
    grid = await mentor.wait_for("Step 2 of 2")
    assert [label for label in grid.buttons if label.startswith("✅")] == [
        clock("✅ 9:00 AM"),
        clock("✅ 10:00 AM"),
        clock("✅ 11:00 AM"),
    ]
    await mentor.press("✍️ Type exact hours")
    await mentor.wait_for("Type your hours for Mon")
    await mentor.send("08:00-09:30")
    saved = await mentor.wait_for("Saved. Your weekly hours")
    assert clock("Mon: 8:00 AM–9:30 AM") in saved.text
    assert clock("Tue, Wed, Thu, Fri: 9:00 AM–12:00 PM") in saved.text
    assert clock("Sat: 2:00 PM–3:00 PM") in saved.text


async def test_one_day_at_a_time_type_pick_copy_and_clear(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await onboard(api, mentor)
    await set_hours(api, mentor, ["Mon", "Tue", "Wed", "Thu", "Fri"], ["9:00 AM", "10:00 AM", "11:00 AM"])
    await open_availability(api, mentor)
    await mentor.press("✏️ Edit one day")
    week = await mentor.wait_for("Tap a day to see its hours")
    assert week.buttons[0] == clock("Mon: 9:00 AM–12:00 PM") and week.buttons[6] == "Sun: —"

    await mentor.press(lambda label: label.startswith("Mon:"))
    day = await mentor.wait_for("Monday:")
    assert day.buttons == [
        "🕘 Pick hours", "✍️ Type hours", "📋 Copy to other days", "🧹 Clear this day", "◀ All days"
    ]  # fmt: skip
    await mentor.press("✍️ Type hours")
    await mentor.wait_for("Type your hours for Mon")
    for typed, answer in [
        ("09:00-12:00, 11:00-13:00", "Those hours overlap"),
        ("14:00-12:00", "A range must end after it starts"),
        ("whenever", "I could not read those hours"),
    ]:
        await mentor.send(typed)
        await mentor.wait_for(answer)
    await mentor.send("09:00-11:00, 14:30-18:00")  # still on the same step
    saved = await mentor.wait_for("Saved. Your weekly hours")
    assert clock("Mon: 9:00 AM–11:00 AM, 2:30 PM–6:00 PM") in saved.text
    assert clock("Tue, Wed, Thu, Fri: 9:00 AM–12:00 PM") in saved.text

    # copy Monday to Tuesday and Saturday
    await mentor.press("🗓 Edit hours again")
    await mentor.wait_for("Step 1 of 2")
    await mentor.press("✏️ Edit one day")
    await mentor.wait_for("Tap a day")
    await mentor.press(lambda label: label.startswith("Mon:"))
    await mentor.wait_for("Monday:")
    await mentor.press("📋 Copy to other days")
    copy = await mentor.wait_for("Copy the hours of Monday")
    assert "▫️ Mon" not in copy.buttons and "✅ Mon" not in copy.buttons
    await mentor.press("📋 Copy")  # nothing ticked yet
    assert await last_answer(api) == "Tick at least one day to copy to."
    for target in ("Tue", "Sat"):
        await mentor.press(f"▫️ {target}")
        await mentor.wait_for(with_button(f"✅ {target}"))
    await mentor.press("📋 Copy")
    week = await mentor.wait_for(lambda m: "Tap a day" in m.text and m.buttons[5].startswith("Sat: 9"))
    assert await last_answer(api) == "Copied."
    assert week.buttons[:7] == [
        clock("Mon: 9:00 AM–11:00 AM, 2:30 PM–6:00 PM"),
        clock("Tue: 9:00 AM–11:00 AM, 2:30 PM–6:00 PM"),
        clock("Wed: 9:00 AM–12:00 PM"),
        clock("Thu: 9:00 AM–12:00 PM"),
        clock("Fri: 9:00 AM–12:00 PM"),
        clock("Sat: 9:00 AM–11:00 AM, 2:30 PM–6:00 PM"),
        "Sun: —",
    ]

    # clear Friday; pick Sunday's hours on the grid
    await mentor.press(lambda label: label.startswith("Fri:"))
    await mentor.wait_for("Friday:")
    await mentor.press("🧹 Clear this day")
    cleared = await mentor.wait_for("Friday: no hours")
    assert await last_answer(api) == "Cleared."
    assert cleared.buttons == ["🕘 Pick hours", "✍️ Type hours", "◀ All days"]
    await mentor.press("◀ All days")
    await mentor.wait_for(lambda m: "Tap a day" in m.text and m.buttons[4] == "Fri: —")
    await mentor.press("Sun: —")
    await mentor.wait_for("Sunday: no hours")
    await mentor.press("🕘 Pick hours")
    await mentor.wait_for("Step 2 of 2: tap the hours you are free on Sun")
    await mentor.press(clock("7:00 PM"))
    await api.wait_idle()
    await mentor.press("💾 Save")
    saved = await mentor.wait_for("Saved. Your weekly hours")
    assert clock("Sun: 7:00 PM–8:00 PM") in saved.text and "Fri" not in saved.text

    assert {r.weekday for r in await profile_weekly(bot, mentor.id)} == {0, 1, 2, 3, 5, 6}


async def test_date_exceptions_and_what_mentees_see(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", "500", 30)
    await open_availability(api, mentor)
    await mentor.press("📅 Date exceptions")
    screen = await mentor.wait_for("Date exceptions")
    assert "No exceptions ahead." in screen.text

    # a day off, typed; the past and garbage are refused on the same step
    await mentor.press("🌴 Day off")
    picker = await mentor.wait_for("Day off. Which date?")
    assert picker.buttons[:3] == ["Tue, Nov 24", "Wed, Nov 25", "Thu, Nov 26"]
    for typed, answer in [
        ("2026-11-23", "That date has already passed"),
        ("someday", "I could not read that date"),
        ("2026-02-30", "I could not read that date"),
        ("2028-01-01", "more than a year ahead"),
    ]:
        await mentor.send(typed)
        await mentor.wait_for(answer)
    await mentor.send("30.11.2026")
    listed = await mentor.wait_for("Saved: Mon, Nov 30 is a day off.")
    assert "• Mon, Nov 30: day off" in listed.text

    # other hours on a date, picked from the buttons
    await mentor.press("🕘 Other hours")
    await mentor.wait_for("Other hours on a date. Which date?")
    await mentor.press("Tue, Dec 1")
    await mentor.wait_for("Type your hours for Tue, Dec 1")
    await mentor.send("19:00-17:00")
    await mentor.wait_for("A range must end after it starts")
    await mentor.send("17:00-19:00")
    listed = await mentor.wait_for("Saved: other hours on Tue, Dec 1.")
    assert clock("• Tue, Dec 1: 5:00 PM–7:00 PM") in listed.text

    # a vacation: the end before the start, and over 60 days, are refused
    await mentor.press("✈️ Vacation")
    await mentor.wait_for("Vacation. The first day off?")
    await mentor.send("25 Dec")
    last_day = await mentor.wait_for("Vacation from Fri, Dec 25. The last day off?")
    assert last_day.buttons[0] == "Fri, Dec 25"
    await mentor.send("20 Dec")
    await mentor.wait_for("The last day must be on or after the first day.")
    await mentor.send("2027-03-01")
    await mentor.wait_for("A vacation can be at most 60 days.")
    await mentor.send("Jan 3")
    listed = await mentor.wait_for("Saved: Fri, Dec 25 – Sun, Jan 3 are days off.")
    assert "• Fri, Dec 25 – Sun, Jan 3: 10 days off" in listed.text
    assert listed.buttons[:3] == [
        "🗑 Remove Mon, Nov 30", "🗑 Remove Tue, Dec 1", "🗑 Remove Fri, Dec 25 – Sun, Jan 3"
    ]  # fmt: skip

    # mentees see the exceptions: no Monday 30 Nov, and only the evening on 1 Dec
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    dates = await mentee.wait_for("Choose a date.")
    assert "Fri, Nov 27" in dates.buttons and "Tue, Dec 1" not in dates.buttons  # dates come a week at a time
    await mentee.press("Later week ▶")
    next_week = await mentee.wait_for(lambda m: m.message_id == dates.message_id and "Tue, Dec 1" in m.buttons)
    assert "Mon, Nov 30" not in next_week.buttons
    await mentee.press("Tue, Dec 1")
    times = await mentee.wait_for("Choose a time.")
    evening = [clock(t) for t in ("5:00 PM", "5:30 PM", "6:00 PM", "6:30 PM")]
    assert [label for label in times.buttons if label.endswith("M")] == evening  # 30 minutes within 17:00-19:00

    # removing the day off brings Monday's weekly hours back
    await mentor.press("🗑 Remove Mon, Nov 30", message=listed)
    after = await mentor.wait_for(lambda m: m.message_id == listed.message_id and "Mon, Nov 30" not in m.text)
    assert await last_answer(api) == "Removed: back to your weekly hours."
    assert "• Tue, Dec 1" in after.text and "• Fri, Dec 25 – Sun, Jan 3" in after.text

    # a forged date button for a day in the past is refused as well
    await mentor.press_data(None, PickDate(DateStep.DAY_OFF, date(2026, 11, 20), date(2026, 11, 20)).pack())
    assert await last_answer(api) == "That date has already passed. Choose today or a later date."
    await mentor.press_data(None, PickDate(DateStep.VACATION_TO, date(2026, 12, 3), date(2026, 12, 9)).pack())
    assert await last_answer(api) == "The last day must be on or after the first day."


async def test_the_next_seven_days_show_free_time_around_bookings(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", "Free", 30)
    await onboard(api, mentee)
    await mentee.send("/book")
    await mentee.wait_for("Open offerings")
    await mentee.press("📅 Book 1")
    await mentee.wait_for("Choose a date.")
    await mentee.press("Wed, Nov 25")
    await mentee.wait_for("Choose a time.")
    await mentee.press(clock("11:30 AM"))  # 24 hours' notice: the first time on Wednesday
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    await mentee.wait_for("Please check your booking")
    await mentee.press("✅ Confirm booking")
    await api.wait_idle()

    await open_availability(api, mentor)
    await mentor.press("📅 Date exceptions")
    await mentor.wait_for("Date exceptions")
    await mentor.press("🌴 Day off")
    await mentor.wait_for("Which date?")
    await mentor.press("Fri, Nov 27")
    await mentor.wait_for("Saved: Fri, Nov 27 is a day off.")
    await mentor.press("👀 Next 7 days")
    preview = await mentor.wait_for("Your free time in the next 7 days")
    lines = preview.text.splitlines()
    assert "(time zone Asia/Kolkata)" in lines[0]
    assert lines[3:] == [
        clock("Tue, Nov 24: 11:30 AM–12:00 PM"),  # from now on
        clock("Wed, Nov 25: 9:00 AM–11:25 AM"),  # the session 11:30-12:00 with 5 minutes' buffers
        clock("Thu, Nov 26: 9:00 AM–12:00 PM"),
        "Fri, Nov 27: day off",
        "Sat, Nov 28: no hours",
        "Sun, Nov 29: no hours",
        clock("Mon, Nov 30: 9:00 AM–12:00 PM"),
    ]


async def test_an_offerings_own_hours_and_forged_buttons(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    intruder = api.user(909, "Mallory")
    mentee = api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", "500", 30)
    await onboard(api, intruder)
    await set_hours(api, intruder, ["Sun"], ["6:00 AM"])  # another mentor
    await onboard(api, mentee)
    async with bot.bot_data["services"].uow_factory() as uow:
        [offering] = await uow.offerings.list_by_mentor(mentor.id)
    assert offering.id is not None

    # the owner edits the offering's own hours with the same editor
    await mentor.press_data(None, EditHours(offering.id).pack())
    screen = await mentor.wait_for("Weekly hours for Resume Review 1:1")
    assert "Step 1 of 2" in screen.text and "No weekly hours yet." in screen.text
    assert "📅 Date exceptions" not in screen.buttons  # exceptions belong to the mentor, not an offering
    await mentor.press(lambda label: label.endswith("Sat"), message=screen)
    await api.wait_idle()
    await mentor.press("Next: hours ▶")
    await mentor.wait_for("Step 2 of 2")
    await mentor.press("✍️ Type exact hours")
    await mentor.wait_for("Type your hours for Sat")
    await mentor.send("10:00-13:30")
    saved = await mentor.wait_for("Saved. Weekly hours for Resume Review 1:1")
    assert clock("Sat: 10:00 AM–1:30 PM") in saved.text
    await mentor.press("🗓 Edit hours again")
    await mentor.wait_for("Weekly hours for Resume Review 1:1")
    await mentor.press("✏️ Edit one day")
    await mentor.wait_for("Tap a day")
    await mentor.press(lambda label: label.startswith("Sat:"))
    await mentor.wait_for("Saturday:")
    await mentor.press("📋 Copy to other days")
    await mentor.wait_for("Copy the hours of Saturday")
    await mentor.press("▫️ Sun")
    await api.wait_idle()
    await mentor.press("📋 Copy")
    await mentor.wait_for(lambda m: "Weekly hours for Resume" in m.text and m.buttons[6].startswith("Sun: 10"))

    own = (WeeklyRule(5, TimeRange(600, 810)), WeeklyRule(6, TimeRange(600, 810)))
    weekly_before = await profile_weekly(bot, mentor.id)
    assert {r.weekday for r in weekly_before} == {0, 1, 2, 3, 4}  # the profile's hours untouched

    # another mentor and a mentee press the editor's buttons: refused, nothing changes
    await mentor.press_data(None, PickDate(DateStep.DAY_OFF, date(2026, 12, 2), date(2026, 12, 2)).pack())
    await mentor.wait_for("Saved: Wed, Dec 2 is a day off.")
    forged = [
        (intruder, EditHours(offering.id).pack()),
        (intruder, EditDay(offering.id, 5).pack()),
        (intruder, ActOnDay(offering.id, 5, DayAction.CLEAR).pack()),
        (intruder, ActOnDay(offering.id, 5, DayAction.GRID).pack()),
        (intruder, ApplyCopy(offering.id, 5, 0b0011111).pack()),
        (intruder, OpenSchedule(offering.id, SchedulePage.DAYS).pack()),
        (intruder, OpenSchedule(offering.id, SchedulePage.WEEK).pack()),
        (mentee, OpenSchedule(0, SchedulePage.EXCEPTIONS).pack()),
        (mentee, OpenSchedule(0, SchedulePage.PREVIEW).pack()),
        (mentee, ToggleDay(2).pack()),
        (mentee, PickDate(DateStep.DAY_OFF, date(2026, 12, 3), date(2026, 12, 3)).pack()),
        (mentee, RemoveException(date(2026, 12, 2), date(2026, 12, 2)).pack()),
    ]
    for user, data in forged:
        await user.press_data(None, data)
        assert await last_answer(api) == REFUSED, data
        assert api.callback_answers[-1].show_alert
    await intruder.press_data(None, EditHours(offering.id + 100).pack())
    assert await last_answer(api) == "That is no longer available."
    await intruder.press_data(None, "awa:1:5")
    assert await last_answer(api) == "This button is no longer valid."
    # an intruder's own "remove" only touches their own exceptions
    await intruder.press_data(None, RemoveException(date(2026, 12, 2), date(2026, 12, 2)).pack())
    assert await last_answer(api) == "Removed: back to your weekly hours."

    async with bot.bot_data["services"].uow_factory() as uow:
        stored = await uow.offerings.get(offering.id)
        saved = await uow.availability.get(mentor.id)
        mentee_found = await uow.dialogs.get(mentee.id)
    assert stored is not None and stored.weekly_rules == own
    assert saved is not None and saved.weekly == weekly_before
    assert [o.day for o in saved.overrides] == [date(2026, 12, 2)]
    assert mentee_found is None  # no step was started for the mentee
    await mentee.send("2026-12-05")
    await mentee.wait_for("I did not understand that")


async def test_whole_day_hours_read_as_until_midnight_in_every_language(api: FakeBotApi, bot) -> None:
    mentor, hindi = api.user(101, "Asha"), api.user(102, "Priya", language_code="hi")
    await onboard(api, mentor)
    await open_availability(api, mentor)
    await mentor.press("✏️ Edit one day")
    await mentor.wait_for("Tap a day")
    await mentor.press("Mon: —")
    await mentor.wait_for("Monday: no hours")
    await mentor.press("✍️ Type hours")
    await mentor.wait_for("Type your hours for Mon")
    await mentor.send("00:00-24:00")
    saved = await mentor.wait_for("Saved. Your weekly hours")
    assert clock("Mon: 12:00 AM–midnight") in saved.text
    await mentor.press("🗓 Edit hours again")
    await mentor.wait_for("Step 1 of 2")
    await mentor.press("✏️ Edit one day")
    week = await mentor.wait_for("Tap a day")
    assert week.buttons[0] == clock("Mon: 12:00 AM–midnight")

    await hindi.send("/start")
    await hindi.wait_for(lambda m: m.has_keyboard)
    await hindi.press_data(None, PickZone("Asia/Kolkata").pack())
    await api.wait_idle()
    await hindi.send("/availability")
    await api.wait_idle()
    await hindi.press_data(None, ActOnDay(0, 0, DayAction.TYPE).pack())
    await api.wait_idle()
    await hindi.send("00:00-24:00")
    saved = await hindi.wait_for("Asia/Kolkata")
    assert "12:00 am–मध्यरात्रि" in saved.text, saved.text
