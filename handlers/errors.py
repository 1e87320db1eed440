"""Domain errors as sentences the user can act on, in their language."""

from __future__ import annotations

from bot.i18n import _
from domain import errors, validation
from domain.model import LINK_MAX, NOTES_MAX, REASON_MAX, TITLE_MAX, BookingStatus
from handlers.labels import booking_status_label


def explain_input(error: errors.InvalidInput) -> str:
    field, detail = error.field, error.detail
    if field == "title":
        if detail == validation.TOO_LONG:
            return _("The title is too long: at most {limit} characters.").format(limit=TITLE_MAX)
        return _("The title cannot be empty.")
    if field == "price":
        if detail == validation.NEGATIVE:
            return _("The price cannot be negative. Type an amount in rupees, e.g. 500, or 0 for free.")
        if detail == validation.TOO_LARGE:
            return _("That price is too large.")
        if detail == validation.TOO_PRECISE:
            return _("Use at most two decimal places, e.g. 499.50.")
        return _("That is not a price. Type an amount in rupees, e.g. 500, or 0 for free.")
    if field == "duration":
        return _("Choose one of the durations on the buttons: 15, 30, 45, 60 or 90 minutes.")
    if field == "link":
        if detail == validation.TOO_LONG:
            return _("The link is too long: at most {limit} characters.").format(limit=LINK_MAX)
        return _("That is not a web link. Send a link that starts with https:// or http://")
    if field == "notes" or field == "feedback":
        return _("That is too long: at most {limit} characters.").format(limit=NOTES_MAX)
    if field == "reason":
        return _("The reason is too long: at most {limit} characters.").format(limit=REASON_MAX)
    if field == "timezone":
        return _("I don't know that time zone. Try a city such as Kolkata or a name such as Europe/London.")
    if field == "ranges":
        if detail == "overlap":
            return _("Those hours overlap. Give each range once, e.g. 09:00-12:00, 14:00-18:00.")
        if detail == "order":
            return _("A range must end after it starts, e.g. 09:00-12:00.")
        return _("I could not read those hours. Write them like 09:00-12:00, 14:00-18:00.")
    if field == "days":
        return _("Choose at least one day first.")
    if field == "hours":
        return _("Choose at least one hour first.")
    if field == "availability":
        return _("Set your weekly availability first, so mentees have times to book.")
    if field == "status":
        return _("An archived offering cannot be changed.")
    return _("That value is not accepted.")


def explain(error: errors.DomainError) -> str:
    if isinstance(error, errors.InvalidInput):
        return explain_input(error)
    if isinstance(error, errors.SlotTaken):
        return _("This time was just taken. Please choose another time.")
    if isinstance(error, errors.MenteeOverlap):
        return _("You already have a session at that time.")
    if isinstance(error, errors.SelfBooking):
        return _("You cannot book your own offering.")
    if isinstance(error, errors.OfferingUnavailable):
        return _("This offering is not taking bookings right now.")
    if isinstance(error, errors.ReasonRequired):
        return _("Please type a reason.")
    if isinstance(error, errors.InvalidTransition):
        return _("This booking is already {status}; nothing was changed.").format(
            status=booking_status_label(BookingStatus(error.current))
        )
    if isinstance(error, errors.NotAllowed):
        return _("You are not allowed to do that.")
    if isinstance(error, errors.NotFound):
        return _("That is no longer available.")
    return _("That did not work; nothing was changed.")

