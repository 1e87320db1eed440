"""A press whose screen would not change is answered without an edit (Telegram refuses an edit to identical
content with "message is not modified"): the selected tab pressed again, a stale menu button, a repeated press."""

from __future__ import annotations

from handlers.callbacks import Attendance
from sandbox.botapi import ChatMessage, FakeBotApi, FakeUser
from tests.e2e.flows import become_mentor_with_offering, onboard, open_first_date, pick_time_and_skip_notes


def refused_edits(api: FakeBotApi) -> list[str]:
    return [e.description for e in api.errors_returned if e.method.lower() == "editmessagetext" and not e.injected]


async def press_again_changes_nothing(api: FakeBotApi, user: FakeUser, message: ChatMessage, label: str) -> None:
    """Press ``label`` on ``message`` (its screen is already what the button shows): answered once, no edit."""
    await api.wait_idle()
    edits, before = len(api.calls_to("editMessageText")), message.snapshot()
    query = await user.press(label, message=message)
    await api.wait_idle()
    assert len(api.callback_queries[query].answers) == 1
    assert len(api.calls_to("editMessageText")) == edits, refused_edits(api)
    after = user.message(message.message_id)
    assert (after.text, after.buttons) == (before.text, before.buttons)


async def test_the_selected_tab_pressed_again_is_not_edited(api: FakeBotApi, bot) -> None:
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)

    await mentee.send("/mybookings")
    listing = await mentee.wait_for("My bookings")
    await press_again_changes_nothing(api, mentee, listing, "• Upcoming (0)")
    await mentee.press("Past (0)", message=listing)  # a different tab is still shown
    await mentee.wait_for(lambda m: m.message_id == listing.message_id and "Past · page 1 of 1" in m.text)
    await press_again_changes_nothing(api, mentee, listing, "• Past (0)")

    await mentor.send("/bookings")
    inbox = await mentor.wait_for("Your bookings")
    await press_again_changes_nothing(api, mentor, inbox, "• Pending (0)")
    await mentor.press("Cancelled (0)", message=inbox)
    await mentor.wait_for(lambda m: m.message_id == inbox.message_id and "Cancelled · page 1 of 1" in m.text)
    await press_again_changes_nothing(api, mentor, inbox, "• Cancelled (0)")
    assert refused_edits(api) == []


async def test_a_stale_menu_button_pressed_again_is_not_edited(api: FakeBotApi, bot) -> None:
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    menu = mentee.last_keyboard_message()
    assert "What would you like to do?" in menu.text
    data = menu.button("🎟 My bookings").callback_data
    assert data is not None
    await mentee.press("🎟 My bookings", message=menu)
    await mentee.wait_for(lambda m: m.message_id == menu.message_id and "My bookings" in m.text)
    await api.wait_idle()

    # a double tap: the second press carries the old button's data, the message already shows its screen
    edits = len(api.calls_to("editMessageText"))
    query = await mentee.press_data(menu, data)
    await api.wait_idle()
    assert len(api.callback_queries[query].answers) == 1
    assert len(api.calls_to("editMessageText")) == edits, refused_edits(api)
    assert refused_edits(api) == []


async def test_a_repeated_ill_be_there_leaves_the_reminder_as_it_is(api: FakeBotApi, bot) -> None:
    """ "I'll be there" swaps the reminder's buttons for the Join button (none without a link): pressed again, or
    on a message that already has those buttons, nothing is edited."""
    mentor, mentee = api.user(101, "Asha"), api.user(202, "Ravi")
    await become_mentor_with_offering(api, mentor)
    await onboard(api, mentee)
    await open_first_date(api, mentee)
    await pick_time_and_skip_notes(api, mentee)
    await mentee.press("✅ Confirm booking")
    sent = await mentee.wait_for("Request sent")  # the booking's card: no link yet, so no buttons
    await api.wait_idle()

    edits = len(api.calls) - len(api.calls_to("answerCallbackQuery"))
    for _press in range(2):
        query = await mentee.press_data(sent, Attendance(1, True).pack())
        await api.wait_idle()
        [answer] = api.callback_queries[query].answers
        assert answer.text == "Great, see you there!"
    assert len(api.calls) - len(api.calls_to("answerCallbackQuery")) == edits  # no edit was attempted
    assert api.errors_returned == []
