"""The time-zone question: the same likely zones in every language, labelled in the reader's language, and city
names found whether typed in Latin letters or in Devanagari."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat.i18n import SUPPORTED_LOCALES, use_locale
from handlers.callbacks import BrowseZones, CallbackData, PickZone, decode
from handlers.onboarding import find_zones, zone_picker

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def offered(locale: str) -> tuple[list[str], list[CallbackData]]:
    with use_locale(locale):
        markup = zone_picker(locale, NOW)
    buttons = [button for row in markup.inline_keyboard for button in row]
    data = [b.callback_data for b in buttons]
    assert all(isinstance(d, str) for d in data)
    return [b.text for b in buttons], [decode(str(d)) for d in data]


def test_every_language_offers_the_same_likely_zones() -> None:
    _labels, english = offered("en")
    zones = [data.zone for data in english if isinstance(data, PickZone)]
    assert zones[:8] == [
        "Asia/Kolkata", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Dubai", "Asia/Singapore",
        "Europe/Berlin", "Australia/Sydney",
    ]  # fmt: skip
    assert english[-1] == BrowseZones("", 0) and len(zones) == len(set(zones)) == 15
    for locale in SUPPORTED_LOCALES:
        _labels, data = offered(locale)
        assert sorted(map(str, data)) == sorted(map(str, english)) and data[-1] == english[-1], locale
    assert offered("hi")[1] == english  # the same order too: Kolkata first
    assert offered("ru")[1][:2] == [PickZone("Europe/Moscow"), PickZone("Asia/Yekaterinburg")]


def test_zone_buttons_name_the_city_in_the_readers_language() -> None:
    english, _data = offered("en")
    assert english[:4] == ["Kolkata (UTC+5:30)", "London (UTC+0)", "New York (UTC-5)", "Los Angeles (UTC-8)"]
    hindi, _data = offered("hi")
    russian, _data = offered("ru")
    assert russian[:2] == ["Москва (UTC+3)", "Екатеринбург (UTC+5)"]
    assert hindi[:5] == [
        "कोलकाता (UTC+5:30)", "लंदन (UTC+0)", "न्यूयॉर्क (UTC-5)", "लॉस एंजिल्स (UTC-8)", "दुबई (UTC+4)"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("दुबई", "Asia/Dubai"),
        ("लंदन", "Europe/London"),
        ("लन्दन", "Europe/London"),
        ("न्यूयॉर्क", "America/New_York"),
        (" न्यू  यॉर्क ", "America/New_York"),
        ("लॉस एंजिल्स", "America/Los_Angeles"),
        ("सिंगापुर", "Asia/Singapore"),
        ("बर्लिन", "Europe/Berlin"),
        ("सिडनी", "Australia/Sydney"),
        ("पेरिस", "Europe/Paris"),  # any city CLDR names in Hindi, not only the suggested ones
        ("टोक्यो", "Asia/Tokyo"),
        ("मुंबई", "Asia/Kolkata"),
        ("कोलकाता", "Asia/Kolkata"),
        ("सैन फ़्रांसिस्को", "America/Los_Angeles"),
        ("Dubai", "Asia/Dubai"),
        ("newyork", "America/New_York"),
    ],
)
def test_typed_cities_are_found_in_latin_letters_and_devanagari(typed: str, zone: str) -> None:
    assert find_zones(typed) == [zone]


def test_unknown_or_empty_text_finds_nothing() -> None:
    assert find_zones("अटलांटिस") == [] and find_zones("  ") == []
