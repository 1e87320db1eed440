"""First contact and personal settings: /start, time zone, language, /help, /settings, /cancel."""

from __future__ import annotations

import html
import unicodedata
from datetime import datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global
from babel.dates import get_timezone_location
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler

from chat.i18n import LOCALE_NAMES, SUPPORTED_LOCALES, _, format_clock, get_locale, set_locale
from domain.errors import InvalidInput
from domain.model import User
from domain.usecases import people
from handlers import deeplinks, dialog
from handlers.callbacks import (
    BrowseZones,
    CalendarFeed,
    CallbackData,
    FeedAction,
    Menu,
    MenuItem,
    PickLanguage,
    PickZone,
    ToggleAgenda,
)
from handlers.common import AppContext, on_button, say, show
from handlers.dialog import DialogState, text_step
from handlers.keyboards import rows

# Likely zones, the same in every language (a language says little about where someone lives): one press away;
# everything else is one "Other" press (regions) or a typed city away. A language's likeliest come first.
LIKELY_ZONES = (
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Singapore",
    "Europe/Berlin",
    "Australia/Sydney",
    "Europe/Moscow",
    "Asia/Yekaterinburg",
    "Asia/Novosibirsk",
    "Asia/Vladivostok",
    "Europe/Minsk",
    "Europe/Kyiv",
    "Asia/Almaty",
)
_FIRST_FOR = {
    "ru": ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok", "Europe/Minsk",
           "Europe/Kyiv", "Asia/Almaty"),
}  # fmt: skip
ZONES_PER_PAGE = 24

# Cities people type that are not zones' own cities (India has one zone, named after Kolkata), and common
# spellings other than CLDR's, in Hindi and Russian too. Typed text is compared by ``_key``: case, spaces and
# joiners do not matter.
_CITY_ALIASES = {
    **dict.fromkeys(
        (
            "mumbai",
            "bombay",
            "delhi",
            "new delhi",
            "bangalore",
            "bengaluru",
            "chennai",
            "madras",
            "hyderabad",
            "pune",
            "ahmedabad",
            "jaipur",
            "lucknow",
            "kochi",
            "calcutta",
            "india",
            "ist",
            "मुंबई",
            "बम्बई",
            "दिल्ली",
            "नई दिल्ली",
            "बेंगलुरु",
            "बैंगलोर",
            "चेन्नई",
            "हैदराबाद",
            "पुणे",
            "कलकत्ता",
            "अहमदाबाद",
            "जयपुर",
            "लखनऊ",
            "कोच्चि",
            "भारत",
        ),
        "Asia/Kolkata",
    ),
    **dict.fromkeys(
        ("san francisco", "seattle", "bay area", "सैन फ़्रांसिस्को", "सैन फ्रांसिस्को", "सिएटल"), "America/Los_Angeles"
    ),
    **dict.fromkeys(("washington", "boston", "वॉशिंगटन", "वाशिंगटन", "बोस्टन", "न्यूयार्क"), "America/New_York"),
    **dict.fromkeys(("uk", "यूके", "ब्रिटेन", "लन्दन"), "Europe/London"),
    **dict.fromkeys(("दुबाई",), "Asia/Dubai"),
    **dict.fromkeys(("सिंगापूर",), "Asia/Singapore"),
    "utc": "UTC",
    # Russia has eleven zones, so the country's name is not a city; "moscow" already matches the zone's name
    **dict.fromkeys(
        (
            "saint petersburg",
            "st petersburg",
            "москва",
            "мск",
            "санкт-петербург",
            "петербург",
            "питер",
            "спб",
            "казань",
            "нижний новгород",
            "ростов-на-дону",
            "краснодар",
            "сочи",
            "воронеж",
        ),
        "Europe/Moscow",
    ),
    **dict.fromkeys(("екатеринбург", "челябинск", "пермь", "уфа", "тюмень"), "Asia/Yekaterinburg"),
    **dict.fromkeys(("новосибирск",), "Asia/Novosibirsk"),
    **dict.fromkeys(("владивосток", "хабаровск"), "Asia/Vladivostok"),
    **dict.fromkeys(("киев", "харьков", "одесса", "днепр", "украина"), "Europe/Kyiv"),
    **dict.fromkeys(("алматы", "алма-ата", "астана", "казахстан"), "Asia/Almaty"),
    **dict.fromkeys(
        ("мумбаи", "дели", "нью-дели", "бангалор", "бенгалуру", "ченнаи", "калькутта", "колката", "гоа", "индия"),
        "Asia/Kolkata",
    ),
    **dict.fromkeys(("лос-анджелес", "сан-франциско", "сиэтл"), "America/Los_Angeles"),
    **dict.fromkeys(("нью-йорк", "бостон", "вашингтон"), "America/New_York"),
    **{
        "самара": "Europe/Samara",
        "калининград": "Europe/Kaliningrad",
        "волгоград": "Europe/Volgograd",
        "саратов": "Europe/Saratov",
        "омск": "Asia/Omsk",
        "томск": "Asia/Tomsk",
        "красноярск": "Asia/Krasnoyarsk",
        "иркутск": "Asia/Irkutsk",
        "якутск": "Asia/Yakutsk",
        "минск": "Europe/Minsk",
        "беларусь": "Europe/Minsk",
        "ташкент": "Asia/Tashkent",
        "бишкек": "Asia/Bishkek",
        "тбилиси": "Asia/Tbilisi",
        "ереван": "Asia/Yerevan",
        "баку": "Asia/Baku",
        "кишинев": "Europe/Chisinau",
        "кишинёв": "Europe/Chisinau",
        "рига": "Europe/Riga",
        "вильнюс": "Europe/Vilnius",
        "таллин": "Europe/Tallinn",
        "лондон": "Europe/London",
        "берлин": "Europe/Berlin",
        "париж": "Europe/Paris",
        "белград": "Europe/Belgrade",
        "варшава": "Europe/Warsaw",
        "прага": "Europe/Prague",
        "стамбул": "Europe/Istanbul",
        "дубай": "Asia/Dubai",
        "тель-авив": "Asia/Jerusalem",
        "сингапур": "Asia/Singapore",
        "бангкок": "Asia/Bangkok",
        "сидней": "Australia/Sydney",
    },
}
_IGNORED = str.maketrans("", "", " _\u200c\u200d")  # spaces, underscores, zero-width (non-)joiners


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().translate(_IGNORED)


