"""Domain errors as sentences the user can act on, in their language."""

from __future__ import annotations

from chat.i18n import _, ngettext
from domain import (
    busy,
    errors,
    inbox,
    offerings,
    payments,
    profiles,
    reschedule,
    roster,
    schedule,
    series,
    sessions,
    validation,
)
from domain.model import LINK_MAX, NOTES_MAX, REASON_MAX, TITLE_MAX, BookingStatus
from handlers.labels import booking_status_label

_PROFILE_LIMITS = {
    "display_name": profiles.NAME_MAX,
    "headline": profiles.HEADLINE_MAX,
    "bio": profiles.BIO_MAX,
    "expertise": profiles.TAGS_MAX,
    "languages": profiles.LANGUAGES_MAX,
}


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
    if field == "package_weeks":
        return _(
            "Type a number of weekly sessions from {low} to {high}, or 0 to sell single sessions again."
        ).format(low=series.MIN_WEEKS, high=series.MAX_WEEKS)
    if field == "package":
        return _("This offering is a package: it is booked only as its weekly sessions, all together.")
    if field == "days":
        return _("Choose at least one day first.")
    if field == "hours":
        return _("Choose at least one hour first.")
    if field == "availability":
        return _("Set your weekly availability first, so mentees have times to book.")
    if field in _PROFILE_LIMITS:
        if detail == validation.EMPTY:
            return _("The name cannot be empty. Send - to use your Telegram name.")
        if detail == profiles.TOO_MANY:
            limit = _PROFILE_LIMITS[field]
            return _("That is too many: at most {count}, separated by commas.").format(count=limit)
        if field in ("expertise", "languages"):
            return _("Each one can be at most {limit} characters.").format(limit=profiles.TAG_MAX)
        return _("That is too long: at most {limit} characters.").format(limit=_PROFILE_LIMITS[field])
    if field == "date":  # availability: date exceptions
        if detail == schedule.PAST:
            return _("That date has already passed. Choose today or a later date.")
        if detail == schedule.TOO_FAR:
            return _("That date is more than a year ahead. Choose a date within the next 12 months.")
        return _("I could not read that date. Type it like 2026-12-25, 25.12.2026 or 25 Dec, or tap a date.")
    if field == "vacation":
        if detail == schedule.ORDER:
            return _("The last day must be on or after the first day.")
        return _("A vacation can be at most {days} days. Add a longer break in parts.").format(
            days=schedule.VACATION_MAX_DAYS
        )
    if field == "copy":
        if detail == schedule.EMPTY:
            return _("This day has no hours to copy. Set its hours first, or use “Clear” on the other days.")
        return _("Tick at least one day to copy to.")
    if field == "private_note":  # bookings inbox
        if detail == validation.EMPTY:
            return _("The note is empty. Type some text, or - to delete the note.")
        return _("The private note is too long: at most {limit} characters in all.").format(
            limit=inbox.PRIVATE_NOTE_MAX
        )
    if field == "calendar_url":  # availability: a busy calendar's address
        if detail == busy.TOO_LONG:
            return _("That address is too long: at most {limit} characters.").format(limit=busy.URL_MAX)
        if detail == busy.TOO_MANY:
            return _(
                "You already have {count} busy calendars, the most allowed. Remove one to add another."
            ).format(count=busy.MAX_CALENDARS)
        return _(
            "That is not a calendar address. Send a link that starts with https:// or webcal://, such as Google's "
            "secret address in iCal format."
        )
    if field == "search":  # discover: a search with nothing to look for
        return _("Type a word or two to search for, e.g. resume or Python.")
    if field == "discover_filter":  # discover: a filter value no button offers (old or forged data)
        return _("That filter is not available. Here are all open offerings.")
    if field in _OFFERING_FIELDS:
        return explain_offering_input(error)
    if field == "status":
        return _("An archived offering cannot be changed.")
    if field == "upi_id":
        return _(
            "That is not a UPI ID. Type it as it appears in your UPI app, e.g. ananya@okicici "
            "(at most {limit} characters)."
        ).format(limit=payments.UPI_ID_MAX)
    if field == "proposals":
        return _("Tick one to three times.")
    if field == "price_stars":
        return _("Type a whole number of Stars from {low} to {high}, e.g. 300.").format(
            low=payments.STARS_MIN, high=payments.STARS_MAX
        )
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
    if isinstance(error, inbox.SessionNotStarted):
        return _("This session has not started yet. Mark it completed or no-show once it has started.")
    if isinstance(error, inbox.NotAMentor):
        return _("The bookings inbox is for mentors. Tap “Become a mentor” in /start to offer sessions.")
    if isinstance(error, errors.InvalidTransition):
        return _("This booking is already {status}; nothing was changed.").format(
            status=booking_status_label(BookingStatus(error.current))
        )
    if isinstance(error, sessions.CancellationClosed):
        return ngettext(
            "It is too late to cancel: this offering can be cancelled until {hours} hour before the start. "
            "Please message your mentor.",
            "It is too late to cancel: this offering can be cancelled until {hours} hours before the start. "
            "Please message your mentor.",
            error.hours,
        ).format(hours=error.hours)
    if isinstance(error, reschedule.RescheduleClosed):
        return ngettext(
            "It is too late to move this session: it can be moved until {hours} hour before the start. "
            "Please message your mentor.",
            "It is too late to move this session: it can be moved until {hours} hours before the start. "
            "Please message your mentor.",
            error.hours,
        ).format(hours=error.hours)
    if isinstance(error, reschedule.TooManyMoves):
        return ngettext(
            "This session has been moved {limit} time, the most allowed. You can still cancel it.",
            "This session has been moved {limit} times, the most allowed. You can still cancel it.",
            error.limit,
        ).format(limit=error.limit)
    if isinstance(error, reschedule.MoveAwaitsAnswer):
        return _("You have already asked for a new time; the mentor has not answered yet.")
    if isinstance(error, reschedule.NoMoveRequest):
        return _("This request for a new time is no longer open; nothing was changed.")
    if isinstance(error, reschedule.NoProposal):
        return _("That proposed time is no longer on offer; nothing was changed.")
    if isinstance(error, reschedule.SameTime):
        return _("That is the session's current time. Choose another time.")
    if isinstance(error, sessions.AlreadyRated):
        return _("You have already rated this session. Thank you!")
    if isinstance(error, sessions.NotRateable):
        return _("You can rate a session once the mentor marks it completed.")
    if isinstance(error, roster.SeatBeingPaid):
        return _(
            "A mentee is paying for a seat of this session right now. Try again in a few minutes, once the "
            "payment is done or the hold has run out."
        )
    if isinstance(error, offerings.HasBookings):
        return _("This offering has bookings, so it cannot be deleted: archive it instead.")
    if isinstance(error, errors.TooManyBookings):
        return ngettext(
            "You already have {limit} pending or upcoming booking with this mentor, the most allowed. "
            "You can book again once it has taken place, or cancel it in /mybookings.",
            "You already have {limit} pending or upcoming bookings with this mentor, the most allowed. "
            "You can book again once one has taken place, or cancel one in /mybookings.",
            error.limit,
        ).format(limit=error.limit)
    if isinstance(error, payments.HoldOver):
        return _(
            "The time held for you has run out, or the booking no longer waits for a payment. "
            "Book again with /book."
        )
    if isinstance(error, payments.PaymentModeUnavailable):
        return _("That way of paying is not available for this offering right now.")
    if isinstance(error, payments.NothingToMark):
        return _("There is nothing to mark on this booking; nothing was changed.")
    if isinstance(error, errors.NotAllowed):
        return _("You are not allowed to do that.")
    if isinstance(error, errors.NotFound):
        return _("That is no longer available.")
    return _("That did not work; nothing was changed.")


