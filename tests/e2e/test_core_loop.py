"""The product's core loop, acted out by two people in Telegram against the real bot over HTTP."""

from __future__ import annotations

from sandbox.botapi import FakeBotApi
from tests.e2e.flows import (
    LONDON,
    become_mentor_with_offering,
    book_first_time,
    booking_number,
    clock,
    onboard,
    open_first_date,
)


async def test_mentor_publishes_mentee_books_mentor_confirms_and_adds_link(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha", username="asha", language_code="en")
    mentee = api.user(202, "Ravi", username="ravi", language_code="en")

    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", "500", 30)

    await onboard(api, mentee, LONDON)
    await mentee.send("/book")
    listing = await mentee.wait_for("Open offerings")
    assert "Resume Review 1:1" in listing.text and "with Asha" in listing.text
    assert "₹500 · 30 min" in listing.text and "0 requests made · 0 sessions held" in listing.text
    await mentee.press("📅 Book 1")
    dates = await mentee.wait_for("Choose a date.")
    # the mentor works Mon-Fri 9-12 Kolkata; "now" is Tue 06:00 UTC; 24 h notice -> Wednesday first
    assert dates.keyboard[0][0].text == "Wed, Nov 25"
    assert "Sat" not in " ".join(dates.buttons) and "Sun" not in " ".join(dates.buttons)
    await mentee.press("Wed, Nov 25")
    times = await mentee.wait_for("Choose a time.")
    # Wed 11:30 IST is the first start at least 24 h ahead; London sees 06:00 with the mentor's clock alongside
    assert times.buttons[:1] == [clock("6:00 AM (11:30 AM)")]
    assert "mentor's time (Asia/Kolkata)" in times.text
    await mentee.press(clock("6:00 AM (11:30 AM)"))
    await mentee.wait_for("Anything the mentor should know")
    await mentee.send("Please look at my CV <b>not bold</b> & thanks")
    summary = await mentee.wait_for("Please check your booking")
    assert "Please look at my CV <b>not bold</b> & thanks" in summary.text  # shown literally, not as HTML
    assert "needs the mentor's approval" in summary.text
    await mentee.press("✅ Confirm booking")
    done = await mentee.wait_for("Request sent")
    assert "waiting for the mentor" in done.text

    request = await mentor.wait_for("New booking request")
    assert "Ravi (@ravi)" in request.text
    assert clock("Wed, Nov 25, 11:30 AM (6:00 AM for mentee)") in request.text
    assert "Please look at my CV <b>not bold</b> & thanks" in request.text
    assert request.buttons == ["✅ Confirm", "❌ Decline", "🔗 Add meeting link", "📝 Private note"]
    booking_id = booking_number(request.text)

    await mentor.press("✅ Confirm", message=request)
    confirmed = await mentor.wait_for(lambda m: m.message_id == request.message_id and "· confirmed" in m.text)
    assert confirmed.buttons == [
        "🔗 Add meeting link", "🔁 Propose new times", "🚫 Cancel booking", "💰 Mark paid", "📝 Private note",
        "⬅ Back to list",
    ]  # fmt: skip
    told = await mentee.wait_for("Your booking is confirmed")
    assert clock("Wed, Nov 25, 6:00 AM") in told.text

    await mentor.press("🔗 Add meeting link", message=request)
    await mentor.wait_for(f"Send the meeting link for booking #{booking_id}")
    await mentor.send("ftp://files.example.com/room")
    await mentor.wait_for("That is not a web link")
    await mentor.send("https://meet.example.com/abc-defg")  # still on the same step
    await mentor.wait_for("Link saved")
    linked = await mentee.wait_for("The mentor added a meeting link")
    assert "https://meet.example.com/abc-defg" in linked.text
    assert linked.keyboard[0][0].url == "https://meet.example.com/abc-defg"
    assert linked.keyboard[0][0].text == "🎥 Join"

    # the offering's counter moved with the booking
    await mentee.send("/book")
    listing = await mentee.wait_for("Open offerings")
    assert "1 request made · 0 sessions held" in listing.text


async def test_free_offering_is_confirmed_instantly(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor, "Career chat", "Free", 15)
    await onboard(api, mentee)
    await open_first_date(api, mentee)
    await mentee.press(mentee.last_keyboard_message().keyboard[0][0].text)
    await mentee.wait_for("Anything the mentor should know")
    await mentee.press("Skip ▶")
    summary = await mentee.wait_for("Please check your booking")
    assert "Free ·" in summary.text and "confirmed instantly" in summary.text
    await mentee.press("✅ Confirm booking")
    await mentee.wait_for("Booked! Your session is confirmed.")
    note = await mentor.wait_for("🔔 New booking")
    assert "· confirmed" in note.text and "❌ Decline" not in note.buttons


async def test_mentor_declines_with_a_reason(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha")
    mentee = api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await book_first_time(api, mentee, "Request sent")
    request = await mentor.wait_for("New booking request")

    await mentor.press("❌ Decline", message=request)
    await mentor.wait_for("Why are you declining")
    await mentor.send("Travelling <that> week")
    declined = await mentor.wait_for("Declined. The mentee has been told.")
    assert declined.buttons == ["📝 Private note", "⬅ Back to list"]
    told = await mentee.wait_for("declined your booking")
    assert "Reason: Travelling <that> week" in told.text

    # the old card's buttons are stale now: a clear answer and the current state, nothing changes
    await mentor.press("✅ Confirm", message=request)
    await api.wait_idle()
    assert api.callback_answers[-1].text == "This booking is already declined; nothing was changed."
    assert "· declined" in mentor.message(request.message_id).text