@cache
def _zones() -> tuple[str, ...]:
    """Canonical-looking IANA zones: ``Region/City`` names, without the legacy aliases."""
    legacy = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/")
    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith(legacy)))


@cache
def _regions() -> tuple[str, ...]:
    return tuple(sorted({z.split("/", 1)[0] for z in _zones()}))


@lru_cache(maxsize=4096)
def city_name(zone: str, locale: str) -> str:
    """The zone's city as the reader's language writes it (CLDR's exemplar city), else as the zone's name does."""
    fallback = zone.rsplit("/", 1)[-1].replace("_", " ")
    try:
        return get_timezone_location(zone, locale=locale, return_city=True) or fallback
    except LookupError:
        return fallback


@cache
def _city_names() -> tuple[tuple[str, str], ...]:
    """(comparison key, zone) for every zone's city in every supported language, its IANA name and the aliases."""
    names = {(_key(alias), zone) for alias, zone in _CITY_ALIASES.items()}
    links = get_global("zone_aliases")  # an old name of a zone has that zone's city (Europe/Belfast: London)
    for zone in _zones():
        names.add((_key(zone.rsplit("/", 1)[-1]), zone))
        if zone not in links:
            names.update((_key(city_name(zone, locale)), zone) for locale in SUPPORTED_LOCALES)
    return tuple(sorted(names))


def zone_label(zone: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(zone)).strftime("%z")
    sign, hours, minutes = offset[0], int(offset[1:3]), offset[3:5]
    short = f"{sign}{hours}" if minutes == "00" else f"{sign}{hours}:{minutes}"
    return _("{city} (UTC{offset})").format(city=city_name(zone, get_locale()), offset=short)


def find_zones(query: str) -> list[str]:
    """Zones whose name, city (in Latin letters or as any supported language writes it) or a known other city
    matches what the user typed; case, spaces and Unicode forms do not matter. Several when the text is a part of
    names only (at most 8)."""
    typed = _key(query)
    if not typed:
        return []
    exact = {zone for name, zone in _city_names() if name == typed} | {z for z in _zones() if _key(z) == typed}
    if exact:
        return sorted(exact)
    partial = [z for z in _zones() if typed in _key(z)]
    partial += sorted({zone for name, zone in _city_names() if typed in name} - set(partial))
    return partial[:8]


def main_menu(user: User) -> InlineKeyboardMarkup:
    if user.is_mentor:
        buttons = [
            (_("📥 Bookings"), Menu(MenuItem.BOOKINGS)),
            (_("🗓 Availability"), Menu(MenuItem.AVAILABILITY)),
            (_("➕ New offering"), Menu(MenuItem.NEW_OFFERING)),
            (_("📋 My offerings"), Menu(MenuItem.MY_OFFERINGS)),
            (_("👤 Profile"), Menu(MenuItem.PROFILE)),
            (_("🔎 Book a session"), Menu(MenuItem.BOOK)),
            (_("🎟 My bookings"), Menu(MenuItem.MY_BOOKINGS)),
        ]
    else:
        buttons = [
            (_("🔎 Book a session"), Menu(MenuItem.BOOK)),
            (_("🎟 My bookings"), Menu(MenuItem.MY_BOOKINGS)),
            (_("🎓 Become a mentor"), Menu(MenuItem.BECOME_MENTOR)),
        ]
    buttons.append((_("⚙️ Settings"), Menu(MenuItem.SETTINGS)))
    return rows(buttons, width=2)


