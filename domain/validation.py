"""Checks for values people type. Each failure is an ``InvalidInput`` whose ``field``/``detail`` the UI
explains."""

from __future__ import annotations

import itertools
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidInput
from domain.model import ALLOWED_DURATIONS, LINK_MAX, MINUTES_PER_DAY, PRICE_MAX, TITLE_MAX, TimeRange

TOO_LONG = "too_long"
EMPTY = "empty"
NOT_A_NUMBER = "not_a_number"
NEGATIVE = "negative"
TOO_LARGE = "too_large"
TOO_PRECISE = "too_precise"
NOT_ALLOWED = "not_allowed"
NOT_HTTP = "not_http"

_FREE_WORDS = frozenset({"free", "0", "मुफ़्त", "मुफ्त", "бесплатно"})
_CURRENCY = re.compile(r"^(₹|rs\.?|inr)\s*|\s*(₹|rs\.?|inr|/-)$", re.IGNORECASE)
_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")  # "1 500", as Russian writes thousands
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")  # "499,50": a comma before one or two digits is a decimal comma


def clean_text(value: str, limit: int, *, field: str) -> str:
    """Strip surrounding space and control characters (newlines and tabs stay); enforce ``limit`` characters."""
    kept = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if len(kept) > limit:
        raise InvalidInput(field, TOO_LONG)
    return kept


def validate_title(value: str) -> str:
    title = " ".join(clean_text(value, TITLE_MAX * 2, field="title").split())
    if not title:
        raise InvalidInput("title", EMPTY)
    if len(title) > TITLE_MAX:
        raise InvalidInput("title", TOO_LONG)
    return title


def parse_price(value: str) -> Decimal:
    """``500``, ``₹499.50``, ``Rs 1,000``, ``1,00,000``, ``1 500 ₹``, ``499,50``, ``free`` or ``0``; at most two
    decimals, not negative."""
    text = value.strip().lower()
    if text in _FREE_WORDS:
        return Decimal("0")
    text = _GROUP_SPACE.sub("", _CURRENCY.sub("", text).strip())
    text = text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else text.replace(",", "")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise InvalidInput("price", NOT_A_NUMBER) from None
    if not price.is_finite():
        raise InvalidInput("price", NOT_A_NUMBER)
    if price < 0:
        raise InvalidInput("price", NEGATIVE)
    if price > PRICE_MAX:
        raise InvalidInput("price", TOO_LARGE)
    if price != price.quantize(Decimal("0.01")):
        raise InvalidInput("price", TOO_PRECISE)
    return price.quantize(Decimal("0.01"))


def validate_duration(minutes: int) -> int:
    if minutes not in ALLOWED_DURATIONS:
        raise InvalidInput("duration", NOT_ALLOWED)
    return minutes


def validate_link(value: str) -> str:
    """An absolute http(s) URL with a host and no spaces."""
    link = value.strip()
    if len(link) > LINK_MAX:
        raise InvalidInput("link", TOO_LONG)
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in link):
        raise InvalidInput("link", NOT_HTTP)
    return link


_RANGE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:-|–|—|to)\s*(\d{1,2})(?:[:.](\d{2}))?", re.IGNORECASE)


def parse_time_ranges(text: str) -> list[TimeRange]:
    """``09:00-12:00, 14:30-18:00`` (24-hour clock; ``9-12`` and ``24:00`` allowed) into sorted ranges."""
    pieces = [p for p in re.split(r"[,;\n]+", text) if p.strip()]
    if not pieces:
        raise InvalidInput("ranges", EMPTY)
    ranges = []
    for piece in pieces:
        match = _RANGE.fullmatch(piece.strip())
        if not match:
            raise InvalidInput("ranges", NOT_A_NUMBER)
        h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 >= 60 or m2 >= 60 or h1 > 23 or end > MINUTES_PER_DAY:
            raise InvalidInput("ranges", NOT_A_NUMBER)
        if end <= start:
            raise InvalidInput("ranges", "order")
        ranges.append(TimeRange(start, end))
    ranges.sort(key=lambda r: r.start)
    for before, after in itertools.pairwise(ranges):
        if after.start < before.end:
            raise InvalidInput("ranges", "overlap")
    return ranges


def merge_hours(hours: list[int] | set[int]) -> list[TimeRange]:
    """Whole hours (0-23) chosen on a grid into the fewest ranges: {9, 10, 14} -> 09-11, 14-15."""
    ranges: list[TimeRange] = []
    for hour in sorted(set(hours)):
        if not 0 <= hour <= 23:
            raise InvalidInput("hours", NOT_ALLOWED)
        if ranges and ranges[-1].end == hour * 60:
            ranges[-1] = TimeRange(ranges[-1].start, hour * 60 + 60)
        else:
            ranges.append(TimeRange(hour * 60, hour * 60 + 60))
    return ranges


def validate_timezone(name: str) -> str:
    """An IANA zone name ``zoneinfo`` knows (``Asia/Kolkata``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", "unknown") from None
    return name
