"""Russian end to end: a user whose Telegram speaks Russian, and one who switches to Russian in /settings."""

from __future__ import annotations

import re

from sandbox.botapi import FakeBotApi
from tests.e2e.flows import become_mentor_with_offering, onboard

MENTEE_COMMANDS = ["book", "mybookings", "settings", "help", "cancel"]
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def descriptions(menu: list[dict[str, str]]) -> dict[str, str]:
    return {c["command"]: c["description"] for c in menu}


async def test_a_russian_speaker_books_in_russian_with_russian_dates_money_and_menu(api: FakeBotApi, bot) -> None:
    # the default "/" menu Telegram shows to its Russian-speaking users, set at start-up
    menu = descriptions(api.commands(None, "ru"))
    english = descriptions(api.commands(None))
    assert list(menu) == MENTEE_COMMANDS == list(english)
    assert menu["settings"] == "Язык и часовой пояс" and menu["help"] == "Что я умею"
    assert all(CYRILLIC.search(text) and text != english[name] for name, text in menu.items()), menu

    mentor = api.user(101, "Asha")  # Telegram in English, Kolkata, ₹500 for 30 minutes, Mon-Fri 9:00-12:00
    await become_mentor_with_offering(api, mentor)

    olga = api.user(505, "Ольга", language_code="ru")
    await olga.send("/start")
    welcome = await olga.wait_for("Я Mentor Desk")
    assert welcome.text.startswith("Здравствуйте, Ольга!")
    ask = await olga.wait_for("В каком вы часовом поясе?")
    assert ask.buttons[:2] == ["Москва (UTC+3)", "Екатеринбург (UTC+5)"]  # Russian speakers' zones first
    await olga.send("Москва")  # a city typed in Russian
    await olga.wait_for("Часовой пояс: Europe/Moscow. Сейчас там 09:00.")  # 06:00 UTC, on a 24-hour clock
    await olga.wait_for("Что вы хотите сделать?")

    await olga.send("/book")
    listing = await olga.wait_for("Доступные услуги")
    assert "500\xa0₹ · 30 мин" in listing.text  # Russian money: the sign after the amount
    assert "🗓 Ближайшее свободное время: ср, 25 нояб., 09:00" in listing.text  # 11:30 in Kolkata
    await olga.press("📅 Записаться 1")
    dates = await olga.wait_for("Выберите дату.")
    assert "Время указано в вашем часовом поясе (Europe/Moscow); время ментора (Asia/Kolkata) — в скобках." in (
        dates.text
    )
    assert "Неделя: пн, 23 нояб. – вс, 29 нояб." in dates.text
    assert dates.buttons[:3] == ["ср, 25 нояб.", "чт, 26 нояб.", "пт, 27 нояб."]
    await olga.press("ср, 25 нояб.")
    await olga.wait_for("Выберите время.")
    await olga.press("09:00 (11:30)")  # her clock, the mentor's in brackets
    await olga.wait_for("Что ментору стоит знать перед сессией?")
    await olga.press("Пропустить ▶")
    summary = await olga.wait_for("Проверьте запись")
    assert "Когда: ср, 25 нояб., 09:00 (ментор: 11:30)" in summary.text
    assert "Цена: 500\xa0₹" in summary.text
    assert "Отменить запись можно не позже чем за 24 часа до начала." in summary.text  # the plural of "час"
    await olga.press("✅ Подтвердить запись")
    await olga.wait_for("📨 Запрос отправлен.")

    # the mentor reads the same booking in English, in his own zone
    request = await mentor.wait_for("New booking request")
    assert "Mentee: Ольга" in request.text
    assert "When: Wed, Nov 25, 11:30\u202fAM (9:00\u202fAM for mentee)" in request.text
    api.assert_no_errors()


async def test_switching_to_russian_in_settings_changes_text_and_menu(api: FakeBotApi, bot) -> None:
    ravi = api.user(202, "Ravi")  # Telegram in English
    await onboard(api, ravi)
    await ravi.send("/settings")
    await ravi.wait_for("Settings")
    await ravi.press("🌐 Language")
    picker = await ravi.wait_for("Choose your language")
    assert picker.buttons == ["English", "हिन्दी", "Русский"]

    await ravi.press("Русский")
    shown = await ravi.wait_for("Настройки")
    assert "Язык: Русский" in shown.text and "Часовой пояс: Asia/Kolkata (сейчас 11:30)" in shown.text
    assert shown.buttons == ["🌐 Язык", "🕒 Часовой пояс"]
    await api.wait_idle()
    assert api.callback_answers[-1].text == "Язык изменён."

    # his own "/" menu, in Russian
    menu = descriptions(api.commands({"type": "chat", "chat_id": ravi.id}))
    assert list(menu) == MENTEE_COMMANDS and menu["book"] == "Выбрать услугу и записаться"

    await ravi.send("/help")
    shown = await ravi.wait_for("Менторам")
    assert "/settings – язык и часовой пояс" in shown.text
    assert "/mybookings → 🔔 Лист ожидания покажет, чего вы ждёте." in shown.text  # where the waitlist is
    assert "Calendar feed" not in shown.text and "Календарь" not in shown.text  # no PUBLIC_URL: no feeds to offer
    assert shown.buttons == ["🔎 Записаться", "🎟 Мои записи", "🎓 Стать ментором", "⚙️ Настройки"]
    api.assert_no_errors()
