"""The offerings workspace rules: every field's edit and its limits, a copy, deep-link payloads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.model import TITLE_MAX, Availability, Category, Offering, OfferingStatus, TimeRange, WeeklyRule
from domain.offerings import (
    NUMBERS,
    OfferingField,
    OfferingScreen,
    copy_title,
    duplicate,
    edit,
    read_payload,
    start_payload,
)

MON_9_12 = (WeeklyRule(0, TimeRange(540, 720)),)


def offering(**changes: object) -> Offering:
    base = Offering(mentor_id=1, title="Resume Review", price=Decimal("500"), duration_minutes=30, id=7)
    return base.with_changes(**changes)


@pytest.mark.parametrize(
    ("field", "typed", "attribute", "expected"),
    [
        (OfferingField.TITLE, "  Mock   interview ", "title", "Mock interview"),
        (OfferingField.DESCRIPTION, "<b>CV</b>\nand *notes*", "description", "<b>CV</b>\nand *notes*"),
        (OfferingField.DESCRIPTION, " - ", "description", ""),
        (OfferingField.CATEGORY, "mock_interview", "category", Category.MOCK_INTERVIEW),
        (OfferingField.PRICE, "₹499.50", "price", Decimal("499.50")),
        (OfferingField.PRICE, "0", "price", Decimal("0")),
        (OfferingField.DURATION, "45", "duration_minutes", 45),
        (OfferingField.BUFFER_BEFORE, "0", "buffer_before_minutes", 0),
        (OfferingField.BUFFER_AFTER, "120", "buffer_after_minutes", 120),
        (OfferingField.DAILY_LIMIT, "1", "max_bookings_per_day", 1),
        (OfferingField.DAILY_LIMIT, "50", "max_bookings_per_day", 50),
        (OfferingField.ADVANCE_DAYS, "365", "advance_booking_days", 365),
        (OfferingField.MIN_NOTICE, "0", "min_notice_hours", 0),
        (OfferingField.MIN_NOTICE, "720", "min_notice_hours", 720),
        (
            OfferingField.CANCELLATION_POLICY,
            "Free cancellation until a day before.",
            "cancellation_policy",
            "Free cancellation until a day before.",
        ),
        (OfferingField.CANCELLATION_CUTOFF, " 48 ", "cancellation_cutoff_hours", 48),
        (OfferingField.PREPARATION_NOTES, "Read the brief", "preparation_notes", "Read the brief"),
        (OfferingField.CAPACITY, "10", "capacity", 10),
        (OfferingField.CAPACITY, "100", "capacity", 100),
        (OfferingField.CAPACITY, "1", "capacity", 1),
    ],
)
def test_each_field_takes_a_good_value(field: OfferingField, typed: str, attribute: str, expected: object) -> None:
    before = offering()
    after = edit(before, field, typed)
    assert getattr(after, attribute) == expected
    # nothing else moved
    assert after.with_changes(**{attribute: getattr(before, attribute)}) == before


@pytest.mark.parametrize(
    ("field", "typed", "error_field", "detail"),
    [
        (OfferingField.TITLE, "x" * (TITLE_MAX + 1), "title", "too_long"),
        (OfferingField.TITLE, "   ", "title", "empty"),
        (OfferingField.DESCRIPTION, "x" * 1001, "description", "too_long"),
        (OfferingField.CANCELLATION_POLICY, "x" * 1001, "policy", "too_long"),
        (OfferingField.PREPARATION_NOTES, "x" * 1001, "preparation", "too_long"),
        (OfferingField.CATEGORY, "astrology", "category", "unknown"),
        (OfferingField.PRICE, "abc", "price", "not_a_number"),
        (OfferingField.PRICE, "-5", "price", "negative"),
        (OfferingField.DURATION, "20", "duration", "not_allowed"),
        (OfferingField.DURATION, "half an hour", "duration", "not_allowed"),
        (OfferingField.BUFFER_BEFORE, "121", "buffer", "out_of_range"),
        (OfferingField.BUFFER_AFTER, "-5", "buffer", "not_a_number"),
        (OfferingField.BUFFER_AFTER, "10 min", "buffer", "not_a_number"),
        (OfferingField.DAILY_LIMIT, "0", "daily_limit", "out_of_range"),
        (OfferingField.DAILY_LIMIT, "51", "daily_limit", "out_of_range"),
        (OfferingField.ADVANCE_DAYS, "0", "advance_days", "out_of_range"),
        (OfferingField.ADVANCE_DAYS, "366", "advance_days", "out_of_range"),
        (OfferingField.ADVANCE_DAYS, "2.5", "advance_days", "not_a_number"),
        (OfferingField.MIN_NOTICE, "721", "min_notice", "out_of_range"),
        (OfferingField.CANCELLATION_CUTOFF, "721", "cutoff_hours", "out_of_range"),
        (OfferingField.CANCELLATION_CUTOFF, "", "cutoff_hours", "not_a_number"),
        (OfferingField.PROFILE_HOURS, "yes", "profile_hours", "unknown"),
        (OfferingField.CAPACITY, "0", "capacity", "out_of_range"),
        (OfferingField.CAPACITY, "101", "capacity", "out_of_range"),
        (OfferingField.CAPACITY, "ten", "capacity", "not_a_number"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    field: OfferingField, typed: str, error_field: str, detail: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        edit(offering(), field, typed)
    assert (caught.value.field, caught.value.detail) == (error_field, detail)


def test_the_number_bounds_are_the_ones_stated() -> None:
    bounds = {field: (b.low, b.high) for field, (_attribute, b) in NUMBERS.items()}
    assert bounds == {
        OfferingField.BUFFER_BEFORE: (0, 120),
        OfferingField.BUFFER_AFTER: (0, 120),
        OfferingField.DAILY_LIMIT: (1, 50),
        OfferingField.ADVANCE_DAYS: (1, 365),
        OfferingField.MIN_NOTICE: (0, 720),
        OfferingField.CANCELLATION_CUTOFF: (0, 720),
        OfferingField.CAPACITY: (1, 100),
        OfferingField.RESCHEDULE_CUTOFF: (0, 720),
    }


def test_an_archived_offering_cannot_be_edited() -> None:
    with pytest.raises(InvalidInput) as caught:
        edit(offering(status=OfferingStatus.ARCHIVED), OfferingField.TITLE, "New")
    assert caught.value.field == "status"


def test_switching_to_own_hours_starts_from_the_profile_hours_when_it_has_none() -> None:
    switched = edit(offering(status=OfferingStatus.ACTIVE), OfferingField.PROFILE_HOURS, "0", MON_9_12)
    assert not switched.use_profile_availability and switched.weekly_rules == MON_9_12
    # its own rules, once set, are kept when switching back and forth
    own = (WeeklyRule(5, TimeRange(600, 660)),)
    back = edit(switched.with_changes(weekly_rules=own), OfferingField.PROFILE_HOURS, "1", MON_9_12)
    assert back.use_profile_availability and back.weekly_rules == own
    assert edit(back, OfferingField.PROFILE_HOURS, "0", MON_9_12).weekly_rules == own


def test_a_live_offering_without_any_hours_is_flagged() -> None:
    profile = Availability("Asia/Kolkata", MON_9_12)
    live = offering(status=OfferingStatus.ACTIVE)
    assert not OfferingScreen(live, profile).hours_missing
    own_none = edit(live, OfferingField.PROFILE_HOURS, "0", ())  # the profile has no hours either
    assert OfferingScreen(own_none, profile).hours_missing
    assert OfferingScreen(live, None).hours_missing
    assert OfferingScreen(live, Availability("Asia/Kolkata")).hours_missing


def test_copy_title_fits_the_limit() -> None:
    assert copy_title("Resume Review", "(copy)") == "Resume Review (copy)"
    long = "x" * TITLE_MAX
    copied = copy_title(long, "(copy)")
    assert len(copied) == TITLE_MAX and copied.endswith(" (copy)")
    assert copy_title("a" * 92 + " " + "b" * 7, "(copy)") == "a" * 92 + " (copy)"  # no double space at the cut


def test_duplicate_is_a_fresh_draft_with_the_same_settings() -> None:
    own = (WeeklyRule(2, TimeRange(600, 720)),)
    original = offering(
        description="d",
        category=Category.CODE_REVIEW,
        use_profile_availability=False,
        weekly_rules=own,
        buffer_before_minutes=0,
        buffer_after_minutes=15,
        max_bookings_per_day=2,
        advance_booking_days=60,
        min_notice_hours=48,
        cancellation_policy="p",
        cancellation_cutoff_hours=12,
        preparation_notes="n",
        status=OfferingStatus.ACTIVE,
        total_bookings=9,
        total_completed=4,
        rating_sum=18,
        rating_count=4,
    )
    copy = duplicate(original, "(copy)")
    assert copy.id is None and copy.status == OfferingStatus.DRAFT and copy.title == "Resume Review (copy)"
    assert (copy.total_bookings, copy.total_completed, copy.rating_sum, copy.rating_count) == (0, 0, 0, 0)
    same = original.with_changes(
        id=None,
        title=copy.title,
        status=OfferingStatus.DRAFT,
        total_bookings=0,
        total_completed=0,
        rating_sum=0,
        rating_count=0,
    )
    assert copy == same


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("o12", ("o", 12)),
        ("m101", ("m", 101)),
        ("o0", None),
        ("x12", None),
        ("o", None),
        ("o12x", None),
        ("o-1", None),
        ("", None),
        ("o١٢", None),
        # a number no offering or user can have: an id none has (the link points nowhere), however long
        ("o2147483647", ("o", 2147483647)),
        ("o2147483648", ("o", 0)),
        ("o" + "9" * 20, ("o", 0)),
        ("m9223372036854775807", ("m", 9223372036854775807)),
        ("m9223372036854775808", ("m", 0)),
        ("m" + "9" * 5000, ("m", 0)),
    ],
)
def test_deep_link_payloads(payload: str, expected: tuple[str, int] | None) -> None:
    assert read_payload(payload) == expected


def test_payloads_round_trip() -> None:
    assert read_payload(start_payload("o", 5)) == ("o", 5)
    assert read_payload(start_payload("m", 987654321)) == ("m", 987654321)
