from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.model import TimeRange
from domain.validation import (
    clean_text,
    merge_hours,
    parse_price,
    parse_time_ranges,
    validate_duration,
    validate_link,
    validate_title,
)


@pytest.mark.parametrize(
    ("typed", "price"),
    [
        ("500", "500"),
        ("₹500", "500"),
        ("Rs. 1,000", "1000"),
        ("499.5", "499.50"),
        ("free", "0"),
        ("0", "0"),
        ("Бесплатно", "0"),
        ("1000/-", "1000"),
        ("INR 250", "250"),
        ("1,00,000", "100000"),
        # as Russian writes money: a decimal comma and spaces between thousands
        ("499,50", "499.50"),
        ("499,5", "499.50"),
        ("1 500 ₹", "1500"),
        ("1\u00a0500,50", "1500.50"),
    ],
)
def test_prices_people_type(typed, price):
    assert parse_price(typed) == Decimal(price)


@pytest.mark.parametrize(
    ("typed", "detail"),
    [
        ("abc", "not_a_number"),
        ("-5", "negative"),
        ("1.234", "too_precise"),
        ("nan", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("99999999", "too_large"),
        ("", "not_a_number"),
        ("1 50", "not_a_number"),
        ("1 5000", "not_a_number"),
    ],
)
def test_bad_prices_say_why(typed, detail):
    with pytest.raises(InvalidInput) as caught:
        parse_price(typed)
    assert (caught.value.field, caught.value.detail) == ("price", detail)


def test_title_is_trimmed_and_limited():
    assert validate_title("  Resume   Review  ") == "Resume Review"
    with pytest.raises(InvalidInput):
        validate_title("x" * 101)
    with pytest.raises(InvalidInput):
        validate_title("   ")


def test_control_characters_are_dropped_but_newlines_kept():
    assert clean_text("a\x00b\nc\x1b", 10, field="notes") == "ab\nc"


@pytest.mark.parametrize("minutes", [15, 30, 45, 60, 90])
def test_allowed_durations(minutes):
    assert validate_duration(minutes) == minutes


@pytest.mark.parametrize("minutes", [0, 10, 20, 120, -30])
def test_other_durations_are_refused(minutes):
    with pytest.raises(InvalidInput):
        validate_duration(minutes)


@pytest.mark.parametrize("link", ["https://meet.google.com/abc-defg-hij", "http://zoom.us/j/1?pwd=x"])
def test_http_links(link):
    assert validate_link(link) == link


@pytest.mark.parametrize(
    "link",
    [
        "ftp://x.org",
        "javascript:alert(1)",
        "meet.google.com/x",
        "https://",
        "https://a b.c",
        "https://x.org/" + "a" * 600,
    ],
)
def test_non_http_links_are_refused(link):
    with pytest.raises(InvalidInput):
        validate_link(link)


def test_typed_ranges():
    assert parse_time_ranges("9-12, 14:30-18:00") == [TimeRange(540, 720), TimeRange(870, 1080)]
    assert parse_time_ranges("18:00-24:00") == [TimeRange(1080, 1440)]
    for bad, detail in [
        ("12-9", "order"),
        ("9-12, 11-13", "overlap"),
        ("noon", "not_a_number"),
        ("", "empty"),
        ("9:75-10", "not_a_number"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            parse_time_ranges(bad)
        assert caught.value.detail == detail


def test_hours_merge_into_ranges():
    assert merge_hours({9, 10, 11, 14}) == [TimeRange(540, 720), TimeRange(840, 900)]
    assert merge_hours([]) == []


def test_touching_ranges_join_and_overlaps_are_refused():
    from domain.availability import weekly_rules
    from domain.model import WeeklyRule

    assert weekly_rules([0, 0, 2], [TimeRange(600, 660), TimeRange(540, 600)]) == [
        WeeklyRule(0, TimeRange(540, 660)),
        WeeklyRule(2, TimeRange(540, 660)),
    ]
    with pytest.raises(InvalidInput):
        weekly_rules([0], [TimeRange(540, 660), TimeRange(600, 700)])
    with pytest.raises(InvalidInput):
        weekly_rules([7], [TimeRange(540, 660)])
