"""Human names for enum values, translated at the moment they are shown."""

from __future__ import annotations

from typing import Literal

from babel.dates import get_day_names

from chat.i18n import N_, _, get_locale
from domain.model import BookingStatus, Category, OfferingStatus, PaymentMode, PaymentStatus

_BOOKING_STATUS = {
    BookingStatus.AWAITING_PAYMENT: N_("waiting for payment"),
    BookingStatus.PENDING: N_("waiting for the mentor"),
    BookingStatus.CONFIRMED: N_("confirmed"),
    BookingStatus.DECLINED: N_("declined"),
    BookingStatus.CANCELLED: N_("cancelled"),
    BookingStatus.EXPIRED: N_("expired"),
    BookingStatus.COMPLETED: N_("completed"),
    BookingStatus.NO_SHOW: N_("marked as no-show"),
}

_OFFERING_STATUS = {
    OfferingStatus.DRAFT: N_("draft"),
    OfferingStatus.ACTIVE: N_("live"),
    OfferingStatus.PAUSED: N_("paused"),
    OfferingStatus.ARCHIVED: N_("archived"),
}

_CATEGORY = {
    Category.RESUME_REVIEW: N_("Resume review"),
    Category.MOCK_INTERVIEW: N_("Mock interview"),
    Category.CAREER_GUIDANCE: N_("Career guidance"),
    Category.PORTFOLIO_REVIEW: N_("Portfolio review"),
    Category.CODE_REVIEW: N_("Code review"),
    Category.SYSTEM_DESIGN: N_("System design"),
    Category.OTHER: N_("Other"),
}


def booking_status_label(status: BookingStatus) -> str:
    return _(_BOOKING_STATUS[status])


def offering_status_label(status: OfferingStatus) -> str:
    return _(_OFFERING_STATUS[status])


def category_label(category: Category) -> str:
    return _(_CATEGORY[category])


def weekday_name(weekday: int, width: Literal["abbreviated", "narrow", "short", "wide"] = "abbreviated") -> str:
    """Monday is 0, as in ``date.weekday()``; the name comes from Babel's locale data."""
    return get_day_names(width, locale=get_locale())[weekday]


_PAYMENT_STATUS = {
    PaymentStatus.NOT_REQUIRED: N_("no payment needed"),
    PaymentStatus.PENDING: N_("not paid yet"),
    PaymentStatus.PAID: N_("paid"),
    PaymentStatus.REFUND_DUE: N_("refund due"),
    PaymentStatus.REFUNDED: N_("refunded"),
}

_PAYMENT_MODE = {
    PaymentMode.STARS: N_("Telegram Stars"),
    PaymentMode.PROVIDER: N_("card via Telegram"),
    PaymentMode.UPI: N_("UPI to the mentor"),
    PaymentMode.OFF: N_("paid to the mentor directly"),
}


def payment_status_label(status: PaymentStatus) -> str:
    return _(_PAYMENT_STATUS[status])


def payment_mode_label(mode: PaymentMode) -> str:
    return _(_PAYMENT_MODE[mode])
