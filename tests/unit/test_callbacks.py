import dataclasses
import functools
import typing
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.ids import INT32_MAX, NumberRange
from domain.mentee import MyTab
from domain.model import OfferingStatus
from handlers import callbacks
from handlers.callbacks import (
    FIRST_DAY,
    LAST_DAY,
    ActOnBooking,
    BadCallback,
    BookDate,
    BookingAction,
    BookOffering,
    BookTime,
    CallbackData,
    ConfirmBooking,
    EditHours,
    OpenMyBookings,
    PickZone,
    SetOfferingStatus,
    ShowMentor,
    ToggleDay,
    decode,
)

minutes = st.integers(min_value=0, max_value=10**8).map(lambda m: datetime.fromtimestamp(m * 60, tz=UTC))


@given(offering_id=st.integers(min_value=1, max_value=INT32_MAX), start=minutes)
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
    [
        "",
        "bc",
        "bc:1",
        "bc:x:y",
        "bc:1:2:3",
        "ba:1:zz",
        "bd:1:2026-12-01",
        "os:1:deleted",
        "nope:1",
        "ba:-:c",
        "ba:1.5:c",
        "ba: 1:c",
        "ba:١:c",
        "bd:1:20261332",
        "bd:1:2026121",
        "bd:1:٢٠٢٦١٢٠١",
        "bc:1:A1",
        "bc:1:1_0",
        "bc:1:",
        "at:1:2",
    ],
)
def test_malformed_data_is_refused(forged):
    with pytest.raises(BadCallback):
        decode(forged)


def test_enums_and_strings():
    assert decode(ActOnBooking(5, BookingAction.DECLINE).pack()) == ActOnBooking(5, BookingAction.DECLINE)
    paused = decode(SetOfferingStatus(5, OfferingStatus.PAUSED).pack())
    assert isinstance(paused, SetOfferingStatus) and paused.status is OfferingStatus.PAUSED
    with pytest.raises(ValueError, match="':' in callback field"):
        PickZone("a:b").pack()
    with pytest.raises(ValueError, match="callback data over 64 bytes"):
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


@functools.cache
def number_fields() -> list[tuple[type[CallbackData], str, NumberRange]]:
    found = []
    for kind in callbacks.kinds():
        hints = typing.get_type_hints(kind, include_extras=True)
        for field in dataclasses.fields(kind):
            if typing.get_type_hints(kind)[field.name] is int:
                [numbers] = [extra for extra in typing.get_args(hints[field.name])[1:]]
                found.append((kind, field.name, numbers))
    return found


def test_every_number_field_says_what_it_holds() -> None:
    fields = number_fields()
    assert len(fields) >= 50
    assert all(isinstance(numbers, NumberRange) for _kind, _name, numbers in fields)

    @dataclasses.dataclass(frozen=True, slots=True)  # like @callback, without registering the kind
    class Bare(CallbackData):
        number: int

    with pytest.raises(TypeError, match="needs its range"):
        Bare(1).pack()


@pytest.mark.parametrize(("kind", "name", "numbers"), number_fields(), ids=lambda v: getattr(v, "prefix", v))
def test_numbers_beyond_a_field_read_as_its_unknown_value(kind, name, numbers) -> None:
    assert not numbers.low < numbers.outside < numbers.high
    for text in (str(numbers.high + 1), str(numbers.low - 1), "9" * 40, "-" + "9" * 40, str(2**63), str(2**64)):
        assert numbers.read(text) == numbers.outside
    assert numbers.read(str(numbers.high)) == numbers.high and numbers.read(str(numbers.low)) == numbers.low


def test_out_of_range_ids_decode_as_unknown_ids_and_are_never_packed() -> None:
    assert decode("bo:2147483648") == BookOffering(0)
    assert decode("bo:9999999999999999999") == BookOffering(0)
    assert decode("ba:99999999999999999999999:c") == ActOnBooking(0, BookingAction.CONFIRM)
    assert decode("dsm:9223372036854775808") == ShowMentor(0)
    assert decode("dsm:9223372036854775807") == ShowMentor(2**63 - 1)
    assert decode("eh:2147483648") == EditHours(-1)  # 0 is the mentor's own hours: the unknown scope is -1
    assert decode("eh:0") == EditHours(0)
    assert decode("myl:up:99999999999") == OpenMyBookings(MyTab.UPCOMING, INT32_MAX)  # past the end
    assert decode("avd:8") == ToggleDay(-1)
    for bad in (BookOffering(2**31), BookOffering(0), ShowMentor(2**63), ToggleDay(7), EditHours(-1)):
        with pytest.raises(ValueError, match="is not a number this field carries"):
            bad.pack()


def test_dates_and_times_beyond_the_bounds_read_as_the_nearest_bound() -> None:
    assert decode("bd:1:99991231") == BookDate(1, LAST_DAY)
    assert decode("bd:1:00010101") == BookDate(1, FIRST_DAY)
    assert decode("bd:1:20261201") == BookDate(1, date(2026, 12, 1))
    last = datetime.combine(LAST_DAY, datetime.max.time().replace(second=0, microsecond=0), UTC)
    first = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    assert decode("bt:1:" + "z" * 40) == BookTime(1, last)
    assert decode("bt:1:-" + "z" * 40) == BookTime(1, first)
    beyond = BookTime(1, datetime(9999, 12, 31, 23, 59, tzinfo=UTC)).pack()
    assert decode(beyond) == BookTime(1, last)
    before = BookTime(1, datetime(1, 1, 1, tzinfo=UTC)).pack()
    assert decode(before) == BookTime(1, first)
    old = BookTime(1, datetime(1960, 5, 1, 12, 30, tzinfo=UTC))
    assert decode(old.pack()) == old


@given(st.text(alphabet="-0123456789az", max_size=30))
def test_any_number_or_time_text_reads_inside_the_bounds_or_is_refused(text: str) -> None:
    for data in (f"ba:{text}:c", f"bt:1:{text}", f"bd:1:{text}", f"myl:up:{text}", f"dsm:{text}"):
        try:
            decoded = decode(data)
        except BadCallback:
            continue
        for field in dataclasses.fields(decoded):
            value = getattr(decoded, field.name)
            if isinstance(value, datetime):
                assert FIRST_DAY <= value.date() <= LAST_DAY
            elif isinstance(value, date):
                assert FIRST_DAY <= value <= LAST_DAY
            elif isinstance(value, int):
                [numbers] = [n for k, name, n in number_fields() if k is type(decoded) and name == field.name]
                assert value in numbers or value == numbers.outside
