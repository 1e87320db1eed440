from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.model import OfferingStatus
from handlers.callbacks import (
    ActOnBooking,
    BadCallback,
    BookDate,
    BookingAction,
    ConfirmBooking,
    PickZone,
    SetOfferingStatus,
    decode,
)

minutes = st.integers(min_value=0, max_value=10**8).map(lambda m: datetime.fromtimestamp(m * 60, tz=UTC))


@given(offering_id=st.integers(min_value=1, max_value=2**63 - 1), start=minutes)
def test_confirm_round_trips_and_fits_64_bytes(offering_id, start):
    data = ConfirmBooking(offering_id, start)
    packed = data.pack()
    assert len(packed.encode()) <= 64
    assert ConfirmBooking.unpack(packed) == data
    assert decode(packed) == data


def test_each_kind_only_matches_its_own_prefix():
    assert BookDate.pattern().match(BookDate(1, date(2026, 12, 1)).pack())
    assert not BookDate.pattern().match(ConfirmBooking(1, datetime(2026, 1, 1, tzinfo=UTC)).pack())


@pytest.mark.parametrize(
    "forged",
    ["", "bc", "bc:1", "bc:x:y", "bc:1:2:3", "ba:1:zz", "bd:1:2026-12-01", "os:1:deleted", "nope:1", "ba:-:c",
     "ba:99999999999999999999999:c"],
)
def test_malformed_data_is_refused(forged):
    with pytest.raises(BadCallback):
        decode(forged)


def test_enums_and_strings():
    assert decode(ActOnBooking(5, BookingAction.DECLINE).pack()) == ActOnBooking(5, BookingAction.DECLINE)
    assert decode(SetOfferingStatus(5, OfferingStatus.PAUSED).pack()).status is OfferingStatus.PAUSED
    with pytest.raises(ValueError):
        PickZone("a:b").pack()
    with pytest.raises(ValueError):
        PickZone("x" * 70).pack()


def test_typed_cities_find_their_zone():
    from handlers.onboarding import find_zones

    assert find_zones("Mumbai") == ["Asia/Kolkata"]
    assert find_zones("  मुंबई ") == ["Asia/Kolkata"]
    assert find_zones("Москва") == ["Europe/Moscow"]
    assert find_zones(" Санкт-Петербург") == ["Europe/Moscow"]
    assert find_zones("ЕКАТЕРИНБУРГ") == ["Asia/Yekaterinburg"]
    assert find_zones("Нью-Йорк") == ["America/New_York"]
    assert find_zones("london") == ["Europe/London"]
    assert find_zones("new york") == ["America/New_York"]
    assert find_zones("europe/paris") == ["Europe/Paris"]
    assert find_zones("lord howe") == ["Australia/Lord_Howe"]
    assert find_zones("") == [] and find_zones("Atlantis") == []
