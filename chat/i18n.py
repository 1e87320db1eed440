"""Translations and locale-aware formatting.

``_()`` translates into the locale of the person being written to, held in a context variable that the
update handler sets from the user's stored locale (``use_locale`` switches it when writing to someone else).
Catalogs live in ``chat/locales/<lang>/LC_MESSAGES/messages.po``; a compiled ``.mo`` is used when it is up to date,
otherwise the ``.po`` is compiled in memory, so a fresh checkout runs without a build step.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "hi", "ru")
LOCALE_NAMES = {"en": "English", "hi": "हिन्दी", "ru": "Русский"}
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"

_current_locale: ContextVar[str] = ContextVar("locale", default="en")


def pick_locale(language_code: str | None, default: str = "en") -> str:
    """The supported locale closest to a Telegram ``language_code`` such as ``hi`` or ``en-GB``."""
    if language_code:
        base = language_code.replace("_", "-").split("-")[0].lower()
        if base in SUPPORTED_LOCALES:
            return base
    return default


@cache
def translations(locale: str) -> gettext.NullTranslations:
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return gettext.GNUTranslations(fp)
    if po.is_file():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else "en")


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Write in ``locale`` inside the block (e.g. a message to the other party of a booking)."""
    token = _current_locale.set(locale if locale in SUPPORTED_LOCALES else "en")
    try:
        yield
    finally:
        _current_locale.reset(token)


def _(message: str) -> str:
    return translations(_current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current_locale.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated where it is shown)."""
    return message


# --- formatting for the reader's locale ---------------------------------------------------------------------


# Babel formatting costs tens of microseconds a call and a date picker or time list makes dozens of calls per
# screen; the results depend only on the arguments, so they are memoized (bounded).
_MEMO = 4096


@cache
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


def format_money(amount: Decimal) -> str:
    """``₹500`` / ``₹499.50`` in the reader's locale; ``Free`` for zero."""
    if amount == 0:
        return _("Free")
    return _money(amount, get_locale())


@lru_cache(maxsize=_MEMO)
def _money(amount: Decimal, code: str) -> str:
    locale = _babel_locale(code)
    pattern = locale.currency_formats["standard"].pattern
    if amount == amount.to_integral_value():
        pattern = pattern.replace(".00", "")
    return format_currency(amount, "INR", format=pattern, locale=locale, currency_digits=False)


def format_rating(value: Decimal | float) -> str:
    """An average rating with one decimal as the reader writes numbers: ``4.5`` in English, ``4,5`` in Russian."""
    return format_decimal(value, format="0.0", locale=_babel_locale(get_locale()))


def format_price(amount: Decimal, currency: str = "INR") -> str:
    """A price in its currency: rupees as ``format_money`` writes them (``Free`` for zero), Telegram Stars
    (``XTR``) as ``⭐ 1,500`` with the reader's digit grouping."""
    if currency != "XTR" and amount == 0:
        return _("Free")
    return format_amount(amount, currency)


def format_amount(amount: Decimal, currency: str = "INR") -> str:
    """An amount of money in its currency, zero included (``₹0``): totals, refunds."""
    if currency == "XTR":
        return "⭐\u00a0" + _stars(amount, get_locale())
    return _money(amount, get_locale())


@lru_cache(maxsize=_MEMO)
def _stars(amount: Decimal, code: str) -> str:
    return format_decimal(amount, locale=_babel_locale(code))


def format_day(value: date | datetime, tz: str | None = None) -> str:
    """A short date with weekday, e.g. ``Mon, 30 Nov``, in zone ``tz`` when given a datetime."""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)) if tz else value
        value = value.date()
    return _day(value, get_locale())


@lru_cache(maxsize=_MEMO)
def _day(value: date, code: str) -> str:
    midnight = datetime(value.year, value.month, value.day, tzinfo=UTC)  # shown in UTC: the same day
    return format_skeleton("MMMEd", midnight, locale=_babel_locale(code))


def format_clock(moment: datetime, tz: str) -> str:
    """The wall-clock time of ``moment`` in zone ``tz``, short form (``14:30`` or ``2:30 PM`` by locale)."""
    return _clock(moment, tz, get_locale())


@lru_cache(maxsize=_MEMO)
def _clock(moment: datetime, tz: str, code: str) -> str:
    return format_time(moment, "short", tzinfo=ZoneInfo(tz), locale=_babel_locale(code))


def format_moment(moment: datetime, tz: str) -> str:
    """Date and time of ``moment`` in zone ``tz``, e.g. ``Mon, 30 Nov, 14:30``."""
    return _("{day}, {time}").format(day=format_day(moment, tz), time=format_clock(moment, tz))


def format_wall(minute: int) -> str:
    """A wall-clock time given as minutes after midnight (availability). 1440, the end of the day, reads as
    midnight, so that ``00:00-24:00`` reads as the whole day and not as "12:00 AM–12:00 AM"."""
    if minute == 24 * 60:
        # TRANSLATORS: where hours end with the day: "10:00 PM–midnight" (on a 24-hour clock "24:00" reads best)
        return _("midnight")
    minute %= 24 * 60
    return _wall(minute, get_locale())


@lru_cache(maxsize=_MEMO)
def _wall(minute: int, code: str) -> str:
    return format_time(time(minute // 60, minute % 60), "short", locale=_babel_locale(code))