def likely_zones(locale: str) -> tuple[str, ...]:
    """Every likely zone, the reader's language's likeliest first."""
    first = _FIRST_FOR.get(locale, ())
    return first + tuple(zone for zone in LIKELY_ZONES if zone not in first)


def zone_picker(locale: str, now: datetime) -> InlineKeyboardMarkup:
    buttons: list[tuple[str, CallbackData]] = [(zone_label(z, now), PickZone(z)) for z in likely_zones(locale)]
    buttons.append((_("🌍 Other time zone…"), BrowseZones("", 0)))
    return rows(buttons, width=2)


def zone_prompt() -> str:
    return _(
        "Which time zone are you in? I show every time in your own zone.\n"
        "Pick one below, or type your city (for example <i>Mumbai</i> or <i>London</i>)."
    )


async def ask_zone(update: Update, context: AppContext, pending_link: str = "") -> None:
    """The zone question; ``pending_link`` is a deep link (``/start <payload>``) to open once it is answered."""
    pending = {deeplinks.PENDING: pending_link} if pending_link else None
    await dialog.save(context, DialogState.ZONE_SEARCH, pending)
    await show(update, zone_prompt(), zone_picker(context.user.locale, context.clock.now()))


def welcome_text(user: User) -> str:
    return _(
        "Hi {name}! I am Mentor Desk: I book 1:1 mentorship sessions right here in Telegram.\n\n"
        "• Mentees: browse offerings and book a time with /book.\n"
        "• Mentors: set your weekly hours and publish an offering in under a minute."
    ).format(name=html.escape(user.first_name))


async def start(update: Update, context: AppContext) -> None:
    user = context.user
    payload = context.args[0] if context.args else ""  # a shared link: t.me/<bot>?start=<payload>
    if payload and user.timezone is not None and await deeplinks.open_link(update, context, payload):
        return
    await say(update, welcome_text(user))
    if user.timezone is None:
        await ask_zone(update, context, payload)
    else:
        await say(update, _("What would you like to do?"), main_menu(user))


async def help_command(update: Update, context: AppContext) -> None:
    await say(
        update,
        _(
            "<b>Mentor Desk</b>\n"
            "/book – browse offerings and book a session\n"
            "/mybookings – sessions you booked: join, add to calendar, cancel, rate\n"
            "/settings – language and time zone\n"
            "/cancel – stop what you are doing\n\n"
            "<b>Mentors</b>\n"
            "/bookings – your bookings inbox\n"
            "/offerings – your offerings\n"
            "/newoffering – create an offering\n"
            "/earnings – what you were paid, with a CSV of your payments\n"
            "/availability – your weekly hours and days off\n"
            "/profile – what mentees see about you\n\n"
            "Every time is shown in your own time zone."
        )
        + "\n\n"
        + _(
            "🔔 A date or an offering full? Tap “🔔 Tell me when a time frees up” and I will message you when "
            "a time frees up; /mybookings → 🔔 Waitlist shows what you wait for."
        )
        + feed_hint(context.services.public_url is not None),
        main_menu(context.user),
    )


def feed_hint(feed: bool) -> str:
    """The ``/help`` line about the calendar feed, when the bot serves feeds (``PUBLIC_URL`` is set)."""
    if not feed:
        return ""
    return "\n" + _("Your sessions in your own calendar app: /settings → 📆 Calendar feed.")