# --- the offerings workspace (``domain.offerings``) -----------------------------------------------------------

_OFFERING_BOUNDS = {bounds.error: bounds for _attribute, bounds in offerings.NUMBERS.values()}
_OFFERING_TEXTS = {error: limit for _attribute, limit, error in offerings.TEXTS.values()}
_OFFERING_FIELDS = frozenset({*_OFFERING_BOUNDS, *_OFFERING_TEXTS, "category", "profile_hours"})


def explain_offering_input(error: errors.InvalidInput) -> str:
    field = error.field
    if field in _OFFERING_BOUNDS:
        low, high = _OFFERING_BOUNDS[field].low, _OFFERING_BOUNDS[field].high
        if field == "buffer":
            return _("Type a whole number of minutes from {low} to {high}, e.g. 10.").format(low=low, high=high)
        if field == "daily_limit":
            return _("Type a whole number of sessions per day from {low} to {high}.").format(low=low, high=high)
        if field == "advance_days":
            return _("Type a whole number of days from {low} to {high}.").format(low=low, high=high)
        if field == "capacity":
            return _("Type a whole number of seats from {low} to {high} (1 for a 1:1 session).").format(
                low=low, high=high
            )
        return _("Type a whole number of hours from {low} to {high}.").format(low=low, high=high)
    if field in _OFFERING_TEXTS:
        limit = _OFFERING_TEXTS[field]
        if field == "description":
            return _("The description is too long: at most {limit} characters.").format(limit=limit)
        if field == "policy":
            return _("The cancellation policy is too long: at most {limit} characters.").format(limit=limit)
        return _("The preparation notes are too long: at most {limit} characters.").format(limit=limit)
    if field == "category":
        return _("Choose a category on the buttons.")
    return _("That value is not accepted.")
