"""Weekly hours as people read them: the end of the day (minute 1440) reads as midnight (or 24:00), in every
language."""

from __future__ import annotations

import pytest

from chat.i18n import format_wall, use_locale
from domain.model import TimeRange
from handlers.render import describe_ranges

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("locale", "whole_day", "evening"),
    [
        ("en", f"12:00{NNBSP}AM–midnight", f"10:00{NNBSP}PM–midnight"),
        ("hi", "12:00 am–मध्यरात्रि", "10:00 pm–मध्यरात्रि"),
        ("ru", "00:00–24:00", "22:00–24:00"),  # a 24-hour clock: the end of the day is 24:00
    ],
)
def test_the_end_of_the_day_reads_as_midnight(locale: str, whole_day: str, evening: str) -> None:
    with use_locale(locale):
        assert describe_ranges([TimeRange(0, 1440)]) == whole_day
        assert describe_ranges([TimeRange(22 * 60, 24 * 60)]) == evening
        assert format_wall(0) != format_wall(24 * 60)  # the start of the day stays a clock time