def settings_view(user: User, zone: str, now: datetime, feed: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """``feed``: the bot serves calendar feeds (``PUBLIC_URL`` is set), so the screen offers one."""
    text = _("<b>Settings</b>\nLanguage: {language}\nTime zone: {zone} (now {time})").format(
        language=LOCALE_NAMES[user.locale], zone=html.escape(zone), time=format_clock(now, zone)
    )
    buttons = [(_("🌐 Language"), Menu(MenuItem.LANGUAGE)), (_("🕒 Time zone"), BrowseZones("*", 0))]
    if user.is_mentor:
        text += "\n" + (_("Daily agenda at 08:00: on") if user.daily_agenda else _("Daily agenda at 08:00: off"))
        label = _("🔕 Turn the daily agenda off") if user.daily_agenda else _("🔔 Turn the daily agenda on")
        buttons.append((label, ToggleAgenda(not user.daily_agenda)))
    if feed:
        buttons.append((_("📆 Calendar feed"), CalendarFeed(FeedAction.SHOW)))
    return text, rows(buttons, width=2)


def _settings_view(context: AppContext) -> tuple[str, InlineKeyboardMarkup]:
    feed = context.services.public_url is not None
    return settings_view(context.user, context.zone, context.clock.now(), feed)


async def settings(update: Update, context: AppContext) -> None:
    await show(update, *_settings_view(context))


async def cancel(update: Update, context: AppContext) -> None:
    had = await dialog.load(context)
    await dialog.clear(context)
    text = _("Cancelled. Nothing was changed.") if had else _("There was nothing to cancel.")
    await say(update, text, main_menu(context.user))


@on_button(PickZone)
async def pick_zone(update: Update, context: AppContext, data: PickZone) -> str | None:
    await _set_zone(update, context, data.zone)
    return None


async def _set_zone(update: Update, context: AppContext, zone: str) -> None:
    async with context.uow() as uow:
        context.me = await people.set_timezone(uow, context.user.id, zone)
        pending = deeplinks.pending_link(await uow.dialogs.get(context.user.id))
        await uow.dialogs.clear(context.user.id)
        await uow.commit()
    now = context.clock.now()
    await show(
        update,
        _("Time zone set to {zone}. It is {time} there now.").format(
            zone=html.escape(zone), time=format_clock(now, zone)
        ),
    )
    if pending and await deeplinks.open_link(update, context, pending):
        return
    await say(update, _("What would you like to do?"), main_menu(context.user))


@on_button(BrowseZones)
async def browse_zones(update: Update, context: AppContext, data: BrowseZones) -> str | None:
    now = context.clock.now()
    if data.region == "*":  # from /settings: the suggestions first, like on first contact
        await ask_zone(update, context)
        return None
    zones = [z for z in _zones() if z.startswith(data.region + "/")] if data.region else []
    if not zones:  # no region chosen (or a forged one): the list of regions
        regions = [(region, BrowseZones(region, 0)) for region in _regions()]
        await show(update, _("Choose a region, or type your city."), rows(regions, width=3))
        return None
    page = max(0, min(data.page, (len(zones) - 1) // ZONES_PER_PAGE))
    chunk = zones[page * ZONES_PER_PAGE : (page + 1) * ZONES_PER_PAGE]
    buttons = [(zone_label(z, now), PickZone(z)) for z in chunk]
    markup = rows(buttons, width=2)
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(_("◀ Back"), callback_data=BrowseZones(data.region, page - 1).pack()))
    nav.append(InlineKeyboardButton(_("Regions"), callback_data=BrowseZones("", 0).pack()))
    if (page + 1) * ZONES_PER_PAGE < len(zones):
        nav.append(InlineKeyboardButton(_("More ▶"), callback_data=BrowseZones(data.region, page + 1).pack()))
    markup = InlineKeyboardMarkup([*markup.inline_keyboard, nav])
    await show(update, _("Time zones in {region}:").format(region=html.escape(data.region)), markup)
    return None


@text_step(DialogState.ZONE_SEARCH)
async def type_zone(update: Update, context: AppContext, text: str, data: dict) -> None:
    matches = find_zones(text)
    if len(matches) == 1:
        await _set_zone(update, context, matches[0])
        return
    if not matches:
        raise InvalidInput("timezone", "unknown")
    now = context.clock.now()
    await say(update, _("Which one do you mean?"), rows([(zone_label(z, now), PickZone(z)) for z in matches], 2))


@on_button(ToggleAgenda)
async def toggle_agenda(update: Update, context: AppContext, data: ToggleAgenda) -> str | None:
    async with context.uow() as uow:
        context.me = await people.set_daily_agenda(uow, context.user.id, data.on)
        await uow.commit()
    await show(update, *_settings_view(context))
    return _("Daily agenda on.") if data.on else _("Daily agenda off.")


@on_button(PickLanguage)
async def pick_language(update: Update, context: AppContext, data: PickLanguage) -> str | None:
    async with context.uow() as uow:
        context.me = await people.set_locale(uow, context.user.id, data.locale, SUPPORTED_LOCALES)
        await uow.commit()
    set_locale(context.user.locale)
    await show(update, *_settings_view(context))
    return _("Language changed.")


def language_picker() -> InlineKeyboardMarkup:
    return rows([(LOCALE_NAMES[code], PickLanguage(code)) for code in SUPPORTED_LOCALES], width=2)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("start", start),
        CommandHandler("help", help_command),
        CommandHandler("settings", settings),
        CommandHandler("cancel", cancel),
        pick_zone,
        browse_zones,
        pick_language,
        toggle_agenda,
    ]
