"""The mentor's public profile: name, headline, bio, expertise, languages, time zone; "Preview as a mentee"."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import _, format_money, format_rating, ngettext
from domain.discovery import stars
from domain.model import PaymentMode
from domain.profiles import (
    BIO_MAX,
    HEADLINE_MAX,
    LANGUAGES_MAX,
    NAME_MAX,
    TAGS_MAX,
    MentorCard,
    MentorStats,
    ProfileField,
)
from domain.usecases.profiles import my_profile, update_profile
from handlers.callbacks import BookOffering, BrowseZones, CallbackData, EditProfile, Menu, MenuItem, PreviewProfile
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import button, stack
from handlers.render import booking_counts, esc


def stats_line(stats: MentorStats) -> str:
    counts = booking_counts(stats.bookings, stats.completed)
    if stats.average_rating is None:
        return _("{bookings} · no ratings yet").format(bookings=counts)
    rating = ngettext("★ {rating} ({count} rating)", "★ {rating} ({count} ratings)", stats.rating_count).format(
        rating=format_rating(stats.average_rating), count=stats.rating_count
    )
    return f"{rating} · {counts}"


REVIEW_SHOWN_CHARS = 300  # a long review is cut (with …) so three of them and the bio fit one message


def review_lines(card: MentorCard) -> list[str]:
    """The newest written reviews: stars and the mentee's words (escaped), no names."""
    if not card.reviews:
        return []
    lines = ["", _("<b>Latest reviews</b>")]
    for review in card.reviews:
        text = review.text if len(review.text) <= REVIEW_SHOWN_CHARS else review.text[:REVIEW_SHOWN_CHARS] + "…"
        lines.append(f"{stars(review.stars)} “{esc(text)}”")
    return lines


def public_card(card: MentorCard) -> tuple[str, InlineKeyboardMarkup | None]:
    """The mentor as a mentee sees them: who they are, their rating, and every live offering with a Book button."""
    profile = card.profile
    lines = [f"<b>{esc(card.name)}</b>"]
    if profile.headline:
        lines.append(f"<i>{esc(profile.headline)}</i>")
    lines.append(stats_line(card.stats))
    if profile.bio:
        lines += ["", esc(profile.bio)]
    if profile.expertise:
        lines.append(_("Expertise: {tags}").format(tags=esc(", ".join(profile.expertise))))
    if profile.languages:
        lines.append(_("Speaks: {languages}").format(languages=esc(", ".join(profile.languages))))
    lines += review_lines(card)
    lines.append("")
    if not card.offerings:
        lines.append(_("No offerings are open for booking right now."))
        return "\n".join(lines), None
    lines.append(_("<b>Offerings</b>"))
    keyboard = []
    for number, offering in enumerate(card.offerings, start=1):
        assert offering.id is not None
        lines.append(
            _("{number}. {title} — {price}, {minutes} min").format(
                number=number,
                title=esc(offering.title),
                price=format_money(offering.price),
                minutes=offering.duration_minutes,
            )
        )
        keyboard.append([button(_("📅 Book {number}").format(number=number), BookOffering(offering.id))])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def _shown(value: str | tuple[str, ...]) -> str:
    text = ", ".join(value) if isinstance(value, tuple) else value
    return esc(text) if text else _("— not set —")


