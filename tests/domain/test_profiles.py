"""Editing a mentor profile: each field's rules, clearing, tags, and the mentor's totals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.model import MentorProfile
from domain.profiles import (
    BIO_MAX,
    HEADLINE_MAX,
    LANGUAGES_MAX,
    NAME_MAX,
    TAG_MAX,
    TAGS_MAX,
    ProfileField,
    edit_profile,
    mentor_stats,
    parse_tags,
)
from tests.domain.factories import offering

EMPTY = MentorProfile(1)
FULL = MentorProfile(1, "Asha", "Staff engineer", "Bio", ("Python",), ("English",), "asha@okicici")


def test_name_is_collapsed_and_limited() -> None:
    assert edit_profile(EMPTY, ProfileField.NAME, "  Asha \n  Rao ").display_name == "Asha Rao"
    assert edit_profile(EMPTY, ProfileField.NAME, "x" * NAME_MAX).display_name == "x" * NAME_MAX
    with pytest.raises(InvalidInput) as error:
        edit_profile(EMPTY, ProfileField.NAME, "x" * (NAME_MAX + 1))
    assert (error.value.field, error.value.detail) == ("display_name", "too_long")
    with pytest.raises(InvalidInput) as error:
        edit_profile(EMPTY, ProfileField.NAME, " \t ")
    assert (error.value.field, error.value.detail) == ("display_name", "empty")


def test_headline_and_bio_limits() -> None:
    assert edit_profile(EMPTY, ProfileField.HEADLINE, "Staff   engineer").headline == "Staff engineer"
    with pytest.raises(InvalidInput) as error:
        edit_profile(EMPTY, ProfileField.HEADLINE, "h" * (HEADLINE_MAX + 1))
    assert error.value.field == "headline"
    bio = "Line one\nLine <b>two</b>"
    assert edit_profile(EMPTY, ProfileField.BIO, bio).bio == bio  # kept as typed; escaped when shown
    with pytest.raises(InvalidInput) as error:
        edit_profile(EMPTY, ProfileField.BIO, "b" * (BIO_MAX + 1))
    assert error.value.field == "bio"


@pytest.mark.parametrize(
    ("typed", "tags"),
    [
        ("Python, SQL", ("Python", "SQL")),
        ("python; PYTHON, Python\nsystem   design", ("python", "system design")),
        (" , ,SQL,, ", ("SQL",)),
        ("", ()),
    ],
)
def test_tags_are_split_trimmed_and_deduplicated(typed: str, tags: tuple[str, ...]) -> None:
    assert parse_tags(typed, field="expertise", limit=TAGS_MAX) == tags


def test_too_many_or_too_long_tags_are_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_tags(",".join(f"t{i}" for i in range(TAGS_MAX + 1)), field="expertise", limit=TAGS_MAX)
    assert (error.value.field, error.value.detail) == ("expertise", "too_many")
    with pytest.raises(InvalidInput) as error:
        parse_tags("x" * (TAG_MAX + 1), field="languages", limit=LANGUAGES_MAX)
    assert (error.value.field, error.value.detail) == ("languages", "too_long")


@pytest.mark.parametrize("field", list(ProfileField))
def test_a_dash_clears_any_field(field: ProfileField) -> None:
    cleared = edit_profile(FULL, field, " - ")
    assert (
        cleared
        == {
            ProfileField.NAME: FULL.with_changes(display_name=None),
            ProfileField.HEADLINE: FULL.with_changes(headline=""),
            ProfileField.BIO: FULL.with_changes(bio=""),
            ProfileField.EXPERTISE: FULL.with_changes(expertise=()),
            ProfileField.LANGUAGES: FULL.with_changes(languages=()),
            ProfileField.UPI_ID: FULL.with_changes(upi_id=None),
        }[field]
    )


def test_mentor_stats_add_up_every_offering() -> None:
    stats = mentor_stats(
        [
            offering(id=1, total_bookings=3, total_completed=2, rating_sum=9, rating_count=2),
            offering(id=2, total_bookings=4, total_completed=1, rating_sum=3, rating_count=1),
        ]
    )
    assert (stats.bookings, stats.completed, stats.rating_count) == (7, 3, 3)
    assert stats.average_rating == Decimal("4.00")
    assert mentor_stats([]).average_rating is None
