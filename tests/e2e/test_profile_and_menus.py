"""The mentor's profile and the command menu per role and language, acted out over HTTP."""

from __future__ import annotations

from domain.profiles import ProfileField
from handlers.callbacks import EditProfile, PreviewProfile
from sandbox.botapi import FakeBotApi
from tests.e2e.flows import become_mentor_with_offering, onboard

MENTOR_COMMANDS = [
    "bookings",
    "offerings",
    "availability",
    "profile",
    "newoffering",
    "earnings",
    "book",
    "mybookings",
    "settings",
    "help",
    "cancel",
]


def chat_menu(api: FakeBotApi, user_id: int) -> list[dict[str, str]]:
    return api.commands({"type": "chat", "chat_id": user_id})


async def test_mentor_fills_in_the_profile_and_previews_it_as_a_mentee(api: FakeBotApi, bot) -> None:
    mentor = api.user(101, "Asha", username="asha")
    await become_mentor_with_offering(api, mentor, "Resume Review 1:1", "500", 30)

    await mentor.send("/profile")
    screen = await mentor.wait_for("Your mentor profile")
    assert "Name: Asha" in screen.text and "Headline: — not set —" in screen.text
    assert "Time zone: Asia/Kolkata" in screen.text

    await mentor.press("✏️ Name")
    await mentor.wait_for("Type the name mentees should see (at most 64 characters)")
    await mentor.send("x" * 65)
    await mentor.wait_for("That is too long: at most 64 characters.")
    await mentor.send("Asha Rao")  # still on the same step
    await mentor.wait_for(lambda m: "Saved." in m.text and "Name: Asha Rao" in m.text)

    await mentor.press("✏️ Headline")
    await mentor.wait_for("one-line headline")
    await mentor.send("Staff engineer <b>@</b> fintech & co")
    saved = await mentor.wait_for("Saved.")
    assert "Headline: Staff engineer <b>@</b> fintech & co" in saved.text  # shown literally

    await mentor.press("✏️ Expertise", message=saved)
    await mentor.wait_for("areas of expertise")
    await mentor.send(", ".join(f"tag{i}" for i in range(11)))
    await mentor.wait_for("That is too many: at most 10, separated by commas.")
    await mentor.send("Python, system design, python")
    saved = await mentor.wait_for("Saved.")
    assert "Expertise: Python, system design" in saved.text

    await mentor.press("✏️ Bio", message=saved)
    await mentor.wait_for("short bio")
    await mentor.send("Ten years of *backend* work.\nI like reviewing resumes.")
    saved = await mentor.wait_for("Saved.")

    await mentor.press("✏️ Languages", message=saved)
    await mentor.wait_for("languages you mentor in")
    await mentor.send("English, हिन्दी")
    saved = await mentor.wait_for("Saved.")
    assert "Languages: English, हिन्दी" in saved.text

    await mentor.press("👁 Preview as a mentee", message=saved)
    preview = await mentor.wait_for("This is what mentees see")
    assert "Asha Rao" in preview.text and "Staff engineer <b>@</b> fintech & co" in preview.text
    assert "Ten years of *backend* work.\nI like reviewing resumes." in preview.text
    assert "Expertise: Python, system design" in preview.text and "Speaks: English, हिन्दी" in preview.text
    assert "1. Resume Review 1:1 — ₹500, 30 min" in preview.text
    assert "0 requests made · 0 sessions held · no ratings yet" in preview.text
    assert preview.buttons == ["📅 Book 1", "◀ Back to my profile"]
    await mentor.press("📅 Book 1", message=preview)
    await api.wait_idle()
    assert api.callback_answers[-1].text == "You cannot book your own offering."

    await mentor.press("◀ Back to my profile", message=preview)
    back = await mentor.wait_for(lambda m: m.message_id == preview.message_id and "Your mentor profile" in m.text)

    # a dash clears a field
    await mentor.press("✏️ Headline", message=back)
    await mentor.wait_for("one-line headline")
    await mentor.send("-")
    saved = await mentor.wait_for("Saved.")
    assert "Headline: — not set —" in saved.text
    api.assert_no_errors()
    api.assert_callbacks_answered_once()


async def test_profile_buttons_refuse_someone_who_is_not_a_mentor(api: FakeBotApi, bot) -> None:
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    await mentee.send("/profile")
    offer = await mentee.wait_for("The profile is for mentors")
    assert offer.buttons == ["🎓 Become a mentor"]
    for data in (EditProfile(ProfileField.BIO).pack(), PreviewProfile().pack()):
        await mentee.press_data(None, data)
        await api.wait_idle()
        assert api.callback_answers[-1].text == "You are not allowed to do that."
        assert api.callback_answers[-1].show_alert
    # no profile step was started: typed text is not taken as a bio
    await mentee.send("my bio")
    await mentee.wait_for("I did not understand that")
    api.assert_no_errors()


async def test_the_command_menu_follows_role_and_language(api: FakeBotApi, bot) -> None:
    mentee = api.user(202, "Ravi")
    await onboard(api, mentee)
    assert chat_menu(api, mentee.id) == []  # mentees keep the default (per-language) menu

    mentor = api.user(101, "Asha")
    await onboard(api, mentor)
    await mentor.send("/becomementor")
    await mentor.wait_for("You are a mentor now")
    await api.wait_idle()
    menu = chat_menu(api, mentor.id)
    assert [c["command"] for c in menu] == MENTOR_COMMANDS
    english = {c["command"]: c["description"] for c in menu}
    assert english["bookings"] == "Your bookings inbox"

    await mentor.send("/settings")
    await mentor.wait_for("Settings")
    await mentor.press("🌐 Language")
    await mentor.wait_for("Choose your language")
    await mentor.press("हिन्दी")
    await api.wait_idle()
    hindi = {c["command"]: c["description"] for c in chat_menu(api, mentor.id)}
    assert list(hindi) == MENTOR_COMMANDS
    assert all(hindi[name] != english[name] for name in MENTOR_COMMANDS), hindi
    api.assert_no_errors()


async def test_a_hindi_speaker_gets_the_same_zones_and_may_type_a_city_in_devanagari(api: FakeBotApi, bot) -> None:
    english, hindi = api.user(201, "Ravi"), api.user(202, "Priya", language_code="hi")
    await english.send("/start")
    offered_in_english = await english.wait_for(lambda m: m.has_keyboard)
    await hindi.send("/start")
    question = await hindi.wait_for(lambda m: m.has_keyboard)
    assert [data for row in question.reply_markup for _label, data in row] == [
        data for row in offered_in_english.reply_markup for _label, data in row
    ]  # the same eight zones and "Other"
    assert len(question.buttons) == 16
    assert question.buttons[:2] == ["कोलकाता (UTC+5:30)", "लंदन (UTC+0)"] and "दुबई (UTC+4)" in question.buttons

    await hindi.send("न्यूयॉर्क")
    await hindi.wait_for("टाइम ज़ोन America/New_York सेट हो गया।")
    await hindi.send("/settings")
    await hindi.wait_for("America/New_York")