def editor_view(card: MentorCard, zone: str, upi: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """The mentor's profile editor; ``upi`` (UPI payments are on) adds the UPI ID, which mentees see only when
    they pay."""
    profile = card.profile
    lines = [
        _("<b>Your mentor profile</b>"),
        _("Name: {value}").format(value=esc(card.name)),
        _("Headline: {value}").format(value=_shown(profile.headline)),
        _("Bio: {value}").format(value=_shown(profile.bio)),
        _("Expertise: {value}").format(value=_shown(profile.expertise)),
        _("Languages: {value}").format(value=_shown(profile.languages)),
        _("Time zone: {value}").format(value=esc(zone)),
    ]
    if upi:
        lines.append(_("UPI ID (mentees pay you here): {value}").format(value=_shown(profile.upi_id or "")))
    lines += ["", stats_line(card.stats)]
    rows: list[list[tuple[str, CallbackData]]] = [
        [(_("✏️ Name"), EditProfile(ProfileField.NAME)), (_("✏️ Headline"), EditProfile(ProfileField.HEADLINE))],
        [(_("✏️ Bio"), EditProfile(ProfileField.BIO)), (_("✏️ Expertise"), EditProfile(ProfileField.EXPERTISE))],
        [(_("✏️ Languages"), EditProfile(ProfileField.LANGUAGES)), (_("🕒 Time zone"), BrowseZones("*", 0))],
    ]
    if upi:
        rows.append([(_("✏️ UPI ID"), EditProfile(ProfileField.UPI_ID))])
    rows.append([(_("👁 Preview as a mentee"), PreviewProfile())])
    return "\n".join(lines), stack(*rows)


def _prompt(field: ProfileField) -> str:
    clear = _("Send - to clear it.")
    match field:
        case ProfileField.NAME:
            text = _("Type the name mentees should see (at most {limit} characters).").format(limit=NAME_MAX)
            return text + " " + _("Send - to use your Telegram name.")
        case ProfileField.HEADLINE:
            text = _(
                "Type a one-line headline, e.g. <i>Staff engineer at a fintech</i> (at most {limit} characters)."
            )
            return text.format(limit=HEADLINE_MAX) + " " + clear
        case ProfileField.BIO:
            return _("Type a short bio (at most {limit} characters).").format(limit=BIO_MAX) + " " + clear
        case ProfileField.EXPERTISE:
            text = _(
                "Type your areas of expertise, separated by commas, e.g. <i>Python, system design</i> "
                "(at most {count})."
            )
            return text.format(count=TAGS_MAX) + " " + clear
        case ProfileField.LANGUAGES:
            text = _(
                "Type the languages you mentor in, separated by commas, e.g. <i>English, हिन्दी</i> "
                "(at most {count})."
            )
            return text.format(count=LANGUAGES_MAX) + " " + clear
        case ProfileField.UPI_ID:
            text = _(
                "Type your UPI ID, e.g. <i>ananya@okicici</i>. Mentees who pay by UPI get it with a QR code, "
                "and you confirm each payment that arrives."
            )
            return text + " " + clear


def _upi_on(context: AppContext) -> bool:
    return PaymentMode.UPI in context.services.payments.modes


async def open_profile(update: Update, context: AppContext) -> None:
    if not context.user.is_mentor:
        await show(
            update,
            _("The profile is for mentors: it is what mentees see about you."),
            stack([(_("🎓 Become a mentor"), Menu(MenuItem.BECOME_MENTOR))]),
        )
        return
    async with context.reader() as uow:
        card = await my_profile(uow, context.user.id)
    await show(update, *editor_view(card, context.zone, _upi_on(context)))


@on_button(EditProfile)
async def edit_field(update: Update, context: AppContext, data: EditProfile) -> str | None:
    async with context.uow() as uow:
        await my_profile(uow, context.user.id)  # mentors only
        await uow.dialogs.set(context.user.id, DialogState.PROFILE_FIELD, {"field": data.field.value})
        await uow.commit()
    await say(update, _prompt(data.field))
    return None


@text_step(DialogState.PROFILE_FIELD)
async def type_field(update: Update, context: AppContext, text: str, data: dict[str, Any]) -> None:
    field = ProfileField(data["field"])
    async with context.uow() as uow:
        card = await update_profile(uow, context.user.id, field, text)
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    view, markup = editor_view(card, context.zone, _upi_on(context))
    await say(update, _("Saved.") + "\n\n" + view, markup)


@on_button(PreviewProfile)
async def preview(update: Update, context: AppContext, data: PreviewProfile) -> str | None:
    async with context.reader() as uow:
        card = await my_profile(uow, context.user.id)
    text, markup = public_card(card)
    back = [button(_("◀ Back to my profile"), Menu(MenuItem.PROFILE))]
    rows = [*(markup.inline_keyboard if markup else ()), back]
    await show(update, _("<b>This is what mentees see:</b>") + "\n\n" + text, InlineKeyboardMarkup(rows))
    return None


def handlers() -> list[BaseHandler]:
    return [CommandHandler("profile", open_profile), edit_field, preview]
